/// The Message Type of a message carried in the handshake Next Header
/// (253 by default; docs/HANDSHAKE.md). Unknown values decode, so a newer
/// peer's message is counted and skipped rather than misparsed.
public struct HandshakeMessageType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Message 1 (draft A.2 "First Anon Auth Message"): initiator nonce.
    public static let initiatorHello = HandshakeMessageType(rawValue: 1)
    /// Message 2: the responder's stateless challenge (key, cookie, puzzle).
    public static let responderChallenge = HandshakeMessageType(rawValue: 2)
    /// Message 3: puzzle solution, echoed cookie, initiator key; under AH.
    public static let initiatorResponse = HandshakeMessageType(rawValue: 3)
    /// Return routability probe to a new address (RFC 4225 3.1 idea).
    public static let addressProbe = HandshakeMessageType(rawValue: 4)
    /// The answer to an address probe, echoing its nonce.
    public static let addressProbeReply = HandshakeMessageType(rawValue: 5)

    public var description: String {
        switch rawValue {
        case 1: return "initiator-hello"
        case 2: return "responder-challenge"
        case 3: return "initiator-response"
        case 4: return "address-probe"
        case 5: return "address-probe-reply"
        default: return "type-\(rawValue)"
        }
    }
}
