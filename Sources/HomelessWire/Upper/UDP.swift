/// UDP header (RFC 768; checksum over IPv6 per RFC 8200 8.1, mandatory).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Source Port          |       Destination Port        |  0
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            Length             |           Checksum            |  4
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct UDPHeaderView {
    public enum Field {
        public static let sourcePort = 0
        public static let destinationPort = 2
        public static let length = 4
        public static let checksum = 6
    }

    public static let length = 8

    public let bytes: UnsafeRawBufferPointer
    public let offset: Int
    /// End of the enclosing IPv6 payload (`limit`, clipped to the buffer):
    /// the datagram never extends past it.
    public let end: Int

    /// Checks the header and that Length is at least 8 and fits the buffer
    /// (up to `limit`, the IPv6 payload end). In the first fragment of a
    /// fragmented datagram Length describes the reassembled datagram, so
    /// `checksDatagramLength: false` checks only the 8 header bytes.
    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil,
                checksDatagramLength: Bool = true) throws(WireError) {
        let end = min(limit ?? bytes.count, bytes.count)
        guard offset >= 0, end - offset >= Self.length else { throw WireError(.truncated, at: max(offset, 0)) }
        if checksDatagramLength {
            let length = Int(bytes.wireUInt16(at: offset + Field.length))
            guard length >= Self.length else { throw WireError(.badLength, at: offset + Field.length) }
            guard end - offset >= length else { throw WireError(.lengthOverrun, at: offset + Field.length) }
        }
        self.bytes = bytes
        self.offset = offset
        self.end = end
    }

    @inlinable public var sourcePort: UInt16 { bytes.wireUInt16(at: offset) }
    @inlinable public var destinationPort: UInt16 { bytes.wireUInt16(at: offset + Field.destinationPort) }
    /// Header plus data, from the Length field (checked against the buffer
    /// unless the view was made with `checksDatagramLength: false`).
    @inlinable public var datagramLength: Int { Int(bytes.wireUInt16(at: offset + Field.length)) }
    @inlinable public var checksum: UInt16 { bytes.wireUInt16(at: offset + Field.checksum) }
    @inlinable public var checksumOffset: Int { offset + Field.checksum }
    @inlinable public var payloadOffset: Int { offset + Self.length }
    /// The datagram (Length bytes), or nil when Length runs past `end`
    /// (possible only for views made with `checksDatagramLength: false`,
    /// e.g. in a first fragment: bytes after the IPv6 payload, such as an
    /// Ethernet trailer, are never part of it).
    @inlinable public var datagram: UnsafeRawBufferPointer? {
        let length = datagramLength
        guard length >= Self.length, end - offset >= length else { return nil }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + length)])
    }

    /// Verifies the checksum over the pseudo-header and `Length` bytes. A
    /// zero checksum is invalid over IPv6 (RFC 8200 8.1).
    @inlinable
    public func verifyChecksum(source: IPv6Address, destination: IPv6Address) -> Bool {
        guard checksum != 0, let datagram else { return false }
        return InternetChecksum.verifyUpperLayer(source: source, destination: destination, nextHeader: .udp, message: datagram)
    }
}

/// A UDP header as a value.
public struct UDPHeader: Hashable, Sendable {
    public var sourcePort: UInt16
    public var destinationPort: UInt16
    /// Header plus payload.
    public var length: UInt16
    public var checksum: UInt16

    public init(sourcePort: UInt16, destinationPort: UInt16, length: UInt16, checksum: UInt16 = 0) {
        self.sourcePort = sourcePort
        self.destinationPort = destinationPort
        self.length = length
        self.checksum = checksum
    }

    public init(_ view: UDPHeaderView) {
        self.init(sourcePort: view.sourcePort, destinationPort: view.destinationPort,
                  length: UInt16(truncatingIfNeeded: view.datagramLength), checksum: view.checksum)
    }

    public var bufferLength: Int { UDPHeaderView.length }

    /// Writes the header with `checksum` as it is.
    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        precondition(offset >= 0 && buffer.count - offset >= UDPHeaderView.length, "UDP emit buffer too small")
        buffer.storeWireUInt16(sourcePort, at: offset)
        buffer.storeWireUInt16(destinationPort, at: offset + UDPHeaderView.Field.destinationPort)
        buffer.storeWireUInt16(length, at: offset + UDPHeaderView.Field.length)
        buffer.storeWireUInt16(checksum, at: offset + UDPHeaderView.Field.checksum)
    }

    /// Computes and stores the checksum of the datagram of `length` bytes at
    /// `offset` (header already emitted, payload in place). A computed 0 is
    /// sent as 0xFFFF (RFC 768).
    public static func fillChecksum(in buffer: UnsafeMutableRawBufferPointer, at offset: Int,
                                    source: IPv6Address, destination: IPv6Address) {
        precondition(offset >= 0 && buffer.count - offset >= UDPHeaderView.length, "UDP buffer too small")
        let length = Int(UnsafeRawBufferPointer(buffer).wireUInt16(at: offset + UDPHeaderView.Field.length))
        precondition(buffer.count - offset >= length, "UDP datagram exceeds buffer")
        buffer.storeWireUInt16(0, at: offset + UDPHeaderView.Field.checksum)
        let datagram = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])
        let sum = InternetChecksum.upperLayerChecksum(source: source, destination: destination, nextHeader: .udp, message: datagram)
        buffer.storeWireUInt16(sum == 0 ? 0xFFFF : sum, at: offset + UDPHeaderView.Field.checksum)
    }
}
