import Testing
import HomelessCore
import HomelessWire

@Suite struct MobilityTableTests {
    typealias F = MobilityFixture

    @Test func addressEventsReachEveryPeerOfTheScopeAndTimersAreMerged() throws {
        let clock = ManualClock()
        let cache = HostCache(clock: clock, random: SplitMix64(seed: 5))
        let first = try cache.createForeignEntry(for: F.peer, trust: .trusted).id
        let second = try cache.createForeignEntry(for: F.address("2001:db8:e::1"), trust: .trusted).id
        let linkPeer = try cache.createForeignEntry(for: F.address("fe80::99")).id
        var table = PeerMobilityTable(localAddresses: [F.linkA, F.linkLocal])
        table.addPeer(first, localIdentifier: F.linkA, peerIdentifier: F.peer, initialSequence: 1)
        table.addPeer(second, localIdentifier: F.linkA, peerIdentifier: F.address("2001:db8:e::1"), initialSequence: 900)
        table.addPeer(linkPeer, localIdentifier: F.linkLocal, peerIdentifier: F.address("fe80::99"), initialSequence: 5)

        for entry in [first, second] {
            let replied = table.handle(.firstReplyReceived, for: entry, now: clock.now)
            let actions = try #require(replied)
            let spec = try #require(F.standalone(actions).first)
            let acknowledged = table.handle(.bindingAcknowledgementReceived(sequence: spec.lastSequence, status: 0, lifetime: 600),
                                            for: entry, now: clock.now)
            let acked = try #require(acknowledged)
            try cache.apply(acked, for: entry)
            #expect(cache.entry(entry)?.capability == .homeless)
        }
        #expect(table.nextDeadline == clock.now.adding(seconds: 480))

        clock.advance(seconds: 10)
        let fanned = table.localAddressAdded(F.linkB, now: clock.now)
        #expect(fanned.map(\.entry) == [first, second], "not the link-local peer: another scope")
        #expect(fanned.allSatisfy { !F.offers($0.actions).isEmpty })
        #expect(table.nextDeadline == clock.now.adding(milliseconds: 500))
        clock.advance(nanoseconds: 500_000_000)
        let fired = table.fireTimers(now: clock.now)
        #expect(fired.count == 2)
        #expect(fired.allSatisfy { F.standalone($0.actions).first?.registrations == [F.linkB] })
        let unknown = table.handle(.timerFired, for: HostCacheEntryID(slot: 999, generation: 1), now: clock.now)
        #expect(unknown == nil)
        table.removePeer(second)
        #expect(table.peers.count == 2)
    }
}
