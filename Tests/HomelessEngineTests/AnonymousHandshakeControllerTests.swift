import HomelessCore
import HomelessSecurity
import HomelessWire
import Testing
@testable import HomelessEngine

/// Two handshake drivers exchanging real packet bytes with a manual clock:
/// Alice (A) initiates, Bob (B) responds (draft 2.4.3, A.2; docs/HANDSHAKE.md).
@Suite struct AnonymousHandshakeControllerTests {
    static let alice = TranslationTests.address("2001:db8:1::10")
    static let bob = TranslationTests.address("2001:db8:2::20")
    static let slot: UInt64 = 60_000_000_000
    static let start = MonotonicInstant(nanoseconds: 1_000 * slot + 5)

    typealias Controller = AnonymousHandshakeController<SplitMix64>

    /// One host: its driver, its SA database and its clock.
    struct Host {
        var controller: Controller
        var database = SecurityAssociationDatabase()
        var now: MonotonicInstant

        init(seed: UInt64, configuration: AnonymousHandshakeConfiguration = AnonymousHandshakeConfiguration(),
             now: MonotonicInstant = AnonymousHandshakeControllerTests.start) {
            self.now = now
            controller = Controller(configuration: configuration, now: now, random: SplitMix64(seed: seed))
        }

        mutating func initiate(to peer: IPv6Address, from local: IPv6Address) -> [[UInt8]] {
            controller.initiate(local: local, peer: peer, now: now, database: database)
        }

        mutating func receive(_ packet: [UInt8]) -> HandshakeControllerResult {
            var database = self.database
            let result = packet.withUnsafeBytes { controller.receive(ipv6Packet: $0, now: now, database: &database) }
            self.database = database
            return result
        }

        mutating func fireTimers() -> HandshakeControllerResult {
            controller.fireTimers(now: now, database: &database)
        }

        mutating func advance(nanoseconds: UInt64) { now = MonotonicInstant(nanoseconds: now.nanoseconds + nanoseconds) }
    }

    static func configuration(slot: UInt64 = slot) -> AnonymousHandshakeConfiguration {
        var configuration = AnonymousHandshakeConfiguration()
        configuration.responder.slotNanoseconds = slot
        return configuration
    }

    /// Handshake message type of a packet (after AH when there is one).
    static func messageType(_ packet: [UInt8]) -> UInt8? {
        guard packet.count > 42 else { return nil }
        if packet[6] == 253 { return packet[42] }
        guard packet[6] == 51, packet[40] == 253 else { return nil }
        let ahLength = (Int(packet[41]) + 2) * 4
        return packet.count > 40 + ahLength + 2 ? packet[40 + ahLength + 2] : nil
    }

    /// Runs messages 1 and 2: message 3 as Alice sent it, and her events.
    static func runToMessage3(_ a: inout Host, _ b: inout Host) throws -> (message3: [UInt8], events: [HandshakeControllerEvent]) {
        let hello = try #require(a.initiate(to: bob, from: alice).first)
        let atBob = b.receive(hello)
        let challenge = try #require(atBob.packets.first)
        let atAlice = a.receive(challenge)
        #expect(atAlice.drop == nil)
        return (try #require(atAlice.packets.first), atAlice.events)
    }

    /// IPv6 | AH | (nothing): a packet protected with `database`'s outbound SA for `destination`.
    static func protectedProbe(from source: IPv6Address, to destination: IPv6Address,
                               with database: inout SecurityAssociationDatabase) throws -> [UInt8] {
        let plain = HandshakePacket.ipv6(source: source, destination: destination, nextHeader: 59, payload: [])
        var buffer = plain + [UInt8](repeating: 0, count: 32)
        let length = try buffer.withUnsafeMutableBytes { bytes in
            try database.protectOutbound(bytes, packetLength: plain.count, insertingAt: 40, entry: nil, destination: destination)
        }
        return Array(buffer.prefix(length))
    }

    @Test func happyPathInstallsMatchingAnonymousPairs() throws {
        var a = Host(seed: 1, configuration: Self.configuration())
        var b = Host(seed: 2, configuration: Self.configuration())

        let hello = try #require(a.initiate(to: Self.bob, from: Self.alice).first)
        #expect(hello.count == 40 + InitiatorHello.length)
        #expect(Self.messageType(hello) == 1)
        #expect(a.controller.nextDeadline == MonotonicInstant(nanoseconds: a.now.nanoseconds + 500_000_000))

        let atBob = b.receive(hello)
        #expect(atBob.disposition == .consumed && atBob.events.isEmpty && atBob.drop == nil)
        let challenge = try #require(atBob.packets.first)
        #expect(challenge.count == 40 + ResponderChallenge.length && Self.messageType(challenge) == 2)
        #expect(Array(challenge[8..<24]) == Self.bob.bytes && Array(challenge[24..<40]) == Self.alice.bytes)
        #expect(b.database.count == 0, "message 1 creates no state at the responder")

        let atAlice = a.receive(challenge)
        guard case .established(.initiator, Self.alice, Self.bob, let aliceOut, let aliceIn)? = atAlice.events.first else {
            Issue.record("Alice did not establish: \(atAlice.events) \(String(describing: atAlice.drop))")
            return
        }
        let message3 = try #require(atAlice.packets.first)
        #expect(message3[6] == 51 && Self.messageType(message3) == 3, "message 3 travels under AH")
        #expect(a.database.count == 2)
        #expect(a.database.associations.allSatisfy { $0.associationClass == .anonymous })

        let completed = b.receive(message3)
        guard case .established(.responder, Self.bob, Self.alice, let bobOut, let bobIn)? = completed.events.first else {
            Issue.record("Bob did not establish: \(completed.events) \(String(describing: completed.drop))")
            return
        }
        #expect(completed.packets.isEmpty && completed.trailer == nil)
        #expect(bobIn == aliceOut && bobOut == aliceIn)
        #expect(b.database.inbound(spi: bobIn)?.source == Self.alice)
        #expect(b.database.outbound(entry: nil, destination: Self.alice)?.spi == bobOut)
        #expect(b.controller.responder.counters.diffieHellmanOperations == 1)

        // A -> B under Alice's outbound SA verifies with Bob's inbound SA, and back.
        let toBob = try Self.protectedProbe(from: Self.alice, to: Self.bob, with: &a.database)
        let atB = toBob.withUnsafeBytes { b.database.verifyInbound($0) }
        #expect(atB.verdict == .ok && atB.spi == bobIn && atB.associationClass == .anonymous)
        let toAlice = try Self.protectedProbe(from: Self.bob, to: Self.alice, with: &b.database)
        let atA = toAlice.withUnsafeBytes { a.database.verifyInbound($0) }
        #expect(atA.verdict == .ok && atA.spi == aliceIn)

        // That packet confirms Alice's attempt: no more retransmissions.
        #expect(a.controller.confirm(inboundSPI: atA.spi) == .confirmed(local: Self.alice, peer: Self.bob, inboundSPI: aliceIn))
        #expect(a.controller.nextDeadline == nil)
        #expect(a.controller.stateSummary.attempts == 0)
        #expect(a.controller.confirm(inboundSPI: atA.spi) == nil)
        // SAs exist now: a new conversation starts no handshake.
        #expect(a.initiate(to: Self.bob, from: Self.alice).isEmpty)
        #expect(a.controller.counters.attemptsWithAssociations == 1)
    }

    @Test func message1IsRetransmittedWhenMessage2IsLost() throws {
        var a = Host(seed: 3, configuration: Self.configuration())
        var b = Host(seed: 4, configuration: Self.configuration())
        let hello = try #require(a.initiate(to: Self.bob, from: Self.alice).first)
        _ = b.receive(hello)  // message 2 lost

        a.advance(nanoseconds: 400_000_000)
        #expect(a.fireTimers().packets.isEmpty)
        a.advance(nanoseconds: 100_000_000)
        let again = a.fireTimers()
        #expect(again.packets == [hello], "the same message 1 (same nonce) is sent again")
        #expect(a.controller.counters.hellosRetransmitted == 1)
        #expect(a.controller.nextDeadline == MonotonicInstant(nanoseconds: a.now.nanoseconds + 1_000_000_000), "backoff doubles")

        let challenge = try #require(b.receive(again.packets[0]).packets.first)
        let atAlice = a.receive(challenge)
        #expect(atAlice.packets.count == 1)
        guard case .established(.initiator, _, _, _, _)? = atAlice.events.first else {
            Issue.record("not established: \(atAlice.events)")
            return
        }
        // A duplicate message 2 (answer to the first message 1) is ignored and counted.
        let duplicate = a.receive(challenge)
        #expect(duplicate.drop == .challengeIgnored(.notAwaitingChallenge))
        #expect(a.controller.counters[ignored: .notAwaitingChallenge] == 1)
    }

    @Test func message3IsRetransmittedUnderANewSequenceNumber() throws {
        var a = Host(seed: 5, configuration: Self.configuration())
        var b = Host(seed: 6, configuration: Self.configuration())
        let (first, _) = try Self.runToMessage3(&a, &b)
        // Message 3 lost; the retransmission carries AH sequence number 2.
        a.advance(nanoseconds: 500_000_000)
        let retransmitted = try #require(a.fireTimers().packets.first)
        #expect(Self.messageType(retransmitted) == 3)
        #expect(Array(first[48..<52]) == [0, 0, 0, 1] && Array(retransmitted[48..<52]) == [0, 0, 0, 2])
        #expect(a.controller.counters.responsesRetransmitted == 1)
        let completed = b.receive(retransmitted)
        guard case .established(.responder, _, _, _, _)? = completed.events.first else {
            Issue.record("not established: \(completed.events) \(String(describing: completed.drop))")
            return
        }

        // Bob's first authenticated packet is lost too: Alice sends message 3
        // once more; Bob recognises it (its AH verifies) without a second X25519.
        a.advance(nanoseconds: 1_000_000_000)
        let third = try #require(a.fireTimers().packets.first)
        let seen = b.receive(third)
        #expect(seen.drop == nil)
        let spi = third[44..<48].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
        #expect(b.database.inbound(spi: spi) != nil)
        #expect(seen.events == [.responseRetransmitted(local: Self.bob, peer: Self.alice, inboundSPI: spi)])
        #expect(b.controller.counters.responseRetransmissionsSeen == 1)
        #expect(b.controller.responder.counters.diffieHellmanOperations == 1)
        #expect(b.controller.responder.counters[.replayed] == 1)
    }

    @Test func unansweredAttemptFailsAndThePeerIsHeldDown() throws {
        var a = Host(seed: 7, configuration: Self.configuration())
        #expect(a.initiate(to: Self.bob, from: Self.alice).count == 1)
        var retransmissions = 0
        var events: [HandshakeControllerEvent] = []
        while let deadline = a.controller.nextDeadline {
            a.now = deadline
            let fired = a.fireTimers()
            retransmissions += fired.packets.count
            events += fired.events
        }
        // 4 transmissions at 0, 0.5, 1.5, 3.5 s; failure at 7.5 s.
        #expect(retransmissions == 3)
        #expect(a.now == MonotonicInstant(nanoseconds: Self.start.nanoseconds + 7_500_000_000))
        #expect(events == [.failed(local: Self.alice, peer: Self.bob, reason: .timedOut, inboundSPI: 0, outboundSPI: 0)])
        #expect(a.controller.counters.timedOut == 1)
        #expect(a.controller.stateSummary.attempts == 0)

        // A plain host: no new attempt until the hold-down ends.
        #expect(a.initiate(to: Self.bob, from: Self.alice).isEmpty)
        #expect(a.controller.counters.attemptsHeldDown == 1)
        a.advance(nanoseconds: AnonymousHandshakeConfiguration().failureHoldDownNanoseconds)
        #expect(a.initiate(to: Self.bob, from: Self.alice).count == 1)
    }

    @Test func unconfirmedAttemptFailsAndItsAssociationsAreRemoved() throws {
        var a = Host(seed: 8, configuration: Self.configuration())
        var b = Host(seed: 9, configuration: Self.configuration())
        let (_, established) = try Self.runToMessage3(&a, &b)
        guard case .established(_, _, _, let outbound, let inbound)? = established.first else {
            Issue.record("not established")
            return
        }
        #expect(a.database.count == 2)
        var events: [HandshakeControllerEvent] = []
        var sent = 0
        while let deadline = a.controller.nextDeadline {
            a.now = deadline
            let fired = a.fireTimers()
            sent += fired.packets.count
            events += fired.events
        }
        #expect(sent == 3)
        #expect(events == [.failed(local: Self.alice, peer: Self.bob, reason: .timedOut, inboundSPI: inbound, outboundSPI: outbound)])
        #expect(a.database.count == 0, "the SAs of a failed attempt are removed")
        #expect(a.controller.confirm(inboundSPI: inbound) == nil)
    }

    @Test func forgedStaleAndReplayedMessage3AreDroppedBeforeDiffieHellman() throws {
        // A forged cookie (one bit flipped): bad-cookie.
        var a = Host(seed: 10, configuration: Self.configuration())
        var b = Host(seed: 11, configuration: Self.configuration())
        var (message3, _) = try Self.runToMessage3(&a, &b)
        let cookieOffset = 40 + AuthenticationAlgorithm.hmacSHA256_128.headerLength + InitiatorResponse.Field.cookie
        message3[cookieOffset] ^= 0x01
        #expect(b.receive(message3).drop == .responseDropped(.badCookie))
        #expect(b.controller.responder.counters[.badCookie] == 1)
        #expect(b.controller.responder.counters.diffieHellmanOperations == 0)
        #expect(b.database.count == 0)

        // A cookie two slots old: stale-cookie.
        var c = Host(seed: 12, configuration: Self.configuration())
        var d = Host(seed: 13, configuration: Self.configuration())
        let (late, _) = try Self.runToMessage3(&c, &d)
        d.advance(nanoseconds: 2 * Self.slot)
        #expect(d.receive(late).drop == .responseDropped(.staleCookie))
        #expect(d.controller.responder.counters[.staleCookie] == 1)
        #expect(d.controller.responder.counters.diffieHellmanOperations == 0)

        // The same message 3 twice: the second is a replay, dropped before X25519
        // (its AH sequence number is in the window already, so it is no retransmission).
        var e = Host(seed: 14, configuration: Self.configuration())
        var f = Host(seed: 15, configuration: Self.configuration())
        let (valid, _) = try Self.runToMessage3(&e, &f)
        #expect(f.receive(valid).events.count == 1)
        let replay = f.receive(valid)
        #expect(replay.drop == .responseDropped(.replayed))
        #expect(replay.events.isEmpty)
        #expect(f.controller.responder.counters[.replayed] == 1)
        #expect(f.controller.responder.counters.diffieHellmanOperations == 1)
        #expect(f.database.count == 2)

        let names = Dictionary(f.controller.statistics.map { ($0.name, $0.value) }, uniquingKeysWith: +)
        #expect(names["responder-drop-replayed"] == 1)
        #expect(names["responder-diffie-hellman-operations"] == 1)
        #expect(names["established-as-responder"] == 1)
    }

    @Test func aMessage1FloodLeavesTheStateBounded() throws {
        var b = Host(seed: 16, configuration: Self.configuration())
        var random = SplitMix64(seed: 99)
        for index in 0..<5_000 {
            let source = IPv6Address(high: 0x2001_0db8_0009_0000, low: UInt64(index) + 1)
            let hello = InitiatorHello(initiatorNonce: HandshakeBlock16(high: random.next(), low: random.next()))
            let packet = HandshakePacket.unprotected(source: source, destination: Self.bob, message: hello.bytes())
            #expect(b.receive(packet).packets.count == 1)
            if index % 1_000 == 999 { b.advance(nanoseconds: Self.slot / 2) }
        }
        let state = b.controller.stateSummary
        #expect(state.attempts == 0 && state.completedCookies == 0 && state.responderGenerations <= 2)
        #expect(b.database.count == 0)
        #expect(b.controller.responder.counters.challengesSent == 5_000)

        // Message 1 from a multicast source or to a group is not answered.
        let hello = InitiatorHello(initiatorNonce: .zero).bytes()
        let multicast = TranslationTests.address("ff02::1")
        #expect(b.receive(HandshakePacket.unprotected(source: multicast, destination: Self.bob, message: hello)).drop == .unacceptableAddress)
        #expect(b.receive(HandshakePacket.unprotected(source: Self.alice, destination: multicast, message: hello)).drop == .unacceptableAddress)
        #expect(b.controller.counters.hellosUnacceptableAddress == 2)
    }

    @Test func attemptsAsInitiatorAreBounded() throws {
        var configuration = Self.configuration()
        configuration.maximumAttempts = 16
        var a = Host(seed: 17, configuration: configuration)
        var sent = 0
        for index in 0..<40 {
            sent += a.initiate(to: IPv6Address(high: 0x2001_0db8_0007_0000, low: UInt64(index) + 1), from: Self.alice).count
        }
        #expect(sent == 16)
        #expect(a.controller.stateSummary.attempts == 16)
        #expect(a.controller.counters.attemptsRefused == 24)
        // A second start toward a peer in progress is a no-op.
        #expect(a.initiate(to: IPv6Address(high: 0x2001_0db8_0007_0000, low: 1), from: Self.alice).isEmpty)
        #expect(a.controller.counters.attemptsAlreadyRunning == 1)
        // A message 2 from a peer nobody asked is dropped and counted.
        var b = Host(seed: 18, configuration: Self.configuration())
        var c = Host(seed: 19, configuration: Self.configuration())
        let hello = try #require(c.initiate(to: Self.bob, from: Self.alice).first)
        let challenge = try #require(b.receive(hello).packets.first)
        #expect(a.receive(challenge).drop == .unexpectedChallenge)
        #expect(a.controller.counters.unexpectedChallenges == 1)
    }

    @Test func simultaneousHandshakesLeaveOneMatchingPair() throws {
        // Both start at once; Alice (the lower address) wins on both sides.
        var a = Host(seed: 20, configuration: Self.configuration())
        var b = Host(seed: 21, configuration: Self.configuration())
        let helloA = try #require(a.initiate(to: Self.bob, from: Self.alice).first)
        let helloB = try #require(b.initiate(to: Self.alice, from: Self.bob).first)
        let challengeToA = try #require(b.receive(helloA).packets.first)
        let challengeToB = try #require(a.receive(helloB).packets.first)
        let message3A = try #require(a.receive(challengeToA).packets.first)
        let message3B = try #require(b.receive(challengeToB).packets.first)
        #expect(a.database.count == 2 && b.database.count == 2)

        // Alice ignores Bob's message 3; Bob installs Alice's and drops his own attempt.
        #expect(a.receive(message3B).drop == .crossedHandshake)
        let atBob = b.receive(message3A)
        #expect(atBob.events.count == 2)
        guard case .failed(_, _, .superseded, _, _)? = atBob.events.first,
              case .established(.responder, _, _, let bobOut, let bobIn)? = atBob.events.last else {
            Issue.record("unexpected events \(atBob.events)")
            return
        }
        #expect(a.database.count == 2 && b.database.count == 2)
        #expect(a.database.inbound(spi: bobOut) != nil)
        #expect(a.database.outbound(entry: nil, destination: Self.bob)?.spi == bobIn)
        #expect(b.controller.stateSummary.attempts == 0 && a.controller.stateSummary.attempts == 1)
    }

    @Test func aPeersInitialBindingUpdateBehindMessage3IsReported() throws {
        // A peer following A.2 literally sends its Initial Binding Update in
        // Destination Options behind message 3, under the same AH.
        var b = Host(seed: 23, configuration: Self.configuration())
        var random = SplitMix64(seed: 24)
        var initiator = HandshakeInitiator(local: Self.alice, peer: Self.bob)
        let hello = initiator.start(now: b.now, random: &random)
        let challengePacket = try #require(b.receive(HandshakePacket.unprotected(source: Self.alice, destination: Self.bob,
                                                                                  message: hello.bytes())).packets.first)
        let challenge = try challengePacket.withUnsafeBytes { try ResponderChallenge(parsing: $0, at: 40) }
        let (response, established) = try initiator.receive(challenge, source: Self.bob, destination: Self.alice, now: b.now,
                                                            random: &random, isInboundSPIInUse: { _ in false }).get()
        var establishment = established
        let bindingUpdate: [UInt8] = [59, 1, 198, 8, 0x80, 0, 0, 1, 0, 0, 2, 0x58, 1, 2, 0, 0]
        let message3 = try HandshakePacket.protected(
            source: Self.alice, destination: Self.bob, message: response.bytes(nextHeader: HandshakeConstants.destinationOptions),
            trailer: bindingUpdate, with: &establishment.outbound)
        let completed = b.receive(message3)
        #expect(completed.events.count == 1)
        let trailer = try #require(completed.trailer)
        #expect(trailer.nextHeader == HandshakeConstants.destinationOptions)
        #expect(Array(message3[trailer.offset...]) == bindingUpdate)
        #expect(b.database.inbound(spi: establishment.outbound.spi) != nil)
    }

    @Test func theHoldDownTableIsBounded() throws {
        var configuration = Self.configuration()
        configuration.maximumHeldDownPeers = 2
        var a = Host(seed: 25, configuration: configuration)
        for index in 0..<3 {
            #expect(a.initiate(to: IPv6Address(high: 0x2001_0db8_0005_0000, low: UInt64(index) + 1), from: Self.alice).count == 1)
            while let deadline = a.controller.nextDeadline {
                a.now = deadline
                _ = a.fireTimers()
            }
        }
        #expect(a.controller.counters.timedOut == 3)
        #expect(a.controller.stateSummary.heldDownPeers == 2)
        // The first peer's hold-down, which ended first, was forgotten.
        #expect(a.initiate(to: IPv6Address(high: 0x2001_0db8_0005_0000, low: 1), from: Self.alice).count == 1)
        #expect(a.initiate(to: IPv6Address(high: 0x2001_0db8_0005_0000, low: 3), from: Self.alice).isEmpty)
    }

    @Test func otherPacketsAreLeftAloneOrCounted() throws {
        var b = Host(seed: 22, configuration: Self.configuration())
        // TCP: not a handshake packet.
        let tcp = HandshakePacket.ipv6(source: Self.alice, destination: Self.bob, nextHeader: 6, payload: [UInt8](repeating: 0, count: 20))
        #expect(b.receive(tcp).disposition == .notHandshake)
        // An address probe belongs to return routability.
        var probe = InitiatorHello(initiatorNonce: .zero).bytes()
        probe[2] = 4
        #expect(b.receive(HandshakePacket.unprotected(source: Self.alice, destination: Self.bob, message: probe)).disposition == .notHandshake)
        // An unknown message type and a truncated message are counted.
        var unknown = probe
        unknown[2] = 9
        let atUnknown = b.receive(HandshakePacket.unprotected(source: Self.alice, destination: Self.bob, message: unknown))
        #expect(atUnknown.disposition == .consumed && atUnknown.drop == .unknownMessageType)
        let truncated = HandshakePacket.unprotected(source: Self.alice, destination: Self.bob, message: Array(probe.prefix(12)))
        #expect(b.receive(truncated).drop == .malformed)
        // Message 3 without AH: missing-ah at the responder.
        let bare = InitiatorResponse(timeSlot: 0, initiatorSPI: 0x1000, initiatorNonce: .zero, cookie: .zero, solution: 0,
                                     initiatorPublicKey: .zero).bytes()
        #expect(b.receive(HandshakePacket.unprotected(source: Self.alice, destination: Self.bob, message: bare)).drop
                == .responseDropped(.missingAuthenticationHeader))
        #expect(b.controller.counters.unknownMessageTypes == 1 && b.controller.counters.malformed == 1)
        // A packet shorter than its IPv6 header says, and garbage, never trap.
        #expect(b.receive([UInt8](repeating: 0x60, count: 41)).disposition == .notHandshake)
        #expect(b.receive([]).disposition == .notHandshake)
    }
}
