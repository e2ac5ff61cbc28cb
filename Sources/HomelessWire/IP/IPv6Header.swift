/// IPv6 fixed header (RFC 8200 3).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version| Traffic Class |           Flow Label                  |  0
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Payload Length        |  Next Header  |   Hop Limit   |  4
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Source Address (128)                       |  8
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Destination Address (128)                     |  24
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct IPv6HeaderView {
    public enum Field {
        public static let versionClassFlow = 0
        public static let payloadLength = 4
        public static let nextHeader = 6
        public static let hopLimit = 7
        public static let source = 8
        public static let destination = 24
    }

    /// Length of the fixed header.
    public static let length = 40

    public let bytes: UnsafeRawBufferPointer
    /// Offset of the header in `bytes`.
    public let offset: Int

    /// Checks the version and that the header and the payload its Payload
    /// Length announces fit in `bytes`. Bytes after the payload (Ethernet
    /// padding) are allowed. A zero Payload Length (RFC 2675 jumbogram) is
    /// accepted as "no payload"; this engine does not handle jumbograms.
    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(WireError) {
        guard offset >= 0, bytes.count - offset >= Self.length else { throw WireError(.truncated, at: max(offset, 0)) }
        guard bytes.wireUInt8(at: offset) >> 4 == 6 else { throw WireError(.badVersion, at: offset) }
        let payload = Int(bytes.wireUInt16(at: offset + Field.payloadLength))
        guard bytes.count - offset - Self.length >= payload else {
            throw WireError(.lengthOverrun, at: offset + Field.payloadLength)
        }
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable public var version: UInt8 { bytes.wireUInt8(at: offset) >> 4 }
    @inlinable public var trafficClass: UInt8 {
        UInt8(truncatingIfNeeded: bytes.wireUInt16(at: offset) >> 4)
    }
    @inlinable public var flowLabel: UInt32 { bytes.wireUInt32(at: offset) & 0x000F_FFFF }
    @inlinable public var payloadLength: Int { Int(bytes.wireUInt16(at: offset + Field.payloadLength)) }
    @inlinable public var nextHeader: IPProtocol { IPProtocol(bytes.wireUInt8(at: offset + Field.nextHeader)) }
    @inlinable public var hopLimit: UInt8 { bytes.wireUInt8(at: offset + Field.hopLimit) }
    @inlinable public var source: IPv6Address { IPv6Address(bytes: bytes, at: offset + Field.source) }
    @inlinable public var destination: IPv6Address { IPv6Address(bytes: bytes, at: offset + Field.destination) }
    /// Offset of the first byte after the fixed header.
    @inlinable public var payloadOffset: Int { offset + Self.length }
    /// Offset one past the last payload byte (Payload Length counted).
    @inlinable public var payloadEnd: Int { offset + Self.length + payloadLength }
}

/// An IPv6 fixed header as a value.
public struct IPv6Header: Hashable, Sendable {
    public var trafficClass: UInt8
    /// 20 bits.
    public var flowLabel: UInt32
    public var payloadLength: UInt16
    public var nextHeader: IPProtocol
    public var hopLimit: UInt8
    public var source: IPv6Address
    public var destination: IPv6Address

    public init(trafficClass: UInt8 = 0, flowLabel: UInt32 = 0, payloadLength: UInt16, nextHeader: IPProtocol,
                hopLimit: UInt8 = 64, source: IPv6Address, destination: IPv6Address) {
        self.trafficClass = trafficClass
        self.flowLabel = flowLabel & 0x000F_FFFF
        self.payloadLength = payloadLength
        self.nextHeader = nextHeader
        self.hopLimit = hopLimit
        self.source = source
        self.destination = destination
    }

    public init(_ view: IPv6HeaderView) {
        self.init(trafficClass: view.trafficClass, flowLabel: view.flowLabel,
                  payloadLength: UInt16(truncatingIfNeeded: view.payloadLength), nextHeader: view.nextHeader,
                  hopLimit: view.hopLimit, source: view.source, destination: view.destination)
    }

    public var bufferLength: Int { IPv6HeaderView.length }

    /// Writes the 40-byte header at `offset`.
    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        precondition(offset >= 0 && buffer.count - offset >= IPv6HeaderView.length, "IPv6 emit buffer too small")
        let first = UInt32(6) << 28 | UInt32(trafficClass) << 20 | (flowLabel & 0x000F_FFFF)
        buffer.storeWireUInt32(first, at: offset)
        buffer.storeWireUInt16(payloadLength, at: offset + IPv6HeaderView.Field.payloadLength)
        buffer.storeWireUInt8(nextHeader.rawValue, at: offset + IPv6HeaderView.Field.nextHeader)
        buffer.storeWireUInt8(hopLimit, at: offset + IPv6HeaderView.Field.hopLimit)
        source.write(to: buffer, at: offset + IPv6HeaderView.Field.source)
        destination.write(to: buffer, at: offset + IPv6HeaderView.Field.destination)
    }
}
