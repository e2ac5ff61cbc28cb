/// Message 3 (draft A.2 "Third Anon Auth Message"), like HIP's I2
/// (RFC 7401 5.3.3). It travels under AH made with the new SA (the
/// initiator has the keys once it read message 2), followed by the
/// initiator's Initial Binding Update (draft A.2).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Next Header  | Header Len=10 | Msg Type = 3  |  Version = 1  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                           Reserved                            |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Time Slot (echoed)                         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                        Initiator SPI                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                  Initiator Nonce (128 bits, echoed)           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Cookie (128 bits, echoed)                   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                   Puzzle Solution J (64 bits)                 |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |            Initiator X25519 Public Key (256 bits)             |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// - Time Slot, Initiator Nonce, Cookie: let the responder recompute the
///   cookie (and with it the Responder SPI) instead of remembering message 2.
/// - Initiator SPI: chosen by the initiator among its free inbound SPIs;
///   the responder protects its packets to the initiator with it.
/// - Puzzle Solution J: checked (one SHA-256) before any Diffie-Hellman work.
/// - Initiator Public Key: a fresh X25519 key for this attempt (forward
///   secrecy on the initiator's side).
public struct InitiatorResponse: Equatable, Sendable {
    public enum Field {
        public static let timeSlot = 8
        public static let initiatorSPI = 12
        public static let initiatorNonce = 16
        public static let cookie = 32
        public static let solution = 48
        public static let initiatorPublicKey = 56
    }

    public static let length = 88

    public var timeSlot: UInt32
    public var initiatorSPI: UInt32
    public var initiatorNonce: HandshakeBlock16
    public var cookie: HandshakeBlock16
    public var solution: UInt64
    public var initiatorPublicKey: HandshakeBlock32

    public init(timeSlot: UInt32, initiatorSPI: UInt32, initiatorNonce: HandshakeBlock16, cookie: HandshakeBlock16,
                solution: UInt64, initiatorPublicKey: HandshakeBlock32) {
        self.timeSlot = timeSlot
        self.initiatorSPI = initiatorSPI
        self.initiatorNonce = initiatorNonce
        self.cookie = cookie
        self.solution = solution
        self.initiatorPublicKey = initiatorPublicKey
    }

    public init(parsing bytes: UnsafeRawBufferPointer, at offset: Int = 0) throws(HandshakeWireError) {
        let header = try HandshakeHeaderView(checking: bytes, at: offset)
        try header.expect(.initiatorResponse, length: Self.length)
        timeSlot = bytes.handshakeUInt32(at: offset + Field.timeSlot)
        initiatorSPI = bytes.handshakeUInt32(at: offset + Field.initiatorSPI)
        initiatorNonce = bytes.handshakeBlock16(at: offset + Field.initiatorNonce)
        cookie = bytes.handshakeBlock16(at: offset + Field.cookie)
        solution = bytes.handshakeUInt64(at: offset + Field.solution)
        initiatorPublicKey = bytes.handshakeBlock32(at: offset + Field.initiatorPublicKey)
    }

    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0,
                     nextHeader: UInt8 = HandshakeConstants.noNextHeader) {
        precondition(offset >= 0 && buffer.count - offset >= Self.length, "buffer too small for message 3")
        HandshakeHeaderView.emit(into: buffer, at: offset, type: .initiatorResponse, length: Self.length, nextHeader: nextHeader)
        buffer.storeHandshakeUInt32(timeSlot, at: offset + Field.timeSlot)
        buffer.storeHandshakeUInt32(initiatorSPI, at: offset + Field.initiatorSPI)
        buffer.storeHandshakeBlock(initiatorNonce, at: offset + Field.initiatorNonce)
        buffer.storeHandshakeBlock(cookie, at: offset + Field.cookie)
        buffer.storeHandshakeUInt64(solution, at: offset + Field.solution)
        buffer.storeHandshakeBlock(initiatorPublicKey, at: offset + Field.initiatorPublicKey)
    }

    public func bytes(nextHeader: UInt8 = HandshakeConstants.noNextHeader) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: Self.length)
        bytes.withUnsafeMutableBytes { emit(into: $0, nextHeader: nextHeader) }
        return bytes
    }
}
