import Dispatch
import Foundation
import Synchronization
import Testing
@testable import HomelessEngine
import HomelessCore
import HomelessWire

/// Records whose every address encodes (peer, version), so a reader can
/// tell a record written whole from a mix of two writes.
enum ScaleRecords {
    static let localIdentifier = TranslationTests.address("2001:db8:a::10")
    static let localLocator = TranslationTests.address("2001:db8:b::10")

    /// Peer `peer`'s ULID (2001:db8:c::/64) and locators (2001:db8:d::/64,
    /// version in the high bits of the interface identifier).
    static func peerIdentifier(_ peer: Int) -> IPv6Address {
        IPv6Address(high: 0x2001_0db8_000c_0000, low: UInt64(peer) + 1)
    }

    static func peerLocator(_ peer: Int, version: Int = 0, role: UInt64 = 0) -> IPv6Address {
        IPv6Address(high: 0x2001_0db8_000d_0000, low: UInt64(version) << 40 | role << 36 | UInt64(peer))
    }

    static func record(_ peer: Int, version: Int = 0) -> TranslationRecord {
        TranslationRecord(localIdentifier: localIdentifier, peerIdentifier: peerIdentifier(peer),
                          localLocator: localLocator, peerLocator: peerLocator(peer, version: version),
                          alternatePeerLocator: peerLocator(peer, version: version, role: 1),
                          previousPeerLocator: peerLocator(peer, version: version, role: 2))
    }
}

/// The translation table at the size of a gateway: 10^6 peers, found
/// through the Host Cache's lock-free hash in both directions.
@Suite struct TranslationTableScaleTests {
    static let million = 1_000_000

    /// Peers checked in a full table: the first, the last, and a spread.
    static let sample = Array(stride(from: 0, to: million, by: 9_973)) + [million - 1]

    @Test func aMillionPeersAreFoundInBothDirectionsAndTheFullTableRefusesMore() {
        let table = TranslationTable(capacity: Self.million)
        for peer in 0..<Self.million { #expect(table.publish(ScaleRecords.record(peer)), "peer \(peer)") }
        #expect(table.count == Self.million)
        for peer in Self.sample {
            let record = ScaleRecords.record(peer)
            #expect(table.outbound(source: record.localIdentifier, destination: record.peerIdentifier) == record)
            for source in [record.peerLocator, record.alternatePeerLocator, record.previousPeerLocator] {
                #expect(table.inbound(source: source, destination: record.localLocator) == record)
            }
            let conversation = table.matchLocatorConversation(source: record.localLocator, destination: record.peerLocator)
            #expect(conversation?.record == record)
            // The full predicate still applies: another local identifier,
            // or a packet to an address that is not ours, is no match.
            #expect(table.outbound(source: record.localLocator, destination: record.peerIdentifier) == nil)
            #expect(table.inbound(source: record.peerLocator, destination: record.peerLocator) == nil)
        }
        #expect(table.outbound(source: ScaleRecords.localIdentifier,
                               destination: ScaleRecords.peerIdentifier(Self.million)) == nil)

        // Full: a new peer is refused, an update of a present one is not.
        #expect(!table.publish(ScaleRecords.record(Self.million)))
        #expect(table.publish(ScaleRecords.record(7, version: 1)))
        #expect(table.inbound(source: ScaleRecords.peerLocator(7, version: 1), destination: ScaleRecords.localLocator)
                    == ScaleRecords.record(7, version: 1))
        #expect(table.inbound(source: ScaleRecords.peerLocator(7), destination: ScaleRecords.localLocator) == nil)
        // One withdraw makes room for exactly one new peer, in the freed slot.
        let freed = table.matchOutbound(source: ScaleRecords.localIdentifier, destination: ScaleRecords.peerIdentifier(42))?.slot
        table.withdraw(peerIdentifier: ScaleRecords.peerIdentifier(42))
        #expect(table.publish(ScaleRecords.record(Self.million)))
        #expect(!table.publish(ScaleRecords.record(Self.million + 1)))
        let taken = table.matchOutbound(source: ScaleRecords.localIdentifier,
                                        destination: ScaleRecords.peerIdentifier(Self.million))?.slot
        #expect(taken != nil && taken == freed)
        #expect(table.outbound(source: ScaleRecords.localIdentifier, destination: ScaleRecords.peerIdentifier(42)) == nil)
    }

    @Test func withdrawRemovesEveryKeyAndAReusedSlotMakesOldIndexValuesStale() {
        let table = TranslationTable(capacity: 4)
        let first = ScaleRecords.record(1)
        #expect(table.publish(first))
        guard let stale = table.addresses.lookup(first.peerLocator),
              let slot = table.record(at: stale)?.slot else { Issue.record("no index value"); return }
        table.withdraw(peerIdentifier: first.peerIdentifier)
        for address in [first.peerIdentifier, first.peerLocator, first.alternatePeerLocator, first.previousPeerLocator] {
            #expect(table.addresses.lookup(address) == nil)
        }
        #expect(table.addresses.count == 0)
        // The freed slot goes to the next peer, a new generation.
        let second = ScaleRecords.record(2)
        #expect(table.publish(second))
        #expect(table.matchInbound(source: second.peerLocator, destination: second.localLocator)?.slot == slot)
        // A reader holding the old value (it looked up before the withdraw)
        // sees the generation moved on, not the new peer's record.
        #expect(table.record(at: stale) == nil)
        #expect(table.inbound(source: first.peerLocator, destination: first.localLocator) == nil)
        // A record's update claims the new addresses and releases the old.
        let moved = ScaleRecords.record(2, version: 3)
        #expect(table.publish(moved))
        #expect(table.addresses.lookup(second.peerLocator) == nil)
        #expect(table.inbound(source: moved.previousPeerLocator, destination: moved.localLocator) == moved)
        #expect(table.addresses.count == 4)
    }

    /// Draft 5.3 (address confusion): two records claim one address. The
    /// record whose ULID it is wins; among locators the earliest claim; a
    /// withdraw hands the key to the next claimant instead of removing it.
    @Test func anAddressClaimedByTwoRecords() {
        let table = TranslationTable(capacity: 4)
        let owner = ScaleRecords.record(1)
        let shared = owner.peerIdentifier
        var confused = ScaleRecords.record(2)
        confused.alternatePeerLocator = shared
        #expect(table.publish(confused))
        #expect(table.inbound(source: shared, destination: confused.localLocator) == confused)
        // The ULID's own record takes the address over: outbound to the
        // ULID must reach its peer.
        #expect(table.publish(owner))
        #expect(table.outbound(source: owner.localIdentifier, destination: shared) == owner)
        // The confused record's inbound through that address is not found
        // while the owner holds it (its predicate is checked on the owner).
        #expect(table.inbound(source: shared, destination: confused.localLocator) == nil)
        #expect(table.inbound(source: confused.peerLocator, destination: confused.localLocator) == confused)
        table.withdraw(peerIdentifier: owner.peerIdentifier)
        #expect(table.inbound(source: shared, destination: confused.localLocator) == confused)

        // Two records with the same locator: the earlier keeps it, and the
        // later one's withdraw leaves the key alone.
        var early = ScaleRecords.record(3)
        var late = ScaleRecords.record(4)
        let locator = TranslationTests.address("2001:db8:e::1")
        early.peerLocator = locator
        late.peerLocator = locator
        #expect(table.publish(early))
        #expect(table.publish(late))
        #expect(table.inbound(source: locator, destination: early.localLocator) == early)
        table.withdraw(peerIdentifier: late.peerIdentifier)
        #expect(table.inbound(source: locator, destination: early.localLocator) == early)
        #expect(table.publish(late))
        table.withdraw(peerIdentifier: early.peerIdentifier)
        #expect(table.inbound(source: locator, destination: late.localLocator) == late)
    }
}

/// One writer publishing, updating and withdrawing continuously while two
/// reader threads look peers up: a reader must never see a record mixed
/// from two writes, nor one of another peer. Run under ThreadSanitizer
/// with `swift test --sanitize=thread --filter TranslationTableConcurrencyTests`.
@Suite struct TranslationTableConcurrencyTests {
    final class Shared: Sendable {
        let stop = Atomic<Bool>(false)
        let violations = Atomic<Int>(0)
        let hits = Atomic<Int>(0)
        let writes = Atomic<Int>(0)
    }

    /// The version a record carries, or nil when its fields disagree
    /// (a torn or mixed read) or belong to a peer other than `peer`.
    static func version(of record: TranslationRecord, peer: Int) -> Int? {
        let version = Int(record.peerLocator.low >> 40)
        guard record == ScaleRecords.record(peer, version: version) else { return nil }
        return version
    }

    @Test func readersNeverSeeATornOrMixedRecordWhileOneWriterChurns() {
        let peers = 16
        // Fewer slots than peers would need, so slots change hands.
        let table = TranslationTable(capacity: 12)
        let shared = Shared()
        let done = DispatchSemaphore(value: 0)
        var threads: [Thread] = []
        for number in 0..<2 {
            threads.append(Thread {
                var violations = 0, hits = 0, position = number * 5
                while !shared.stop.load(ordering: .relaxed) {
                    let peer = position % peers
                    position &+= 1
                    let identifier = ScaleRecords.peerIdentifier(peer)
                    if let match = table.matchOutbound(source: ScaleRecords.localIdentifier, destination: identifier) {
                        hits += 1
                        if Self.version(of: match.record, peer: peer) == nil { violations += 1 }
                    }
                    for version in 0..<4 {
                        let source = ScaleRecords.peerLocator(peer, version: version, role: UInt64(version % 3))
                        if let record = table.inbound(source: source, destination: ScaleRecords.localLocator) {
                            hits += 1
                            if Self.version(of: record, peer: peer) != version { violations += 1 }
                        }
                    }
                }
                shared.violations.add(violations, ordering: .relaxed)
                shared.hits.add(hits, ordering: .relaxed)
                done.signal()
            })
        }
        threads.append(Thread {
            var generator = SplitMix64(seed: 7)
            for _ in 0..<60_000 {
                let peer = Int(generator.next() % UInt64(peers))
                switch generator.next() % 3 {
                case 0: table.withdraw(peerIdentifier: ScaleRecords.peerIdentifier(peer))
                default: table.publish(ScaleRecords.record(peer, version: Int(generator.next() % 4)))
                }
                shared.writes.add(1, ordering: .relaxed)
            }
            shared.stop.store(true, ordering: .relaxed)
            done.signal()
        })
        for thread in threads { thread.start() }
        for _ in threads { done.wait() }
        #expect(shared.violations.load(ordering: .relaxed) == 0)
        #expect(shared.hits.load(ordering: .relaxed) > 0)
        #expect(shared.writes.load(ordering: .relaxed) == 60_000)
    }
}
