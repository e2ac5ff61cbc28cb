import HomelessCore
import HomelessWire
import Testing
@testable import HomelessSecurity

/// The whole exchange between an initiator and a responder (draft A.2),
/// in memory, and the responder's drop rules for message 3.
@Suite struct HandshakeExchangeTests {
    /// A draft-era Binding Update option in a Destination Options header
    /// (type 198, the default profile's code point), as the Initial Binding Update.
    static let initialBindingUpdate: [UInt8] = [
        59, 1,  // Next Header: none; 16 octets
        198, 8, 0x80, 0, 0, 1, 0, 0, 2, 0x58,  // BU: A flag, sequence 1, lifetime 600
        1, 2, 0, 0,  // PadN
    ]

    @Test func happyPathEstablishesMatchingAnonymousSAs() throws {
        var lab = HandshakeLab()
        let challenge = lab.challenge()
        #expect(challenge.difficulty == 8)
        var (response, alice) = try lab.respond(to: challenge)
        #expect(alice.role == .initiator)
        #expect(alice.outbound.spi == challenge.responderSPI)
        #expect(alice.inbound.spi == response.initiatorSPI)
        #expect(alice.inbound.associationClass == .anonymous && alice.outbound.associationClass == .anonymous)

        let packet = try HandshakeLab.packet(response, protectedBy: &alice.outbound, trailer: Self.initialBindingUpdate)
        let outcome = lab.complete(packet)
        guard case .established(var bob, let trailerOffset, let trailerNextHeader) = outcome else {
            Issue.record("message 3 dropped: \(outcome)")
            return
        }
        #expect(bob.role == .responder && bob.peer == HandshakeLab.alice && bob.local == HandshakeLab.bob)
        #expect(bob.inbound.spi == alice.outbound.spi && bob.outbound.spi == alice.inbound.spi)
        // The Initial Binding Update follows message 3 and was covered by AH.
        #expect(trailerNextHeader == HandshakeConstants.destinationOptions)
        #expect(Array(packet[trailerOffset...]) == Self.initialBindingUpdate)
        packet.withUnsafeBytes { bytes in
            let payloadOffset = 40 + AuthenticationAlgorithm.hmacSHA256_128.headerLength
            #expect(ProtectedContent.classify(bytes, payloadOffset: payloadOffset, nextHeader: 253) == .handshake)
            #expect(trailerOffset == payloadOffset + InitiatorResponse.length)
        }
        // Message 3's sequence number 1 is in Bob's window already.
        #expect(bob.inbound.replayWindow.highest == 1)
        #expect(lab.responder.counters.completed == 1)
        #expect(lab.responder.counters.diffieHellmanOperations == 1)

        // Bob -> Alice with Bob's outbound SA verifies with Alice's inbound one.
        let reply = try HandshakePacket.protected(source: HandshakeLab.bob, destination: HandshakeLab.alice,
                                                  message: [], trailer: [], with: &bob.outbound, handshakeNextHeader: 59)
        let verification = reply.withUnsafeBytes { alice.inbound.verify($0) }
        #expect(verification.verdict == .ok)
        #expect(verification.associationClass == .anonymous)
        lab.initiator.confirm()
        guard case .established = lab.initiator.state else {
            Issue.record("initiator not established")
            return
        }
    }

    @Test func establishmentInstallsIntoDatabaseBoundToForeignEntry() throws {
        var lab = HandshakeLab()
        var (response, alice) = try lab.respond(to: lab.challenge())
        let packet = try HandshakeLab.packet(response, protectedBy: &alice.outbound)
        let bob = try #require(lab.complete(packet).establishment)

        // A.2: Bob creates the Foreign Host Cache Entry and associates the SA with it.
        let clock = ManualClock()
        let cache = HostCache(parameters: HostCacheParameters(), clock: clock, random: SplitMix64(seed: 1))
        guard case .created(let entry, _, _) = try cache.createForeignEntry(for: bob.peer, trust: .trusted) else {
            Issue.record("entry not created")
            return
        }
        var database = SecurityAssociationDatabase()
        try bob.install(into: &database, entry: entry)
        #expect(database.count == 2)
        #expect(database.inbound(spi: bob.inbound.spi)?.hostCacheEntry == entry)
        #expect(database.outbound(entry: entry, destination: HandshakeLab.mallory)?.spi == bob.outbound.spi)
        // A second install of the same SAs fails as a whole.
        #expect(throws: SecurityAssociationError.duplicateSPI(bob.inbound.spi)) { try bob.install(into: &database, entry: entry) }
        #expect(database.count == 2)
    }

    @Test func floodOfMessageOneCreatesNoResponderState() {
        var lab = HandshakeLab()
        let before = lab.responder.stateSummary
        var random = SplitMix64(seed: 99)
        var cookies = Set<HandshakeBlock16>()
        for index in 0..<100_000 {
            let source = IPv6Address(high: 0x2001_0db8_ffff_0000 | UInt64(index & 0xFFFF), low: random.next())
            let hello = InitiatorHello(initiatorNonce: HandshakeBlock16(high: random.next(), low: random.next()))
            let challenge = lab.responder.answer(hello, initiator: source, responder: HandshakeLab.bob, now: lab.now,
                                                 random: &lab.random)
            if index < 1000 { cookies.insert(challenge.cookie) }
        }
        let after = lab.responder.stateSummary
        #expect(after.generations == before.generations)
        #expect(after.completedCookies == 0 && before.completedCookies == 0)
        #expect(lab.responder.counters.challengesSent == 100_000)
        #expect(lab.responder.counters.diffieHellmanOperations == 0)
        #expect(lab.responder.counters.rotations == 0)
        #expect(cookies.count == 1000, "cookies differ per attempt")
        // The responder value itself has a fixed size: all its growth would be in the cookie set.
        #expect(MemoryLayout<HandshakeResponder>.size < 512)
    }

    @Test func badPuzzleIsDroppedBeforeDiffieHellman() throws {
        var lab = HandshakeLab(difficulty: 12)
        var (response, alice) = try lab.respond(to: lab.challenge())
        var wrong = response
        repeat {
            wrong.solution &+= 1
        } while HandshakePuzzle.isSolved(cookie: wrong.cookie, initiator: HandshakeLab.alice, responder: HandshakeLab.bob,
                                         difficulty: 12, solution: wrong.solution)
        #expect(lab.complete(try HandshakeLab.packet(wrong, protectedBy: &alice.outbound)).drop == .badPuzzle)
        #expect(lab.responder.counters[.badPuzzle] == 1)
        #expect(lab.responder.counters.diffieHellmanOperations == 0)
        // The genuine message 3 still completes: a bad one did not spend the cookie.
        #expect(lab.complete(try HandshakeLab.packet(response, protectedBy: &alice.outbound)).establishment != nil)
        response.solution = 0
    }

    @Test func staleCookieIsDroppedBeforeDiffieHellman() throws {
        var lab = HandshakeLab()
        var (response, alice) = try lab.respond(to: lab.challenge())
        let packet = try HandshakeLab.packet(response, protectedBy: &alice.outbound)
        lab.now = MonotonicInstant(nanoseconds: lab.now.nanoseconds + 2 * HandshakeLab.slot)
        #expect(lab.complete(packet).drop == .staleCookie)
        #expect(lab.responder.counters[.staleCookie] == 1)
        #expect(lab.responder.counters.diffieHellmanOperations == 0)
    }

    @Test func cookieOfThePreviousSlotIsStillAccepted() throws {
        var lab = HandshakeLab()
        var (response, alice) = try lab.respond(to: lab.challenge())
        let packet = try HandshakeLab.packet(response, protectedBy: &alice.outbound)
        lab.now = MonotonicInstant(nanoseconds: lab.now.nanoseconds + HandshakeLab.slot)
        #expect(lab.complete(packet).establishment != nil)
        #expect(lab.responder.counters.rotations == 1)
        #expect(lab.responder.stateSummary.generations == 2)
    }

    @Test func cookieForOtherAddressesIsDroppedBeforeDiffieHellman() throws {
        var lab = HandshakeLab()
        var (response, alice) = try lab.respond(to: lab.challenge())
        // Mallory replays Alice's message 3 from her own address, and to another address of Bob's.
        let fromMallory = try HandshakeLab.packet(response, protectedBy: &alice.outbound, source: HandshakeLab.mallory)
        #expect(lab.complete(fromMallory).drop == .badCookie)
        let otherBob = IPv6Address("2001:db8:2::21")!
        let toOtherAddress = try HandshakeLab.packet(response, protectedBy: &alice.outbound, destination: otherBob)
        #expect(lab.complete(toOtherAddress).drop == .badCookie)
        // A guessed cookie.
        var guessed = response
        guessed.cookie.low ^= 1
        #expect(lab.complete(try HandshakeLab.packet(guessed, protectedBy: &alice.outbound)).drop == .badCookie)
        #expect(lab.responder.counters[.badCookie] == 3)
        #expect(lab.responder.counters.diffieHellmanOperations == 0)
    }

    @Test func replayedMessageThreeIsDroppedBeforeDiffieHellman() throws {
        var lab = HandshakeLab()
        var (response, alice) = try lab.respond(to: lab.challenge())
        let packet = try HandshakeLab.packet(response, protectedBy: &alice.outbound)
        #expect(lab.complete(packet).establishment != nil)
        #expect(lab.responder.counters.diffieHellmanOperations == 1)
        // The same packet again, and message 3 resent under a new sequence number.
        #expect(lab.complete(packet).drop == .replayed)
        #expect(lab.complete(try HandshakeLab.packet(response, protectedBy: &alice.outbound)).drop == .replayed)
        #expect(lab.responder.counters[.replayed] == 2)
        #expect(lab.responder.counters.diffieHellmanOperations == 1)
        #expect(lab.responder.stateSummary.completedCookies == 1)
        // Two slots later the cookie is stale; the completed set was trimmed.
        lab.now = MonotonicInstant(nanoseconds: lab.now.nanoseconds + 2 * HandshakeLab.slot)
        #expect(lab.complete(packet).drop == .staleCookie)
        #expect(lab.responder.stateSummary.completedCookies == 0)
    }

    @Test func messageThreeWithoutAHOrWithAnotherSPIIsDropped() throws {
        var lab = HandshakeLab()
        var (response, alice) = try lab.respond(to: lab.challenge())
        let plain = HandshakePacket.unprotected(source: HandshakeLab.alice, destination: HandshakeLab.bob, message: response.bytes())
        #expect(lab.complete(plain).drop == .missingAuthenticationHeader)
        var otherSPI = try SecurityAssociation(
            spi: alice.outbound.spi ^ 0x10000, direction: .outbound, algorithm: .hmacSHA256_128,
            key: [UInt8](repeating: 1, count: 32), source: HandshakeLab.alice, destination: HandshakeLab.bob)
        #expect(lab.complete(try HandshakeLab.packet(response, protectedBy: &otherSPI)).drop == .badCookie)
        var truncated = try HandshakeLab.packet(response, protectedBy: &alice.outbound)
        truncated.removeLast(8)
        #expect(lab.complete(truncated).drop == .missingAuthenticationHeader || lab.complete(truncated).drop == .malformed)
        #expect(lab.responder.counters.diffieHellmanOperations == 0)
    }

    @Test func responderSPIAlreadyInUseIsDroppedBeforeDiffieHellman() throws {
        var lab = HandshakeLab()
        var (response, alice) = try lab.respond(to: lab.challenge())
        let spi = alice.outbound.spi
        #expect(lab.complete(try HandshakeLab.packet(response, protectedBy: &alice.outbound), spiInUse: { $0 == spi }).drop == .spiInUse)
        #expect(lab.responder.counters.diffieHellmanOperations == 0)
    }

    @Test func fullCompletedSetRefusesNewHandshakes() throws {
        var lab = HandshakeLab(completedCapacity: 1)
        var (first, alice) = try lab.respond(to: lab.challenge())
        #expect(lab.complete(try HandshakeLab.packet(first, protectedBy: &alice.outbound)).establishment != nil)
        lab.initiator = HandshakeInitiator(local: HandshakeLab.alice, peer: HandshakeLab.bob)
        var (second, alice2) = try lab.respond(to: lab.challenge())
        #expect(lab.complete(try HandshakeLab.packet(second, protectedBy: &alice2.outbound)).drop == .busy)
        #expect(lab.responder.counters.diffieHellmanOperations == 1)
        first.solution = 0
    }

    /// Points of small order on Curve25519 and their non-canonical
    /// encodings (the list libsodium refuses; RFC 7748 6.1).
    static let lowOrderPoints: [[UInt8]] = [
        [UInt8](repeating: 0, count: 32),
        [1] + [UInt8](repeating: 0, count: 31),
        hex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800"),
        hex("5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157"),
        hex("ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
        hex("eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f"),
    ]

    static func hex(_ text: String) -> [UInt8] {
        var bytes: [UInt8] = []
        var index = text.startIndex
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
            index = next
        }
        return bytes
    }

    @Test(arguments: lowOrderPoints)
    func lowOrderInitiatorKeyIsRefused(point: [UInt8]) throws {
        var lab = HandshakeLab()
        var (response, alice) = try lab.respond(to: lab.challenge())
        // A valid cookie and puzzle but a low-order key: the responder does
        // the one Diffie-Hellman the puzzle paid for, and refuses the result.
        response.initiatorPublicKey = HandshakeBlock32(bytes: point)
        #expect(lab.complete(try HandshakeLab.packet(response, protectedBy: &alice.outbound)).drop == .lowOrderKey)
        #expect(lab.responder.counters[.lowOrderKey] == 1)
        #expect(lab.responder.counters.diffieHellmanOperations == 1)
    }

    @Test(arguments: lowOrderPoints)
    func lowOrderResponderKeyIsIgnoredByInitiator(point: [UInt8]) {
        var lab = HandshakeLab()
        var challenge = lab.challenge()
        challenge.responderPublicKey = HandshakeBlock32(bytes: point)
        let result = lab.initiator.receive(challenge, source: HandshakeLab.bob, destination: HandshakeLab.alice, now: lab.now,
                                           random: &lab.random, isInboundSPIInUse: { _ in false })
        #expect(throws: HandshakeInitiatorIgnore.lowOrderKey) { try result.get() }
        // Still waiting for the genuine message 2.
        guard case .awaitingChallenge = lab.initiator.state else {
            Issue.record("initiator left awaitingChallenge")
            return
        }
    }

    @Test func keyAgreementRejectsAllZeroSharedSecret() {
        var random = SplitMix64(seed: 3)
        let pair = X25519KeyPair(random: &random)
        for point in Self.lowOrderPoints {
            #expect(throws: HandshakeKeyAgreementError.lowOrderPublicKey) {
                try pair.sharedSecret(with: HandshakeBlock32(bytes: point))
            }
        }
        let other = X25519KeyPair(random: &random)
        let ab = try? pair.sharedSecret(with: other.publicKey)
        let ba = try? other.sharedSecret(with: pair.publicKey)
        #expect(ab != nil && ab == ba)
    }

    @Test func tamperedChallengeGivesDifferentKeysAndMessageThreeFails() throws {
        var lab = HandshakeLab()
        var challenge = lab.challenge()
        // An attacker on the path swaps in its own key: Alice derives keys
        // Bob cannot, so message 3's AH fails at Bob (after one DH).
        var random = SplitMix64(seed: 1234)
        challenge.responderPublicKey = X25519KeyPair(random: &random).publicKey
        var (response, alice) = try lab.respond(to: challenge)
        #expect(lab.complete(try HandshakeLab.packet(response, protectedBy: &alice.outbound)).drop == .badICV)
        #expect(lab.responder.counters[.badICV] == 1)
    }

    @Test func initiatorIgnoresChallengesThatAreNotForItsAttempt() {
        var lab = HandshakeLab()
        var challenge = lab.challenge()
        func receive(_ challenge: ResponderChallenge, from source: IPv6Address = HandshakeLab.bob) -> HandshakeInitiatorIgnore? {
            var random = lab.random
            let result = lab.initiator.receive(challenge, source: source, destination: HandshakeLab.alice, now: lab.now,
                                               random: &random, isInboundSPIInUse: { _ in false })
            lab.random = random
            if case .failure(let reason) = result { return reason }
            return nil
        }
        #expect(receive(challenge, from: HandshakeLab.mallory) == .wrongAddresses)
        var other = challenge
        other.initiatorNonce.high ^= 1
        #expect(receive(other) == .nonceMismatch)
        other = challenge
        other.difficulty = 30
        #expect(receive(other) == .difficultyTooHigh)
        other = challenge
        other.responderSPI = 7
        #expect(receive(other) == .reservedSPI)
        #expect(receive(challenge) == nil)
        #expect(receive(challenge) == .notAwaitingChallenge)
        challenge.cookie = .zero
    }

    @Test func initiatorRetransmitsWithBackoffThenFails() {
        var lab = HandshakeLab()
        let hello = lab.initiator.start(now: lab.now, random: &lab.random)
        let start = lab.now.nanoseconds
        let ms: UInt64 = 1_000_000
        guard case .wait(let until) = lab.initiator.poll(now: lab.now) else {
            Issue.record("expected wait")
            return
        }
        #expect(until.nanoseconds == start + 500 * ms)
        guard case .retransmitHello(let again) = lab.initiator.poll(now: MonotonicInstant(nanoseconds: start + 500 * ms)) else {
            Issue.record("expected retransmission")
            return
        }
        #expect(again == hello)
        // Second retry after 1 s more, third after 2 s more.
        guard case .wait(let second) = lab.initiator.poll(now: MonotonicInstant(nanoseconds: start + 600 * ms)) else {
            Issue.record("expected wait")
            return
        }
        #expect(second.nanoseconds == start + 1500 * ms)
        guard case .retransmitHello = lab.initiator.poll(now: second) else {
            Issue.record("expected retransmission")
            return
        }
        guard case .retransmitHello = lab.initiator.poll(now: MonotonicInstant(nanoseconds: second.nanoseconds + 2000 * ms)) else {
            Issue.record("expected retransmission")
            return
        }
        guard case .none = lab.initiator.poll(now: MonotonicInstant(nanoseconds: start + 100_000 * ms)) else {
            Issue.record("expected failure")
            return
        }
        guard case .failed(.timedOut) = lab.initiator.state else {
            Issue.record("expected timed out")
            return
        }
    }

    @Test func initiatorRetransmitsMessageThreeUntilConfirmed() throws {
        var lab = HandshakeLab()
        let (response, _) = try lab.respond(to: lab.challenge())
        guard case .retransmitResponse(let again) = lab.initiator.poll(now: MonotonicInstant(nanoseconds: lab.now.nanoseconds + 1_000_000_000)) else {
            Issue.record("expected message 3 again")
            return
        }
        #expect(again == response)
        lab.initiator.confirm()
        guard case .none = lab.initiator.poll(now: MonotonicInstant(nanoseconds: lab.now.nanoseconds + 10_000_000_000)) else {
            Issue.record("no more retransmissions once established")
            return
        }
    }

    @Test func puzzleDifficultyIsLeadingZeroBits() {
        let cookie = HandshakeBlock16(high: 1, low: 2)
        for difficulty: UInt8 in [0, 1, 4, 8, 12] {
            guard let solution = HandshakePuzzle.solve(cookie: cookie, initiator: HandshakeLab.alice, responder: HandshakeLab.bob,
                                                       difficulty: difficulty, start: 0, limit: 1 << 20) else {
                Issue.record("no solution for K=\(difficulty)")
                continue
            }
            #expect(HandshakePuzzle.leadingZeroBits(cookie: cookie, initiator: HandshakeLab.alice, responder: HandshakeLab.bob,
                                                    solution: solution) >= Int(difficulty))
            #expect(HandshakePuzzle.isSolved(cookie: cookie, initiator: HandshakeLab.alice, responder: HandshakeLab.bob,
                                             difficulty: difficulty, solution: solution))
            // Bound to the addresses: the same J for Mallory is (almost surely) no solution at K=12.
            if difficulty == 12 {
                #expect(!HandshakePuzzle.isSolved(cookie: cookie, initiator: HandshakeLab.mallory, responder: HandshakeLab.bob,
                                                  difficulty: difficulty, solution: solution))
            }
        }
        #expect(!HandshakePuzzle.isSolved(cookie: cookie, initiator: HandshakeLab.alice, responder: HandshakeLab.bob,
                                          difficulty: 41, solution: 0))
    }
}
