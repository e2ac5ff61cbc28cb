// Zero-copy views of the draft-era Mobile IPv6 destination options
// (draft-ietf-mobileip-ipv6-12 era layouts, WIRE.md section 1; draft 3.1).
//
// Each view is made from an `OptionRecord` found by an `OptionWalker` in a
// Destination Options header whose start is `headerOffset`: alignment is
// counted from that start (RFC 8200 4.2). All offsets are absolute.

/// Home Address option (type 201, 8n+6, Opt Data Len 16).
///
/// ```
///                                 +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///                                 |  Type = 201   |   Len = 16    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Home Address (128)                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct HomeAddressOptionView {
    public let bytes: UnsafeRawBufferPointer
    public let record: OptionRecord

    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, record: OptionRecord, headerOffset: Int,
                checksAlignment: Bool = true) throws(WireError) {
        try MobilityOptionChecks.check(record, kind: .homeAddress, headerOffset: headerOffset,
                                       checksAlignment: checksAlignment, exactLength: true)
        self.bytes = bytes
        self.record = record
    }

    @inlinable public var homeAddress: IPv6Address { IPv6Address(bytes: bytes, at: record.dataOffset) }
}

/// Binding Update option (type 198, 4n+2, Opt Data Len 8 + sub-options).
///
/// ```
///                                 +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///                                 |  Type = 198   | Len = 8 + subs|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |A|H|R|D|Reservd| Prefix Length |     Sequence Number (16)      |  data + 0
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Lifetime (32, seconds)                   |  data + 4
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Sub-options ...                                                 data + 8
/// ```
public struct BindingUpdateOptionView {
    public enum Field {
        public static let flags = 0
        public static let prefixLength = 1
        public static let sequence = 2
        public static let lifetime = 4
        public static let subOptions = 8
    }

    public let bytes: UnsafeRawBufferPointer
    public let record: OptionRecord
    public let headerOffset: Int

    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, record: OptionRecord, headerOffset: Int,
                checksAlignment: Bool = true) throws(WireError) {
        try MobilityOptionChecks.check(record, kind: .bindingUpdate, headerOffset: headerOffset,
                                       checksAlignment: checksAlignment, exactLength: false)
        self.bytes = bytes
        self.record = record
        self.headerOffset = headerOffset
    }

    @inlinable public var flags: BindingUpdateFlags { BindingUpdateFlags(rawValue: bytes.wireUInt8(at: record.dataOffset) & 0xF0) }
    @inlinable public var reservedBits: UInt8 { bytes.wireUInt8(at: record.dataOffset) & 0x0F }
    @inlinable public var prefixLength: UInt8 { bytes.wireUInt8(at: record.dataOffset + Field.prefixLength) }
    @inlinable public var sequence: UInt16 { bytes.wireUInt16(at: record.dataOffset + Field.sequence) }
    @inlinable public var lifetime: UInt32 { bytes.wireUInt32(at: record.dataOffset + Field.lifetime) }

    /// The sub-options after the fixed fields.
    @inlinable
    public func subOptions(codePoints: MobileIPv6CodePoints = .draftEra, checksPadding: Bool = true,
                           checksAlignment: Bool = true) -> MobilitySubOptionWalker {
        MobilitySubOptionWalker(bytes: bytes, start: record.dataOffset + Field.subOptions, end: record.dataRange.upperBound,
                                headerOffset: headerOffset, codePoints: codePoints,
                                checksPadding: checksPadding, checksAlignment: checksAlignment)
    }
}

/// Binding Acknowledgement option (type 7, 4n+3, Opt Data Len 11 + sub-options).
///
/// ```
///                                                 +-+-+-+-+-+-+-+-+
///                                                 |  Type = 7     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Len = 11+subs |    Status     |     Sequence Number (16)      |  data - 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Lifetime (32)                          |  data + 3
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Refresh (32)                           |  data + 7
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Sub-options ...                                                 data + 11
/// ```
public struct BindingAcknowledgementOptionView {
    public enum Field {
        public static let status = 0
        public static let sequence = 1
        public static let lifetime = 3
        public static let refresh = 7
        public static let subOptions = 11
    }

    public let bytes: UnsafeRawBufferPointer
    public let record: OptionRecord
    public let headerOffset: Int

    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, record: OptionRecord, headerOffset: Int,
                checksAlignment: Bool = true) throws(WireError) {
        try MobilityOptionChecks.check(record, kind: .bindingAcknowledgement, headerOffset: headerOffset,
                                       checksAlignment: checksAlignment, exactLength: false)
        self.bytes = bytes
        self.record = record
        self.headerOffset = headerOffset
    }

    @inlinable public var status: UInt8 { bytes.wireUInt8(at: record.dataOffset + Field.status) }
    @inlinable public var sequence: UInt16 { bytes.wireUInt16(at: record.dataOffset + Field.sequence) }
    @inlinable public var lifetime: UInt32 { bytes.wireUInt32(at: record.dataOffset + Field.lifetime) }
    @inlinable public var refresh: UInt32 { bytes.wireUInt32(at: record.dataOffset + Field.refresh) }

    @inlinable
    public func subOptions(codePoints: MobileIPv6CodePoints = .draftEra, checksPadding: Bool = true,
                           checksAlignment: Bool = true) -> MobilitySubOptionWalker {
        MobilitySubOptionWalker(bytes: bytes, start: record.dataOffset + Field.subOptions, end: record.dataRange.upperBound,
                                headerOffset: headerOffset, codePoints: codePoints,
                                checksPadding: checksPadding, checksAlignment: checksAlignment)
    }
}

/// Binding Request option (type 8, no alignment, Opt Data Len = sub-options).
///
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
/// |   Type = 8    |  Len = subs   |  Sub-options ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+- - - - - - - - -
/// ```
public struct BindingRequestOptionView {
    public let bytes: UnsafeRawBufferPointer
    public let record: OptionRecord
    public let headerOffset: Int

    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, record: OptionRecord, headerOffset: Int,
                checksAlignment: Bool = true) throws(WireError) {
        try MobilityOptionChecks.check(record, kind: .bindingRequest, headerOffset: headerOffset,
                                       checksAlignment: checksAlignment, exactLength: false)
        self.bytes = bytes
        self.record = record
        self.headerOffset = headerOffset
    }

    @inlinable
    public func subOptions(codePoints: MobileIPv6CodePoints = .draftEra, checksPadding: Bool = true,
                           checksAlignment: Bool = true) -> MobilitySubOptionWalker {
        MobilitySubOptionWalker(bytes: bytes, start: record.dataOffset, end: record.dataRange.upperBound,
                                headerOffset: headerOffset, codePoints: codePoints,
                                checksPadding: checksPadding, checksAlignment: checksAlignment)
    }
}

@usableFromInline
enum MobilityOptionChecks {
    /// Length (Opt Data Len at least, or exactly, the fixed part: `.badLength`
    /// at the length byte) and alignment (`.misaligned` at the type byte).
    @inlinable
    static func check(_ record: OptionRecord, kind: MobilityOptionKind, headerOffset: Int,
                      checksAlignment: Bool, exactLength: Bool) throws(WireError) {
        let fixed = kind.fixedDataLength
        if exactLength ? record.dataLength != fixed : record.dataLength < fixed {
            throw WireError(.badLength, at: record.offset + 1)
        }
        if checksAlignment && !kind.alignment.isSatisfied(at: record.offset - headerOffset) {
            throw WireError(.misaligned, at: record.offset)
        }
    }
}

// MARK: - Sub-options

/// Walks the sub-options of a BU, BA or BR without allocating (WIRE.md
/// section 1). Besides the TLV and padding checks of `OptionWalker` it checks
/// the known sub-options: exact lengths (`.badLength` at the length byte;
/// Alternate Prefixes `.malformedOption` when Len != 1 + P * Count) and
/// alignment counted from the Destination Options header start
/// (`.misaligned` at the type byte). Unknown sub-options pass unchecked
/// (skipped quietly by the receiver, MIPv6-12 5.5). Padding records are
/// returned too; `isPadding(_:)` tells them apart.
public struct MobilitySubOptionWalker {
    public var tlv: OptionWalker
    public let headerOffset: Int
    public let codePoints: MobileIPv6CodePoints
    public let checksAlignment: Bool

    @inlinable
    public init(bytes: UnsafeRawBufferPointer, start: Int, end: Int, headerOffset: Int,
                codePoints: MobileIPv6CodePoints = .draftEra, checksPadding: Bool = true, checksAlignment: Bool = true) {
        tlv = OptionWalker(bytes: bytes, start: start, end: end, checksPadding: checksPadding,
                           pad1Type: codePoints.subOptionPad1, padNType: codePoints.subOptionPadN)
        self.headerOffset = headerOffset
        self.codePoints = codePoints
        self.checksAlignment = checksAlignment
    }

    @inlinable
    public func isPadding(_ record: OptionRecord) -> Bool {
        record.type == codePoints.subOptionPad1 || record.type == codePoints.subOptionPadN
    }

    @inlinable
    public mutating func next() throws(WireError) -> OptionRecord? {
        guard let record = try tlv.next() else { return nil }
        if isPadding(record) { return record }
        let type = record.type
        let expectedLength: Int?
        let alignment: OptionAlignment
        if type == codePoints.uniqueIdentifier {
            expectedLength = 2; alignment = OptionAlignment(2, 0)
        } else if type == codePoints.alternateCareOfAddress {
            expectedLength = 16; alignment = OptionAlignment(8, 6)
        } else if type == codePoints.homelessSupport {
            expectedLength = 0; alignment = OptionAlignment(2, 0)
        } else if type == codePoints.alternatePrefixes {
            guard record.dataLength >= 1 else { throw WireError(.badLength, at: record.offset + 1) }
            let header = tlv.bytes.wireUInt8(at: record.dataOffset)
            let prefixBytes = 4 * (Int(header >> 6) + 1)
            let count = Int(header & 0x3F)
            guard record.dataLength == 1 + prefixBytes * count else { throw WireError(.malformedOption, at: record.offset + 1) }
            expectedLength = nil; alignment = OptionAlignment(4, 1)
        } else {
            return record
        }
        if let expectedLength, record.dataLength != expectedLength { throw WireError(.badLength, at: record.offset + 1) }
        if checksAlignment && !alignment.isSatisfied(at: record.offset - headerOffset) {
            throw WireError(.misaligned, at: record.offset)
        }
        return record
    }

    /// Walks to the end, checking every sub-option.
    @inlinable
    public mutating func validate() throws(WireError) {
        while try next() != nil {}
    }
}

/// Zero-copy view of an Alternate Prefixes sub-option body (draft 3.1.2,
/// P = 4 * (PL + 1) per the WIRE.md erratum).
///
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Type = 129    |  Len          |PL |  Count    |  Prefix[0..Count) (P bytes each)
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct AlternatePrefixesView {
    public let bytes: UnsafeRawBufferPointer
    public let record: OptionRecord

    /// `record` must come from a `MobilitySubOptionWalker` (which checked the length).
    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, record: OptionRecord) throws(WireError) {
        guard record.dataLength >= 1, record.dataRange.upperBound <= bytes.count, record.dataOffset >= 0 else {
            throw WireError(.badLength, at: record.offset + 1)
        }
        let header = bytes.wireUInt8(at: record.dataOffset)
        guard record.dataLength == 1 + 4 * (Int(header >> 6) + 1) * Int(header & 0x3F) else {
            throw WireError(.malformedOption, at: record.offset + 1)
        }
        self.bytes = bytes
        self.record = record
    }

    @inlinable public var prefixLengthCode: UInt8 { bytes.wireUInt8(at: record.dataOffset) >> 6 }
    @inlinable public var count: Int { Int(bytes.wireUInt8(at: record.dataOffset) & 0x3F) }
    /// P = 4 * (PL + 1).
    @inlinable public var prefixByteCount: Int { 4 * (Int(prefixLengthCode) + 1) }
    /// Offset of prefix `index`.
    @inlinable public func prefixOffset(_ index: Int) -> Int { record.dataOffset + 1 + index * prefixByteCount }

    /// Prefix `index` combined with the low `16 - P` bytes of `suffixSource`
    /// (draft 3.1.2), or nil when `index` is out of range. No allocation.
    @inlinable
    public func address(_ index: Int, suffixFrom suffixSource: IPv6Address) -> IPv6Address? {
        guard index >= 0, index < count else { return nil }
        var high = suffixSource.high
        var low = suffixSource.low
        let start = prefixOffset(index)
        for position in 0..<prefixByteCount {
            let byte = UInt64(bytes.wireUInt8(at: start + position))
            if position < 8 {
                let shift = UInt64(7 - position) * 8
                high = high & ~(0xFF << shift) | byte << shift
            } else {
                let shift = UInt64(15 - position) * 8
                low = low & ~(0xFF << shift) | byte << shift
            }
        }
        return IPv6Address(high: high, low: low)
    }
}
