/// The 8-octet header every handshake message starts with (docs/HANDSHAKE.md):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  |  Header Len   | Message Type  |    Version    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Type-specific (Difficulty K in message 2)  |    Reserved     |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                     Message body ...                          |
/// ```
///
/// Next Header and Header Len are those of an IPv6 extension header
/// (length in 8-octet units, not counting the first 8), so a walker that
/// does not know the messages can still step over them to a Binding Update
/// Destination Options header that follows (draft A.2).
public struct HandshakeHeaderView {
    public enum Field {
        public static let nextHeader = 0
        public static let headerLength = 1
        public static let messageType = 2
        public static let version = 3
        public static let typeSpecific = 4
        public static let body = 8
    }

    public static let length = 8
    public static let version: UInt8 = 1

    public let bytes: UnsafeRawBufferPointer
    public let offset: Int

    /// Checks that the header is present, the version is ours and the whole
    /// message (Header Len) lies inside `bytes`.
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(HandshakeWireError) {
        guard offset >= 0, offset <= bytes.count, bytes.count - offset >= Self.length else {
            throw HandshakeWireError(.truncated, at: max(0, min(offset, bytes.count)))
        }
        guard bytes[offset + Field.version] == Self.version else {
            throw HandshakeWireError(.unsupportedVersion, at: offset + Field.version)
        }
        let length = (Int(bytes[offset + Field.headerLength]) + 1) * 8
        guard bytes.count - offset >= length else { throw HandshakeWireError(.truncated, at: offset + Field.headerLength) }
        self.bytes = bytes
        self.offset = offset
    }

    public var nextHeader: UInt8 { bytes[offset + Field.nextHeader] }
    public var messageType: HandshakeMessageType { HandshakeMessageType(rawValue: bytes[offset + Field.messageType]) }
    /// Octets of the whole message: (Header Len + 1) * 8.
    public var messageLength: Int { (Int(bytes[offset + Field.headerLength]) + 1) * 8 }
    public var typeSpecific: UInt8 { bytes[offset + Field.typeSpecific] }

    /// Checks the type and the exact length a fixed-size message has.
    func expect(_ type: HandshakeMessageType, length: Int) throws(HandshakeWireError) {
        guard messageType == type else { throw HandshakeWireError(.unexpectedType, at: offset + Field.messageType) }
        guard messageLength == length else { throw HandshakeWireError(.badLength, at: offset + Field.headerLength) }
    }

    /// Writes a header for a `length`-octet message (a multiple of 8) and zeroes the Reserved octets.
    static func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int, type: HandshakeMessageType,
                     length: Int, nextHeader: UInt8, typeSpecific: UInt8 = 0) {
        buffer[offset + Field.nextHeader] = nextHeader
        buffer[offset + Field.headerLength] = UInt8(length / 8 - 1)
        buffer[offset + Field.messageType] = type.rawValue
        buffer[offset + Field.version] = version
        buffer[offset + Field.typeSpecific] = typeSpecific
        buffer[offset + 5] = 0
        buffer[offset + 6] = 0
        buffer[offset + 7] = 0
    }
}

/// Big-endian field access for the handshake codecs (callers have checked bounds).
extension UnsafeRawBufferPointer {
    func handshakeUInt32(at offset: Int) -> UInt32 {
        UInt32(self[offset]) << 24 | UInt32(self[offset + 1]) << 16 | UInt32(self[offset + 2]) << 8 | UInt32(self[offset + 3])
    }

    func handshakeUInt64(at offset: Int) -> UInt64 {
        UInt64(handshakeUInt32(at: offset)) << 32 | UInt64(handshakeUInt32(at: offset + 4))
    }

    func handshakeBlock16(at offset: Int) -> HandshakeBlock16 {
        HandshakeBlock16(high: handshakeUInt64(at: offset), low: handshakeUInt64(at: offset + 8))
    }

    func handshakeBlock32(at offset: Int) -> HandshakeBlock32 {
        HandshakeBlock32(first: handshakeBlock16(at: offset), second: handshakeBlock16(at: offset + 16))
    }
}

extension UnsafeMutableRawBufferPointer {
    func storeHandshakeUInt32(_ value: UInt32, at offset: Int) {
        self[offset] = UInt8(truncatingIfNeeded: value >> 24)
        self[offset + 1] = UInt8(truncatingIfNeeded: value >> 16)
        self[offset + 2] = UInt8(truncatingIfNeeded: value >> 8)
        self[offset + 3] = UInt8(truncatingIfNeeded: value)
    }

    func storeHandshakeUInt64(_ value: UInt64, at offset: Int) {
        storeHandshakeUInt32(UInt32(truncatingIfNeeded: value >> 32), at: offset)
        storeHandshakeUInt32(UInt32(truncatingIfNeeded: value), at: offset + 4)
    }

    func storeHandshakeBlock(_ value: HandshakeBlock16, at offset: Int) {
        storeHandshakeUInt64(value.high, at: offset)
        storeHandshakeUInt64(value.low, at: offset + 8)
    }

    func storeHandshakeBlock(_ value: HandshakeBlock32, at offset: Int) {
        storeHandshakeBlock(value.first, at: offset)
        storeHandshakeBlock(value.second, at: offset + 16)
    }
}
