import Testing
@testable import HomelessWire

@Suite struct AuthenticationHeaderTests {
    // HMAC-SHA1-96 layout (WIRE.md section 2): Payload Len 4, 24 bytes, 12-byte ICV.
    let sha1 = hex("3c 04 0000 00001001 00000001 db45e8f4b99a4fb4d4c382a0")
    // HMAC-SHA-256-128: Payload Len 6, 32 bytes, 16-byte ICV + 4 bytes padding.
    let sha256 = hex("11 06 0000 cafe0001 00000029 73b3aaf03a19428d26cb20f3d4bccdf9 00000000")

    @Test func parsesSHA1Layout() {
        let view = expectSuccess(sha1) { try AuthenticationHeaderView(checking: $0, at: 0) }
        #expect(view?.length == 24)
        #expect(view?.payloadLength == 4)
        #expect(view?.nextHeader == .destinationOptions)
        #expect(view?.securityParametersIndex == 0x1001)
        #expect(view?.sequenceNumber == 1)
        #expect(view?.integrityCheckValueOffset == 12)
        #expect(view?.integrityCheckValueLength == 12)
        let value = expectSuccess(sha1) { AuthenticationHeader(try AuthenticationHeaderView(checking: $0, at: 0)) }
        #expect(value?.integrityCheckValue == hex("db45e8f4b99a4fb4d4c382a0"))
    }

    @Test func parsesSHA256LayoutWithPadding() {
        let view = expectSuccess(sha256) { try AuthenticationHeaderView(checking: $0, at: 0) }
        #expect(view?.length == 32)
        #expect(view?.integrityCheckValueLength == 20)
        #expect(view?.sequenceNumber == 41)
        #expect(AuthenticationHeaderView.payloadLength(forICVFieldLength: 20) == 6)
        #expect(AuthenticationHeaderView.payloadLength(forICVFieldLength: 12) == 4)
    }

    @Test func lengthChecks() {
        for cut in 0..<12 { expectError(.truncated, at: 0, Array(sha1.prefix(cut))) { try AuthenticationHeaderView(checking: $0, at: 0) } }
        for cut in 12..<24 { expectError(.lengthOverrun, at: 1, Array(sha1.prefix(cut))) { try AuthenticationHeaderView(checking: $0, at: 0) } }
        // Payload Len 0 gives 8 bytes, shorter than the fixed part.
        var tiny = sha1
        tiny[1] = 0
        expectError(.badLength, at: 1, tiny) { try AuthenticationHeaderView(checking: $0, at: 0) }
        // Payload Len 3 gives 20 bytes: fine for IPv4, not a multiple of 8 for IPv6 (RFC 4302 3.3.3.2.1).
        var twenty = sha1
        twenty[1] = 3
        expectError(.badLength, at: 1, twenty) { try AuthenticationHeaderView(checking: $0, at: 0) }
        #expect(expectSuccess(twenty) { try AuthenticationHeaderView(checking: $0, at: 0, requiresEightOctetMultiple: false).length } == 20)
        // Limit respected.
        expectError(.lengthOverrun, at: 1, sha1) { try AuthenticationHeaderView(checking: $0, at: 0, limit: 20) }
    }

    @Test func emitsAndRoundTrips() {
        let value = AuthenticationHeader(nextHeader: .destinationOptions, securityParametersIndex: 0x1001, sequenceNumber: 1,
                                         integrityCheckValue: hex("db45e8f4b99a4fb4d4c382a0"))
        #expect(value.bufferLength == 24)
        let bytes = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
        #expect(bytes == sha1)
        #expect(expectSuccess(bytes) { AuthenticationHeader(try AuthenticationHeaderView(checking: $0, at: 0)) } == value)
        // A 16-byte ICV is padded with zeros to 32 bytes.
        let sha256Value = AuthenticationHeader(nextHeader: .udp, securityParametersIndex: 0xCAFE_0001, sequenceNumber: 41,
                                               integrityCheckValue: hex("73b3aaf03a19428d26cb20f3d4bccdf9"))
        #expect(emittedIgnoringJunk(length: sha256Value.bufferLength) { sha256Value.emit(into: $0) } == sha256)
    }

    @Test func fastPathEmitterZeroesTheICV() {
        let bytes = emittedIgnoringJunk(length: 32) {
            AuthenticationHeader.emitFixedPart(into: $0, at: 0, nextHeader: .udp, securityParametersIndex: 0xCAFE_0001,
                                               sequenceNumber: 41, integrityCheckValueFieldLength: 20)
        }
        #expect(bytes == hex("11 06 0000 cafe0001 00000029") + [UInt8](repeating: 0, count: 20))
    }
}
