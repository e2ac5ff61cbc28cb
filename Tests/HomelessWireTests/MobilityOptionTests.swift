import Testing
@testable import HomelessWire

/// Destination Options header with HAO + BU and all four sub-options, laid
/// out by hand from WIRE.md section 1 (offsets relative to the header start;
/// the same bytes appear in golden vector raw-destopt-hao-bu-all-suboptions).
let huBindingUpdateHeader = hex("""
    3b 0a                                   next header 59, 88 bytes
    01 02 0000                              PadN 2 -> HAO at 6 (8n+6)
    c9 10 20010db8000100000000000000000005  HAO 2001:db8:1::5
    01 00                                   PadN 0 -> BU at 26 (4n+2)
    c6 38 c0 40 1234 00000258               BU len 56: A|H, prefix 64, seq 0x1234, lifetime 600
    02 02 beef                              Unique Identifier at 36 (2n)
    80 00                                   Homeless Support at 40 (2n)
    01 02 0000                              sub-option PadN 2 -> ACoA at 46 (8n+6)
    04 10 20010db8000400000000000000000044  Alternate Care-of Address
    00                                      sub-option Pad1 -> Alternate Prefixes at 65 (4n+1)
    81 11 42 20010db800050000 20010db800060000   PL=1 (8-byte prefixes), count 2
    01 02 0000                              PadN 2 -> 88 bytes
    """.split(separator: "\n").map { $0.split(separator: " ", omittingEmptySubsequences: true)
        .prefix { $0.allSatisfy(\.isHexDigit) }.joined() }.joined())

let huBindingUpdate = BindingUpdate(
    flags: [.acknowledge, .homeRegistration], prefixLength: 64, sequence: 0x1234, lifetime: 600,
    subOptions: [.uniqueIdentifier(0xBEEF), .homelessSupport, .alternateCareOfAddress(address("2001:db8:4::44")),
                 .alternatePrefixes(AlternatePrefixes(prefixLengthCode: 1, prefixes: [hex("20010db800050000"), hex("20010db800060000")]))])

/// Options of a Destination Options header (whole buffer = one header at 0).
func mobilityRecords(_ bytes: [UInt8]) -> Result<[OptionRecord], WireError> {
    withBytes(bytes) { raw in
        var walker = try OptionsHeaderView(checking: raw, at: 0).options()
        var result: [OptionRecord] = []
        while let record = try walker.next() { result.append(record) }
        return result
    }
}

func parseDestinationOptions(_ bytes: [UInt8], codePoints: MobileIPv6CodePoints = .draftEra,
                             checksAlignment: Bool = true) -> Result<DestinationOptionsHeader, WireError> {
    withBytes(bytes) { raw in
        try DestinationOptionsHeader(try OptionsHeaderView(checking: raw, at: 0), codePoints: codePoints, checksAlignment: checksAlignment)
    }
}

@Suite struct MobilityOptionTests {
    @Test func handBuiltHeaderHasTheDocumentedLayout() {
        #expect(huBindingUpdateHeader.count == 88)
        #expect(huBindingUpdateHeader[26] == 198)
        #expect(huBindingUpdateHeader[6] == 201)
    }

    @Test func viewsReadEveryField() throws {
        let result = withBytes(huBindingUpdateHeader) { raw -> [String] in
            let header = try OptionsHeaderView(checking: raw, at: 0)
            var options = header.options()
            var seen: [String] = []
            while let option = try options.next() {
                switch MobileIPv6CodePoints.draftEra.optionKind(option.type) {
                case .homeAddress:
                    let hao = try HomeAddressOptionView(checking: raw, record: option, headerOffset: 0)
                    seen.append("hao@\(option.offset) \(hao.homeAddress)")
                case .bindingUpdate:
                    let bu = try BindingUpdateOptionView(checking: raw, record: option, headerOffset: 0)
                    seen.append("bu@\(option.offset) \(bu.flags.rawValue) \(bu.reservedBits) \(bu.prefixLength) \(bu.sequence) \(bu.lifetime)")
                    var subs = bu.subOptions()
                    var careOf = IPv6Address.unspecified
                    while let sub = try subs.next() {
                        if subs.isPadding(sub) { seen.append("pad@\(sub.offset)"); continue }
                        seen.append("sub \(sub.type)@\(sub.offset)/\(sub.dataLength)")
                        if sub.type == 4 { careOf = IPv6Address(bytes: raw, at: sub.dataOffset) }
                        if sub.type == 129 {
                            let prefixes = try AlternatePrefixesView(checking: raw, record: sub)
                            seen.append("prefixes \(prefixes.prefixLengthCode) \(prefixes.count) \(prefixes.prefixByteCount)")
                            for index in 0..<prefixes.count {
                                seen.append("alt \(prefixes.address(index, suffixFrom: careOf)!)")
                            }
                            #expect(prefixes.address(2, suffixFrom: careOf) == nil)
                        }
                    }
                default:
                    seen.append(option.isPadding ? "pad@\(option.offset)" : "other@\(option.offset)")
                }
            }
            return seen
        }
        #expect(try result.get() == [
            "pad@2", "hao@6 2001:db8:1::5", "pad@24", "bu@26 192 0 64 4660 600",
            "sub 2@36/2", "sub 128@40/0", "pad@42", "sub 4@46/16", "pad@64", "sub 129@65/17",
            "prefixes 1 2 8", "alt 2001:db8:5::44", "alt 2001:db8:6::44", "pad@84",
        ])
    }

    @Test func decodesToValuesAndEmitsIdenticalBytes() throws {
        let header = try parseDestinationOptions(huBindingUpdateHeader).get()
        #expect(header == DestinationOptionsHeader(nextHeader: .noNextHeader,
                                                   options: [.homeAddress(address("2001:db8:1::5")), .bindingUpdate(huBindingUpdate)]))
        #expect(header.bufferLength == 88)
        #expect(header.emittedLength == 88)
        #expect(emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) } == huBindingUpdateHeader)
    }

    @Test func alternatePrefixValueAgreesWithView() {
        let prefixes = AlternatePrefixes(prefixLengthCode: 1, prefixes: [hex("20010db800050000")])
        #expect(prefixes.address(at: 0, suffixFrom: address("2001:db8:4::44")) == address("2001:db8:5::44"))
    }

    @Test func bindingAcknowledgementAndRequest() throws {
        // BA (status 141 ours, seq 0x1234, lifetime 600, refresh 300) at 4n+3 after a Pad1.
        let ba = hex("3b 01 00 07 0b 8d 1234 00000258 0000012c")
        let value = try parseDestinationOptions(ba).get()
        #expect(value.options == [.bindingAcknowledgement(BindingAcknowledgement(status: 141, sequence: 0x1234, lifetime: 600, refresh: 300))])
        if case .bindingAcknowledgement(let acknowledgement) = value.options.first {
            #expect(!acknowledgement.isAccepted())
            #expect(acknowledgement.status == MobileIPv6CodePoints.draftEra.statusSequenceNumberOutOfWindow)
            #expect(acknowledgement.status == BindingAcknowledgement.Status.sequenceNumberOutOfWindow.rawValue)
        }
        #expect(emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) } == ba)
        // BR with Unique Identifier and Homeless Support, as in golden vector raw-destopt-br-echo-reply.
        let br = hex("3a 01 08 06 0202 0102 8000 0104 00000000")
        let request = try parseDestinationOptions(br).get()
        #expect(request.options == [.bindingRequest(BindingRequest(subOptions: [.uniqueIdentifier(0x0102), .homelessSupport]))])
        #expect(emittedIgnoringJunk(length: request.bufferLength) { request.emit(into: $0) } == br)
    }

    @Test func optionAlignmentIsChecked() {
        // HAO at 2 (needs 8n+6).
        let hao = hex("3b 02 c9 10 20010db8000100000000000000000005 0102 0000")
        #expect(parseDestinationOptions(hao).failureValue == WireError(.misaligned, at: 2))
        #expect(parseDestinationOptions(hao, checksAlignment: false).successValue?.options == [.homeAddress(address("2001:db8:1::5"))])
        // BU at 3 (needs 4n+2).
        let bu = hex("3b 01 00 c6 08 00 00 0001 00000258 010100")
        #expect(parseDestinationOptions(bu).failureValue == WireError(.misaligned, at: 3))
        // BA at 2 (needs 4n+3).
        let ba = hex("3b 01 07 0b 00 1234 00000258 0000012c 00")
        #expect(parseDestinationOptions(ba).failureValue == WireError(.misaligned, at: 2))
        // BR has no alignment: fine at 2 and at 3.
        #expect(parseDestinationOptions(hex("3b 00 08 00 0102 0000")).successValue != nil)
        #expect(parseDestinationOptions(hex("3b 00 00 08 00 0101 00")).successValue != nil)
    }

    @Test func subOptionAlignmentCountsFromHeaderStart() {
        // BR at 2, UID at 5 (odd: needs 2n).
        let oddUID = hex("3b 01 08 05 00 0202 0102 0105 0000000000")
        #expect(parseDestinationOptions(oddUID).failureValue == WireError(.misaligned, at: 5))
        // ACoA at 4 (needs 8n+6).
        let acoa = hex("3b 02 08 12 0410 20010db8000400000000000000000044 0100")
        #expect(parseDestinationOptions(acoa).failureValue == WireError(.misaligned, at: 4))
        // Alternate Prefixes at 4 (needs 4n+1).
        let prefixes = hex("3b 01 08 07 8105 01 0a0b0c0d 0103000000")
        #expect(parseDestinationOptions(prefixes).failureValue == WireError(.misaligned, at: 4))
        // Homeless Support at 5.
        let homeless = hex("3b 00 08 03 00 8000 00")
        #expect(parseDestinationOptions(homeless).failureValue == WireError(.misaligned, at: 5))
        // The same header is fine when alignment checks are off.
        #expect(parseDestinationOptions(homeless, checksAlignment: false).successValue?.options == [.bindingRequest(BindingRequest(subOptions: [.homelessSupport]))])
    }

    @Test func optionLengthsAreChecked() {
        // HAO with Len 15.
        let hao = hex("3b 02 0102 0000 c9 0f 20010db80001000000000000000000 00")
        #expect(parseDestinationOptions(hao).failureValue == WireError(.badLength, at: 7))
        // BU with Len 7 (fixed part needs 8).
        let bu = hex("3b 01 c6 07 00 00 0001 000002 0103000000")
        #expect(parseDestinationOptions(bu).failureValue == WireError(.badLength, at: 3))
        // BA with Len 10 (needs 11).
        let ba = hex("3b 01 00 07 0a 00 1234 00000258 000001 00")
        #expect(parseDestinationOptions(ba).failureValue == WireError(.badLength, at: 4))
    }

    @Test func subOptionLengthsAreChecked() {
        // UID with Len 3.
        #expect(parseDestinationOptions(hex("3b 01 08 05 0203 010203 0105 0000000000")).failureValue == WireError(.badLength, at: 5))
        // Homeless Support with Len 1.
        #expect(parseDestinationOptions(hex("3b 00 08 03 8001 00 00")).failureValue == WireError(.badLength, at: 5))
        // ACoA with Len 15 (at 6, aligned).
        let acoa = hex("3b 02 08 13 0100 040f 20010db80004000000000000000000 0100")
        #expect(parseDestinationOptions(acoa).failureValue == WireError(.badLength, at: 7))
        // Alternate Prefixes: Len 6 but PL=0 count 1 needs 1 + 4 = 5.
        let prefixes = hex("3b 01 08 09 00 8106 01 0a0b0c0d 00 010100")
        #expect(parseDestinationOptions(prefixes).failureValue == WireError(.malformedOption, at: 6))
        // Alternate Prefixes with Len 0.
        #expect(parseDestinationOptions(hex("3b 00 08 03 00 8100 00")).failureValue == WireError(.badLength, at: 6))
        // Sub-option running past the end of its BR.
        #expect(parseDestinationOptions(hex("3b 00 08 02 0203 0000")).failureValue == WireError(.lengthOverrun, at: 5))
    }

    @Test func unknownSubOptionsAreKept() throws {
        let bytes = hex("3b 00 08 04 c002 aabb")
        let header = try parseDestinationOptions(bytes).get()
        #expect(header.options == [.bindingRequest(BindingRequest(subOptions: [.unknown(type: 0xC0, data: hex("aabb"))]))])
        #expect(emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) } == bytes)
    }

    @Test func codePointsComeFromTheTable() throws {
        var table = MobileIPv6CodePoints.draftEra
        table.bindingRequest = 0x1E
        table.homelessSupport = 0x90
        let bytes = hex("3b 00 1e 02 9000 0100")
        let header = try parseDestinationOptions(bytes, codePoints: table).get()
        #expect(header.options == [.bindingRequest(BindingRequest(subOptions: [.homelessSupport]))])
        // Under the default table the same bytes are an unknown option.
        #expect(try parseDestinationOptions(bytes).get().options == [.other(type: 0x1E, data: hex("9000"))])
        #expect(emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) } == bytes)
        #expect(table.optionKind(0x1E) == .bindingRequest)
        #expect(table.optionType(.bindingRequest) == 0x1E)
    }

    @Test func oversizedBindingUpdateIsNotEncodable() {
        let prefixes = AlternatePrefixes(prefixLengthCode: 3, prefixes: Array(repeating: [UInt8](repeating: 1, count: 16), count: 20))
        let header = DestinationOptionsHeader(nextHeader: .noNextHeader, options: [
            .bindingUpdate(BindingUpdate(sequence: 1, lifetime: 1, subOptions: [.alternatePrefixes(prefixes)]))])
        #expect(!header.isEncodable)
        let fits = DestinationOptionsHeader(nextHeader: .noNextHeader, options: [
            .bindingUpdate(BindingUpdate(sequence: 1, lifetime: 1, subOptions: [
                .alternatePrefixes(AlternatePrefixes(prefixLengthCode: 3, prefixes: Array(prefixes.prefixes.prefix(15))))]))])
        #expect(fits.isEncodable)
    }
}
