import Dispatch
import Foundation
import Synchronization
import Testing
@testable import HomelessCore
import HomelessWire

/// One writer thread mutating the fast-path tables while reader threads look
/// up continuously: readers must never see a torn value nor miss a key that
/// is present for the whole run. Run under ThreadSanitizer with
/// `swift test --sanitize=thread --filter AddressIndexConcurrencyTests`.
@Suite struct AddressIndexConcurrencyTests {
    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let tornReads = Atomic<Int>(0)
        let missedPermanent = Atomic<Int>(0)
        let lookups = Atomic<Int>(0)
        let writesPublished = Atomic<Int>(0)
        let violations = Atomic<Int>(0)
    }

    /// Low 32 bits: a fingerprint of the key; high 32 bits: a version the
    /// writer bumps. Any mix of two writes shows as a fingerprint mismatch.
    static func fingerprint(_ key: IPv6Address) -> UInt64 {
        var x = key.high ^ (key.low &* 0x9E37_79B9_7F4A_7C15)
        x ^= x >> 31
        x &*= 0xBF58_476D_1CE4_E5B9
        return (x ^ (x >> 29)) & 0xFFFF_FFFF
    }

    static func value(_ key: IPv6Address, version: UInt64) -> UInt64 { fingerprint(key) | (version & 0xFFFF_FFFF) << 32 }

    static func runThreads(readers: Int, reader: @escaping @Sendable (Int) -> Void, writer: @escaping @Sendable () -> Void) {
        let done = DispatchSemaphore(value: 0)
        var threads: [Thread] = []
        for number in 0..<readers {
            threads.append(Thread { reader(number); done.signal() })
        }
        threads.append(Thread { writer(); done.signal() })
        for thread in threads { thread.start() }
        for _ in threads { done.wait() }
    }

    @Test func readersNeverSeeTornOrMissingKeysWhileOneWriterChurns() {
        var generator = SplitMix64(seed: 99)
        // Small and heavily loaded so writes constantly shift clusters that
        // contain the permanent keys.
        let index = AddressIndex(capacity: 200, slotCount: 256, seed: generator.next())
        let permanent = (0..<64).map { _ in IPv6Address(high: 0x2001_0db8_0000_0000 | generator.next() & 0xFFFF, low: generator.next()) }
        let churn = (0..<200).map { _ in IPv6Address(high: 0x2001_0db8_0001_0000 | generator.next() & 0xFFFF, low: generator.next()) }
        for key in permanent { index.insert(key, value: Self.value(key, version: 0)) }
        let shared = Shared()
        let writerSeed = generator.next()

        Self.runThreads(readers: 2, reader: { number in
            var torn = 0, missed = 0, count = 0
            var position = number * 17
            while !shared.stop.load(ordering: .relaxed) {
                let key = permanent[position % permanent.count]
                if let found = index.lookup(key) {
                    if found & 0xFFFF_FFFF != Self.fingerprint(key) { torn += 1 }
                } else {
                    missed += 1
                }
                let other = churn[(position &* 7) % churn.count]
                if let found = index.lookup(other), found & 0xFFFF_FFFF != Self.fingerprint(other) { torn += 1 }
                position &+= 1
                count += 2
            }
            shared.tornReads.add(torn, ordering: .relaxed)
            shared.missedPermanent.add(missed, ordering: .relaxed)
            shared.lookups.add(count, ordering: .relaxed)
        }, writer: {
            var random = SplitMix64(seed: writerSeed)
            var version: UInt64 = 1
            for step in 0..<150_000 {
                let key = churn[Int(random.next() % UInt64(churn.count))]
                switch random.next() % 4 {
                case 0, 1: index.insert(key, value: Self.value(key, version: version))
                case 2: index.remove(key)
                default:
                    let kept = permanent[Int(random.next() % UInt64(permanent.count))]
                    index.update(kept, value: Self.value(kept, version: version))
                }
                version &+= 1
                if step % 1024 == 0 { Thread.sleep(forTimeInterval: 0.0001) }
            }
            shared.writesPublished.store(Int(index.writeCount), ordering: .relaxed)
            shared.stop.store(true, ordering: .relaxed)
        })

        #expect(shared.tornReads.load(ordering: .relaxed) == 0)
        #expect(shared.missedPermanent.load(ordering: .relaxed) == 0)
        #expect(shared.lookups.load(ordering: .relaxed) > 1000)
        #expect(shared.writesPublished.load(ordering: .relaxed) > 30_000)
        for key in permanent { #expect(index.lookup(key).map { $0 & 0xFFFF_FFFF } == Self.fingerprint(key)) }
    }

    @Test func batchedReadersStayConsistentToo() {
        var generator = SplitMix64(seed: 5)
        let index = AddressIndex(capacity: 100, slotCount: 128, seed: generator.next())
        let permanent = (0..<32).map { _ in IPv6Address(high: 0x2001_0db8_0000_0000, low: generator.next()) }
        let churn = (0..<120).map { _ in IPv6Address(high: 0x2001_0db8_0000_0001, low: generator.next()) }
        for key in permanent { index.insert(key, value: Self.value(key, version: 0)) }
        let shared = Shared()
        let writerSeed = generator.next()
        let queries = permanent + churn

        Self.runThreads(readers: 2, reader: { _ in
            var torn = 0, missed = 0
            var results = [UInt64?](repeating: nil, count: queries.count)
            while !shared.stop.load(ordering: .relaxed) {
                queries.withUnsafeBufferPointer { input in
                    results.withUnsafeMutableBufferPointer { output in index.lookup(batch: input, into: output) }
                }
                for (position, key) in queries.enumerated() {
                    if let found = results[position] {
                        if found & 0xFFFF_FFFF != Self.fingerprint(key) { torn += 1 }
                    } else if position < permanent.count {
                        missed += 1
                    }
                }
            }
            shared.tornReads.add(torn, ordering: .relaxed)
            shared.missedPermanent.add(missed, ordering: .relaxed)
        }, writer: {
            var random = SplitMix64(seed: writerSeed)
            for step in 0..<20_000 {
                let key = churn[Int(random.next() % UInt64(churn.count))]
                if random.next() & 1 == 0 {
                    index.insert(key, value: Self.value(key, version: UInt64(step)))
                } else {
                    index.remove(key)
                }
                if step % 512 == 0 { Thread.sleep(forTimeInterval: 0.0001) }
            }
            shared.stop.store(true, ordering: .relaxed)
        })

        #expect(shared.tornReads.load(ordering: .relaxed) == 0)
        #expect(shared.missedPermanent.load(ordering: .relaxed) == 0)
    }

    /// Each record's fields are all derived from (slot, generation): a torn
    /// read would pair one publication's generation with another's fields.
    static func record(slot: UInt32, generation: UInt32) -> PublishedEntry {
        PublishedEntry(id: HostCacheEntryID(slot: slot, generation: generation), kind: .foreign,
                       capability: PeerCapability(rawValue: UInt8(generation % 4)) ?? .unknown, trust: .trusted,
                       preferredDestination: IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64(slot), low: UInt64(generation)),
                       securityAssociation: UInt64(generation) << 8 | UInt64(slot))
    }

    @Test func publishedRecordsAreNeverTorn() {
        let table = PublishedEntryTable(capacity: 8)
        let shared = Shared()
        for slot in 0..<UInt32(8) { table.publish(Self.record(slot: slot, generation: 1)) }

        Self.runThreads(readers: 2, reader: { number in
            var torn = 0, seenCount = 0
            var slot = UInt32(number)
            while !shared.stop.load(ordering: .relaxed) {
                // Any generation may be current; probe a few and check consistency.
                for generation in UInt32(1)...4 {
                    if let seen = table.read(HostCacheEntryID(slot: slot % 8, generation: generation)) {
                        seenCount += 1
                        if seen != Self.record(slot: slot % 8, generation: generation) { torn += 1 }
                    }
                }
                slot &+= 1
            }
            shared.tornReads.add(torn, ordering: .relaxed)
            shared.lookups.add(seenCount, ordering: .relaxed)
        }, writer: {
            for step in 0..<40_000 {
                let slot = UInt32(step % 8)
                table.publish(Self.record(slot: slot, generation: UInt32(step % 4) + 1))
                if step % 1024 == 0 { Thread.sleep(forTimeInterval: 0.0001) }
            }
            shared.stop.store(true, ordering: .relaxed)
        })
        #expect(shared.tornReads.load(ordering: .relaxed) == 0)
        #expect(shared.lookups.load(ordering: .relaxed) > 0)
    }
    /// Hands the slow-path cache to the writer thread: after the hand-off
    /// only that thread touches it (the actor's role in the engine).
    final class WriterOwned: @unchecked Sendable {
        let cache: HostCache
        let clock: ManualClock
        init(cache: HostCache, clock: ManualClock) { self.cache = cache; self.clock = clock }
    }

    @Test func workersTranslateThroughTheHostCacheIndexWhileTheCacheChurns() throws {
        let (cache, clock) = makeCache(HostCacheParameters(maximumEntries: 64, maximumForeignAddresses: 128))
        // Sixteen trusted peers, each with two never-expiring addresses.
        var peers: [(id: HostCacheEntryID, first: IPv6Address, second: IPv6Address)] = []
        for number in 1...16 {
            let first = IPv6Address(high: 0x2001_0db8_000a_0000, low: UInt64(number))
            let second = IPv6Address(high: 0x2001_0db8_000b_0000, low: UInt64(number))
            let id = try newForeign(cache, first, trust: .trusted)
            _ = try cache.applyBindingUpdates([bu(1, lifetime: BindingUpdate.infiniteLifetime, [.alternateCareOfAddress(first),
                                                                                              .alternateCareOfAddress(second)])],
                                              to: id, matchedBy: .packetSource, packetSource: first, homeAddress: nil)
            peers.append((id, first, second))
        }
        let fixedPeers = peers
        let fast = cache.index
        let owned = WriterOwned(cache: cache, clock: clock)
        let shared = Shared()

        Self.runThreads(readers: 2, reader: { number in
            var wrong = 0, count = 0
            var position = number
            while !shared.stop.load(ordering: .relaxed) {
                let peer = fixedPeers[position % fixedPeers.count]
                let asked = position & 1 == 0 ? peer.first : peer.second
                let destination = fast.destination(forForeign: asked)
                if destination != peer.first && destination != peer.second { wrong += 1 }
                if fast.lookupForeign(asked)?.entry != peer.id { wrong += 1 }
                position &+= 1
                count += 1
            }
            shared.tornReads.add(wrong, ordering: .relaxed)
            shared.lookups.add(count, ordering: .relaxed)
        }, writer: {
            let cache = owned.cache
            var random = SplitMix64(seed: 31)
            var sequence: UInt16 = 1
            for step in 0..<6_000 {
                switch random.next() % 4 {
                case 0:
                    // Strangers come and go: untrusted entries, evicted when full.
                    let stranger = IPv6Address(high: 0x2001_0db8_00cc_0000, low: random.next() % 500 + 1)
                    _ = try? cache.createForeignEntry(for: stranger)
                case 1:
                    owned.clock.advance(seconds: random.next() % 120)
                    cache.expire()
                default:
                    // A peer switches between its two addresses (BU from the new source).
                    let peer = fixedPeers[Int(random.next() % UInt64(fixedPeers.count))]
                    let source = random.next() & 1 == 0 ? peer.first : peer.second
                    sequence &+= 1
                    _ = try? cache.applyBindingUpdates([bu(sequence, lifetime: BindingUpdate.infiniteLifetime)], to: peer.id,
                                                       matchedBy: .packetSource, packetSource: source, homeAddress: nil)
                }
                if step % 256 == 0 { Thread.sleep(forTimeInterval: 0.0001) }
            }
            shared.violations.store(cache.invariantViolations().count, ordering: .relaxed)
            shared.stop.store(true, ordering: .relaxed)
        })

        #expect(shared.tornReads.load(ordering: .relaxed) == 0)
        #expect(shared.lookups.load(ordering: .relaxed) > 100)
        #expect(shared.violations.load(ordering: .relaxed) == 0)
    }
}
