/// The return routability probe and its reply (RFC 4225 3.1, 5.2.2: test
/// that the peer really is reachable at an address before sending bulk
/// traffic there). Both are handshake messages (same Next Header, same
/// 8-octet header) with one field:
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  | Header Len=2  |Msg Type = 4/5 |  Version = 1  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           Reserved                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                        Nonce (128 bits)                       +
/// |                                                               |
/// +                                                               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The probe (type 4) goes to the address being tested; the reply (type 5)
/// echoes the nonce, comes from that address and travels under AH with the
/// peer's SA, so only the peer that received the probe there can make it.
public struct AddressProbeMessage: Equatable, Sendable {
    public enum Kind: Sendable, Equatable {
        case probe
        case reply

        var messageType: HandshakeMessageType {
            switch self {
            case .probe: return .addressProbe
            case .reply: return .addressProbeReply
            }
        }
    }

    public enum Field {
        public static let nonce = 8
    }

    public static let length = 24

    public var kind: Kind
    public var nonce: HandshakeBlock16

    public init(kind: Kind, nonce: HandshakeBlock16) {
        self.kind = kind
        self.nonce = nonce
    }

    public init(parsing bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(HandshakeWireError) {
        let header = try HandshakeHeaderView(checking: bytes, at: offset)
        switch header.messageType {
        case .addressProbe: kind = .probe
        case .addressProbeReply: kind = .reply
        default: throw HandshakeWireError(.unexpectedType, at: offset + HandshakeHeaderView.Field.messageType)
        }
        guard header.messageLength == Self.length else {
            throw HandshakeWireError(.badLength, at: offset + HandshakeHeaderView.Field.headerLength)
        }
        nonce = bytes.handshakeBlock16(at: offset + Field.nonce)
    }

    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0,
                     nextHeader: UInt8 = HandshakeConstants.noNextHeader) {
        precondition(offset >= 0 && buffer.count - offset >= Self.length, "buffer too small for an address probe")
        HandshakeHeaderView.emit(into: buffer, at: offset, type: kind.messageType, length: Self.length, nextHeader: nextHeader)
        buffer.storeHandshakeBlock(nonce, at: offset + Field.nonce)
    }

    public func bytes(nextHeader: UInt8 = HandshakeConstants.noNextHeader) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.length)
        bytes.withUnsafeMutableBytes { emit(into: $0, nextHeader: nextHeader) }
        return bytes
    }

    /// The reply a peer sends to this probe.
    public var reply: AddressProbeMessage { AddressProbeMessage(kind: .reply, nonce: nonce) }
}
