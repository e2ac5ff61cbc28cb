import HomelessCore
import HomelessWire
import Testing
@testable import HomelessSecurity

/// The handshake messages on the wire: exact layouts, round trips, and
/// typed errors with offsets for anything malformed.
@Suite struct HandshakeCodecTests {
    static let nonce = HandshakeBlock16(high: 0x0001_0203_0405_0607, low: 0x0809_0A0B_0C0D_0E0F)
    static let cookie = HandshakeBlock16(high: 0xC0C1_C2C3_C4C5_C6C7, low: 0xC8C9_CACB_CCCD_CECF)
    static let key = HandshakeBlock32(bytes: (0..<32).map { UInt8(0xA0 + $0) })

    @Test func initiatorHelloLayout() throws {
        let bytes = InitiatorHello(initiatorNonce: Self.nonce).bytes(nextHeader: 59)
        #expect(bytes.count == 24)
        #expect(Array(bytes[0..<8]) == [59, 2, 1, 1, 0, 0, 0, 0])
        #expect(Array(bytes[8..<24]) == Array(0..<16))
        let parsed = try bytes.withUnsafeBytes { try InitiatorHello(parsing: $0) }
        #expect(parsed.initiatorNonce == Self.nonce)
    }

    @Test func responderChallengeLayout() throws {
        let challenge = ResponderChallenge(difficulty: 12, timeSlot: 0x0102_0304, responderSPI: 0xDEAD_BEEF,
                                           initiatorNonce: Self.nonce, cookie: Self.cookie, responderPublicKey: Self.key)
        let bytes = challenge.bytes(nextHeader: 60)
        #expect(bytes.count == 80)
        #expect(Array(bytes[0..<8]) == [60, 9, 2, 1, 12, 0, 0, 0])
        #expect(Array(bytes[8..<12]) == [1, 2, 3, 4])
        #expect(Array(bytes[12..<16]) == [0xDE, 0xAD, 0xBE, 0xEF])
        #expect(Array(bytes[16..<32]) == Self.nonce.bytes)
        #expect(Array(bytes[32..<48]) == Self.cookie.bytes)
        #expect(Array(bytes[48..<80]) == Self.key.bytes)
        #expect(try bytes.withUnsafeBytes { try ResponderChallenge(parsing: $0) } == challenge)
    }

    @Test func initiatorResponseLayout() throws {
        let response = InitiatorResponse(timeSlot: 7, initiatorSPI: 0x1234_5678, initiatorNonce: Self.nonce, cookie: Self.cookie,
                                         solution: 0x1122_3344_5566_7788, initiatorPublicKey: Self.key)
        let bytes = response.bytes()
        #expect(bytes.count == 88)
        #expect(Array(bytes[0..<8]) == [59, 10, 3, 1, 0, 0, 0, 0])
        #expect(Array(bytes[8..<16]) == [0, 0, 0, 7, 0x12, 0x34, 0x56, 0x78])
        #expect(Array(bytes[48..<56]) == [0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88])
        #expect(Array(bytes[56..<88]) == Self.key.bytes)
        #expect(try bytes.withUnsafeBytes { try InitiatorResponse(parsing: $0) } == response)
    }

    @Test func addressProbeLayout() throws {
        let probe = AddressProbeMessage(kind: .probe, nonce: Self.nonce)
        let bytes = probe.bytes()
        #expect(Array(bytes[0..<8]) == [59, 2, 4, 1, 0, 0, 0, 0])
        #expect(try bytes.withUnsafeBytes { try AddressProbeMessage(parsing: $0) } == probe)
        let reply = probe.reply.bytes()
        #expect(reply[2] == 5)
        #expect(try reply.withUnsafeBytes { try AddressProbeMessage(parsing: $0) }.kind == .reply)
    }

    @Test func parsesAtAnOffsetInsideAPacket() throws {
        let message = InitiatorHello(initiatorNonce: Self.nonce).bytes()
        let packet = [UInt8](repeating: 0xEE, count: 40) + message + [1, 2, 3]
        let parsed = try packet.withUnsafeBytes { try InitiatorHello(parsing: $0, at: 40) }
        #expect(parsed.initiatorNonce == Self.nonce)
    }

    @Test func everyTruncationIsATypedError() {
        let full = InitiatorResponse(timeSlot: 1, initiatorSPI: 300, initiatorNonce: Self.nonce, cookie: Self.cookie,
                                     solution: 1, initiatorPublicKey: Self.key).bytes()
        for length in 0..<full.count {
            let prefix = Array(full.prefix(length))
            let result: Result<InitiatorResponse, HandshakeWireError> = prefix.withUnsafeBytes { bytes in
                do throws(HandshakeWireError) { return .success(try InitiatorResponse(parsing: bytes)) } catch { return .failure(error) }
            }
            guard case .failure(let error) = result else {
                Issue.record("a \(length)-octet prefix parsed")
                continue
            }
            #expect(error.reason == .truncated)
            #expect(error.offset <= max(length, 1))
        }
    }

    @Test func wrongTypeVersionAndLengthReportTheirOffsets() {
        var bytes = InitiatorHello(initiatorNonce: Self.nonce).bytes()
        #expect(throws: HandshakeWireError(.unexpectedType, at: 2)) {
            try bytes.withUnsafeBytes { try ResponderChallenge(parsing: $0) }
        }
        bytes[3] = 2
        #expect(throws: HandshakeWireError(.unsupportedVersion, at: 3)) {
            try bytes.withUnsafeBytes { try InitiatorHello(parsing: $0) }
        }
        bytes[3] = 1
        bytes[1] = 1  // 16 octets: a header the message does not have
        #expect(throws: HandshakeWireError(.badLength, at: 1)) {
            try bytes.withUnsafeBytes { try InitiatorHello(parsing: $0) }
        }
        bytes[1] = 200  // past the buffer
        #expect(throws: HandshakeWireError(.truncated, at: 1)) {
            try bytes.withUnsafeBytes { try InitiatorHello(parsing: $0) }
        }
        #expect(throws: HandshakeWireError.self) {
            try [UInt8](repeating: 0, count: 24).withUnsafeBytes { try HandshakeHeaderView(checking: $0, at: 30) }
        }
    }

    @Test func unknownMessageTypesDecodeInTheHeader() throws {
        var bytes = InitiatorHello(initiatorNonce: Self.nonce).bytes()
        bytes[2] = 99
        let header = try bytes.withUnsafeBytes { try HandshakeHeaderView(checking: $0) }
        #expect(header.messageType.rawValue == 99)
        #expect(header.messageType.description == "type-99")
        #expect(header.messageLength == 24)
    }

    @Test func randomBytesNeverTrap() {
        var random = SplitMix64(seed: 7)
        for _ in 0..<20_000 {
            let length = Int(random.next() % 100)
            var bytes = [UInt8](repeating: 0, count: length)
            for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: random.next()) }
            if length > 3, random.next() % 2 == 0 { bytes[3] = 1 }
            if length > 2 { bytes[2] = UInt8(random.next() % 6) }
            bytes.withUnsafeBytes { raw in
                _ = try? InitiatorHello(parsing: raw)
                _ = try? ResponderChallenge(parsing: raw)
                _ = try? InitiatorResponse(parsing: raw)
                _ = try? AddressProbeMessage(parsing: raw)
            }
        }
    }
}
