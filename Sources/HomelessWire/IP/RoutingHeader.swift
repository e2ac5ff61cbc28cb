/// Routing header (RFC 8200 4.4), with the layouts of Type 0 (RFC 2460 4.4,
/// deprecated by RFC 5095 but used by draft-era Mobile IPv6 for route
/// optimisation, WIRE.md section 1) and Type 2 (RFC 6275 6.4).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |  Hdr Ext Len  | Routing Type  | Segments Left |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Reserved (Types 0 and 2)                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  Address[1] ... Address[n] (128 each)         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Types 0 and 2 need an even Hdr Ext Len (n = Hdr Ext Len / 2 addresses)
/// and Segments Left <= n; Type 2 carries exactly one address. Other types
/// decode with their data kept opaque.
public struct RoutingHeaderView {
    public enum Field {
        public static let routingType = 2
        public static let segmentsLeft = 3
        public static let reserved = 4
        public static let addresses = 8
    }

    public static let type0: UInt8 = 0
    public static let type2: UInt8 = 2

    public let header: ExtensionHeaderView

    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil) throws(WireError) {
        let header = try ExtensionHeaderView(checking: bytes, at: offset, limit: limit)
        let type = bytes.wireUInt8(at: offset + Field.routingType)
        if type == Self.type0 || type == Self.type2 {
            let extLen = Int(header.headerExtensionLength)
            guard extLen % 2 == 0 else { throw WireError(.badLength, at: offset + ExtensionHeaderView.Field.headerExtensionLength) }
            if type == Self.type2 && extLen != 2 {
                throw WireError(.badLength, at: offset + ExtensionHeaderView.Field.headerExtensionLength)
            }
            guard Int(bytes.wireUInt8(at: offset + Field.segmentsLeft)) <= extLen / 2 else {
                throw WireError(.badValue, at: offset + Field.segmentsLeft)
            }
        }
        self.header = header
    }

    @inlinable public var offset: Int { header.offset }
    @inlinable public var length: Int { header.length }
    @inlinable public var nextHeader: IPProtocol { header.nextHeader }
    @inlinable public var routingType: UInt8 { header.bytes.wireUInt8(at: header.offset + Field.routingType) }
    @inlinable public var segmentsLeft: UInt8 { header.bytes.wireUInt8(at: header.offset + Field.segmentsLeft) }
    @inlinable public var hasAddressList: Bool { routingType == Self.type0 || routingType == Self.type2 }
    @inlinable public var reserved: UInt32 { header.bytes.wireUInt32(at: header.offset + Field.reserved) }

    /// Number of addresses (Types 0 and 2; 0 for other types).
    @inlinable public var addressCount: Int { hasAddressList ? Int(header.headerExtensionLength) / 2 : 0 }

    /// Address `index` (0-based; RFC numbering is 1-based), or nil when out of range.
    @inlinable
    public func address(_ index: Int) -> IPv6Address? {
        guard index >= 0, index < addressCount else { return nil }
        return IPv6Address(bytes: header.bytes, at: header.offset + Field.addresses + index * 16)
    }

    /// The address the packet is finally delivered to (the last one), used
    /// for the upper-layer pseudo-header (RFC 8200 8.1) while segments are left.
    @inlinable public var finalDestination: IPv6Address? { address(addressCount - 1) }
}

/// A Routing header as a value.
public struct RoutingHeader: Hashable, Sendable {
    public var nextHeader: IPProtocol
    public var routingType: UInt8
    public var segmentsLeft: UInt8
    /// Types 0 and 2: the addresses; empty otherwise.
    public var addresses: [IPv6Address]
    /// Types 0 and 2: the reserved word. Other types: unused.
    public var reserved: UInt32
    /// Other types: the bytes after Segments Left. Types 0 and 2: unused.
    public var typeSpecificData: [UInt8]

    public init(nextHeader: IPProtocol, routingType: UInt8, segmentsLeft: UInt8, addresses: [IPv6Address] = [],
                reserved: UInt32 = 0, typeSpecificData: [UInt8] = []) {
        self.nextHeader = nextHeader
        self.routingType = routingType
        self.segmentsLeft = segmentsLeft
        self.addresses = addresses
        self.reserved = reserved
        self.typeSpecificData = typeSpecificData
    }

    /// A Type 2 Routing header carrying `homeAddress` (RFC 6275 6.4).
    public static func type2(nextHeader: IPProtocol, homeAddress: IPv6Address) -> RoutingHeader {
        RoutingHeader(nextHeader: nextHeader, routingType: RoutingHeaderView.type2, segmentsLeft: 1, addresses: [homeAddress])
    }

    public init(_ view: RoutingHeaderView) {
        var addresses: [IPv6Address] = []
        for index in 0..<view.addressCount { if let address = view.address(index) { addresses.append(address) } }
        self.init(nextHeader: view.nextHeader, routingType: view.routingType, segmentsLeft: view.segmentsLeft,
                  addresses: addresses, reserved: view.hasAddressList ? view.reserved : 0,
                  typeSpecificData: view.hasAddressList ? [] : view.header.bytes.wireBytes(at: view.offset + 4, count: view.length - 4))
    }

    private var hasAddressList: Bool { routingType == RoutingHeaderView.type0 || routingType == RoutingHeaderView.type2 }

    /// Types 0/2: 8 + 16n. Others: 4 + data rounded up to a multiple of 8.
    public var bufferLength: Int {
        hasAddressList ? 8 + 16 * addresses.count : (4 + typeSpecificData.count + 7) / 8 * 8
    }

    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        let length = bufferLength
        precondition(offset >= 0 && buffer.count - offset >= length && length <= 2048, "Routing emit buffer too small")
        buffer.storeWireUInt8(nextHeader.rawValue, at: offset)
        buffer.storeWireUInt8(UInt8(length / 8 - 1), at: offset + 1)
        buffer.storeWireUInt8(routingType, at: offset + RoutingHeaderView.Field.routingType)
        buffer.storeWireUInt8(segmentsLeft, at: offset + RoutingHeaderView.Field.segmentsLeft)
        if hasAddressList {
            buffer.storeWireUInt32(reserved, at: offset + RoutingHeaderView.Field.reserved)
            for (index, address) in addresses.enumerated() {
                address.write(to: buffer, at: offset + RoutingHeaderView.Field.addresses + 16 * index)
            }
        } else {
            buffer.storeWireBytes(typeSpecificData, at: offset + 4)
            buffer.zeroWireBytes(count: length - 4 - typeSpecificData.count, at: offset + 4 + typeSpecificData.count)
        }
    }
}
