import HomelessCore
import HomelessWire
import Testing
@testable import HomelessSecurity

/// The responder's puzzle difficulty follows the message 1 load (RFC 7401
/// 4.1.2): up a step per window above the threshold rate, down a step per
/// window at or below half of it, within [base, maximum]; the cookie binds
/// the difficulty each message 2 asked for.
@Suite struct HandshakeDifficultyLoadTests {
    static let second: UInt64 = 1_000_000_000

    /// Base 8, steps of 2 up to 12, 100 message 1s a second.
    static func lab() -> HandshakeLab {
        HandshakeLab(difficulty: 8) { configuration in
            configuration.maximumDifficulty = 12
            configuration.difficultyStep = 2
            configuration.loadThresholdPerSecond = 100
            configuration.loadWindowNanoseconds = second
        }
    }

    /// `count` message 1s from distinct sources at `lab.now`.
    static func flood(_ lab: inout HandshakeLab, _ count: Int) {
        var random = SplitMix64(seed: lab.now.nanoseconds)
        for index in 0..<count {
            let source = IPv6Address(high: 0x2001_0db8_ffff_0000 | UInt64(index & 0xFFFF), low: random.next())
            let hello = InitiatorHello(initiatorNonce: HandshakeBlock16(high: random.next(), low: random.next()))
            _ = lab.responder.answer(hello, initiator: source, responder: HandshakeLab.bob, now: lab.now, random: &lab.random)
        }
    }

    static func advance(_ lab: inout HandshakeLab, seconds: UInt64) {
        lab.now = MonotonicInstant(nanoseconds: lab.now.nanoseconds + seconds * second)
    }

    @Test func difficultyRisesStepwiseUnderLoadAndFallsWhenTheLoadEnds() {
        var lab = Self.lab()
        Self.flood(&lab, 150)
        #expect(lab.responder.difficulty == 8, "judged at the end of the window")
        Self.advance(&lab, seconds: 1)
        Self.flood(&lab, 150)
        #expect(lab.responder.difficulty == 10)
        Self.advance(&lab, seconds: 1)
        Self.flood(&lab, 150)
        #expect(lab.responder.difficulty == 12)
        Self.advance(&lab, seconds: 1)
        Self.flood(&lab, 70)
        #expect(lab.responder.difficulty == 12, "never above the maximum")
        #expect(lab.responder.counters.difficultyRaises == 2)
        // 70 a second: above half the threshold, below it: K holds.
        Self.advance(&lab, seconds: 1)
        Self.flood(&lab, 1)
        #expect(lab.responder.difficulty == 12)
        // Light load: down a step per window.
        Self.advance(&lab, seconds: 1)
        Self.flood(&lab, 1)
        #expect(lab.responder.difficulty == 10)
        #expect(lab.responder.counters.difficultyLowers == 1)
        // The load stopped for a while: every quiet window counts, down to the base.
        Self.flood(&lab, 150)
        Self.advance(&lab, seconds: 1)
        Self.flood(&lab, 1)
        #expect(lab.responder.difficulty == 12)
        Self.advance(&lab, seconds: 5)
        Self.flood(&lab, 1)
        #expect(lab.responder.difficulty == 8, "never below the base")
        // The state stays constant in the load.
        #expect(lab.responder.stateSummary.completedCookies == 0)
    }

    @Test func aMessageThreeAtTheRaisedDifficultyCompletes() throws {
        var lab = Self.lab()
        Self.flood(&lab, 150)
        Self.advance(&lab, seconds: 1)
        let challenge = lab.challenge()
        #expect(challenge.difficulty == 10)
        var (response, alice) = try lab.respond(to: challenge)
        #expect(HandshakePuzzle.isSolved(cookie: response.cookie, initiator: HandshakeLab.alice, responder: HandshakeLab.bob,
                                         difficulty: 10, solution: response.solution))
        let outcome = lab.complete(try HandshakeLab.packet(response, protectedBy: &alice.outbound))
        #expect(outcome.establishment != nil, "\(outcome)")
    }

    @Test func aChallengeIssuedBeforeTheRiseStillCompletesAtItsOwnDifficulty() throws {
        var lab = Self.lab()
        let challenge = lab.challenge()
        #expect(challenge.difficulty == 8)
        Self.flood(&lab, 150)
        Self.advance(&lab, seconds: 1)
        Self.flood(&lab, 1)
        #expect(lab.responder.difficulty == 10)
        var (response, alice) = try lab.respond(to: challenge)
        let outcome = lab.complete(try HandshakeLab.packet(response, protectedBy: &alice.outbound))
        #expect(outcome.establishment != nil, "the cookie says which difficulty was asked: \(outcome)")
    }

    @Test func aCookieDoesNotVerifyUnderAnotherDifficulty() throws {
        var lab = Self.lab()
        let challenge = lab.challenge()
        var (response, alice) = try lab.respond(to: challenge)
        // A cookie from another difficulty level's computation is not this one.
        response.cookie = HandshakeBlock16(high: response.cookie.high ^ 1, low: response.cookie.low)
        #expect(lab.complete(try HandshakeLab.packet(response, protectedBy: &alice.outbound)).drop == .badCookie)
        #expect(lab.responder.counters.diffieHellmanOperations == 0)
    }
}
