import HomelessWire

/// Decodes the options of one Hop-by-Hop or Destination Options header into
/// printable form: padding, Router Alert (RFC 2711), Tunnel Encapsulation
/// Limit (RFC 2473 5.1), Jumbo Payload (RFC 2675) and the draft-era Mobile
/// IPv6 options with their sub-options (WIRE.md section 1, draft 3.1).
/// Anything else prints as "unknown" with its data in hex.
struct OptionDecoder {
    let bytes: UnsafeRawBufferPointer
    /// Start of the enclosing header: option alignment counts from here.
    let headerOffset: Int
    let kind: HeaderKind
    let configuration: PacketWalkerConfiguration
    /// The packet's source address: the suffix of Alternate Prefixes when no
    /// Alternate Care-of Address precedes them (draft 3.1.2).
    let packetSource: IPv6Address?

    static let routerAlert: UInt8 = 0x05
    static let tunnelEncapsulationLimit: UInt8 = 0x04
    static let jumboPayload: UInt8 = 0xC2

    /// Appends the decoded option. A Mobile IPv6 option whose sub-options
    /// fail is appended with the sub-options decoded so far before the error
    /// is rethrown.
    func decode(_ record: OptionRecord, into options: inout [DissectedOption]) throws(WireError) {
        var option = DissectedOption(type: record.type, name: "unknown", offset: record.offset, dataLength: record.dataLength)
        if record.type == OptionWalker.pad1 {
            option.name = "pad1"
        } else if record.type == OptionWalker.padN {
            option.name = "padn"
        } else if kind == .destinationOptions, let mobility = configuration.codePoints.optionKind(record.type) {
            try decodeMobility(mobility, record, into: &option, appendingTo: &options)
            return
        } else if kind == .hopByHop && record.type == Self.routerAlert && record.dataLength == 2 {
            option.name = "router-alert"
            option.fields = [InspectionMember("value", .integer(Int(uint16(at: record.dataOffset))))]
        } else if kind == .destinationOptions && record.type == Self.tunnelEncapsulationLimit && record.dataLength == 1 {
            option.name = "tunnel-encapsulation-limit"
            option.fields = [InspectionMember("limit", .integer(Int(bytes[record.dataOffset])))]
        } else if kind == .hopByHop && record.type == Self.jumboPayload && record.dataLength == 4 {
            option.name = "jumbo-payload"
            option.fields = [InspectionMember("payload_length", .integer(Int(uint32(at: record.dataOffset))))]
        } else {
            option.fields = [InspectionMember("data", .hex(bytes[record.dataRange]))]
        }
        options.append(option)
    }

    // MARK: Mobile IPv6 (WIRE.md section 1)

    private func decodeMobility(_ mobility: MobilityOptionKind, _ record: OptionRecord, into option: inout DissectedOption,
                                appendingTo options: inout [DissectedOption]) throws(WireError) {
        let checksAlignment = configuration.checksAlignment
        var subOptions: MobilitySubOptionWalker
        switch mobility {
        case .homeAddress:
            let view = try HomeAddressOptionView(checking: bytes, record: record, headerOffset: headerOffset,
                                                 checksAlignment: checksAlignment)
            option.name = "home-address"
            option.fields = [InspectionMember("home_address", .address(view.homeAddress))]
            options.append(option)
            return
        case .bindingUpdate:
            let view = try BindingUpdateOptionView(checking: bytes, record: record, headerOffset: headerOffset,
                                                   checksAlignment: checksAlignment)
            option.name = "binding-update"
            let flags = view.flags
            option.fields = [
                InspectionMember("acknowledge", .bool(flags.contains(.acknowledge))),
                InspectionMember("home_registration", .bool(flags.contains(.homeRegistration))),
                InspectionMember("router", .bool(flags.contains(.router))),
                InspectionMember("duplicate_address_detection", .bool(flags.contains(.duplicateAddressDetection))),
                InspectionMember("reserved", .integer(Int(view.reservedBits))),
                InspectionMember("prefix_length", .integer(Int(view.prefixLength))),
                InspectionMember("sequence", .integer(Int(view.sequence))),
                InspectionMember("lifetime", .integer(Int(view.lifetime))),
            ]
            subOptions = view.subOptions(codePoints: configuration.codePoints, checksPadding: configuration.checksPadding,
                                         checksAlignment: checksAlignment)
        case .bindingAcknowledgement:
            let view = try BindingAcknowledgementOptionView(checking: bytes, record: record, headerOffset: headerOffset,
                                                            checksAlignment: checksAlignment)
            option.name = "binding-acknowledgement"
            option.fields = [
                InspectionMember("status", .integer(Int(view.status))),
                InspectionMember("status_name", .string(Self.statusName(view.status))),
                InspectionMember("sequence", .integer(Int(view.sequence))),
                InspectionMember("lifetime", .integer(Int(view.lifetime))),
                InspectionMember("refresh", .integer(Int(view.refresh))),
            ]
            subOptions = view.subOptions(codePoints: configuration.codePoints, checksPadding: configuration.checksPadding,
                                         checksAlignment: checksAlignment)
        case .bindingRequest:
            let view = try BindingRequestOptionView(checking: bytes, record: record, headerOffset: headerOffset,
                                                    checksAlignment: checksAlignment)
            option.name = "binding-request"
            subOptions = view.subOptions(codePoints: configuration.codePoints, checksPadding: configuration.checksPadding,
                                         checksAlignment: checksAlignment)
        }
        var decoded: [DissectedOption] = []
        do {
            var suffixSource = packetSource
            while let subRecord = try subOptions.next() {
                decoded.append(decodeSubOption(subRecord, walker: subOptions, suffixSource: &suffixSource))
            }
        } catch {
            option.subOptions = decoded
            options.append(option)
            throw error
        }
        option.subOptions = decoded
        options.append(option)
    }

    /// `record` was checked by the sub-option walker (length and alignment).
    private func decodeSubOption(_ record: OptionRecord, walker: MobilitySubOptionWalker,
                                 suffixSource: inout IPv6Address?) -> DissectedOption {
        let codePoints = configuration.codePoints
        var subOption = DissectedOption(type: record.type, name: "unknown", offset: record.offset, dataLength: record.dataLength)
        switch record.type {
        case codePoints.subOptionPad1:
            subOption.name = "pad1"
        case codePoints.subOptionPadN:
            subOption.name = "padn"
        case codePoints.uniqueIdentifier where record.dataLength == 2:
            subOption.name = "unique-identifier"
            subOption.fields = [InspectionMember("identifier", .integer(Int(uint16(at: record.dataOffset))))]
        case codePoints.alternateCareOfAddress where record.dataLength == 16:
            let address = IPv6Address(bytes: bytes, at: record.dataOffset)
            subOption.name = "alternate-care-of-address"
            subOption.fields = [InspectionMember("address", .address(address))]
            suffixSource = address
        case codePoints.homelessSupport where record.dataLength == 0:
            subOption.name = "homeless-support"
        case codePoints.alternatePrefixes:
            guard let view = try? AlternatePrefixesView(checking: bytes, record: record) else {
                subOption.fields = [InspectionMember("data", .hex(bytes[record.dataRange]))]
                return subOption
            }
            subOption.name = "alternate-prefixes"
            let prefixes = (0..<view.count).map { index -> InspectionValue in
                let start = view.prefixOffset(index)
                return .hex(bytes[start..<(start + view.prefixByteCount)])
            }
            let addresses = (0..<view.count).compactMap { index -> InspectionValue? in
                guard let suffixSource, let address = view.address(index, suffixFrom: suffixSource) else { return nil }
                return .address(address)
            }
            subOption.fields = [
                InspectionMember("prefix_length_code", .integer(Int(view.prefixLengthCode))),
                InspectionMember("prefix_bytes", .integer(view.prefixByteCount)),
                InspectionMember("prefixes", .array(prefixes)),
                InspectionMember("addresses", .array(addresses)),
            ]
        default:
            subOption.fields = [InspectionMember("data", .hex(bytes[record.dataRange]))]
        }
        return subOption
    }

    /// WIRE.md section 1: below 128 accepted, else the rejection reason.
    static func statusName(_ status: UInt8) -> String {
        guard status >= 128 else { return "accepted" }
        switch BindingAcknowledgement.Status(rawValue: status) {
        case .unspecified: return "unspecified"
        case .administrativelyProhibited: return "administratively-prohibited"
        case .insufficientResources: return "insufficient-resources"
        case .homeRegistrationNotSupported: return "home-registration-not-supported"
        case .notHomeSubnet: return "not-home-subnet"
        case .incorrectInterfaceIdentifierLength: return "incorrect-interface-identifier-length"
        case .notHomeAgent: return "not-home-agent"
        case .duplicateAddressDetectionFailed: return "duplicate-address-detection-failed"
        case .sequenceNumberOutOfWindow: return "sequence-number-out-of-window"
        case .accepted, nil: return "rejected"
        }
    }

    // The walker checked that these lie inside the option data.
    private func uint16(at offset: Int) -> UInt16 {
        UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
    }

    private func uint32(at offset: Int) -> UInt32 {
        UInt32(uint16(at: offset)) << 16 | UInt32(uint16(at: offset + 2))
    }
}
