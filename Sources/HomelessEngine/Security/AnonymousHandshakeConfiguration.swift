import HomelessSecurity

/// Settings of the engine's Anonymous Authentication handshake driver
/// (`AnonymousHandshakeController`): those of the two state machines it
/// runs, and the bounds on what it remembers per peer.
public struct AnonymousHandshakeConfiguration: Sendable {
    /// The responder (puzzle difficulty, slot length, handshake Next Header).
    public var responder = HandshakeResponderConfiguration()
    /// Every initiator (retransmission schedule, highest difficulty accepted).
    public var initiator = HandshakeInitiatorConfiguration()
    /// Attempts this host runs as initiator at one time. Each holds an
    /// X25519 key and, after message 2, a pair of SAs; a burst of new
    /// conversations beyond this is refused (and counted) rather than
    /// letting the table grow without bound.
    public var maximumAttempts = 256
    /// After an attempt failed (no answer: the peer does not run the
    /// protocol and stays a plain peer without a Foreign Host Cache Entry),
    /// new conversations with it start no handshake for this long, so every
    /// TCP SYN to such a peer does not cost four message 1s.
    public var failureHoldDownNanoseconds: UInt64 = 300_000_000_000
    /// Peers remembered in the hold-down; the one whose hold-down ends
    /// first is forgotten when a new one must be added.
    public var maximumHeldDownPeers = 4096

    /// IPv6 Next Header of handshake messages (the responder's setting).
    public var nextHeader: UInt8 { responder.nextHeader }

    public init() {}
}
