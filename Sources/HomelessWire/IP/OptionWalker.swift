// Hop-by-Hop and Destination Options TLVs (RFC 8200 4.2) and their padding.
//
// ```
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
// |  Option Type  |  Opt Data Len |  Option Data
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
//   act(2) chg(1) rest(5)
// ```
// Pad1 (type 0) is a single byte without length. PadN (type 1) carries
// Opt Data Len zero bytes. The draft-era Mobile IPv6 sub-options use the
// same TLV layout and the same Pad1/PadN codes, so this walker serves both.

/// What a node must do with an option it does not recognize: the two
/// high-order bits of the option type (RFC 8200 4.2).
public enum OptionAction: UInt8, Sendable, CaseIterable {
    /// 00: skip the option and continue.
    case skip = 0
    /// 01: discard the packet.
    case discard = 1
    /// 10: discard and send ICMP Parameter Problem, code 2, to the source.
    case discardAndSendParameterProblem = 2
    /// 11: as 10, but only if the destination is not multicast.
    case discardAndSendParameterProblemUnlessMulticast = 3

    @inlinable
    public init(optionType: UInt8) {
        switch optionType >> 6 {
        case 0: self = .skip
        case 1: self = .discard
        case 2: self = .discardAndSendParameterProblem
        default: self = .discardAndSendParameterProblemUnlessMulticast
        }
    }
}

/// One TLV found by `OptionWalker`. Offsets are absolute (into the buffer
/// that was handed to the outermost parser).
public struct OptionRecord: Hashable, Sendable {
    public var type: UInt8
    /// Offset of the type byte.
    public var offset: Int
    /// Offset of the first data byte (`offset + 1` for Pad1, else `offset + 2`).
    public var dataOffset: Int
    /// Opt Data Len (0 for Pad1).
    public var dataLength: Int

    @inlinable
    public init(type: UInt8, offset: Int, dataOffset: Int, dataLength: Int) {
        self.type = type
        self.offset = offset
        self.dataOffset = dataOffset
        self.dataLength = dataLength
    }

    @inlinable public var dataRange: Range<Int> { dataOffset..<(dataOffset + dataLength) }
    /// Total bytes occupied, type byte included.
    @inlinable public var totalLength: Int { dataOffset + dataLength - offset }
    /// The unrecognized-option action encoded in the type (RFC 8200 4.2).
    @inlinable public var action: OptionAction { OptionAction(optionType: type) }
    /// The chg bit: option data may change en route (treated as zero by AH).
    @inlinable public var mayChangeEnRoute: Bool { type & 0x20 != 0 }
    /// Pad1 or PadN (option-level codes 0 and 1).
    @inlinable public var isPadding: Bool { type == OptionWalker.pad1 || type == OptionWalker.padN }
}

/// Walks the TLVs in `bytes[start..<end]` without allocating, checking
/// lengths and the padding rules of RFC 4942 2.1.9.5.
///
/// Padding rules enforced when `checksPadding` is set (the defaults; they
/// can be relaxed to accept sloppy senders):
/// - PadN data must be all zero;
/// - one PadN may carry at most 5 data bytes (7 bytes in all): more is never
///   needed to reach any alignment;
/// - a run of consecutive Pad1/PadN must stay under 8 bytes.
/// Violations are `.badPadding` at the offending option.
public struct OptionWalker {
    public static let pad1: UInt8 = 0
    public static let padN: UInt8 = 1
    /// The largest PadN data length RFC 4942 2.1.9.5 allows.
    public static let maximumPadNDataLength = 5
    /// Padding runs must be shorter than this.
    public static let maximumPaddingRun = 7

    public let bytes: UnsafeRawBufferPointer
    public let end: Int
    public let checksPadding: Bool
    /// Pad1 and PadN type codes (0 and 1 for options; sub-options take
    /// theirs from `MobileIPv6CodePoints`).
    public let pad1Type: UInt8
    public let padNType: UInt8
    /// Offset of the next TLV to read.
    @inlinable public var cursor: Int { position }
    /// Bytes of padding seen since the last non-padding option.
    @inlinable public var paddingRun: Int { padding }

    @usableFromInline var position: Int
    @usableFromInline var padding: Int = 0

    /// `start..<end` must lie inside `bytes` (the enclosing view checked it).
    @inlinable
    public init(bytes: UnsafeRawBufferPointer, start: Int, end: Int, checksPadding: Bool = true,
                pad1Type: UInt8 = OptionWalker.pad1, padNType: UInt8 = OptionWalker.padN) {
        self.bytes = bytes
        self.pad1Type = pad1Type
        self.padNType = padNType
        self.position = max(0, start)
        self.end = min(end, bytes.count)
        self.checksPadding = checksPadding
    }

    /// The next TLV, or nil at the end.
    @inlinable
    public mutating func next() throws(WireError) -> OptionRecord? {
        guard position < end else { return nil }
        let offset = position
        let type = bytes.wireUInt8(at: offset)
        if type == pad1Type {
            position += 1
            try countPadding(1, at: offset)
            return OptionRecord(type: type, offset: offset, dataOffset: offset + 1, dataLength: 0)
        }
        guard end - offset >= 2 else { throw WireError(.truncated, at: offset) }
        let dataLength = Int(bytes.wireUInt8(at: offset + 1))
        guard end - offset - 2 >= dataLength else { throw WireError(.lengthOverrun, at: offset + 1) }
        position = offset + 2 + dataLength
        if type == padNType {
            if checksPadding {
                guard dataLength <= Self.maximumPadNDataLength else { throw WireError(.badPadding, at: offset) }
                var index = offset + 2
                while index < position {
                    guard bytes.wireUInt8(at: index) == 0 else { throw WireError(.badPadding, at: index) }
                    index += 1
                }
            }
            try countPadding(2 + dataLength, at: offset)
        } else {
            padding = 0
        }
        return OptionRecord(type: type, offset: offset, dataOffset: offset + 2, dataLength: dataLength)
    }

    @inlinable
    mutating func countPadding(_ count: Int, at offset: Int) throws(WireError) {
        padding += count
        if checksPadding && padding > Self.maximumPaddingRun { throw WireError(.badPadding, at: offset) }
    }
}

/// Zero-copy view of a Hop-by-Hop or Destination Options header.
///
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |  Hdr Ext Len  |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// .                            Options                            .
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct OptionsHeaderView {
    public let header: ExtensionHeaderView

    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil) throws(WireError) {
        header = try ExtensionHeaderView(checking: bytes, at: offset, limit: limit)
    }

    @inlinable public var bytes: UnsafeRawBufferPointer { header.bytes }
    @inlinable public var offset: Int { header.offset }
    @inlinable public var length: Int { header.length }
    @inlinable public var nextHeader: IPProtocol { header.nextHeader }

    /// A walker over the options (offsets absolute).
    @inlinable
    public func options(checksPadding: Bool = true) -> OptionWalker {
        OptionWalker(bytes: header.bytes, start: header.offset + 2, end: header.end, checksPadding: checksPadding)
    }

    /// Walks every option once, checking lengths and padding.
    @inlinable
    public func validate(checksPadding: Bool = true) throws(WireError) {
        var walker = options(checksPadding: checksPadding)
        while try walker.next() != nil {}
    }
}
