/// Message 1 of the Anonymous Authentication handshake (draft 2.4.3, A.2
/// "First Anon Auth Message"), like HIP's I1 (RFC 7401 5.3.1): small, so
/// answering it cannot be turned into an amplifier, and carrying nothing
/// the responder has to remember.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  | Header Len=2  | Msg Type = 1  |  Version = 1  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           Reserved                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                                                               |
/// +                  Initiator Nonce (128 bits)                   +
/// |                                                               |
/// +                                                               +
/// |                                                               |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The nonce makes each attempt's cookie different (so a message 3 cannot
/// be completed twice) and lets the initiator match message 2 to its
/// attempt: a message 2 echoing another nonce is ignored.
public struct InitiatorHello: Equatable, Sendable {
    public enum Field {
        public static let initiatorNonce = 8
    }

    public static let length = 24

    public var initiatorNonce: HandshakeBlock16

    public init(initiatorNonce: HandshakeBlock16) {
        self.initiatorNonce = initiatorNonce
    }

    /// Parses the message at `offset`; Header Len must be exactly 2.
    public init(parsing bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(HandshakeWireError) {
        let header = try HandshakeHeaderView(checking: bytes, at: offset)
        try header.expect(.initiatorHello, length: Self.length)
        initiatorNonce = bytes.handshakeBlock16(at: offset + Field.initiatorNonce)
    }

    /// Writes the message into exactly `length` octets at `offset`.
    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0,
                     nextHeader: UInt8 = HandshakeConstants.noNextHeader) {
        precondition(offset >= 0 && buffer.count - offset >= Self.length, "buffer too small for message 1")
        HandshakeHeaderView.emit(into: buffer, at: offset, type: .initiatorHello, length: Self.length, nextHeader: nextHeader)
        buffer.storeHandshakeBlock(initiatorNonce, at: offset + Field.initiatorNonce)
    }

    public func bytes(nextHeader: UInt8 = HandshakeConstants.noNextHeader) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.length)
        bytes.withUnsafeMutableBytes { emit(into: $0, nextHeader: nextHeader) }
        return bytes
    }
}

/// Code points and fixed sizes of the handshake.
public enum HandshakeConstants {
    /// IPv6 No Next Header (RFC 8200 4.7).
    public static let noNextHeader: UInt8 = 59
    /// IPv6 Destination Options: a draft-era Binding Update follows (draft A.2).
    public static let destinationOptions: UInt8 = 60
    /// Default IPv6 Next Header of handshake messages (RFC 3692 experimental; configurable).
    public static let defaultNextHeader: UInt8 = 253
}
