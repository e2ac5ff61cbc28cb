import HomelessSecurity

/// What the handshake driver did, for `homeless show stats`. The
/// responder's own counters (message 2s sent, message 3 drops by reason,
/// X25519 operations) are `HandshakeResponderCounters`;
/// `AnonymousHandshakeController.statistics` lists both under stable names.
public struct AnonymousHandshakeCounters: Equatable, Sendable {
    // Initiator side.
    /// Attempts started (message 1 sent for the first time).
    public var attemptsStarted: UInt64 = 0
    /// `initiate` while an attempt with the peer was running.
    public var attemptsAlreadyRunning: UInt64 = 0
    /// `initiate` for a peer that has SAs already.
    public var attemptsWithAssociations: UInt64 = 0
    /// `initiate` for a peer in its failure hold-down (a plain host).
    public var attemptsHeldDown: UInt64 = 0
    /// `initiate` refused because `maximumAttempts` were running.
    public var attemptsRefused: UInt64 = 0
    /// `initiate` for an address that cannot be a peer (multicast, ...).
    public var attemptsUnacceptableAddress: UInt64 = 0
    public var hellosRetransmitted: UInt64 = 0
    public var responsesSent: UInt64 = 0
    public var responsesRetransmitted: UInt64 = 0
    /// A message 3 retransmission could not be protected (its SA is gone).
    public var responseRetransmissionsUnprotected: UInt64 = 0
    public var establishedAsInitiator: UInt64 = 0
    public var confirmed: UInt64 = 0
    public var timedOut: UInt64 = 0
    public var superseded: UInt64 = 0
    public var unexpectedChallenges: UInt64 = 0
    /// Message 2s the initiator ignored, by reason (`HandshakeInitiatorIgnore.allCases` order).
    public private(set) var challengesIgnored = [UInt64](repeating: 0, count: HandshakeInitiatorIgnore.allCases.count)

    // Responder side.
    public var establishedAsResponder: UInt64 = 0
    /// Message 1s not answered because of their addresses.
    public var hellosUnacceptableAddress: UInt64 = 0
    /// Retransmitted message 3s of completed handshakes (AH verified).
    public var responseRetransmissionsSeen: UInt64 = 0
    /// The peer's message 3 while our own handshake with it wins.
    public var crossedHandshakes: UInt64 = 0
    /// Anonymous SAs of an earlier handshake with the same peer removed.
    public var associationsReplaced: UInt64 = 0

    // Both.
    public var malformed: UInt64 = 0
    public var unknownMessageTypes: UInt64 = 0
    public var installFailures: UInt64 = 0

    public init() {}

    public subscript(ignored reason: HandshakeInitiatorIgnore) -> UInt64 {
        get { HandshakeInitiatorIgnore.allCases.firstIndex(of: reason).map { challengesIgnored[$0] } ?? 0 }
        set { if let index = HandshakeInitiatorIgnore.allCases.firstIndex(of: reason) { challengesIgnored[index] = newValue } }
    }

    /// Stable names (kebab-case, as the JSON of `homeless show stats`).
    public var named: [(name: String, value: UInt64)] {
        var list: [(String, UInt64)] = [
            ("attempts-started", attemptsStarted), ("attempts-already-running", attemptsAlreadyRunning),
            ("attempts-with-associations", attemptsWithAssociations), ("attempts-held-down", attemptsHeldDown),
            ("attempts-refused", attemptsRefused), ("attempts-unacceptable-address", attemptsUnacceptableAddress),
            ("hellos-retransmitted", hellosRetransmitted), ("responses-sent", responsesSent),
            ("responses-retransmitted", responsesRetransmitted),
            ("response-retransmissions-unprotected", responseRetransmissionsUnprotected),
            ("established-as-initiator", establishedAsInitiator), ("confirmed", confirmed), ("timed-out", timedOut),
            ("superseded", superseded), ("unexpected-challenges", unexpectedChallenges),
        ]
        for reason in HandshakeInitiatorIgnore.allCases {
            list.append(("challenge-ignored-" + reason.rawValue, self[ignored: reason]))
        }
        list += [
            ("established-as-responder", establishedAsResponder), ("hellos-unacceptable-address", hellosUnacceptableAddress),
            ("response-retransmissions-seen", responseRetransmissionsSeen), ("crossed-handshakes", crossedHandshakes),
            ("associations-replaced", associationsReplaced), ("malformed", malformed),
            ("unknown-message-types", unknownMessageTypes), ("install-failures", installFailures),
        ]
        return list
    }
}
