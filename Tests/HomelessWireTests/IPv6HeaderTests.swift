import Testing
@testable import HomelessWire

@Suite struct IPv6HeaderTests {
    // Hand-assembled: TC 0x28, flow label 0x12345, payload 4, next header 59, hop limit 61,
    // 2001:db8:3::7 -> 2001:db8:1::5, then 4 payload bytes.
    let packet = hex("""
        62812345 0004 3b 3d
        20010db8000300000000000000000007
        20010db8000100000000000000000005
        deadbeef
        """)

    @Test func parsesEveryField() {
        let header = expectSuccess(packet) { IPv6Header(try IPv6HeaderView(checking: $0)) }
        #expect(header == IPv6Header(trafficClass: 0x28, flowLabel: 0x12345, payloadLength: 4, nextHeader: .noNextHeader,
                                     hopLimit: 61, source: address("2001:db8:3::7"), destination: address("2001:db8:1::5")))
        let end = expectSuccess(packet) { try IPv6HeaderView(checking: $0).payloadEnd }
        #expect(end == 44)
    }

    @Test func everyTruncationIsReported() {
        for length in 0..<40 {
            expectError(.truncated, at: 0, Array(packet.prefix(length))) { try IPv6HeaderView(checking: $0) }
        }
        for length in 40..<44 {
            expectError(.lengthOverrun, at: 4, Array(packet.prefix(length))) { try IPv6HeaderView(checking: $0) }
        }
    }

    @Test func rejectsOtherVersions() {
        for version: UInt8 in [0, 4, 5, 7, 15] {
            var bytes = packet
            bytes[0] = version << 4 | bytes[0] & 0x0F
            expectError(.badVersion, at: 0, bytes) { try IPv6HeaderView(checking: $0) }
        }
    }

    @Test func trailingBytesAfterPayloadAreAllowed() {
        let padded = packet + [0, 0, 0, 0, 0, 0]
        #expect(expectSuccess(padded) { try IPv6HeaderView(checking: $0).payloadEnd } == 44)
    }

    @Test func errorOffsetsAreAbsolute() {
        let shifted = [UInt8](repeating: 0, count: 14) + Array(packet.prefix(42))
        expectError(.lengthOverrun, at: 18, shifted) { try IPv6HeaderView(checking: $0, at: 14) }
    }

    @Test func emitsIndependentlyOfJunkAndRoundTrips() {
        var rng = SeededGenerator(seed: 6)
        for _ in 0..<100 {
            let header = IPv6Header(trafficClass: UInt8.random(in: 0...255, using: &rng),
                                    flowLabel: UInt32.random(in: 0...0xFFFFF, using: &rng),
                                    payloadLength: 0, nextHeader: IPProtocol(UInt8.random(in: 0...255, using: &rng)),
                                    hopLimit: UInt8.random(in: 0...255, using: &rng), source: rng.address(), destination: rng.address())
            let bytes = emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) }
            #expect(expectSuccess(bytes) { IPv6Header(try IPv6HeaderView(checking: $0)) } == header)
        }
        let golden = emittedIgnoringJunk(length: 40) {
            IPv6Header(trafficClass: 0x28, flowLabel: 0x12345, payloadLength: 4, nextHeader: .noNextHeader, hopLimit: 61,
                       source: address("2001:db8:3::7"), destination: address("2001:db8:1::5")).emit(into: $0)
        }
        #expect(golden == Array(packet.prefix(40)))
    }
}
