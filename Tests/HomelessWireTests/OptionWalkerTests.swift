import Testing
@testable import HomelessWire

/// Walks every TLV in `bytes` (the whole buffer is the options area).
private func records(_ bytes: [UInt8], checksPadding: Bool = true) -> Result<[OptionRecord], WireError> {
    withBytes(bytes) { raw in
        var walker = OptionWalker(bytes: raw, start: 0, end: raw.count, checksPadding: checksPadding)
        var result: [OptionRecord] = []
        while let record = try walker.next() { result.append(record) }
        return result
    }
}

private func expectOptionsError(_ reason: WireError.Reason, at offset: Int, _ bytes: [UInt8], checksPadding: Bool = true,
                                sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(records(bytes, checksPadding: checksPadding).failureValue == WireError(reason, at: offset), sourceLocation: sourceLocation)
}

extension Result {
    var failureValue: Failure? { if case .failure(let error) = self { return error } else { return nil } }
    var successValue: Success? { if case .success(let value) = self { return value } else { return nil } }
}

@Suite struct OptionWalkerTests {
    @Test func walksTLVsWithAbsoluteOffsets() throws {
        // Pad1, PadN(1 data byte), option 0x9E (act 10, chg 0) len 2, option 0x3F (act 00, chg 1) len 0.
        let bytes = hex("00 0101 00 9e02abcd 3f00")
        let found = try #require(records(bytes).successValue)
        #expect(found.map(\.type) == [0x00, 0x01, 0x9E, 0x3F])
        #expect(found.map(\.offset) == [0, 1, 4, 8])
        #expect(found.map(\.dataOffset) == [1, 3, 6, 10])
        #expect(found.map(\.dataLength) == [0, 1, 2, 0])
        #expect(found.map(\.totalLength) == [1, 3, 4, 2])
        #expect(found.map(\.isPadding) == [true, true, false, false])
        #expect(found[2].action == .discardAndSendParameterProblem)
        #expect(!found[2].mayChangeEnRoute)
        #expect(found[3].action == .skip)
        #expect(found[3].mayChangeEnRoute)
        #expect(found[2].dataRange == 6..<8)
    }

    @Test func actionBitsCoverAllTypes() {
        for type in 0...255 {
            let expected: OptionAction = [.skip, .discard, .discardAndSendParameterProblem,
                                          .discardAndSendParameterProblemUnlessMulticast][type >> 6]
            #expect(OptionRecord(type: UInt8(type), offset: 0, dataOffset: 2, dataLength: 0).action == expected)
            #expect(OptionRecord(type: UInt8(type), offset: 0, dataOffset: 2, dataLength: 0).mayChangeEnRoute == (type & 0x20 != 0))
        }
    }

    @Test func optionLengthOverrunAndTruncation() {
        // Length byte says 3 but only 2 data bytes remain.
        expectOptionsError(.lengthOverrun, at: 3, hex("00 00 9e03 abcd"))
        // A type byte as the last byte: no room for the length.
        expectOptionsError(.truncated, at: 4, hex("9e01ab 00 9e"))
        // Every truncation of a valid option sequence fails at the right place.
        let full = hex("9e04 01020304 c2 02 aabb")
        for cut in 1..<full.count where cut != 6 {
            let error = records(Array(full.prefix(cut))).failureValue
            let expected: WireError = cut < 6
                ? (cut == 1 ? WireError(.truncated, at: 0) : WireError(.lengthOverrun, at: 1))
                : (cut == 7 ? WireError(.truncated, at: 6) : WireError(.lengthOverrun, at: 7))
            #expect(error == expected, "cut at \(cut)")
        }
        #expect(records(Array(full.prefix(6))).successValue?.count == 1)
    }

    /// RFC 4942 2.1.9.5: PadN data must be zero.
    @Test func padNDataMustBeZero() {
        expectOptionsError(.badPadding, at: 6, hex("9e00 0103 0000 01"))
        #expect(records(hex("9e00 0103 000001"), checksPadding: false).successValue?.count == 2)
    }

    /// RFC 4942 2.1.9.5: a PadN never needs more than 5 data bytes.
    @Test func padNLongerThanFiveDataBytesIsRejected() {
        #expect(records(hex("0105 0000000000")).successValue?.count == 1)
        expectOptionsError(.badPadding, at: 0, hex("0106 000000000000"))
        expectOptionsError(.badPadding, at: 2, hex("9e00 0106 000000000000"))
        #expect(records(hex("0106 000000000000"), checksPadding: false).successValue?.count == 1)
    }

    /// Consecutive padding must stay under 8 bytes, whether Pad1 or PadN.
    @Test func paddingRunsOfEightOrMoreAreRejected() {
        #expect(records([UInt8](repeating: 0, count: 7)).successValue?.count == 7)
        expectOptionsError(.badPadding, at: 7, [UInt8](repeating: 0, count: 8))
        expectOptionsError(.badPadding, at: 7, hex("0105 0000000000 00"))
        expectOptionsError(.badPadding, at: 2, hex("00 00 0104 00000000"))
        // A real option in between resets the run.
        #expect(records(hex("0105 0000000000 9e00 0105 0000000000")).successValue?.count == 3)
        #expect(records([UInt8](repeating: 0, count: 12), checksPadding: false).successValue?.count == 12)
    }

    @Test func emptyAreaHasNoOptions() {
        #expect(records([]).successValue == [])
    }
}

@Suite struct ExtensionHeaderViewTests {
    @Test func lengthIsInEightOctetUnits() {
        let header = [UInt8(59), 1] + [UInt8](repeating: 0, count: 14)
        let view = expectSuccess(header) { try ExtensionHeaderView(checking: $0, at: 0) }
        #expect(view?.length == 16)
        #expect(view?.nextHeader == .noNextHeader)
    }

    @Test func everyTruncationIsReported() {
        let header = [UInt8(59), 1] + [UInt8](repeating: 0, count: 14)
        for cut in 0..<8 {
            expectError(.truncated, at: 0, Array(header.prefix(cut))) { try ExtensionHeaderView(checking: $0, at: 0) }
        }
        for cut in 8..<16 {
            expectError(.lengthOverrun, at: 1, Array(header.prefix(cut))) { try ExtensionHeaderView(checking: $0, at: 0) }
        }
        // The limit (IPv6 payload end) wins over a longer buffer.
        expectError(.lengthOverrun, at: 1, header) { try ExtensionHeaderView(checking: $0, at: 0, limit: 12) }
    }

    @Test func optionsHeaderValidatesItsOptions() {
        let good = optionsHeader(next: .udp, options: hex("9e02abcd 0100"))
        let view = expectSuccess(good) { raw in
            let view = try OptionsHeaderView(checking: raw, at: 0)
            try view.validate()
            return view.length
        }
        #expect(view == 8)
        let bad = optionsHeader(next: .udp, options: hex("9e02abcd 0101"))
        expectError(.lengthOverrun, at: 7, bad) { raw in try OptionsHeaderView(checking: raw, at: 0).validate() }
    }
}
