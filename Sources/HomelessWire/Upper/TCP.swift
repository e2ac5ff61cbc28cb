/// TCP header (RFC 9293 3.1), as far as checksums and flow matching need.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Source Port          |       Destination Port        |  0
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Sequence Number                        |  4
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Acknowledgment Number                      |  8
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Data |       |C|E|U|A|P|R|S|F|                               |
/// | Offset| Rsrvd |W|C|R|C|S|S|Y|I|            Window             |  12
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |           Checksum            |         Urgent Pointer        |  16
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Options (Data Offset > 5)                  |  20
/// ```
public struct TCPHeaderView {
    public enum Field {
        public static let sourcePort = 0
        public static let destinationPort = 2
        public static let sequenceNumber = 4
        public static let acknowledgmentNumber = 8
        public static let dataOffset = 12
        public static let flags = 13
        public static let window = 14
        public static let checksum = 16
        public static let urgentPointer = 18
    }

    public static let minimumLength = 20

    public let bytes: UnsafeRawBufferPointer
    public let offset: Int
    /// End of the segment (end of the IPv6 payload).
    public let end: Int

    /// Checks the fixed header, Data Offset >= 5 and that the header with
    /// its options fits.
    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil) throws(WireError) {
        let end = min(limit ?? bytes.count, bytes.count)
        guard offset >= 0, end - offset >= Self.minimumLength else { throw WireError(.truncated, at: max(offset, 0)) }
        let headerLength = Int(bytes.wireUInt8(at: offset + Field.dataOffset) >> 4) * 4
        guard headerLength >= Self.minimumLength else { throw WireError(.badLength, at: offset + Field.dataOffset) }
        guard end - offset >= headerLength else { throw WireError(.lengthOverrun, at: offset + Field.dataOffset) }
        self.bytes = bytes
        self.offset = offset
        self.end = end
    }

    @inlinable public var sourcePort: UInt16 { bytes.wireUInt16(at: offset) }
    @inlinable public var destinationPort: UInt16 { bytes.wireUInt16(at: offset + Field.destinationPort) }
    @inlinable public var sequenceNumber: UInt32 { bytes.wireUInt32(at: offset + Field.sequenceNumber) }
    @inlinable public var acknowledgmentNumber: UInt32 { bytes.wireUInt32(at: offset + Field.acknowledgmentNumber) }
    /// Data Offset in 32-bit words.
    @inlinable public var dataOffset: UInt8 { bytes.wireUInt8(at: offset + Field.dataOffset) >> 4 }
    @inlinable public var headerLength: Int { Int(dataOffset) * 4 }
    /// CWR ECE URG ACK PSH RST SYN FIN.
    @inlinable public var flags: UInt8 { bytes.wireUInt8(at: offset + Field.flags) }
    @inlinable public var window: UInt16 { bytes.wireUInt16(at: offset + Field.window) }
    @inlinable public var checksum: UInt16 { bytes.wireUInt16(at: offset + Field.checksum) }
    @inlinable public var checksumOffset: Int { offset + Field.checksum }
    @inlinable public var urgentPointer: UInt16 { bytes.wireUInt16(at: offset + Field.urgentPointer) }
    @inlinable public var payloadOffset: Int { offset + headerLength }
    @inlinable public var segment: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[offset..<end]) }

    @inlinable
    public func verifyChecksum(source: IPv6Address, destination: IPv6Address) -> Bool {
        InternetChecksum.verifyUpperLayer(source: source, destination: destination, nextHeader: .tcp, message: segment)
    }

    public static let flagFIN: UInt8 = 0x01
    public static let flagSYN: UInt8 = 0x02
    public static let flagRST: UInt8 = 0x04
    public static let flagPSH: UInt8 = 0x08
    public static let flagACK: UInt8 = 0x10
    public static let flagURG: UInt8 = 0x20
}

extension TCPHeaderView {
    /// Computes and stores the checksum of the segment `buffer[offset..<end]`.
    public static func fillChecksum(in buffer: UnsafeMutableRawBufferPointer, at offset: Int, end: Int,
                                    source: IPv6Address, destination: IPv6Address) {
        precondition(offset >= 0 && end <= buffer.count && end - offset >= minimumLength, "TCP segment out of buffer")
        buffer.storeWireUInt16(0, at: offset + Field.checksum)
        let segment = UnsafeRawBufferPointer(rebasing: buffer[offset..<end])
        let sum = InternetChecksum.upperLayerChecksum(source: source, destination: destination, nextHeader: .tcp, message: segment)
        buffer.storeWireUInt16(sum, at: offset + Field.checksum)
    }
}
