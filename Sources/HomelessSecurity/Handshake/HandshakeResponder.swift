public import HomelessCore
public import HomelessWire

/// Settings of the responder side.
public struct HandshakeResponderConfiguration: Sendable {
    /// Puzzle difficulty K asked of initiators (RFC 7401 4.1.2): 2^K hashes
    /// on average per message 3. This is the base: under load the
    /// responder raises it (see the load settings below).
    public var difficulty: UInt8 = 10
    /// Highest difficulty the load rule raises K to. Keep it at most the
    /// initiators' `maximumDifficulty` (20 by default), or they give up.
    public var maximumDifficulty: UInt8 = 20
    /// K moves by this many bits per load window.
    public var difficultyStep: UInt8 = 2
    /// Message 1s per second above which K rises by a step at the end of a
    /// load window; at or below half of it K falls by a step (never below
    /// `difficulty`). Message 2 is stateless and cheap; the rule makes
    /// every message 3 that costs us a Diffie-Hellman dearer while a flood
    /// lasts (RFC 7401 4.1.2: the Responder "SHOULD ... adjust K").
    public var loadThresholdPerSecond: Int = 200
    /// Length of the window message 1s are counted over.
    public var loadWindowNanoseconds: UInt64 = 1_000_000_000
    /// Length of a time slot: the cookie secret and the X25519 key pair
    /// change every slot; cookies are accepted for the current and the
    /// previous slot.
    public var slotNanoseconds: UInt64 = 60_000_000_000
    /// IPv6 Next Header of handshake messages.
    public var nextHeader: UInt8 = HandshakeConstants.defaultNextHeader
    /// How many completed attempts (cookies) of the last two slots are
    /// remembered to drop replayed message 3s before any Diffie-Hellman
    /// work. When full, new handshakes are refused (`busy`) until the slot
    /// rotates: refusing is safe, forgetting would let a replay through.
    public var completedCapacity: Int = 16384
    /// Anti-replay window of the SAs created.
    public var replayWindowSize: Int = ReplayWindow.defaultSize

    public init() {}
}

/// Why the responder dropped a message 3. Each reason has a counter; every
/// reason above `lowOrderKey` is decided before any Diffie-Hellman work.
public enum HandshakeResponderDrop: String, Sendable, CaseIterable {
    /// Not a well-formed message 3 (see the wire error), or SPI 0-255.
    case malformed
    /// Message 3 did not come under AH (draft A.2: "Third Anon Auth Message + AH").
    case missingAuthenticationHeader = "missing-ah"
    /// The cookie's time slot is neither the current nor the previous one.
    case staleCookie = "stale-cookie"
    /// The cookie (or the AH SPI derived with it) does not match: forged,
    /// or made for other addresses or another nonce.
    case badCookie = "bad-cookie"
    /// The puzzle solution is wrong.
    case badPuzzle = "bad-puzzle"
    /// This cookie already completed a handshake (a replayed message 3).
    case replayed
    /// The Responder SPI is already an inbound SPI here (a rare collision:
    /// the initiator retries with a new nonce).
    case spiInUse = "spi-in-use"
    /// The table of completed cookies is full.
    case busy
    /// The initiator's key gave the all-zero X25519 result (RFC 7748 6.1).
    case lowOrderKey = "low-order-key"
    /// The keys were derived but message 3's AH did not verify with them.
    case badICV = "bad-icv"

    /// Whether the drop happens before the Diffie-Hellman computation.
    public var isBeforeDiffieHellman: Bool {
        switch self {
        case .malformed, .missingAuthenticationHeader, .staleCookie, .badCookie, .badPuzzle, .replayed, .spiInUse, .busy:
            return true
        case .lowOrderKey, .badICV:
            return false
        }
    }
}

/// What the responder did with a message 3.
public enum HandshakeResponderOutcome: Sendable {
    /// Both SAs exist and message 3's AH verified with the inbound one
    /// (sequence number 1 is already in its window). The initiator's
    /// Initial Binding Update, if any, starts at `trailerOffset` in the
    /// packet with protocol `trailerNextHeader`; the caller creates the
    /// Foreign Host Cache Entry and installs the SAs bound to it (A.2).
    case established(HandshakeEstablishment, trailerOffset: Int, trailerNextHeader: UInt8)
    case dropped(HandshakeResponderDrop, HandshakeWireError?)
}

/// Counters of the responder: what it answered, completed and dropped.
public struct HandshakeResponderCounters: Sendable, Equatable {
    public var challengesSent = 0
    public var malformedHellos = 0
    public var completed = 0
    /// X25519 computations done for message 3s (the expensive step).
    public var diffieHellmanOperations = 0
    public var rotations = 0
    /// Load windows that raised / lowered the puzzle difficulty.
    public var difficultyRaises = 0
    public var difficultyLowers = 0
    private var drops = [Int](repeating: 0, count: HandshakeResponderDrop.allCases.count)

    public subscript(drop: HandshakeResponderDrop) -> Int {
        get { HandshakeResponderDrop.allCases.firstIndex(of: drop).map { drops[$0] } ?? 0 }
        set { if let index = HandshakeResponderDrop.allCases.firstIndex(of: drop) { drops[index] = newValue } }
    }

    public var totalDrops: Int { drops.reduce(0, +) }
}

/// The responder side of the Anonymous Authentication handshake (draft
/// 2.4.3, A.2), a pure state machine: no I/O, the clock and the random
/// source are passed in.
///
/// Its state does not grow with the number of initiators that send message
/// 1: it is two generations (current and previous slot) and the bounded set
/// of cookies that completed. Message 2 is computed from the rotating
/// secret (one HMAC); message 3 is checked in order of cost - slot,
/// cookie, SPI, puzzle, replay, capacity - and only then does the
/// responder compute X25519 and create SAs (RFC 7401 4.1.1, 6.9).
public struct HandshakeResponder: Sendable {
    public let configuration: HandshakeResponderConfiguration
    private var current: ResponderGeneration
    private var previous: ResponderGeneration?
    private var completedCookies: Set<CompletedCookie> = []
    public private(set) var counters = HandshakeResponderCounters()
    /// The difficulty message 2 asks for now (base, raised under load).
    public private(set) var difficulty: UInt8
    /// Message 1s counted in the load window that started at `loadWindowStart`.
    private var hellosInWindow = 0
    private var loadWindowStart: MonotonicInstant

    private struct CompletedCookie: Hashable, Sendable {
        var slot: UInt32
        var cookie: HandshakeBlock16
    }

    public init<Random: RandomNumberGenerator>(configuration: HandshakeResponderConfiguration = HandshakeResponderConfiguration(),
                                               now: MonotonicInstant, random: inout Random) {
        self.configuration = configuration
        difficulty = configuration.difficulty
        loadWindowStart = now
        current = ResponderGeneration(slot: Self.slot(of: now, configuration: configuration), random: &random)
    }

    /// Every difficulty message 2 may have asked for, the current one first:
    /// message 3 does not repeat K, so the cookie is checked against each
    /// (one HMAC each, at most a handful, all before any Diffie-Hellman).
    var difficultyLevels: [UInt8] {
        let step = max(1, Int(configuration.difficultyStep))
        let top = max(Int(configuration.difficulty), Int(min(configuration.maximumDifficulty, HandshakePuzzle.maximumDifficulty)))
        var levels = [difficulty]
        for level in stride(from: Int(configuration.difficulty), through: top, by: step) where UInt8(level) != difficulty {
            levels.append(UInt8(level))
        }
        return levels
    }

    /// Counts a message 1 and, at the end of each load window, moves the
    /// difficulty: up a step when the window saw more than the threshold
    /// rate, down a step when it saw at most half of it. Windows that saw
    /// no message 1 at all (the load stopped) each lower it a step.
    mutating func noteHello(now: MonotonicInstant) {
        let window = max(1, configuration.loadWindowNanoseconds)
        let elapsed = now.nanoseconds &- loadWindowStart.nanoseconds
        if now.nanoseconds >= loadWindowStart.nanoseconds, elapsed >= window {
            let threshold = Double(configuration.loadThresholdPerSecond) * Double(window) / 1e9
            let step = max(1, Int(configuration.difficultyStep))
            let top = max(Int(configuration.difficulty), Int(min(configuration.maximumDifficulty, HandshakePuzzle.maximumDifficulty)))
            var level = Int(difficulty)
            if Double(hellosInWindow) > threshold {
                level = min(top, level + step)
            } else if Double(hellosInWindow) <= threshold / 2 {
                level = max(Int(configuration.difficulty), level - step)
            }
            // Whole windows after the first passed without a message 1.
            let idleWindows = min(Int((elapsed / window) - 1), 64)
            level = max(Int(configuration.difficulty), level - idleWindows * step)
            if level > Int(difficulty) { counters.difficultyRaises += 1 }
            if level < Int(difficulty) { counters.difficultyLowers += 1 }
            difficulty = UInt8(level)
            hellosInWindow = 0
            loadWindowStart = MonotonicInstant(nanoseconds: loadWindowStart.nanoseconds &+ (elapsed / window) * window)
        }
        hellosInWindow += 1
    }

    static func slot(of now: MonotonicInstant, configuration: HandshakeResponderConfiguration) -> UInt32 {
        UInt32(truncatingIfNeeded: now.nanoseconds / max(1, configuration.slotNanoseconds))
    }

    /// The responder's state, for tests and `homeless show`: constant in
    /// the number of message 1s answered.
    public var stateSummary: (generations: Int, completedCookies: Int) {
        (previous == nil ? 1 : 2, completedCookies.count)
    }

    /// The current generation's public key (rotates every slot).
    public var publicKey: HandshakeBlock32 { current.keyPair.publicKey }

    /// Moves to the slot of `now`: a new secret and key pair; the old
    /// current one becomes previous if it is the adjacent slot. Completed
    /// cookies of retired slots are forgotten (their cookies are stale now).
    public mutating func rotate<Random: RandomNumberGenerator>(now: MonotonicInstant, random: inout Random) {
        let slot = Self.slot(of: now, configuration: configuration)
        guard slot != current.slot else { return }
        let next = ResponderGeneration(slot: slot, random: &random)
        previous = slot &- current.slot == 1 ? current : nil
        current = next
        counters.rotations += 1
        let keep = previous?.slot
        completedCookies = completedCookies.filter { $0.slot == slot || $0.slot == keep }
    }

    // MARK: Message 1 -> message 2 (stateless)

    /// Answers a message 1 from `initiator` to `responder` (the packet's
    /// source and destination). Creates no state for the initiator.
    public mutating func answer<Random: RandomNumberGenerator>(
        _ hello: InitiatorHello, initiator: IPv6Address, responder: IPv6Address,
        now: MonotonicInstant, random: inout Random
    ) -> ResponderChallenge {
        rotate(now: now, random: &random)
        noteHello(now: now)
        let generation = current
        let (cookie, spi) = generation.cookie(initiator: initiator, responder: responder, nonce: hello.initiatorNonce,
                                              difficulty: difficulty)
        counters.challengesSent += 1
        return ResponderChallenge(difficulty: difficulty, timeSlot: generation.slot, responderSPI: spi,
                                  initiatorNonce: hello.initiatorNonce, cookie: cookie,
                                  responderPublicKey: generation.keyPair.publicKey)
    }

    /// As `answer(_:...)` for message bytes (the handshake header on).
    public mutating func answer<Random: RandomNumberGenerator>(
        message: UnsafeRawBufferPointer, initiator: IPv6Address, responder: IPv6Address,
        now: MonotonicInstant, random: inout Random
    ) -> Result<ResponderChallenge, HandshakeWireError> {
        do {
            let hello = try InitiatorHello(parsing: message)
            return .success(answer(hello, initiator: initiator, responder: responder, now: now, random: &random))
        } catch {
            counters.malformedHellos += 1
            return .failure(error)
        }
    }

    // MARK: Message 3 -> SAs

    /// Handles a whole IPv6 packet carrying message 3 under AH. The
    /// initiator and responder addresses are the packet's source and
    /// destination, as in message 1 (the cookie is bound to them).
    /// `isInboundSPIInUse` asks the SA database about the Responder SPI.
    public mutating func complete<Random: RandomNumberGenerator>(
        packet: UnsafeRawBufferPointer, now: MonotonicInstant, random: inout Random,
        isInboundSPIInUse: (UInt32) -> Bool
    ) -> HandshakeResponderOutcome {
        rotate(now: now, random: &random)
        let layout: AHPacketLayout
        do {
            layout = try AHPacketLayout.locate(in: packet)
        } catch {
            return drop(error.reason == .noAuthenticationHeader ? .missingAuthenticationHeader : .malformed,
                        HandshakeWireError(.truncated, at: error.offset))
        }
        let ahNextHeader = packet.load(fromByteOffset: layout.ahOffset, as: UInt8.self)
        let messageOffset = layout.ahOffset + layout.ahLength
        guard ahNextHeader == configuration.nextHeader else {
            return drop(.malformed, HandshakeWireError(.unexpectedType, at: layout.ahOffset))
        }
        let response: InitiatorResponse
        let message = UnsafeRawBufferPointer(rebasing: packet[0..<layout.packetLength])
        do { response = try InitiatorResponse(parsing: message, at: messageOffset) } catch { return drop(.malformed, error) }
        let trailerNextHeader = packet.load(fromByteOffset: messageOffset, as: UInt8.self)
        guard response.initiatorSPI > 255 else {
            return drop(.malformed, HandshakeWireError(.badLength, at: messageOffset + InitiatorResponse.Field.initiatorSPI))
        }
        let initiator = IPv6Address(bytes: packet, at: 8)
        let responder = IPv6Address(bytes: packet, at: 24)

        // 1. Which generation: current or previous slot, else stale.
        let generation: ResponderGeneration
        if response.timeSlot == current.slot {
            generation = current
        } else if let previous, response.timeSlot == previous.slot {
            generation = previous
        } else {
            return drop(.staleCookie, nil)
        }
        // 2. The cookie, recomputed: one HMAC per difficulty level (the
        //    current one first), which also tells the difficulty asked.
        var issued: (cookie: HandshakeBlock16, spi: UInt32, difficulty: UInt8)?
        for level in difficultyLevels {
            let (candidate, spi) = generation.cookie(initiator: initiator, responder: responder,
                                                     nonce: response.initiatorNonce, difficulty: level)
            if candidate.constantTimeEquals(response.cookie) {
                issued = (candidate, spi, level)
                break
            }
        }
        guard let issued else { return drop(.badCookie, nil) }
        let (cookie, responderSPI, askedDifficulty) = issued
        let ahSPI = packet.loadBigEndianUInt32(at: layout.ahOffset + AuthenticationHeaderLayout.spi)
        guard ahSPI == responderSPI else { return drop(.badCookie, nil) }
        // 3. The puzzle: one SHA-256.
        guard HandshakePuzzle.isSolved(cookie: cookie, initiator: initiator, responder: responder,
                                       difficulty: askedDifficulty, solution: response.solution) else {
            return drop(.badPuzzle, nil)
        }
        // 4. Replays and capacity: a cookie completes at most once.
        let completedKey = CompletedCookie(slot: generation.slot, cookie: cookie)
        guard !completedCookies.contains(completedKey) else { return drop(.replayed, nil) }
        guard !isInboundSPIInUse(responderSPI) else { return drop(.spiInUse, nil) }
        guard completedCookies.count < configuration.completedCapacity else { return drop(.busy, nil) }
        // From here on the attempt is spent, whatever happens: at most one
        // Diffie-Hellman computation per solved puzzle.
        completedCookies.insert(completedKey)

        counters.diffieHellmanOperations += 1
        let secret: [UInt8]
        do { secret = try generation.keyPair.sharedSecret(with: response.initiatorPublicKey) } catch { return drop(.lowOrderKey, nil) }
        let challenge = ResponderChallenge(difficulty: askedDifficulty, timeSlot: generation.slot,
                                           responderSPI: responderSPI, initiatorNonce: response.initiatorNonce,
                                           cookie: cookie, responderPublicKey: generation.keyPair.publicKey)
        let keys = HandshakeKeySchedule.derive(sharedSecret: secret, initiator: initiator, responder: responder,
                                               challenge: challenge, response: response)
        var establishment: HandshakeEstablishment
        do {
            establishment = try HandshakeEstablishment(
                role: .responder, local: responder, peer: initiator, keys: keys, initiatorSPI: response.initiatorSPI,
                responderSPI: responderSPI, replayWindowSize: configuration.replayWindowSize)
        } catch {
            return drop(.malformed, nil)
        }
        // Key confirmation: message 3's AH must verify with the derived key.
        guard establishment.inbound.verify(packet, layout: layout).verdict == .ok else { return drop(.badICV, nil) }
        counters.completed += 1
        return .established(establishment, trailerOffset: messageOffset + InitiatorResponse.length,
                            trailerNextHeader: trailerNextHeader)
    }

    private mutating func drop(_ reason: HandshakeResponderDrop, _ error: HandshakeWireError?) -> HandshakeResponderOutcome {
        counters[reason] += 1
        return .dropped(reason, error)
    }
}
