import Testing
@testable import HomelessWire

/// Random option sequences through emit -> parse, with the alignment and
/// minimal-padding invariants checked on every emitted byte string.
@Suite struct DestinationOptionsPropertyTests {
    static let knownTypes: Set<UInt8> = [0, 1, 198, 7, 8, 201]
    static let knownSubTypes: Set<UInt8> = [0, 1, 2, 4, 128, 129]

    func randomSubOptions(_ rng: inout SeededGenerator) -> [MobilitySubOption] {
        (0..<Int.random(in: 0...4, using: &rng)).map { _ in
            switch Int.random(in: 0...4, using: &rng) {
            case 0: return .uniqueIdentifier(UInt16.random(in: 0...0xFFFF, using: &rng))
            case 1: return .alternateCareOfAddress(rng.address())
            case 2: return .homelessSupport
            case 3:
                let code = UInt8.random(in: 0...3, using: &rng)
                let size = 4 * (Int(code) + 1)
                let count = Int.random(in: 0...3, using: &rng)
                return .alternatePrefixes(AlternatePrefixes(prefixLengthCode: code, prefixes: (0..<count).map { _ in rng.bytes(size) }))
            default:
                var type: UInt8
                repeat { type = UInt8.random(in: 0...255, using: &rng) } while Self.knownSubTypes.contains(type)
                return .unknown(type: type, data: rng.bytes(Int.random(in: 0...9, using: &rng)))
            }
        }
    }

    func randomOption(_ rng: inout SeededGenerator) -> DestinationOption {
        switch Int.random(in: 0...4, using: &rng) {
        case 0: return .homeAddress(rng.address())
        case 1:
            return .bindingUpdate(BindingUpdate(
                flags: BindingUpdateFlags(rawValue: UInt8.random(in: 0...15, using: &rng) << 4),
                reservedBits: UInt8.random(in: 0...15, using: &rng), prefixLength: UInt8.random(in: 0...128, using: &rng),
                sequence: UInt16.random(in: 0...0xFFFF, using: &rng), lifetime: UInt32.random(in: 0...UInt32.max, using: &rng),
                subOptions: randomSubOptions(&rng)))
        case 2:
            return .bindingAcknowledgement(BindingAcknowledgement(
                status: UInt8.random(in: 0...255, using: &rng), sequence: UInt16.random(in: 0...0xFFFF, using: &rng),
                lifetime: UInt32.random(in: 0...UInt32.max, using: &rng), refresh: UInt32.random(in: 0...UInt32.max, using: &rng),
                subOptions: randomSubOptions(&rng)))
        case 3: return .bindingRequest(BindingRequest(subOptions: randomSubOptions(&rng)))
        default:
            var type: UInt8
            repeat { type = UInt8.random(in: 0...255, using: &rng) } while Self.knownTypes.contains(type)
            return .other(type: type, data: rng.bytes(Int.random(in: 0...12, using: &rng)))
        }
    }

    @Test func randomHeadersRoundTrip() throws {
        var rng = SeededGenerator(seed: 0x4D49_5036)
        var checked = 0
        for _ in 0..<1500 {
            let header = DestinationOptionsHeader(nextHeader: IPProtocol(UInt8.random(in: 0...255, using: &rng)),
                                                  options: (0..<Int.random(in: 0...5, using: &rng)).map { _ in randomOption(&rng) })
            guard header.isEncodable else { continue }
            checked += 1
            let bytes = emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) }
            #expect(bytes.count % 8 == 0)
            #expect(bytes.count >= 8)
            let parsed = parseDestinationOptions(bytes)
            #expect(parsed.successValue == header, "\(hexString(bytes))")
            checkLayoutInvariants(bytes)
        }
        #expect(checked > 1000)
    }

    /// Every option and sub-option sits at its alignment, each gap holds
    /// exactly the minimal padding (Pad1 for one byte, one PadN otherwise)
    /// and the tail padding only rounds up to 8.
    func checkLayoutInvariants(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation) {
        let codePoints = MobileIPv6CodePoints.draftEra
        let result = withBytes(bytes) { raw -> Void in
            let view = try OptionsHeaderView(checking: raw, at: 0)
            var options = view.options()
            var previousEnd = 2
            var lastWasPadding = false
            while let option = try options.next() {
                if option.isPadding {
                    #expect(option.type == 0 ? true : option.dataLength <= 5, sourceLocation: sourceLocation)
                    #expect(!lastWasPadding, "two padding options in a row", sourceLocation: sourceLocation)
                    lastWasPadding = true
                    continue
                }
                lastWasPadding = false
                let kind = codePoints.optionKind(option.type)
                let alignment = kind?.alignment ?? .none
                #expect(alignment.isSatisfied(at: option.offset), "option \(option.type) at \(option.offset)", sourceLocation: sourceLocation)
                #expect(option.offset - previousEnd == alignment.padding(before: previousEnd), "padding not minimal", sourceLocation: sourceLocation)
                previousEnd = option.dataRange.upperBound
                var subWalker: MobilitySubOptionWalker?
                switch kind {
                case .bindingUpdate: subWalker = try BindingUpdateOptionView(checking: raw, record: option, headerOffset: 0).subOptions()
                case .bindingAcknowledgement: subWalker = try BindingAcknowledgementOptionView(checking: raw, record: option, headerOffset: 0).subOptions()
                case .bindingRequest: subWalker = try BindingRequestOptionView(checking: raw, record: option, headerOffset: 0).subOptions()
                default: subWalker = nil
                }
                if var walker = subWalker {
                    var subEnd = walker.tlv.cursor
                    var subLastWasPadding = false
                    while let sub = try walker.next() {
                        if walker.isPadding(sub) {
                            #expect(!subLastWasPadding, sourceLocation: sourceLocation)
                            subLastWasPadding = true
                            continue
                        }
                        subLastWasPadding = false
                        let subAlignment: OptionAlignment = switch sub.type {
                        case 2, 128: OptionAlignment(2, 0)
                        case 4: OptionAlignment(8, 6)
                        case 129: OptionAlignment(4, 1)
                        default: .none
                        }
                        #expect(subAlignment.isSatisfied(at: sub.offset), "sub-option \(sub.type) at \(sub.offset)", sourceLocation: sourceLocation)
                        #expect(sub.offset - subEnd == subAlignment.padding(before: subEnd), "sub-option padding not minimal", sourceLocation: sourceLocation)
                        subEnd = sub.dataRange.upperBound
                    }
                    #expect(!subLastWasPadding, "trailing sub-option padding", sourceLocation: sourceLocation)
                }
            }
            #expect(view.length - previousEnd < 8, "tail padding longer than needed", sourceLocation: sourceLocation)
            #expect(view.length - previousEnd == (8 - previousEnd % 8) % 8, sourceLocation: sourceLocation)
        }
        if case .failure(let error) = result { Issue.record("emitted header does not parse: \(error)", sourceLocation: sourceLocation) }
    }

    /// Each single option after every possible amount of preceding data
    /// lands on its alignment (covers all residues mod 8).
    @Test func everyStartingResidueIsAligned() {
        let options: [DestinationOption] = [
            .homeAddress(address("2001:db8::1")),
            .bindingUpdate(BindingUpdate(sequence: 1, lifetime: 2, subOptions: [
                .alternateCareOfAddress(address("2001:db8::2")), .uniqueIdentifier(3), .homelessSupport,
                .alternatePrefixes(AlternatePrefixes(prefixLengthCode: 0, prefixes: [[1, 2, 3, 4]]))])),
            .bindingAcknowledgement(BindingAcknowledgement(status: 0, sequence: 1, lifetime: 2, refresh: 3,
                                                           subOptions: [.uniqueIdentifier(9)])),
            .bindingRequest(BindingRequest(subOptions: [.homelessSupport, .uniqueIdentifier(1)])),
        ]
        for option in options {
            for filler in 0..<8 {
                let header = DestinationOptionsHeader(nextHeader: .noNextHeader,
                                                      options: [.other(type: 0x1E, data: [UInt8](repeating: 7, count: filler)), option])
                let bytes = emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) }
                #expect(parseDestinationOptions(bytes).successValue == header)
                checkLayoutInvariants(bytes)
            }
        }
    }

    @Test func emptyHeaderIsEightBytesOfPadding() {
        let header = DestinationOptionsHeader(nextHeader: .tcp, options: [])
        #expect(emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) } == hex("06 00 0104 00000000"))
    }

    /// Emitting at an offset inside a larger buffer touches only its range.
    @Test func emitAtOffsetLeavesSurroundingsAlone() {
        let header = DestinationOptionsHeader(nextHeader: .noNextHeader, options: [.homeAddress(address("2001:db8::5"))])
        var buffer = [UInt8](repeating: junk, count: header.bufferLength + 10)
        buffer.withUnsafeMutableBytes { header.emit(into: $0, at: 5) }
        #expect(buffer.prefix(5).allSatisfy { $0 == junk })
        #expect(buffer.suffix(5).allSatisfy { $0 == junk })
        #expect(parseDestinationOptions(Array(buffer[5..<(5 + header.bufferLength)])).successValue == header)
    }
}
