import Testing
@testable import HomelessCore
import HomelessWire

/// Draft 1.4, 2.3.4, 5.2, 5.3: per-entry state, ownership, creation policy.
@Suite struct HostCachePolicyTests {
    let a = ip("2001:db8:c::a")
    let b = ip("2001:db8:c::b")
    let c = ip("2001:db8:c::c")

    // MARK: Per-entry state

    @Test func newForeignEntryDefaults() throws {
        let (cache, _) = makeCache()
        let id = try newForeign(cache, a, also: [b])
        let entry = try #require(cache.entry(id))
        #expect(entry.kind == .foreign)
        #expect(entry.capability == .unknown)
        #expect(entry.trust == .untrusted)
        #expect(entry.preferredDestination == a)
        #expect(entry.lastAcceptedSequence == nil)
        #expect(entry.sendSequence == 0)
        #expect(entry.securityAssociation == nil)
        #expect(entry.referenceCount == 0)
        #expect(entry.liveAddresses == [a, b])
        #expect(cache.index.entries.read(id) == PublishedEntry(
            id: id, kind: .foreign, capability: .unknown, trust: .untrusted, preferredDestination: a, securityAssociation: nil))
    }

    @Test func capabilityTrustAndSecurityAssociationArePublished() throws {
        let (cache, _) = makeCache()
        let id = try newForeign(cache, a)
        try cache.setCapability(.standard, for: id)
        try cache.setTrust(.trusted, for: id)
        try cache.setSecurityAssociation(0xABCD, for: id)
        let published = try #require(cache.index.entries.read(id))
        #expect(published.capability == .standard)
        #expect(published.trust == .trusted)
        #expect(published.securityAssociation == 0xABCD)
        #expect(cache.entry(id)?.capability == .standard)
        #expect(cache.entry(id)?.trust == .trusted)
        try cache.setSecurityAssociation(nil, for: id)
        #expect(cache.index.entries.read(id)?.securityAssociation == nil)
    }

    @Test func sendSequenceWrapsModulo65536() throws {
        let (cache, _) = makeCache()
        let id = try newForeign(cache, a)
        #expect(try cache.nextSendSequence(for: id) == 1)
        for _ in 0..<65_533 { _ = try cache.nextSendSequence(for: id) }
        #expect(try cache.nextSendSequence(for: id) == 65_535)
        #expect(try cache.nextSendSequence(for: id) == 0)
    }

    @Test func preferredDestinationFollowsLastReceivedSource() throws {
        let (cache, clock) = makeCache()
        let id = try newForeign(cache, a, also: [b], trust: .trusted)
        #expect(cache.index.destination(forForeign: b) == a)
        clock.advance(seconds: 1)
        #expect(cache.noteReceived(from: b, entry: id))
        #expect(cache.entry(id)?.preferredDestination == b)
        #expect(cache.index.destination(forForeign: a) == b)
        // A source that is not in the entry is ignored.
        #expect(!cache.noteReceived(from: c, entry: id))
        #expect(cache.entry(id)?.preferredDestination == b)
        // Removing the preferred address falls back to the freshest live one.
        _ = try cache.applyBindingUpdates([bu(1, lifetime: 0, [.alternateCareOfAddress(b)])], to: id,
                                          matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        #expect(cache.entry(id)?.preferredDestination == a)
        #expect(throws: HostCacheError.addressNotInEntry(b, id)) { try cache.setPreferredDestination(b, for: id) }
        try cache.setPreferredDestination(a, for: id)
    }

    @Test func wrongKindIsRejected() throws {
        let (cache, _) = makeCache()
        let local = try cache.createLocalEntry()
        let foreign = try newForeign(cache, a)
        #expect(throws: HostCacheError.wrongKind(local)) { try cache.setTrust(.trusted, for: local) }
        #expect(throws: HostCacheError.wrongKind(foreign)) { try cache.addLocalAddress(b, to: foreign) }
        #expect(throws: HostCacheError.wrongKind(local)) {
            try cache.applyBindingUpdates([bu(1)], to: local, matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        }
    }

    // MARK: No creation on receipt (2.3.4)

    @Test func receiptNeverCreatesEntries() throws {
        let (cache, _) = makeCache()
        let stranger = ip("2001:db8:dead::1")
        #expect(cache.foreignMatch(for: stranger) == nil)
        #expect(cache.index.lookupForeign(stranger) == nil)
        #expect(!cache.touch(stranger))
        let ghost = HostCacheEntryID(slot: 0, generation: 1)
        #expect(!cache.noteReceived(from: stranger, entry: ghost))
        #expect(throws: HostCacheError.unknownEntry(ghost)) {
            try cache.applyBindingUpdates([bu(1)], to: ghost, matchedBy: .packetSource, packetSource: stranger, homeAddress: nil)
        }
        #expect(cache.entryCount == 0)
        #expect(cache.foreignAddressCount == 0)
    }

    @Test func bindingUpdateMustComeThroughAnAddressOfTheEntry() throws {
        let (cache, _) = makeCache()
        let id = try newForeign(cache, a)
        #expect(throws: HostCacheError.addressNotInEntry(b, id)) {
            try cache.applyBindingUpdates([bu(1)], to: id, matchedBy: .packetSource, packetSource: b, homeAddress: nil)
        }
        #expect(throws: HostCacheError.addressNotInEntry(c, id)) {
            try cache.applyBindingUpdates([bu(1)], to: id, matchedBy: .homeAddressOption, packetSource: b, homeAddress: c)
        }
        #expect(cache.entry(id)?.lastAcceptedSequence == nil)
    }

    @Test func staleIdentifierNeverReachesANewEntryInTheSameSlot() throws {
        let (cache, _) = makeCache(HostCacheParameters(maximumEntries: 1))
        let first = try newForeign(cache, a)
        _ = try cache.removeEntry(first)
        let second = try newForeign(cache, b)
        #expect(first.slot == second.slot)
        #expect(first != second)
        #expect(cache.entry(first) == nil)
        #expect(cache.index.entries.read(first) == nil)
        #expect(!cache.noteReceived(from: b, entry: first))
        #expect(cache.index.lookupForeign(b)?.entry == second)
    }

    // MARK: One owner per address, address reuse (1.3, 5.3)

    @Test func creatingForAKnownLiveAddressReturnsTheExistingEntry() throws {
        let (cache, _) = makeCache()
        let id = try newForeign(cache, a, also: [b])
        #expect(try cache.createForeignEntry(for: b) == .existing(id))
        #expect(cache.entryCount == 1)
    }

    @Test func liveAddressOfAnotherEntryIsNeverClaimedSilently() throws {
        let (cache, _) = makeCache()
        let x = try newForeign(cache, a, trust: .trusted)
        let y = try newForeign(cache, b, trust: .trusted)
        #expect(throws: HostCacheError.addressConflict(b, owner: y)) { try cache.createForeignEntry(for: c, alsoKnownAs: [b]) }
        let outcome = try cache.applyBindingUpdates([bu(1, ack: true, [.alternateCareOfAddress(b)])], to: x,
                                                    matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: b, entry: x, kind: .conflict(owner: y))])
        #expect(outcome.dispositions.first?.status == BindingAcknowledgement.Status.administrativelyProhibited.rawValue)
        #expect(outcome.acknowledgements.map(\.status) == [130])
        #expect(cache.foreignMatch(for: b) == ForeignMatch(entry: y, isLive: true))
        #expect(cache.entry(x)?.addresses[b] == nil)
        #expect(cache.index.lookupForeign(b)?.entry == y)
    }

    @Test func expiredAddressOfAnotherEntryMovesToTheClaimant() throws {
        let (cache, clock) = makeCache()
        let y = try newForeign(cache, b)
        clock.advance(seconds: 601)
        cache.expire()
        // A packet from the expired address is not Y's any more.
        #expect(cache.foreignMatch(for: b) == ForeignMatch(entry: y, isLive: false))
        #expect(!cache.noteReceived(from: b, entry: y))
        let x = try newForeign(cache, a, trust: .trusted)
        let outcome = try cache.applyBindingUpdates([bu(1, [.alternateCareOfAddress(b)])], to: x,
                                                    matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        #expect(outcome.changes.contains(AddressChange(address: b, entry: x, kind: .takenOver(from: y))))
        #expect(outcome.dispositions.first?.status == 0)
        #expect(cache.foreignMatch(for: b) == ForeignMatch(entry: x, isLive: true))
        #expect(cache.entry(y) == nil)  // its last address went, no references: removed (2.1.4)
        #expect(outcome.removedEntries == [y])
        #expect(cache.index.lookupForeign(b)?.entry == x)
    }

    @Test func newConnectionToAnExpiredAddressGetsANewEntry() throws {
        let (cache, clock) = makeCache()
        let y = try newForeign(cache, b, also: [c])
        try cache.retain(y)
        clock.advance(seconds: 601)
        cache.expire()
        let creation = try cache.createForeignEntry(for: b)
        guard case .created(let x, let evicted, let changes) = creation else {
            Issue.record("expected a new entry, got \(creation)")
            return
        }
        #expect(x != y)
        #expect(evicted.isEmpty)
        #expect(changes == [AddressChange(address: b, entry: x, kind: .takenOver(from: y))])
        // Y keeps its other (expired) address and its connection.
        #expect(cache.entry(y)?.addresses.keys.sorted() == [c])
        #expect(cache.foreignMatch(for: b)?.entry == x)
    }

    @Test func localAddressesWinOverForeignClaims() throws {
        let (cache, _) = makeCache()
        let local = try cache.createLocalEntry()
        try cache.addLocalAddress(c, to: local)
        #expect(throws: HostCacheError.addressConflict(c, owner: local)) { try cache.createForeignEntry(for: c) }
        let x = try newForeign(cache, a, also: [b], trust: .trusted)
        let outcome = try cache.applyBindingUpdates([bu(1, [.alternateCareOfAddress(c)])], to: x,
                                                    matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: c, entry: x, kind: .conflict(owner: local))])
        // An address we acquire leaves the Foreign entry that held it.
        let changes = try cache.addLocalAddress(b, to: local)
        #expect(changes == [AddressChange(address: b, entry: x, kind: .removed),
                            AddressChange(address: b, entry: local, kind: .added)])
        #expect(cache.foreignMatch(for: b) == nil)
        #expect(cache.index.lookupLocal(b)?.entry == local)
        #expect(cache.index.lookupForeign(b) == nil)
    }

    @Test func severalLocalPersonalitiesMayShareAnAddress() throws {
        let (cache, _) = makeCache()
        let first = try cache.createLocalEntry()
        let second = try cache.createLocalEntry()
        let shared = ip("2001:db8:a::1")
        try cache.addLocalAddress(shared, to: first)
        try cache.addLocalAddress(ip("fe80::1"), to: first)
        try cache.addLocalAddress(shared, to: second)
        #expect(Set(cache.localEntries(containing: shared)) == [first, second])
        let hit = try #require(cache.index.lookupLocal(shared))
        #expect(hit.isLocal && hit.isShared)
        #expect(cache.index.lookupLocal(ip("fe80::1"))?.isShared == false)
        try cache.removeLocalAddress(shared, from: cache.localEntries(containing: shared)[0])
        #expect(cache.index.lookupLocal(shared)?.isShared == false)
        #expect(throws: HostCacheError.invalidAddress(.unspecified)) { try cache.addLocalAddress(.unspecified, to: first) }
    }

    @Test func invalidForeignAddressesAreRefused() throws {
        let (cache, _) = makeCache()
        #expect(throws: HostCacheError.invalidAddress(.unspecified)) { try cache.createForeignEntry(for: .unspecified) }
        #expect(throws: HostCacheError.invalidAddress(ip("ff02::1"))) { try cache.createForeignEntry(for: ip("ff02::1")) }
        let id = try newForeign(cache, a, trust: .trusted)
        let outcome = try cache.applyBindingUpdates([bu(1, [.alternateCareOfAddress(.loopback)])], to: id,
                                                    matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: .loopback, entry: id, kind: .invalid)])
        #expect(outcome.dispositions.first?.status == 130)
    }

    // MARK: Capacity and random eviction of untrusted entries (5.2)

    @Test func fullCacheEvictsARandomUntrustedEntry() throws {
        let (cache, _) = makeCache(HostCacheParameters(maximumEntries: 4))
        let trusted = try newForeign(cache, ip("2001:db8::1"), trust: .trusted)
        let untrusted = try (2...4).map { try newForeign(cache, ip("2001:db8::\($0)")) }
        let creation = try cache.createForeignEntry(for: ip("2001:db8::5"))
        guard case .created(let id, let evicted, _) = creation else {
            Issue.record("expected creation, got \(creation)")
            return
        }
        #expect(evicted.count == 1)
        let victim = try #require(evicted.first)
        #expect(untrusted.contains(victim))
        #expect(cache.entry(victim) == nil)
        #expect(cache.entry(trusted) != nil)
        #expect(cache.entry(id) != nil)
        #expect(cache.entryCount == 4)
        #expect(cache.index.lookupForeign(ip("2001:db8::\(victim.slot + 1)")) == nil)
    }

    @Test func evictionIsDrivenByTheInjectedRandomSource() throws {
        func victims(seed: UInt64) throws -> [UInt32] {
            let (cache, _) = makeCache(HostCacheParameters(maximumEntries: 8), seed: seed)
            for index in 1...8 { _ = try newForeign(cache, ip("2001:db8::\(index)")) }
            var result: [UInt32] = []
            for index in 9...40 {
                guard case .created(_, let evicted, _) = try cache.createForeignEntry(for: ip("2001:db8::\(index)")) else {
                    return []
                }
                result += evicted.map(\.slot)
            }
            return result
        }
        let first = try victims(seed: 7)
        #expect(first.count == 32)
        #expect(try victims(seed: 7) == first)  // deterministic for a seed
        #expect(Set(first).count > 1)  // and not always the same slot
        #expect(try victims(seed: 8) != first)
    }

    @Test func noEvictableEntryMeansCacheFull() throws {
        let (cache, _) = makeCache(HostCacheParameters(maximumEntries: 2))
        let referenced = try newForeign(cache, a)
        try cache.retain(referenced)  // untrusted but in use: not evictable
        _ = try newForeign(cache, b, trust: .trusted)
        #expect(throws: HostCacheError.cacheFull) { try cache.createForeignEntry(for: c) }
        #expect(throws: HostCacheError.cacheFull) { try cache.createLocalEntry() }
        try cache.release(referenced)
        #expect(try cache.createForeignEntry(for: c) != .existing(referenced))
        #expect(cache.entry(referenced) == nil)
    }

    @Test func addressCapacityEvictsOtherUntrustedEntriesOrRefuses() throws {
        let (cache, _) = makeCache(HostCacheParameters(maximumEntries: 8, maximumForeignAddresses: 3))
        let x = try newForeign(cache, a, trust: .trusted)
        let victim = try newForeign(cache, b)
        _ = try newForeign(cache, c, trust: .trusted)
        let extra = ip("2001:db8:c::d")
        let outcome = try cache.applyBindingUpdates([bu(1, ack: true, [.alternateCareOfAddress(extra)])], to: x,
                                                    matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        #expect(outcome.changes.contains(AddressChange(address: extra, entry: x, kind: .added)))
        #expect(outcome.removedEntries == [victim])
        #expect(cache.entry(victim) == nil)
        #expect(cache.foreignAddressCount == 3)
        // Nothing untrusted left: the next address is refused with 131.
        let more = ip("2001:db8:c::e")
        let refused = try cache.applyBindingUpdates([bu(2, ack: true, [.alternateCareOfAddress(more)])], to: x,
                                                    matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        #expect(refused.changes == [AddressChange(address: more, entry: x, kind: .noSpace)])
        #expect(refused.dispositions.map(\.status) == [131])
        #expect(refused.acknowledgements == [BindingAcknowledgement(status: 131, sequence: 2, lifetime: 300, refresh: 300)])
        #expect(cache.entry(x)?.lastAcceptedSequence == 2)
    }

    @Test func anEntryIsNeverEvictedToMakeRoomForItself() throws {
        let (cache, _) = makeCache(HostCacheParameters(maximumEntries: 4, maximumForeignAddresses: 1))
        let x = try newForeign(cache, a)
        let outcome = try cache.applyBindingUpdates([bu(1, [.alternateCareOfAddress(b)])], to: x,
                                                    matchedBy: .packetSource, packetSource: a, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: b, entry: x, kind: .noSpace)])
        #expect(cache.entry(x) != nil)
    }
}
