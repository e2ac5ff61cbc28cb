/// Why a packet failed to parse, with the byte offset (from the start of the
/// buffer handed to the outermost parser) where the problem was found.
///
/// Parsers never trap on hostile input: every length is checked and every
/// failure is one of these values, so the fast path can count it as a drop
/// reason and `homeless inspect` can print it.
public struct WireError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: Reason
    /// Byte offset of the offending field.
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    /// Stable, machine-readable reasons (also used as drop-counter names).
    public enum Reason: String, Sendable, CaseIterable {
        /// The buffer ends before the header or field does.
        case truncated
        /// A length field points past the enclosing header or buffer.
        case lengthOverrun = "length-overrun"
        /// A length field holds a value the format does not allow.
        case badLength = "bad-length"
        /// IP version field is not 6.
        case badVersion = "bad-version"
        /// Ethernet type is not one this parser handles.
        case unsupportedEtherType = "unsupported-ethertype"
        /// Hop-by-Hop Options header not directly after the IPv6 header (RFC 8200 4.1).
        case hopByHopNotFirst = "hop-by-hop-not-first"
        /// More extension headers than the configured limit.
        case chainTooLong = "chain-too-long"
        /// Padding that breaks RFC 4942 2.1.9.5 rules (PadN > 5 bytes, non-zero pad data, padding across 8 bytes).
        case badPadding = "bad-padding"
        /// An option sits at an offset that violates its alignment requirement.
        case misaligned
        /// An option or sub-option is malformed (fields inconsistent with its length).
        case malformedOption = "malformed-option"
        /// A checksum does not verify.
        case badChecksum = "bad-checksum"
        /// A value outside what the field allows.
        case badValue = "bad-value"
    }

    public var description: String { "\(reason.rawValue) at offset \(offset)" }
}
