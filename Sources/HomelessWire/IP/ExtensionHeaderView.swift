/// The common prefix of the TLV-length extension headers: Hop-by-Hop
/// Options, Routing and Destination Options (RFC 8200 4.3, 4.4, 4.6).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |  Hdr Ext Len  |  (header specific) ...        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
/// .   Hdr Ext Len is in 8-octet units, not counting the first 8   .
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
public struct ExtensionHeaderView {
    public enum Field {
        public static let nextHeader = 0
        public static let headerExtensionLength = 1
    }

    /// Smallest possible length: 8 octets.
    public static let minimumLength = 8

    public let bytes: UnsafeRawBufferPointer
    public let offset: Int
    /// (Hdr Ext Len + 1) * 8.
    public let length: Int

    /// Checks the header fits in `bytes[offset..<limit]` (`limit` defaults to
    /// the buffer end; pass the IPv6 payload end to respect Payload Length).
    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil) throws(WireError) {
        let end = min(limit ?? bytes.count, bytes.count)
        guard offset >= 0, end - offset >= Self.minimumLength else { throw WireError(.truncated, at: max(offset, 0)) }
        let length = (Int(bytes.wireUInt8(at: offset + Field.headerExtensionLength)) + 1) * 8
        guard end - offset >= length else { throw WireError(.lengthOverrun, at: offset + Field.headerExtensionLength) }
        self.bytes = bytes
        self.offset = offset
        self.length = length
    }

    @inlinable public var nextHeader: IPProtocol { IPProtocol(bytes.wireUInt8(at: offset)) }
    @inlinable public var headerExtensionLength: UInt8 { bytes.wireUInt8(at: offset + Field.headerExtensionLength) }
    @inlinable public var end: Int { offset + length }
}
