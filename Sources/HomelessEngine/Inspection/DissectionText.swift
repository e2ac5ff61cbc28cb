import HomelessWire

/// The default, human-readable form of a dissection: a summary line, then
/// one indented line per header, option and sub-option.
///
/// ```
/// #6 1700000005.250000 150 bytes ethernet 02:00:00:00:00:01 > 02:00:00:00:00:02 type 0x86dd
///   ipv6 2001:db8:2::200 > 2001:db8:9::9 next-header 51 payload-length 96 hop-limit 64 ...
///   ah @54 length 24 next-header 60 spi 0x00001001 (4097) sequence 7 icv a0a1a2a3a4a5a6a7a8a9aaab
///   destination-options @78 length 72 next-header 59
///     option 198 binding-update @80 length 48 action discard-icmp-unicast: ... sequence=42 lifetime=600
///       sub-option 128 homeless-support @90 length 0
/// ```
extension PacketDissection {
    public var text: String {
        var lines: [String] = [summaryLine]
        if let ipv6 {
            lines.append("  ipv6 \(ipv6.source) > \(ipv6.destination) next-header \(ipv6.nextHeader.rawValue)"
                + " payload-length \(ipv6.payloadLength) hop-limit \(ipv6.hopLimit)"
                + " traffic-class \(ipv6.trafficClass) flow-label \(ipv6.flowLabel)")
        }
        for header in headers {
            header.appendText(to: &lines)
        }
        if let upper {
            var line = "  \(upper.protocolName) @\(upper.offset) length \(upper.length)"
            if upper.kind == .payload { line += " (protocol \(upper.protocolNumber.rawValue), not decoded)" }
            line += DissectionTextFormat.fieldsSuffix(upper.fields)
            lines.append(line)
        }
        if let error {
            lines.append("  error: \(error.reason) at offset \(error.offset)")
        }
        if let ahVerification {
            lines.append("  ah-verdict \(ahVerdictText(ahVerification))")
        }
        return lines.joined(separator: "\n")
    }

    private var summaryLine: String {
        var line = "#\(index)"
        if let timestamp { line += " \(timestamp)" }
        line += capturedLength == originalLength
            ? " \(originalLength) bytes"
            : " \(capturedLength) of \(originalLength) bytes"
        if let interfaceID { line += " interface \(interfaceID)" }
        line += " \(linkType)"
        if let ethernet {
            line += " \(ethernet.source) > \(ethernet.destination)"
            if let tag = ethernet.vlanTag { line += " vlan \(tag.identifier) priority \(tag.priority)" }
            line += " type \(InspectionFormat.hex16(ethernet.etherType.rawValue))"
        }
        return line
    }
}

extension DissectedHeader {
    func appendText(to lines: inout [String]) {
        var line = "  \(kind) @\(offset) length \(length)"
        if let nextHeader { line += " next-header \(nextHeader.rawValue)" }
        switch details {
        case .options(let options):
            lines.append(line)
            for option in options {
                option.appendText(to: &lines, indent: "    ", label: "option")
            }
        case .authentication(let spi, let sequence, let icv):
            line += " spi \(InspectionFormat.hex32(spi)) (\(spi)) sequence \(sequence) icv \(InspectionValue.hexString(icv))"
            lines.append(line)
        case .encapsulatingSecurityPayload(let spi, let sequence):
            line += " spi \(InspectionFormat.hex32(spi)) (\(spi)) sequence \(sequence)"
            lines.append(line)
        case .routing, .fragment:
            line += DissectionTextFormat.fieldsSuffix(detailMembers)
            lines.append(line)
        }
    }
}

extension DissectedOption {
    func appendText(to lines: inout [String], indent: String, label: String) {
        var line = "\(indent)\(label) \(type) \(name) @\(offset) length \(dataLength)"
        if subOptions != nil || label == "option" {
            if action != .skip { line += " action \(action.inspectionName)" }
            if mayChangeEnRoute { line += " may-change" }
        }
        line += DissectionTextFormat.fieldsSuffix(fields)
        lines.append(line)
        for subOption in subOptions ?? [] {
            subOption.appendText(to: &lines, indent: indent + "  ", label: "sub-option")
        }
    }
}

enum DissectionTextFormat {
    /// ": name=value name=value" (empty when there are no fields).
    static func fieldsSuffix(_ fields: [InspectionMember]) -> String {
        guard !fields.isEmpty else { return "" }
        return ":" + fields.map { " \($0.name)=\(text($0.value))" }.joined()
    }

    static func text(_ value: InspectionValue) -> String {
        switch value {
        case .null: return "-"
        case .bool(let flag): return flag ? "yes" : "no"
        case .integer(let number): return String(number)
        case .string(let string): return string
        case .array(let elements): return "[" + elements.map(text).joined(separator: ",") + "]"
        case .object(let members): return "{" + members.map { "\($0.name)=\(text($0.value))" }.joined(separator: " ") + "}"
        }
    }
}
