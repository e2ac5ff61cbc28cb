import HomelessCore
import HomelessSecurity
import HomelessWire

/// The engine's driver of the Anonymous Authentication handshake (draft
/// 2.4.3, Appendix A.2; protocol in docs/HANDSHAKE.md): it turns received
/// handshake packets, new conversations and timers into packets to send
/// and SAs installed, by running the pure state machines of
/// HomelessSecurity - one `HandshakeResponder` for the whole host and one
/// `HandshakeInitiator` per attempt in progress.
///
/// Like them it does no I/O: the clock (`now`) and the SA database are
/// parameters, the random source is injected (it makes X25519 keys and
/// cookie secrets, so the engine gives it the system's CSPRNG; tests a
/// seeded generator). Packets are complete IPv6 packets; the caller adds
/// the link-layer header. Single-threaded: the slow path owns it.
///
/// What it keeps is bounded: the responder keeps no per-initiator state
/// (two generations and the set of completed cookies), attempts as
/// initiator are at most `maximumAttempts`, and peers that never answered
/// are remembered (they stay plain peers for a while) for at most
/// `maximumHeldDownPeers`.
///
/// Message 3 carries the initiator's Initial Binding Update (draft A.2)
/// when the engine supplies it (`receive(...initiatorTrailer:)`, asked once
/// the SAs exist); a peer's message 3 that carries one is reported
/// (`HandshakeControllerResult.trailer`) for the engine to apply.
public struct AnonymousHandshakeController<Random: RandomNumberGenerator> {
    /// One attempt as initiator.
    struct Attempt {
        var initiator: HandshakeInitiator
        /// The SAs installed on message 2 (zero before: SPIs 0-255 are never used, RFC 4302 2.4).
        var inboundSPI: UInt32 = 0
        var outboundSPI: UInt32 = 0

        var local: IPv6Address { initiator.local }
        var hasAssociations: Bool { inboundSPI != 0 }
    }

    public let configuration: AnonymousHandshakeConfiguration
    /// The host's responder (its counters are part of `statistics`).
    public private(set) var responder: HandshakeResponder
    /// Attempts as initiator, by peer address: one per peer at a time.
    private var attempts: [IPv6Address: Attempt] = [:]
    /// Attempts waiting for confirmation, by the inbound SPI that confirms them.
    private var awaitingConfirmation: [UInt32: IPv6Address] = [:]
    /// Peers whose attempt timed out, until when no new attempt starts.
    private var heldDown: [IPv6Address: MonotonicInstant] = [:]
    private var random: Random
    public private(set) var counters = AnonymousHandshakeCounters()

    public init(configuration: AnonymousHandshakeConfiguration = AnonymousHandshakeConfiguration(),
                now: MonotonicInstant, random: Random) {
        var random = random
        self.configuration = configuration
        responder = HandshakeResponder(configuration: configuration.responder, now: now, random: &random)
        self.random = random
    }

    /// What the driver holds, for tests and `homeless show`: none of it
    /// grows with the number of message 1s or 3s received.
    public var stateSummary: (attempts: Int, heldDownPeers: Int, responderGenerations: Int, completedCookies: Int) {
        let responderState = responder.stateSummary
        return (attempts.count, heldDown.count, responderState.generations, responderState.completedCookies)
    }

    /// Whether an attempt with `peer` is running.
    public func isRunning(with peer: IPv6Address) -> Bool { attempts[peer] != nil }

    // MARK: Initiator: a new conversation

    /// Starts a handshake with `peer` from `local` (draft 2.1.1: the first
    /// packet to a peer without an entry): message 1 to send. Nothing when
    /// an attempt with the peer is running, SAs with it exist, it is held
    /// down after a failed attempt, or `maximumAttempts` are running (each
    /// counted).
    public mutating func initiate(local: IPv6Address, peer: IPv6Address, now: MonotonicInstant,
                                  database: SecurityAssociationDatabase) -> [[UInt8]] {
        guard Self.isUnicast(local), Self.isUnicast(peer), local != peer else {
            counters.attemptsUnacceptableAddress &+= 1
            return []
        }
        guard attempts[peer] == nil else {
            counters.attemptsAlreadyRunning &+= 1
            return []
        }
        guard database.outbound(entry: nil, destination: peer) == nil else {
            counters.attemptsWithAssociations &+= 1
            return []
        }
        if let until = heldDown[peer] {
            guard now >= until else {
                counters.attemptsHeldDown &+= 1
                return []
            }
            heldDown[peer] = nil
        }
        guard attempts.count < configuration.maximumAttempts else {
            counters.attemptsRefused &+= 1
            return []
        }
        var initiator = HandshakeInitiator(local: local, peer: peer, configuration: configuration.initiator)
        let hello = initiator.start(now: now, random: &random)
        attempts[peer] = Attempt(initiator: initiator)
        counters.attemptsStarted &+= 1
        return [HandshakePacket.unprotected(source: local, destination: peer, message: hello.bytes(),
                                            handshakeNextHeader: configuration.nextHeader)]
    }

    // MARK: Received packets

    /// Handles a received IPv6 packet (from its IPv6 header; bytes after
    /// the Payload Length are ignored) that may carry a handshake message:
    /// `IPv6 | handshake` (messages 1, 2) or `IPv6 | AH | handshake`
    /// (message 3). SAs of a completed handshake are installed into
    /// `database`, unbound (the engine binds them to the entry it creates
    /// on `.established`). Every drop is counted.
    ///
    /// `initiatorTrailer`, when given, is asked for what follows message 3
    /// once message 2 established the SAs (draft A.2: message 3 carries
    /// the initiator's Initial Binding Update): the header's protocol
    /// number and bytes, covered by the same AH. Retransmissions of
    /// message 3 go without it.
    public mutating func receive(ipv6Packet bytes: UnsafeRawBufferPointer, now: MonotonicInstant,
                                 database: inout SecurityAssociationDatabase,
                                 initiatorTrailer: ((_ local: IPv6Address, _ peer: IPv6Address) -> (nextHeader: UInt8, bytes: [UInt8])?)? = nil)
        -> HandshakeControllerResult {
        let header: IPv6HeaderView
        do { header = try IPv6HeaderView(checking: bytes) } catch { return .notHandshake }
        let packet = UnsafeRawBufferPointer(rebasing: bytes[0..<header.payloadEnd])
        let source = header.source
        let destination = header.destination
        var messageOffset = IPv6HeaderView.length
        if header.nextHeader == .authentication {
            // Message 3 travels under AH right after the IPv6 header (A.2).
            let authentication: AuthenticationHeaderView
            do {
                authentication = try AuthenticationHeaderView(checking: packet, at: IPv6HeaderView.length)
            } catch {
                return .notHandshake
            }
            guard authentication.nextHeader.rawValue == configuration.nextHeader else { return .notHandshake }
            messageOffset = authentication.end
        } else if header.nextHeader.rawValue != configuration.nextHeader {
            return .notHandshake
        }
        let message: HandshakeHeaderView
        do { message = try HandshakeHeaderView(checking: packet, at: messageOffset) } catch {
            counters.malformed &+= 1
            return Self.dropped(.malformed)
        }
        let protected = messageOffset != IPv6HeaderView.length
        switch message.messageType {
        case .initiatorHello where !protected:
            return answer(hello: UnsafeRawBufferPointer(rebasing: packet[messageOffset...]), source: source,
                          destination: destination, now: now)
        case .responderChallenge where !protected:
            return receive(challenge: packet, at: messageOffset, source: source, destination: destination,
                           now: now, database: &database, trailer: initiatorTrailer)
        case .initiatorResponse:
            // Without AH too: the responder drops it as `missing-ah` and counts it.
            return complete(response: packet, source: source, destination: destination, now: now, database: &database)
        case .addressProbe, .addressProbeReply:
            // Return routability (docs/HANDSHAKE.md), not this driver.
            return .notHandshake
        case .initiatorHello, .responderChallenge:
            // Messages 1 and 2 are never under AH (no keys exist yet).
            counters.malformed &+= 1
            return Self.dropped(.malformed)
        default:
            counters.unknownMessageTypes &+= 1
            return Self.dropped(.unknownMessageType)
        }
    }

    /// A packet from a peer verified with the inbound SA `inboundSPI` (the
    /// engine calls this for every verified signalling packet; the first
    /// one from the responder is its Binding Update or Acknowledgement):
    /// the responder has the keys, so the attempt is over.
    public mutating func confirm(inboundSPI: UInt32) -> HandshakeControllerEvent? {
        guard let peer = awaitingConfirmation[inboundSPI], var attempt = attempts[peer] else { return nil }
        attempt.initiator.confirm()
        awaitingConfirmation[inboundSPI] = nil
        attempts[peer] = nil
        counters.confirmed &+= 1
        return .confirmed(local: attempt.local, peer: peer, inboundSPI: inboundSPI)
    }

    // MARK: Timers

    /// The earliest retransmission or timeout, if any attempt runs.
    public var nextDeadline: MonotonicInstant? {
        attempts.values.compactMap { attempt -> MonotonicInstant? in
            switch attempt.initiator.state {
            case .awaitingChallenge(let pending): return pending.nextTransmission
            case .awaitingConfirmation(let pending): return pending.nextTransmission
            case .idle, .established, .failed: return nil
            }
        }.min()
    }

    /// Retransmits message 1 or 3 of attempts whose timer expired (message
    /// 3 under AH with the next sequence number of the installed SA) and
    /// ends attempts that used up their transmissions: their SAs are
    /// removed and the peer is held down as a plain host.
    public mutating func fireTimers(now: MonotonicInstant, database: inout SecurityAssociationDatabase) -> HandshakeControllerResult {
        var result = HandshakeControllerResult()
        for peer in attempts.keys.sorted() {
            guard var attempt = attempts[peer] else { continue }
            switch attempt.initiator.poll(now: now) {
            case .retransmitHello(let hello):
                result.packets.append(HandshakePacket.unprotected(source: attempt.local, destination: peer, message: hello.bytes(),
                                                                  handshakeNextHeader: configuration.nextHeader))
                counters.hellosRetransmitted &+= 1
            case .retransmitResponse(let response):
                if let packet = protect(response, local: attempt.local, peer: peer, outboundSPI: attempt.outboundSPI,
                                        database: &database) {
                    result.packets.append(packet)
                    counters.responsesRetransmitted &+= 1
                } else {
                    counters.responseRetransmissionsUnprotected &+= 1
                }
            case .wait, .none:
                break
            }
            if case .failed = attempt.initiator.state {
                end(attempt, peer: peer, database: &database)
                holdDown(peer, now: now)
                counters.timedOut &+= 1
                result.events.append(.failed(local: attempt.local, peer: peer, reason: .timedOut,
                                             inboundSPI: attempt.inboundSPI, outboundSPI: attempt.outboundSPI))
            } else {
                attempts[peer] = attempt
            }
        }
        heldDown = heldDown.filter { $0.value > now }
        return result
    }

    // MARK: Statistics

    /// Every counter of the driver and of its responder under a stable
    /// name, for `homeless show stats` (text and JSON).
    public var statistics: [(name: String, value: UInt64)] {
        let responderCounters = responder.counters
        var list = counters.named
        list += [
            ("responder-challenges-sent", UInt64(clamping: responderCounters.challengesSent)),
            ("responder-malformed-hellos", UInt64(clamping: responderCounters.malformedHellos)),
            ("responder-completed", UInt64(clamping: responderCounters.completed)),
            ("responder-diffie-hellman-operations", UInt64(clamping: responderCounters.diffieHellmanOperations)),
            ("responder-rotations", UInt64(clamping: responderCounters.rotations)),
            ("responder-puzzle-difficulty", UInt64(responder.difficulty)),
            ("responder-difficulty-raises", UInt64(clamping: responderCounters.difficultyRaises)),
            ("responder-difficulty-lowers", UInt64(clamping: responderCounters.difficultyLowers)),
        ]
        for drop in HandshakeResponderDrop.allCases {
            list.append(("responder-drop-" + drop.rawValue, UInt64(clamping: responderCounters[drop])))
        }
        let state = stateSummary
        list += [
            ("attempts-running", UInt64(clamping: state.attempts)),
            ("peers-held-down", UInt64(clamping: state.heldDownPeers)),
            ("responder-completed-cookies", UInt64(clamping: state.completedCookies)),
        ]
        return list
    }

    // MARK: Responder steps

    /// Message 1 -> message 2: stateless, one HMAC (docs/HANDSHAKE.md).
    private mutating func answer(hello: UnsafeRawBufferPointer, source: IPv6Address, destination: IPv6Address,
                                 now: MonotonicInstant) -> HandshakeControllerResult {
        guard Self.isUnicast(source), !destination.isMulticast, source != destination else {
            counters.hellosUnacceptableAddress &+= 1
            return Self.dropped(.unacceptableAddress)
        }
        switch responder.answer(message: hello, initiator: source, responder: destination, now: now, random: &random) {
        case .failure:
            // Counted by the responder (`malformedHellos`).
            return Self.dropped(.malformed)
        case .success(let challenge):
            var result = HandshakeControllerResult()
            result.packets.append(HandshakePacket.unprotected(source: destination, destination: source, message: challenge.bytes(),
                                                              handshakeNextHeader: configuration.nextHeader))
            return result
        }
    }

    /// Message 3 -> SAs. The responder checks it in order of cost (cookie,
    /// puzzle, replay before any X25519); a retransmission of a message 3
    /// that completed here is recognised by its AH verifying with the SA
    /// installed then.
    private mutating func complete(response packet: UnsafeRawBufferPointer, source: IPv6Address, destination: IPv6Address,
                                   now: MonotonicInstant, database: inout SecurityAssociationDatabase) -> HandshakeControllerResult {
        // Both sides started at once and ours already has SAs: the handshake
        // started by the lower address is kept on both sides, so the peer
        // (higher) installs ours and we ignore theirs, before any X25519.
        if let attempt = attempts[source], attempt.hasAssociations, destination < source {
            counters.crossedHandshakes &+= 1
            return Self.dropped(.crossedHandshake)
        }
        let outcome = responder.complete(packet: packet, now: now, random: &random,
                                         isInboundSPIInUse: { database.inbound(spi: $0) != nil })
        switch outcome {
        case .dropped(.replayed, _):
            if let spi = Self.authenticationSPI(of: packet), let association = database.inbound(spi: spi),
               association.source == source, association.associationClass == .anonymous,
               database.verifyInbound(packet).verdict == .ok {
                counters.responseRetransmissionsSeen &+= 1
                var result = HandshakeControllerResult()
                result.events.append(.responseRetransmitted(local: destination, peer: source, inboundSPI: spi))
                return result
            }
            return Self.dropped(.responseDropped(.replayed))
        case .dropped(let reason, _):
            return Self.dropped(.responseDropped(reason))
        case .established(let establishment, let trailerOffset, let trailerNextHeader):
            var result = HandshakeControllerResult()
            let peer = establishment.peer
            if let attempt = attempts[peer] {
                // The peer's handshake wins (see above): ours stops.
                end(attempt, peer: peer, database: &database)
                counters.superseded &+= 1
                result.events.append(.failed(local: attempt.local, peer: peer, reason: .superseded,
                                             inboundSPI: attempt.inboundSPI, outboundSPI: attempt.outboundSPI))
            }
            // A new handshake with the same peer (it restarted) replaces the
            // anonymous SAs of the earlier one.
            let before = database.count
            database.removeAll { association in
                association.associationClass == .anonymous
                    && (association.direction == .inbound ? association.source == peer : association.destination == peer)
            }
            counters.associationsReplaced &+= UInt64(clamping: before - database.count)
            do {
                try establishment.install(into: &database, entry: nil)
            } catch {
                counters.installFailures &+= 1
                result.drop = .installFailed
                return result
            }
            counters.establishedAsResponder &+= 1
            result.events.append(.established(role: .responder, local: establishment.local, peer: peer,
                                              outboundSPI: establishment.outbound.spi, inboundSPI: establishment.inbound.spi))
            if trailerNextHeader != HandshakeConstants.noNextHeader { result.trailer = (trailerOffset, trailerNextHeader) }
            return result
        }
    }

    // MARK: Initiator steps

    /// Message 2 -> SAs installed, message 3 under AH.
    private mutating func receive(challenge packet: UnsafeRawBufferPointer, at offset: Int, source: IPv6Address,
                                  destination: IPv6Address, now: MonotonicInstant,
                                  database: inout SecurityAssociationDatabase,
                                  trailer: ((IPv6Address, IPv6Address) -> (nextHeader: UInt8, bytes: [UInt8])?)?)
        -> HandshakeControllerResult {
        let challenge: ResponderChallenge
        do { challenge = try ResponderChallenge(parsing: packet, at: offset) } catch {
            counters.malformed &+= 1
            return Self.dropped(.malformed)
        }
        guard var attempt = attempts[source] else {
            counters.unexpectedChallenges &+= 1
            return Self.dropped(.unexpectedChallenge)
        }
        let outcome = attempt.initiator.receive(challenge, source: source, destination: destination, now: now,
                                                random: &random, isInboundSPIInUse: { database.inbound(spi: $0) != nil })
        let response: InitiatorResponse
        let establishment: HandshakeEstablishment
        switch outcome {
        case .failure(let reason):
            counters[ignored: reason] &+= 1
            return Self.dropped(.challengeIgnored(reason))
        case .success(let completed):
            (response, establishment) = completed
        }
        var result = HandshakeControllerResult()
        do {
            try establishment.install(into: &database, entry: nil)
        } catch {
            attempts[source] = nil
            counters.installFailures &+= 1
            result.drop = .installFailed
            result.events.append(.failed(local: attempt.local, peer: source, reason: .installFailed, inboundSPI: 0, outboundSPI: 0))
            return result
        }
        attempt.inboundSPI = establishment.inbound.spi
        attempt.outboundSPI = establishment.outbound.spi
        attempts[source] = attempt
        awaitingConfirmation[attempt.inboundSPI] = source
        counters.establishedAsInitiator &+= 1
        result.events.append(.established(role: .initiator, local: attempt.local, peer: source,
                                          outboundSPI: attempt.outboundSPI, inboundSPI: attempt.inboundSPI))
        let following = trailer?(attempt.local, source)
        if let packet = protect(response, local: attempt.local, peer: source, outboundSPI: attempt.outboundSPI,
                                trailer: following, database: &database) {
            result.packets.append(packet)
            counters.responsesSent &+= 1
        } else {
            counters.responseRetransmissionsUnprotected &+= 1
        }
        return result
    }

    /// `IPv6 | AH | message 3`, protected with the outbound SA in the
    /// database, whose sequence counter advances there (each transmission
    /// gets a new number, RFC 4302 3.3.2). Nil when the SA is gone.
    private func protect(_ response: InitiatorResponse, local: IPv6Address, peer: IPv6Address, outboundSPI: UInt32,
                         trailer: (nextHeader: UInt8, bytes: [UInt8])? = nil,
                         database: inout SecurityAssociationDatabase) -> [UInt8]? {
        guard let association = database.outbound(entry: nil, destination: peer), association.spi == outboundSPI else {
            return nil
        }
        let message = response.bytes(nextHeader: trailer?.nextHeader ?? HandshakeConstants.noNextHeader)
        let plain = HandshakePacket.unprotected(source: local, destination: peer, message: message,
                                                trailer: trailer?.bytes ?? [],
                                                handshakeNextHeader: configuration.nextHeader)
        var buffer = plain + [UInt8](repeating: 0, count: association.algorithm.headerLength)
        let length: Int? = buffer.withUnsafeMutableBytes { bytes in
            try? database.protectOutbound(bytes, packetLength: plain.count, insertingAt: IPv6HeaderView.length,
                                          entry: nil, destination: peer)
        }
        return length.map { Array(buffer.prefix($0)) }
    }

    /// Forgets an attempt and removes the SAs it installed.
    private mutating func end(_ attempt: Attempt, peer: IPv6Address, database: inout SecurityAssociationDatabase) {
        attempts[peer] = nil
        guard attempt.hasAssociations else { return }
        awaitingConfirmation[attempt.inboundSPI] = nil
        database.removeAll { association in
            (association.direction == .inbound && association.spi == attempt.inboundSPI)
                || (association.direction == .outbound && association.spi == attempt.outboundSPI && association.destination == peer)
        }
    }

    /// Remembers a peer that never answered, evicting the hold-down that
    /// ends first when the table is full.
    private mutating func holdDown(_ peer: IPv6Address, now: MonotonicInstant) {
        guard configuration.maximumHeldDownPeers > 0, configuration.failureHoldDownNanoseconds > 0 else { return }
        heldDown = heldDown.filter { $0.value > now }
        if heldDown[peer] == nil, heldDown.count >= configuration.maximumHeldDownPeers,
           let earliest = heldDown.min(by: { $0.value < $1.value }) {
            heldDown[earliest.key] = nil
        }
        let (until, overflow) = now.nanoseconds.addingReportingOverflow(configuration.failureHoldDownNanoseconds)
        heldDown[peer] = MonotonicInstant(nanoseconds: overflow ? .max : until)
    }

    // MARK: Helpers

    private static func dropped(_ reason: HandshakeControllerDrop) -> HandshakeControllerResult {
        var result = HandshakeControllerResult()
        result.drop = reason
        return result
    }

    /// A peer address a handshake may run with.
    static func isUnicast(_ address: IPv6Address) -> Bool {
        !address.isMulticast && !address.isUnspecified && !address.isLoopback
    }

    /// The SPI of an AH right after the IPv6 header.
    static func authenticationSPI(of packet: UnsafeRawBufferPointer) -> UInt32? {
        guard let header = try? IPv6HeaderView(checking: packet), header.nextHeader == .authentication,
              let authentication = try? AuthenticationHeaderView(checking: packet, at: IPv6HeaderView.length) else {
            return nil
        }
        return authentication.securityParametersIndex
    }
}

extension AnonymousHandshakeController: Sendable where Random: Sendable {}
