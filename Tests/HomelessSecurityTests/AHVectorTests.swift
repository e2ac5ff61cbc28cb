import Foundation
import HomelessWire
import Testing
@testable import HomelessSecurity

/// AH over IPv6 against packets made by scapy (an independent implementation).
@Suite struct AHVectorTests {
    @Test func fixturesArePresent() {
        #expect(Fixtures.vectors.count >= 20)
        #expect(Set(Fixtures.vectors.map(\.algorithm)) == ["hmac-sha256", "hmac-sha1"])
    }

    @Test(arguments: Fixtures.vectors)
    func scapyPacketVerifies(_ vector: AHVector) throws {
        var association = try vector.inboundAssociation()
        let result = association.verify(vector.packetBytes)
        #expect(result.verdict == .ok, "\(vector.name): \(String(describing: result.error))")
        #expect(result.sequenceNumber == vector.sequenceNumber)
        #expect(result.ahOffset == vector.ahOffset)
        #expect(association.replayWindow.highest == vector.sequenceNumber)
    }

    /// The ICV input, byte for byte, equals scapy's `zero_mutable_fields` output.
    @Test(arguments: Fixtures.vectors)
    func icvInputMatchesScapy(_ vector: AHVector) throws {
        let packet = vector.packetBytes
        let recorded = try packet.withUnsafeBytes { bytes in
            let layout = try AHPacketLayout.locate(in: bytes)
            var recorder = ICVInputRecorder()
            try layout.feedICVInput(from: bytes, into: &recorder)
            return recorder.bytes
        }
        #expect(hexString(recorded) == vector.icvInput)
    }

    /// Signing the packet (ICV zeroed first) reproduces scapy's ICV.
    @Test(arguments: Fixtures.vectors)
    func signingReproducesScapyICV(_ vector: AHVector) throws {
        var packet = vector.packetBytes
        let icvOffset = vector.ahOffset + 12
        for index in icvOffset..<(icvOffset + vector.authenticationAlgorithm.icvLength) { packet[index] = 0 }
        let hmac = PrecomputedHMAC(algorithm: vector.authenticationAlgorithm, key: vector.keyBytes)
        try packet.withUnsafeMutableBytes { bytes in
            let layout = try AHPacketLayout.locate(in: UnsafeRawBufferPointer(bytes))
            try AHAuthenticator.sign(bytes, layout: layout, hmac: hmac)
        }
        let icv = packet[icvOffset..<(icvOffset + vector.authenticationAlgorithm.icvLength)]
        #expect(hexString(icv) == vector.icv)
        #expect(packet == vector.packetBytes)
    }

    /// Flipping one bit in any covered octet fails; in a mutable field
    /// (Traffic Class, Flow Label, Hop Limit, chg-bit option data) or the
    /// AH padding it does not. scapy decided which offsets are mutable.
    @Test(arguments: Fixtures.vectors.filter { $0.uncoveredOffsets != nil })
    func everyCoveredOctetIsProtected(_ vector: AHVector) throws {
        let original = vector.packetBytes
        let uncovered = Set(vector.uncoveredOffsets ?? [])
        let fresh = try vector.inboundAssociation()
        var wronglyAccepted: [Int] = []
        var wronglyRejected: [Int] = []
        for offset in original.indices {
            var packet = original
            packet[offset] ^= 0x01
            var association = fresh
            let verdict = association.verify(packet).verdict
            if uncovered.contains(offset) {
                if verdict != .ok { wronglyRejected.append(offset) }
            } else if verdict == .ok {
                wronglyAccepted.append(offset)
            }
        }
        #expect(wronglyAccepted.isEmpty, "\(vector.name): flipped octets accepted at \(wronglyAccepted)")
        #expect(wronglyRejected.isEmpty, "\(vector.name): mutable octets rejected at \(wronglyRejected)")
        #expect(uncovered.contains(7), "hop limit is mutable")
    }

    @Test func mutableFieldsChangedTogetherStillVerify() throws {
        let vector = try #require(Fixtures.vectors.first { $0.name == "hmac-sha256-hop-by-hop-destopt" })
        var packet = vector.packetBytes
        packet[0] = 0x6F
        packet[1] = 0xFF
        packet[2] = 0xFF
        packet[3] = 0xFF
        packet[7] = 1
        for offset in vector.uncoveredOffsets ?? [] where offset > 40 { packet[offset] = 0xEE }
        var association = try vector.inboundAssociation()
        #expect(association.verify(packet).verdict == .ok)
    }
}
