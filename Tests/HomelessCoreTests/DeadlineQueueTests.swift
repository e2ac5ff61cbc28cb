import Testing
@testable import HomelessCore

/// `DeadlineQueue` (PeerMobilityTable's timers) against the plain answer:
/// the minimum over the current deadlines, and the entries due.
@Suite struct DeadlineQueueTests {
    @Test(arguments: [1, 2, 3])
    func earliestAndDueMatchAScanOfTheCurrentDeadlines(seed: UInt64) {
        var random = SplitMix64(seed: seed)
        var queue = DeadlineQueue()
        var current: [HostCacheEntryID: MonotonicInstant] = [:]
        var now: UInt64 = 0
        for _ in 0..<5000 {
            let entry = HostCacheEntryID(slot: UInt32(random.next() % 200), generation: 1)
            switch random.next() % 4 {
            case 0:
                current[entry] = nil
                queue.dropStale(current: current)
            case 1:
                now += random.next() % 50
                let due = queue.takeDue(now: MonotonicInstant(nanoseconds: now), current: current)
                let expected = current.filter { $0.value.nanoseconds <= now }.keys
                #expect(Set(due) == Set(expected) && due.count == Set(due).count)
                for entry in due { current[entry] = nil }
                queue.dropStale(current: current)
            default:
                let deadline = MonotonicInstant(nanoseconds: now + random.next() % 1000)
                guard current[entry] != deadline else { continue }
                current[entry] = deadline
                queue.insert(deadline, for: entry)
                queue.dropStale(current: current)
            }
            #expect(queue.earliest == current.values.min())
        }
    }
}
