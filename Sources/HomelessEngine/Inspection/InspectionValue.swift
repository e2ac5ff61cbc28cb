import HomelessWire

/// A small ordered tree of printable values: what `homeless inspect` knows
/// about a field, independent of whether it is printed as text or JSON.
///
/// Objects keep their members in insertion order so the JSON output has a
/// stable, documented field order.
public indirect enum InspectionValue: Equatable, Sendable {
    case null
    case bool(Bool)
    case integer(Int)
    case string(String)
    case array([InspectionValue])
    case object([InspectionMember])

    /// An IPv6 address in RFC 5952 text form.
    public static func address(_ address: IPv6Address) -> InspectionValue { .string(address.description) }

    /// Bytes as lower-case hex without separators.
    public static func hex<C: Collection>(_ bytes: C) -> InspectionValue where C.Element == UInt8 {
        .string(InspectionValue.hexString(bytes))
    }

    static func hexString<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
        let digits: [UInt8] = Array("0123456789abcdef".utf8)
        var text: [UInt8] = []
        text.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            text.append(digits[Int(byte >> 4)])
            text.append(digits[Int(byte & 0xF)])
        }
        return String(decoding: text, as: UTF8.self)
    }
}

/// A named member of an `InspectionValue.object`.
public struct InspectionMember: Equatable, Sendable {
    public var name: String
    public var value: InspectionValue

    public init(_ name: String, _ value: InspectionValue) {
        self.name = name
        self.value = value
    }
}

extension InspectionValue {
    /// Compact JSON (RFC 8259): no insignificant whitespace, so one value is one line.
    public var json: String {
        var output = ""
        writeJSON(to: &output)
        return output
    }

    public func writeJSON<Target: TextOutputStream>(to output: inout Target) {
        switch self {
        case .null:
            output.write("null")
        case .bool(let value):
            output.write(value ? "true" : "false")
        case .integer(let value):
            output.write(String(value))
        case .string(let value):
            InspectionValue.writeJSONString(value, to: &output)
        case .array(let elements):
            output.write("[")
            for (index, element) in elements.enumerated() {
                if index > 0 { output.write(",") }
                element.writeJSON(to: &output)
            }
            output.write("]")
        case .object(let members):
            output.write("{")
            for (index, member) in members.enumerated() {
                if index > 0 { output.write(",") }
                InspectionValue.writeJSONString(member.name, to: &output)
                output.write(":")
                member.value.writeJSON(to: &output)
            }
            output.write("}")
        }
    }

    /// A JSON string literal: quote, backslash and control characters escaped
    /// (RFC 8259 section 7); everything else passes through as UTF-8.
    static func writeJSONString<Target: TextOutputStream>(_ value: String, to output: inout Target) {
        // Names, addresses and hex never need escaping: skip the per-character pass.
        if !value.utf8.contains(where: { $0 < 0x20 || $0 == 0x22 || $0 == 0x5C || $0 == 0x7F }) {
            output.write("\"")
            output.write(value)
            output.write("\"")
            return
        }
        var escaped = "\""
        for scalar in value.unicodeScalars {
            switch scalar {
            case "\"": escaped += "\\\""
            case "\\": escaped += "\\\\"
            case "\n": escaped += "\\n"
            case "\r": escaped += "\\r"
            case "\t": escaped += "\\t"
            case "\u{08}": escaped += "\\b"
            case "\u{0C}": escaped += "\\f"
            default:
                if scalar.value < 0x20 || scalar.value == 0x7F {
                    let digits = String(scalar.value, radix: 16)
                    escaped += "\\u" + String(repeating: "0", count: 4 - digits.count) + digits
                } else {
                    escaped.unicodeScalars.append(scalar)
                }
            }
        }
        escaped += "\""
        output.write(escaped)
    }

    /// The member called `name` of an object (nil for other values or when absent).
    public subscript(member name: String) -> InspectionValue? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.name == name }?.value
    }
}
