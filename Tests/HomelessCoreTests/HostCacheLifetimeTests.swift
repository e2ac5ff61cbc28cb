import Testing
@testable import HomelessCore
import HomelessWire

/// Draft 2.1.1, 2.1.3, 2.1.4: lifetimes, expiry, purge, entry removal.
@Suite struct HostCacheLifetimeTests {
    let peer = ip("2001:db8:c::10")

    @Test func addressesEnteredByOtherMeansHaveActivityLifetime() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, peer)
        #expect(cache.entry(id)?.addresses[peer]?.lifetime == .activity(lastUse: testEpoch))
        clock.advance(seconds: 599)
        #expect(cache.foreignMatch(for: peer) == ForeignMatch(entry: id, isLive: true))
        clock.advance(seconds: 1)
        // Expired by its deadline even before the sweep runs.
        #expect(cache.foreignMatch(for: peer) == ForeignMatch(entry: id, isLive: false))
        let report = cache.expire()
        #expect(report.changes == [AddressChange(address: peer, entry: id, kind: .expired)])
        #expect(cache.entry(id)?.addresses[peer]?.state == .expired(since: at(600)))
        #expect(cache.index.lookupForeign(peer)?.isExpired == true)
        #expect(cache.index.destination(forForeign: peer) == nil)
    }

    @Test func touchAndReceiptRestartActivityLifetime() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, peer)
        clock.advance(seconds: 300)
        #expect(cache.touch(peer))
        clock.advance(seconds: 599)  // t = 899
        #expect(cache.expire().changes.isEmpty)
        #expect(cache.noteReceived(from: peer, entry: id))
        clock.advance(seconds: 599)  // t = 1498
        #expect(cache.expire().changes.isEmpty)
        clock.advance(seconds: 1)  // t = 1499 = 899 + 600
        #expect(cache.expire().changes.map(\.kind) == [.expired])
    }

    @Test func bindingUpdateSwitchesAddressToAbsoluteLifetime() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, peer, trust: .trusted)
        clock.advance(seconds: 10)
        _ = try cache.applyBindingUpdates([bu(1, lifetime: 100)], to: id, matchedBy: .packetSource,
                                          packetSource: peer, homeAddress: nil)
        #expect(cache.entry(id)?.addresses[peer]?.lifetime == .absolute(expiresAt: at(110)))
        // Use no longer extends it (2.1.3: absolute, independent of use).
        clock.advance(seconds: 99)
        #expect(cache.touch(peer))
        #expect(cache.noteReceived(from: peer, entry: id))
        clock.advance(seconds: 1)
        #expect(cache.expire().changes == [AddressChange(address: peer, entry: id, kind: .expired)])
    }

    @Test func infiniteLifetimeNeverExpires() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, peer, trust: .trusted)
        _ = try cache.applyBindingUpdates([bu(1, lifetime: BindingUpdate.infiniteLifetime)], to: id,
                                          matchedBy: .packetSource, packetSource: peer, homeAddress: nil)
        #expect(cache.entry(id)?.addresses[peer]?.lifetime == .absolute(expiresAt: nil))
        clock.advance(seconds: 100_000_000)
        #expect(cache.expire().changes.isEmpty)
        #expect(cache.foreignMatch(for: peer)?.isLive == true)
    }

    @Test func expiredAddressesArePurgedAfterMaximumExpiredLifetime() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, peer)
        clock.advance(seconds: 600)
        cache.expire()
        clock.advance(seconds: 1799)  // 1799 s after expiry
        #expect(cache.expire().changes.isEmpty)
        #expect(cache.entry(id)?.expiredAddresses == [peer])
        clock.advance(seconds: 1)
        let report = cache.expire()
        #expect(report.changes == [AddressChange(address: peer, entry: id, kind: .purged)])
        #expect(report.removedEntries == [id])
        #expect(cache.entry(id) == nil)
        #expect(cache.entryCount == 0)
        #expect(cache.index.lookupForeign(peer) == nil)
        #expect(cache.index.entries.read(id) == nil)
    }

    @Test func lateSweepExpiresAndPurgesFromTheRealDeadline() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, peer)
        clock.advance(seconds: 600 + 1800)  // one sweep, long after both deadlines
        let report = cache.expire()
        #expect(report.changes.map(\.kind) == [.expired, .purged])
        #expect(report.removedEntries == [id])
    }

    @Test func usingAnExpiredAddressDoesNotReviveIt() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, peer)
        clock.advance(seconds: 600)
        cache.expire()
        #expect(!cache.touch(peer))
        #expect(!cache.noteReceived(from: peer, entry: id))
        #expect(cache.entry(id)?.addresses[peer]?.state == .expired(since: at(600)))
        #expect(cache.entry(id)?.preferredDestination == nil)
    }

    @Test func entryWithOpenConnectionsOutlivesItsAddresses() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, peer)
        try cache.retain(id)
        try cache.retain(id)
        clock.advance(seconds: 600 + 1800)
        let report = cache.expire()
        #expect(report.removedEntries.isEmpty)
        #expect(cache.entry(id)?.addresses.isEmpty == true)
        #expect(cache.entry(id)?.referenceCount == 2)
        #expect(throws: HostCacheError.entryInUse(id)) { _ = try cache.removeEntry(id) }
        #expect(try cache.release(id) == false)
        #expect(try cache.release(id) == true)
        #expect(cache.entry(id) == nil)
        #expect(throws: HostCacheError.unknownEntry(id)) { try cache.release(id) }
    }

    @Test func releaseWithoutRetainIsAnError() throws {
        let (cache, _) = makeCache()
        let id = try newForeign(cache, peer)
        #expect(throws: HostCacheError.notRetained(id)) { try cache.release(id) }
        // An entry that still has addresses is not removed by release.
        try cache.retain(id)
        #expect(try cache.release(id) == false)
        #expect(cache.entry(id) != nil)
    }

    @Test func parametersAreConfigurable() throws {
        let (cache, clock) = makeCache(HostCacheParameters(defaultLifetime: 10, maximumExpiredLifetime: 20))
        let id = try newForeign(cache, peer)
        clock.advance(seconds: 10)
        #expect(cache.expire().changes.map(\.kind) == [.expired])
        clock.advance(seconds: 20)
        #expect(cache.expire().removedEntries == [id])
    }

    @Test func localAddressesArePermanent() throws {
        let (cache, clock) = makeCache()
        let local = try cache.createLocalEntry()
        let mine = ip("2001:db8:a::1")
        #expect(try cache.addLocalAddress(mine, to: local) == [AddressChange(address: mine, entry: local, kind: .added)])
        #expect(cache.entry(local)?.addresses[mine]?.lifetime == .permanent)
        clock.advance(seconds: 1_000_000)
        #expect(cache.expire().changes.isEmpty)
        #expect(cache.localEntries(containing: mine) == [local])
        // A Local entry is not removed when its last address goes (2.1.1: administrative only).
        _ = try cache.removeLocalAddress(mine, from: local)
        cache.expire()
        #expect(cache.entry(local) != nil)
        #expect(cache.index.lookupLocal(mine) == nil)
    }
    @Test func clocksAndInstantArithmetic() {
        let system = SystemMonotonicClock()
        let first = system.now
        #expect(system.now >= first)
        #expect(MonotonicInstant(nanoseconds: 5).adding(seconds: 2) == MonotonicInstant(nanoseconds: 2_000_000_005))
        // Saturates instead of trapping, even for 2^32 s lifetimes from a late origin.
        #expect(MonotonicInstant(nanoseconds: .max - 1).adding(seconds: 1) == MonotonicInstant(nanoseconds: .max))
        #expect(MonotonicInstant.origin.adding(seconds: .max) == MonotonicInstant(nanoseconds: .max))
        let manual = ManualClock()
        manual.advance(seconds: 3)
        manual.advance(nanoseconds: 7)
        #expect(manual.now == MonotonicInstant(nanoseconds: 3_000_000_007))
    }
    @Test func incrementalSweepCoversEverySlotInBoundedSlices() throws {
        let (cache, clock) = makeCache(HostCacheParameters(maximumEntries: 10))
        let ids = try (1...10).map { try newForeign(cache, ip("2001:db8::\($0)")) }
        clock.advance(seconds: 600)
        var expired: [HostCacheEntryID] = []
        for _ in 0..<3 {
            let report = cache.expire(slotBudget: 4)
            #expect(report.changes.count <= 4)
            expired += report.changes.map(\.entry)
        }
        #expect(Set(expired) == Set(ids))  // 3 slices of 4 cover all 10 slots
        #expect(cache.expire(slotBudget: 10).changes.isEmpty)
        #expect(cache.expire(slotBudget: 0).changes.isEmpty)
        clock.advance(seconds: 1800)
        #expect(cache.expire(slotBudget: 5).removedEntries.count == 5)
        #expect(cache.expire(slotBudget: 5).removedEntries.count == 5)
        #expect(cache.entryCount == 0)
    }
}
