/// An EtherType value (IEEE 802.3 Length/Type field >= 0x0600); unknown values decode.
public struct EthernetType: RawRepresentable, Hashable, Sendable {
    public var rawValue: UInt16
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    @inlinable public init(_ rawValue: UInt16) { self.rawValue = rawValue }

    public static let ipv4 = EthernetType(0x0800)
    public static let arp = EthernetType(0x0806)
    /// IEEE 802.1Q customer VLAN tag.
    public static let vlan = EthernetType(0x8100)
    /// IEEE 802.1ad service VLAN tag (not parsed, reported as payload type).
    public static let serviceVLAN = EthernetType(0x88A8)
    public static let ipv6 = EthernetType(0x86DD)
}

/// An 802.1Q tag control field.
public struct VLANTag: Hashable, Sendable {
    /// Priority Code Point (3 bits).
    public var priority: UInt8
    /// Drop Eligible Indicator.
    public var dropEligible: Bool
    /// VLAN identifier (12 bits).
    public var identifier: UInt16

    public init(priority: UInt8 = 0, dropEligible: Bool = false, identifier: UInt16) {
        self.priority = priority & 0x7
        self.dropEligible = dropEligible
        self.identifier = identifier & 0x0FFF
    }

    @inlinable
    public init(controlField: UInt16) {
        priority = UInt8(truncatingIfNeeded: controlField >> 13)
        dropEligible = controlField & 0x1000 != 0
        identifier = controlField & 0x0FFF
    }

    @inlinable
    public var controlField: UInt16 {
        UInt16(priority & 0x7) << 13 | (dropEligible ? 0x1000 : 0) | (identifier & 0x0FFF)
    }
}

/// Ethernet II header with at most one IEEE 802.1Q tag.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Destination Address (48)                    |
/// +                               +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                               |                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// |                     Source Address (48)                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     TPID = 0x8100 (opt.)      | PCP |D|     VLAN ID (12)      |  <- only when tagged
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          EtherType            |  Payload ...
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// A second tag (QinQ) is not parsed: its EtherType 0x8100/0x88A8 after the
/// first tag is reported as the payload EtherType.
///
/// Zero-copy checked view of that header.
public struct EthernetFrameView {
    /// Field offsets relative to the header start.
    public enum Field {
        public static let destination = 0
        public static let source = 6
        public static let typeOrTPID = 12
        public static let tagControl = 14
        public static let taggedType = 16
        public static let untaggedLength = 14
        public static let taggedLength = 18
    }

    public let bytes: UnsafeRawBufferPointer
    /// Offset of the header in `bytes`.
    public let offset: Int
    /// 14, or 18 when an 802.1Q tag is present.
    public let headerLength: Int

    /// Checks that the header (and its tag, if any) fits in `bytes` at `offset`.
    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(WireError) {
        guard offset >= 0, bytes.count - offset >= Field.untaggedLength else {
            throw WireError(.truncated, at: offset)
        }
        let type = bytes.wireUInt16(at: offset + Field.typeOrTPID)
        if type == EthernetType.vlan.rawValue {
            guard bytes.count - offset >= Field.taggedLength else {
                throw WireError(.truncated, at: offset + Field.tagControl)
            }
            headerLength = Field.taggedLength
        } else {
            headerLength = Field.untaggedLength
        }
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable public var destination: EthernetAddress { EthernetAddress(bytes: bytes, at: offset + Field.destination) }
    @inlinable public var source: EthernetAddress { EthernetAddress(bytes: bytes, at: offset + Field.source) }
    @inlinable public var isTagged: Bool { headerLength == Field.taggedLength }

    /// The 802.1Q tag, or nil when untagged.
    @inlinable public var vlanTag: VLANTag? {
        isTagged ? VLANTag(controlField: bytes.wireUInt16(at: offset + Field.tagControl)) : nil
    }

    /// The EtherType of the payload (after the tag when tagged).
    @inlinable public var etherType: EthernetType {
        EthernetType(bytes.wireUInt16(at: offset + headerLength - 2))
    }

    /// Offset of the payload in `bytes`.
    @inlinable public var payloadOffset: Int { offset + headerLength }
}

/// An Ethernet II header as a value.
public struct EthernetHeader: Hashable, Sendable {
    public var destination: EthernetAddress
    public var source: EthernetAddress
    public var vlanTag: VLANTag?
    public var etherType: EthernetType

    public init(destination: EthernetAddress, source: EthernetAddress, vlanTag: VLANTag? = nil, etherType: EthernetType) {
        self.destination = destination
        self.source = source
        self.vlanTag = vlanTag
        self.etherType = etherType
    }

    public init(_ view: EthernetFrameView) {
        self.init(destination: view.destination, source: view.source, vlanTag: view.vlanTag, etherType: view.etherType)
    }

    /// 14, or 18 with a tag.
    @inlinable public var bufferLength: Int {
        vlanTag == nil ? EthernetFrameView.Field.untaggedLength : EthernetFrameView.Field.taggedLength
    }

    /// Writes the header into `buffer` at `offset`; requires `bufferLength` bytes there.
    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        precondition(offset >= 0 && buffer.count - offset >= bufferLength, "Ethernet emit buffer too small")
        destination.write(to: buffer, at: offset + EthernetFrameView.Field.destination)
        source.write(to: buffer, at: offset + EthernetFrameView.Field.source)
        if let tag = vlanTag {
            buffer.storeWireUInt16(EthernetType.vlan.rawValue, at: offset + EthernetFrameView.Field.typeOrTPID)
            buffer.storeWireUInt16(tag.controlField, at: offset + EthernetFrameView.Field.tagControl)
            buffer.storeWireUInt16(etherType.rawValue, at: offset + EthernetFrameView.Field.taggedType)
        } else {
            buffer.storeWireUInt16(etherType.rawValue, at: offset + EthernetFrameView.Field.typeOrTPID)
        }
    }
}
