import Testing
@testable import HomelessSecurity

@Suite struct ReplayWindowTests {
    @Test func sizesOutsideTheAllowedRangeAreRefused() {
        #expect(ReplayWindow(size: 31) == nil)
        #expect(ReplayWindow(size: 1025) == nil)
        #expect(ReplayWindow(size: 32)?.size == 32)
        #expect(ReplayWindow(size: 1024)?.size == 1024)
        #expect(ReplayWindow()?.size == 64)
    }

    @Test func zeroIsNeverFresh() throws {
        let window = try #require(ReplayWindow())
        #expect(window.check(0) == .belowWindow)
    }

    @Test func duplicatesAndBelowWindowAreRejected() throws {
        var window = try #require(ReplayWindow(size: 64))
        #expect(window.check(100) == .fresh)
        window.accept(100)
        #expect(window.check(100) == .duplicate)
        // 100 - 64 = 36 is the first number outside a 64-packet window.
        #expect(window.check(36) == .belowWindow)
        #expect(window.check(37) == .fresh)
        window.accept(37)
        #expect(window.check(37) == .duplicate)
        #expect(window.check(99) == .fresh)
        #expect(window.check(101) == .fresh)
        #expect(window.highest == 100)
    }

    @Test func checkDoesNotMoveTheWindow() throws {
        var window = try #require(ReplayWindow(size: 32))
        window.accept(10)
        #expect(window.check(1_000_000) == .fresh)
        #expect(window.highest == 10)
        #expect(window.check(10) == .duplicate)
    }

    /// Against a plain set-based model, for every size class and many jumps,
    /// including jumps across the ring and beyond the window.
    @Test(arguments: [32, 64, 65, 100, 128, 500, 1024])
    func agreesWithAReferenceModel(size: Int) throws {
        var window = try #require(ReplayWindow(size: size))
        var seen = Set<UInt32>()
        var highest: UInt32 = 0
        var generator = SplitMix(seed: UInt64(size))
        var sequence: UInt32 = 1
        for _ in 0..<20_000 {
            let step = generator.next() % 7
            let candidate: UInt32
            switch step {
            case 0: candidate = sequence &+ UInt32(generator.next() % UInt64(size * 3))
            case 1: candidate = sequence > UInt32(size * 2) ? sequence - UInt32(generator.next() % UInt64(size * 2)) : 1
            default: candidate = sequence &+ 1
            }
            sequence = max(sequence, candidate)
            let expected: ReplayWindow.Check
            if candidate == 0 || (highest >= candidate && Int(highest - candidate) >= size) {
                expected = .belowWindow
            } else if seen.contains(candidate) {
                expected = .duplicate
            } else {
                expected = .fresh
            }
            #expect(window.check(candidate) == expected, "size \(size) seq \(candidate) highest \(highest)")
            if expected == .fresh {
                window.accept(candidate)
                seen.insert(candidate)
                highest = max(highest, candidate)
            }
        }
    }

    @Test func largeJumpClearsEverything() throws {
        var window = try #require(ReplayWindow(size: 1024))
        for sequence in UInt32(1)...2000 { window.accept(sequence) }
        window.accept(1_000_000)
        for sequence in UInt32(1_000_000 - 1023)..<1_000_000 {
            #expect(window.check(sequence) == .fresh)
        }
        #expect(window.check(1_000_000 - 1024) == .belowWindow)
    }

    @Test func topOfTheSequenceSpace() throws {
        var window = try #require(ReplayWindow(size: 64))
        window.accept(.max - 1)
        window.accept(.max)
        #expect(window.check(.max) == .duplicate)
        #expect(window.check(.max - 2) == .fresh)
        #expect(window.check(.max - 64) == .belowWindow)
    }

    @Test func disabledWindowAcceptsEverything() {
        var window = ReplayWindow.disabled
        window.accept(5)
        #expect(window.check(5) == .fresh)
        #expect(!window.isEnabled)
    }
}

/// Deterministic generator for the model test.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
