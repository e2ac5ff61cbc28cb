/// Message 2 (draft A.2 "Second Anon Auth Message"), like HIP's R1
/// (RFC 7401 5.3.2): everything the responder needs later is either in the
/// message or recomputable from its rotating secret, so it keeps no state
/// for the initiator (draft A.2: "does not create any state yet").
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  | Header Len=9  | Msg Type = 2  |  Version = 1  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Difficulty K  |                   Reserved                    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Time Slot                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Responder SPI                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  Initiator Nonce (128 bits, echoed)           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Cookie (128 bits)                      |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            Responder X25519 Public Key (256 bits)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// - Difficulty K: leading zero bits the puzzle solution must produce (RFC 7401 4.1.2).
/// - Time Slot: which of the responder's rotating generations (secret and
///   key pair) made the cookie; echoed in message 3 so the responder checks
///   one HMAC and can tell a stale cookie from a forged one.
/// - Responder SPI: the SPI the responder will accept AH with, derived from
///   the cookie (recomputable, so not state); message 3 already uses it.
/// - Initiator Nonce: ties the answer to the attempt.
/// - Cookie: HMAC-SHA-256/128 under the slot's secret over the slot, K,
///   both addresses and the nonce; also the puzzle's seed I.
/// - Responder Public Key: the generation's X25519 key (RFC 7748), reused
///   for the slot so answering message 1 costs no scalar multiplication.
public struct ResponderChallenge: Equatable, Sendable {
    public enum Field {
        public static let timeSlot = 8
        public static let responderSPI = 12
        public static let initiatorNonce = 16
        public static let cookie = 32
        public static let responderPublicKey = 48
    }

    public static let length = 80

    public var difficulty: UInt8
    public var timeSlot: UInt32
    public var responderSPI: UInt32
    public var initiatorNonce: HandshakeBlock16
    public var cookie: HandshakeBlock16
    public var responderPublicKey: HandshakeBlock32

    public init(difficulty: UInt8, timeSlot: UInt32, responderSPI: UInt32, initiatorNonce: HandshakeBlock16,
                cookie: HandshakeBlock16, responderPublicKey: HandshakeBlock32) {
        self.difficulty = difficulty
        self.timeSlot = timeSlot
        self.responderSPI = responderSPI
        self.initiatorNonce = initiatorNonce
        self.cookie = cookie
        self.responderPublicKey = responderPublicKey
    }

    public init(parsing bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(HandshakeWireError) {
        let header = try HandshakeHeaderView(checking: bytes, at: offset)
        try header.expect(.responderChallenge, length: Self.length)
        difficulty = header.typeSpecific
        timeSlot = bytes.handshakeUInt32(at: offset + Field.timeSlot)
        responderSPI = bytes.handshakeUInt32(at: offset + Field.responderSPI)
        initiatorNonce = bytes.handshakeBlock16(at: offset + Field.initiatorNonce)
        cookie = bytes.handshakeBlock16(at: offset + Field.cookie)
        responderPublicKey = bytes.handshakeBlock32(at: offset + Field.responderPublicKey)
    }

    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0,
                     nextHeader: UInt8 = HandshakeConstants.noNextHeader) {
        precondition(offset >= 0 && buffer.count - offset >= Self.length, "buffer too small for message 2")
        HandshakeHeaderView.emit(into: buffer, at: offset, type: .responderChallenge, length: Self.length,
                                 nextHeader: nextHeader, typeSpecific: difficulty)
        buffer.storeHandshakeUInt32(timeSlot, at: offset + Field.timeSlot)
        buffer.storeHandshakeUInt32(responderSPI, at: offset + Field.responderSPI)
        buffer.storeHandshakeBlock(initiatorNonce, at: offset + Field.initiatorNonce)
        buffer.storeHandshakeBlock(cookie, at: offset + Field.cookie)
        buffer.storeHandshakeBlock(responderPublicKey, at: offset + Field.responderPublicKey)
    }

    public func bytes(nextHeader: UInt8 = HandshakeConstants.noNextHeader) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.length)
        bytes.withUnsafeMutableBytes { emit(into: $0, nextHeader: nextHeader) }
        return bytes
    }
}
