import HomelessWire

/// The `homeless inspect --json` form of a dissection: one object per
/// packet, members in a fixed order. Every member is documented in
/// docs/INSPECT.md; renaming one is a breaking change.
extension PacketDissection {
    public var jsonValue: InspectionValue {
        var members: [InspectionMember] = [
            InspectionMember("index", .integer(index)),
            InspectionMember("time", timestamp.map { .string($0.description) } ?? .null),
            InspectionMember("length", .integer(originalLength)),
            InspectionMember("captured", .integer(capturedLength)),
            InspectionMember("link", .string(linkType.description)),
            InspectionMember("link_type", .integer(Int(linkType.rawValue))),
            InspectionMember("interface", interfaceID.map { .integer($0) } ?? .null),
        ]
        members.append(InspectionMember("ethernet", ethernet.map(\.jsonValue) ?? .null))
        members.append(InspectionMember("ipv6", ipv6.map(\.jsonValue) ?? .null))
        members.append(InspectionMember("headers", .array(headers.map(\.jsonValue))))
        members.append(InspectionMember("upper", upper.map(\.jsonValue) ?? .null))
        members.append(InspectionMember("error", error.map(\.jsonValue) ?? .null))
        if let ahVerification {
            members.append(contentsOf: ahVerdictMembers(ahVerification))
        }
        return .object(members)
    }
}

extension EthernetHeader {
    var jsonValue: InspectionValue {
        .object([
            InspectionMember("src", .string(source.description)),
            InspectionMember("dst", .string(destination.description)),
            InspectionMember("vlan", vlanTag.map { .integer(Int($0.identifier)) } ?? .null),
            InspectionMember("priority", vlanTag.map { .integer(Int($0.priority)) } ?? .null),
            InspectionMember("type", .string(InspectionFormat.hex16(etherType.rawValue))),
        ])
    }
}

extension IPv6Header {
    var jsonValue: InspectionValue {
        .object([
            InspectionMember("src", .address(source)),
            InspectionMember("dst", .address(destination)),
            InspectionMember("next_header", .integer(Int(nextHeader.rawValue))),
            InspectionMember("payload_length", .integer(Int(payloadLength))),
            InspectionMember("hop_limit", .integer(Int(hopLimit))),
            InspectionMember("traffic_class", .integer(Int(trafficClass))),
            InspectionMember("flow_label", .integer(Int(flowLabel))),
        ])
    }
}

extension DissectedHeader {
    var jsonValue: InspectionValue {
        var members: [InspectionMember] = [
            InspectionMember("type", .string(kind.description)),
            InspectionMember("protocol", .integer(Int(protocolNumber.rawValue))),
            InspectionMember("offset", .integer(offset)),
            InspectionMember("length", .integer(length)),
            InspectionMember("next_header", nextHeader.map { .integer(Int($0.rawValue)) } ?? .null),
        ]
        members += detailMembers
        return .object(members)
    }

    /// The kind-specific members, shared by the JSON and text forms.
    var detailMembers: [InspectionMember] {
        switch details {
        case .options(let options):
            return [InspectionMember("options", .array(options.map { $0.jsonValue(isSubOption: false) }))]
        case .routing(let type, let segmentsLeft, let addresses):
            return [
                InspectionMember("routing_type", .integer(Int(type))),
                InspectionMember("segments_left", .integer(Int(segmentsLeft))),
                InspectionMember("addresses", .array(addresses.map { .address($0) })),
            ]
        case .fragment(let fragmentOffset, let moreFragments, let identification):
            return [
                InspectionMember("fragment_offset", .integer(Int(fragmentOffset))),
                InspectionMember("more_fragments", .bool(moreFragments)),
                InspectionMember("identification", .integer(Int(identification))),
            ]
        case .authentication(let spi, let sequence, let icv):
            return [
                InspectionMember("spi", .integer(Int(spi))),
                InspectionMember("sequence", .integer(Int(sequence))),
                InspectionMember("icv", .hex(icv)),
            ]
        case .encapsulatingSecurityPayload(let spi, let sequence):
            return [
                InspectionMember("spi", .integer(Int(spi))),
                InspectionMember("sequence", .integer(Int(sequence))),
            ]
        }
    }
}

extension DissectedOption {
    func jsonValue(isSubOption: Bool) -> InspectionValue {
        var members: [InspectionMember] = [
            InspectionMember("type", .integer(Int(type))),
            InspectionMember("name", .string(name)),
            InspectionMember("offset", .integer(offset)),
            InspectionMember("length", .integer(dataLength)),
        ]
        if !isSubOption {
            // Sub-option types carry no action or chg bits (MIPv6-12 5.5).
            members.append(InspectionMember("action", .string(action.inspectionName)))
            members.append(InspectionMember("change", .bool(mayChangeEnRoute)))
        }
        members.append(InspectionMember("fields", .object(fields)))
        if !isSubOption {
            members.append(InspectionMember("sub_options",
                                            subOptions.map { .array($0.map { $0.jsonValue(isSubOption: true) }) } ?? .null))
        }
        return .object(members)
    }
}

extension DissectedUpperLayer {
    var jsonValue: InspectionValue {
        .object([
            InspectionMember("protocol", .string(protocolName)),
            InspectionMember("number", .integer(Int(protocolNumber.rawValue))),
            InspectionMember("offset", .integer(offset)),
            InspectionMember("length", .integer(length)),
        ] + fields)
    }
}

extension DissectionError {
    var jsonValue: InspectionValue {
        .object([InspectionMember("reason", .string(reason)), InspectionMember("offset", .integer(offset))])
    }
}

/// Number formats shared by the text and JSON forms.
enum InspectionFormat {
    /// "0x86dd": four lower-case hex digits.
    static func hex16(_ value: UInt16) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 4 - digits.count) + digits
    }

    /// "0x00001001": eight lower-case hex digits.
    static func hex32(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: 8 - digits.count) + digits
    }
}
