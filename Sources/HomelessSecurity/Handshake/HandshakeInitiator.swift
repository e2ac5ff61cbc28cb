public import HomelessCore
public import HomelessWire

/// Settings of the initiator side.
public struct HandshakeInitiatorConfiguration: Sendable {
    /// The largest puzzle difficulty accepted: a responder (or an attacker
    /// forging message 2) asking for more is ignored, so it cannot make the
    /// initiator burn unbounded CPU.
    public var maximumDifficulty: UInt8 = 20
    /// First retransmission delay of message 1 and 3; doubled each time.
    public var retransmitNanoseconds: UInt64 = 500_000_000
    /// Sends of a message before the attempt fails.
    public var maximumTransmissions = 4
    /// Anti-replay window of the SAs created.
    public var replayWindowSize: Int = ReplayWindow.defaultSize

    public init() {}
}

/// Why the initiator ignored a message 2. Ignoring (not failing) is the
/// right answer to anything an off-path attacker can send: the genuine
/// message 2 may still come.
public enum HandshakeInitiatorIgnore: String, Error, Sendable, CaseIterable {
    /// No message 1 is outstanding.
    case notAwaitingChallenge = "not-awaiting-challenge"
    /// Not from the responder, or not to us.
    case wrongAddresses = "wrong-addresses"
    /// It answers another attempt.
    case nonceMismatch = "nonce-mismatch"
    /// Difficulty above `maximumDifficulty`.
    case difficultyTooHigh = "difficulty-too-high"
    /// No solution within the search budget.
    case puzzleUnsolved = "puzzle-unsolved"
    /// The responder's key gave the all-zero X25519 result (RFC 7748 6.1).
    case lowOrderKey = "low-order-key"
    /// SPI 0-255 (RFC 4302 2.4).
    case reservedSPI = "reserved-spi"
}

/// Why an attempt ended without SAs.
public enum HandshakeInitiatorFailure: String, Sendable {
    /// No message 2 (or no confirmation of message 3) after every retransmission.
    case timedOut = "timed-out"
}

/// What the initiator asks its caller to do after `poll(now:)`.
public enum HandshakeInitiatorAction: Sendable {
    /// Nothing until `until` (or a message arrives).
    case wait(until: MonotonicInstant)
    /// Send message 1 again.
    case retransmitHello(InitiatorHello)
    /// Send message 3 again, under AH with the next sequence number.
    case retransmitResponse(InitiatorResponse)
    /// The handshake is over (established or failed): nothing to send.
    case none
}

/// The initiator side of the Anonymous Authentication handshake (draft
/// 2.4.3, A.2), a pure state machine in the style of a key-exchange state
/// machine: every input is a method, every switch over the state is
/// exhaustive, and the clock and the random source are parameters.
///
///     idle --start--> awaitingChallenge --message 2--> awaitingConfirmation --confirm--> established
///                           |  (retransmit, then timedOut)       |  (retransmit message 3)
///                           +------------> failed <--------------+
///
/// The SAs exist from message 2 on (the initiator protects message 3 with
/// them, A.2: "Alice creates an AH SA and associates it with the Foreign
/// Host Cache Entry"); `awaitingConfirmation` lasts until a packet from the
/// responder verifies with the new inbound SA, which proves the responder
/// derived the same keys.
public struct HandshakeInitiator: Sendable {
    public struct PendingHello: Sendable {
        public var hello: InitiatorHello
        public var transmissions: Int
        public var nextTransmission: MonotonicInstant
    }

    public struct PendingConfirmation: Sendable {
        public var response: InitiatorResponse
        public var establishment: HandshakeEstablishment
        public var transmissions: Int
        public var nextTransmission: MonotonicInstant
    }

    public enum State: Sendable {
        case idle
        case awaitingChallenge(PendingHello)
        case awaitingConfirmation(PendingConfirmation)
        case established(HandshakeEstablishment)
        case failed(HandshakeInitiatorFailure)
    }

    public let configuration: HandshakeInitiatorConfiguration
    /// Our address (the source of message 1) and the responder's.
    public let local: IPv6Address
    public let peer: IPv6Address
    public private(set) var state: State = .idle

    public init(local: IPv6Address, peer: IPv6Address,
                configuration: HandshakeInitiatorConfiguration = HandshakeInitiatorConfiguration()) {
        self.local = local
        self.peer = peer
        self.configuration = configuration
    }

    /// Starts (or restarts) an attempt with a fresh nonce: message 1 to send.
    public mutating func start<Random: RandomNumberGenerator>(now: MonotonicInstant, random: inout Random) -> InitiatorHello {
        let hello = InitiatorHello(initiatorNonce: HandshakeBlock16(high: random.next(), low: random.next()))
        state = .awaitingChallenge(PendingHello(hello: hello, transmissions: 1,
                                                nextTransmission: backoff(from: now, transmissions: 1)))
        return hello
    }

    private func backoff(from now: MonotonicInstant, transmissions: Int) -> MonotonicInstant {
        let shift = UInt64(min(max(transmissions - 1, 0), 16))
        let (delay, overflow) = configuration.retransmitNanoseconds.multipliedReportingOverflow(by: 1 << shift)
        let (at, late) = now.nanoseconds.addingReportingOverflow(overflow ? .max : delay)
        return MonotonicInstant(nanoseconds: late ? .max : at)
    }

    /// Timers: retransmits message 1 or 3 with exponential backoff and
    /// fails the attempt after `maximumTransmissions`.
    public mutating func poll(now: MonotonicInstant) -> HandshakeInitiatorAction {
        switch state {
        case .idle, .established, .failed:
            return .none
        case .awaitingChallenge(var pending):
            guard now >= pending.nextTransmission else { return .wait(until: pending.nextTransmission) }
            guard pending.transmissions < configuration.maximumTransmissions else {
                state = .failed(.timedOut)
                return .none
            }
            pending.transmissions += 1
            pending.nextTransmission = backoff(from: now, transmissions: pending.transmissions)
            state = .awaitingChallenge(pending)
            return .retransmitHello(pending.hello)
        case .awaitingConfirmation(var pending):
            guard now >= pending.nextTransmission else { return .wait(until: pending.nextTransmission) }
            guard pending.transmissions < configuration.maximumTransmissions else {
                state = .failed(.timedOut)
                return .none
            }
            pending.transmissions += 1
            pending.nextTransmission = backoff(from: now, transmissions: pending.transmissions)
            state = .awaitingConfirmation(pending)
            return .retransmitResponse(pending.response)
        }
    }

    /// Handles message 2 (`source` and `destination` from its IPv6
    /// header): solves the puzzle, makes a fresh X25519 key, derives the
    /// SAs and returns message 3 with them. The caller installs the SAs and
    /// sends message 3 under AH with `establishment.outbound`
    /// (`HandshakePacket.protected`), followed by its Initial Binding Update.
    public mutating func receive<Random: RandomNumberGenerator>(
        _ challenge: ResponderChallenge, source: IPv6Address, destination: IPv6Address, now: MonotonicInstant,
        random: inout Random, isInboundSPIInUse: (UInt32) -> Bool
    ) -> Result<(InitiatorResponse, HandshakeEstablishment), HandshakeInitiatorIgnore> {
        let pending: PendingHello
        switch state {
        case .awaitingChallenge(let outstanding): pending = outstanding
        case .idle, .awaitingConfirmation, .established, .failed: return .failure(.notAwaitingChallenge)
        }
        guard source == peer, destination == local else { return .failure(.wrongAddresses) }
        guard challenge.initiatorNonce == pending.hello.initiatorNonce else { return .failure(.nonceMismatch) }
        guard challenge.difficulty <= configuration.maximumDifficulty else { return .failure(.difficultyTooHigh) }
        guard challenge.responderSPI > 255 else { return .failure(.reservedSPI) }
        // Expected 2^K hashes; allow 64 times that before giving up (the
        // chance that a solvable puzzle needs more is e^-64).
        let budget = UInt64(1) << UInt64(min(Int(challenge.difficulty) + 6, 62))
        guard let solution = HandshakePuzzle.solve(cookie: challenge.cookie, initiator: local, responder: peer,
                                                   difficulty: challenge.difficulty, start: random.next(), limit: budget) else {
            return .failure(.puzzleUnsolved)
        }
        var initiatorSPI: UInt32 = 0
        repeat {
            initiatorSPI = UInt32(truncatingIfNeeded: random.next())
        } while initiatorSPI <= 255 || isInboundSPIInUse(initiatorSPI)
        let keyPair = X25519KeyPair(random: &random)
        let response = InitiatorResponse(timeSlot: challenge.timeSlot, initiatorSPI: initiatorSPI,
                                         initiatorNonce: challenge.initiatorNonce, cookie: challenge.cookie,
                                         solution: solution, initiatorPublicKey: keyPair.publicKey)
        let secret: [UInt8]
        do { secret = try keyPair.sharedSecret(with: challenge.responderPublicKey) } catch { return .failure(.lowOrderKey) }
        let keys = HandshakeKeySchedule.derive(sharedSecret: secret, initiator: local, responder: peer,
                                               challenge: challenge, response: response)
        let establishment: HandshakeEstablishment
        do {
            establishment = try HandshakeEstablishment(
                role: .initiator, local: local, peer: peer, keys: keys, initiatorSPI: initiatorSPI,
                responderSPI: challenge.responderSPI, replayWindowSize: configuration.replayWindowSize)
        } catch {
            return .failure(.reservedSPI)
        }
        state = .awaitingConfirmation(PendingConfirmation(
            response: response, establishment: establishment, transmissions: 1,
            nextTransmission: backoff(from: now, transmissions: 1)))
        return .success((response, establishment))
    }

    /// A packet from the responder verified with the new inbound SA (for
    /// instance its Binding Acknowledgement or Initial Binding Update): the
    /// responder has the keys; stop retransmitting message 3.
    public mutating func confirm() {
        switch state {
        case .awaitingConfirmation(let pending): state = .established(pending.establishment)
        case .idle, .awaitingChallenge, .established, .failed: break
        }
    }
}
