import HomelessSecurity
import HomelessWire

/// Something the engine must act on after the handshake driver ran.
public enum HandshakeControllerEvent: Equatable, Sendable {
    /// A pair of anonymous SAs (draft 3.3.1) with `peer` is in the SA
    /// database, not yet bound to a Host Cache entry. The engine creates
    /// the peer's trusted Foreign Host Cache Entry (draft 5.2), binds both
    /// SAs to it and starts the peer's mobility state machine. As
    /// initiator this happens on message 2 (A.2: Alice creates the SA
    /// before sending message 3 under it); the SAs are confirmed later
    /// (`.confirmed`) or removed again (`.failed`).
    case established(role: HandshakeEstablishment.Role, local: IPv6Address, peer: IPv6Address,
                     outboundSPI: UInt32, inboundSPI: UInt32)
    /// A packet from the responder verified with the initiator's new inbound
    /// SA: the responder derived the same keys; retransmissions stop.
    case confirmed(local: IPv6Address, peer: IPv6Address, inboundSPI: UInt32)
    /// An attempt as initiator ended without SAs: the engine treats the peer
    /// as a plain peer (no Foreign Host Cache Entry, packets untranslated).
    /// If `.established` was reported for it, its SAs (`inboundSPI` and
    /// `outboundSPI`, non-zero) have been removed from the database and the
    /// engine removes the entry it created.
    case failed(local: IPv6Address, peer: IPv6Address, reason: HandshakeControllerFailure,
                inboundSPI: UInt32, outboundSPI: UInt32)
    /// The initiator retransmitted message 3 of a handshake this responder
    /// completed (its AH verified with the installed SA): our first
    /// authenticated packet to it was lost. The engine sends its latest
    /// Binding Update or Acknowledgement to the peer again, which confirms.
    case responseRetransmitted(local: IPv6Address, peer: IPv6Address, inboundSPI: UInt32)
}

/// Why an attempt as initiator ended without SAs.
public enum HandshakeControllerFailure: String, Equatable, Sendable {
    /// No message 2, or no confirmation of message 3, after every
    /// retransmission (`HandshakeInitiatorConfiguration.maximumTransmissions`).
    case timedOut = "timed-out"
    /// The SAs could not be installed (inbound SPI taken meanwhile).
    case installFailed = "install-failed"
    /// The peer's handshake toward us completed while ours was running
    /// (both sides started at once): the one started by the lower address
    /// is kept, so both ends keep the same pair.
    case superseded
}

/// Why the driver dropped a handshake packet. Every reason has a counter
/// (`AnonymousHandshakeCounters`).
public enum HandshakeControllerDrop: Equatable, Sendable {
    /// The IPv6 header, AH or handshake header does not parse.
    case malformed
    /// A Message Type this implementation does not know.
    case unknownMessageType
    /// A message 1 from a multicast, unspecified or loopback source, or to a
    /// multicast group: answering could reflect message 2s at third parties.
    case unacceptableAddress
    /// A message 2 from a peer no attempt is running with.
    case unexpectedChallenge
    /// The initiator ignored a message 2 (wrong nonce, too difficult, ...).
    case challengeIgnored(HandshakeInitiatorIgnore)
    /// The responder dropped a message 3 (bad cookie, puzzle, replay, ...).
    case responseDropped(HandshakeResponderDrop)
    /// The SAs of a completed handshake could not be installed.
    case installFailed
    /// A message 3 of the peer's handshake while ours with it wins.
    case crossedHandshake
}

/// What to do with one received packet.
public struct HandshakeControllerResult: Sendable {
    public enum Disposition: Equatable, Sendable {
        /// A handshake message: handled (answered, used or dropped); the
        /// engine does not pass it on.
        case consumed
        /// Not a message for this driver (another protocol, or an address
        /// probe for return routability): the engine handles it as before.
        case notHandshake
    }

    public var disposition: Disposition = .consumed
    /// Complete IPv6 packets to send (the engine adds the link header).
    public var packets: [[UInt8]] = []
    public var events: [HandshakeControllerEvent] = []
    /// Set when the packet was dropped, for logs (already counted).
    public var drop: HandshakeControllerDrop?
    /// When a peer's message 3 carried its Initial Binding Update behind the
    /// message (draft A.2): where that header starts in the packet and its
    /// protocol. AH covered it and was verified; the engine applies the
    /// Binding Update.
    public var trailer: (offset: Int, nextHeader: UInt8)?

    public init() {}

    static let notHandshake: HandshakeControllerResult = {
        var result = HandshakeControllerResult()
        result.disposition = .notHandshake
        return result
    }()
}
