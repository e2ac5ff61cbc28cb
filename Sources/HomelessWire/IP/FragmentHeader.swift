/// Fragment header (RFC 8200 4.5).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |   Reserved    |      Fragment Offset    |Res|M|
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                         Identification                        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct FragmentHeaderView {
    public enum Field {
        public static let nextHeader = 0
        public static let reserved = 1
        public static let offsetAndFlags = 2
        public static let identification = 4
    }

    public static let length = 8

    public let bytes: UnsafeRawBufferPointer
    public let offset: Int

    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil) throws(WireError) {
        let end = min(limit ?? bytes.count, bytes.count)
        guard offset >= 0, end - offset >= Self.length else { throw WireError(.truncated, at: max(offset, 0)) }
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable public var nextHeader: IPProtocol { IPProtocol(bytes.wireUInt8(at: offset)) }
    /// Offset of this fragment's data in 8-octet units.
    @inlinable public var fragmentOffset: UInt16 { bytes.wireUInt16(at: offset + Field.offsetAndFlags) >> 3 }
    /// M flag: more fragments follow.
    @inlinable public var moreFragments: Bool { bytes.wireUInt16(at: offset + Field.offsetAndFlags) & 1 == 1 }
    @inlinable public var identification: UInt32 { bytes.wireUInt32(at: offset + Field.identification) }
    /// True for the first fragment (offset 0), which alone carries the upper-layer header.
    @inlinable public var isFirstFragment: Bool { fragmentOffset == 0 }
    /// An atomic fragment (offset 0, M clear, RFC 6946) is a whole packet.
    @inlinable public var isAtomic: Bool { fragmentOffset == 0 && !moreFragments }
}

/// A Fragment header as a value.
public struct FragmentHeader: Hashable, Sendable {
    public var nextHeader: IPProtocol
    /// 13 bits, in 8-octet units.
    public var fragmentOffset: UInt16
    public var moreFragments: Bool
    public var identification: UInt32

    public init(nextHeader: IPProtocol, fragmentOffset: UInt16, moreFragments: Bool, identification: UInt32) {
        self.nextHeader = nextHeader
        self.fragmentOffset = fragmentOffset & 0x1FFF
        self.moreFragments = moreFragments
        self.identification = identification
    }

    public init(_ view: FragmentHeaderView) {
        self.init(nextHeader: view.nextHeader, fragmentOffset: view.fragmentOffset,
                  moreFragments: view.moreFragments, identification: view.identification)
    }

    public var bufferLength: Int { FragmentHeaderView.length }

    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        precondition(offset >= 0 && buffer.count - offset >= FragmentHeaderView.length, "Fragment emit buffer too small")
        buffer.storeWireUInt8(nextHeader.rawValue, at: offset)
        buffer.storeWireUInt8(0, at: offset + FragmentHeaderView.Field.reserved)
        buffer.storeWireUInt16((fragmentOffset & 0x1FFF) << 3 | (moreFragments ? 1 : 0), at: offset + FragmentHeaderView.Field.offsetAndFlags)
        buffer.storeWireUInt32(identification, at: offset + FragmentHeaderView.Field.identification)
    }
}
