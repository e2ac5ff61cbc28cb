import HomelessCore
import HomelessWire
import Testing

/// The limits an untrusted Foreign entry lives under (draft 5.2): Binding
/// Update lifetimes clamped to a cap (infinity included), a bounded number
/// of addresses; trusted entries have neither limit.
@Suite struct HostCacheUntrustedLimitsTests {
    static let peer = ip("2001:db8:7::1")

    static func alternates(_ count: Int) -> [MobilitySubOption] {
        (0..<count).map { .alternateCareOfAddress(IPv6Address(high: 0x2001_0db8_0007_0000, low: UInt64(0x100 + $0))) }
    }

    @Test func untrustedLifetimesAreClampedToTheCapInfinityIncluded() throws {
        let (cache, clock) = makeCache(HostCacheParameters(untrustedLifetimeCap: 30))
        let entry = try newForeign(cache, Self.peer, trust: .untrusted)
        let outcome = try cache.applyBindingUpdates([bu(1, lifetime: BindingUpdate.infiniteLifetime, ack: true)], to: entry,
                                                    matchedBy: .packetSource, packetSource: Self.peer, homeAddress: nil)
        #expect(outcome.dispositions.first?.grantedLifetime == 30)
        #expect(outcome.acknowledgements.last?.lifetime == 30, "the peer learns the lifetime it got")
        let shorter = try cache.applyBindingUpdates([bu(2, lifetime: 10)], to: entry, matchedBy: .packetSource,
                                                    packetSource: Self.peer, homeAddress: nil)
        #expect(shorter.dispositions.first?.grantedLifetime == 10, "a shorter lifetime is honoured")
        clock.advance(seconds: 10)
        cache.expire()
        #expect(cache.entry(entry)?.liveAddresses.isEmpty == true)
    }

    @Test func theCapDefaultsToDefaultLifetime() throws {
        let (cache, _) = makeCache(HostCacheParameters(defaultLifetime: 45))
        let entry = try newForeign(cache, Self.peer, trust: .untrusted)
        let outcome = try cache.applyBindingUpdates([bu(1, lifetime: 4000)], to: entry, matchedBy: .packetSource,
                                                    packetSource: Self.peer, homeAddress: nil)
        #expect(outcome.dispositions.first?.grantedLifetime == 45)
    }

    @Test func trustedEntriesKeepTheLifetimeTheyAskFor() throws {
        let (cache, clock) = makeCache(HostCacheParameters(untrustedLifetimeCap: 30))
        let entry = try newForeign(cache, Self.peer, trust: .trusted)
        let outcome = try cache.applyBindingUpdates([bu(1, lifetime: BindingUpdate.infiniteLifetime)], to: entry,
                                                    matchedBy: .packetSource, packetSource: Self.peer, homeAddress: nil)
        #expect(outcome.dispositions.first?.grantedLifetime == BindingUpdate.infiniteLifetime)
        clock.advance(seconds: 100_000)
        cache.expire()
        #expect(cache.entry(entry)?.liveAddresses == [Self.peer])
    }

    @Test func anUntrustedEntryHoldsAtMostItsAddressCap() throws {
        let (cache, _) = makeCache(HostCacheParameters(maximumAddressesPerUntrustedEntry: 3))
        let entry = try newForeign(cache, Self.peer, trust: .untrusted)
        let outcome = try cache.applyBindingUpdates([bu(1, ack: true, Self.alternates(5))], to: entry,
                                                    matchedBy: .packetSource, packetSource: Self.peer, homeAddress: nil)
        #expect(cache.entry(entry)?.addresses.count == 3, "the entry's own address and two of the five")
        #expect(outcome.changes.filter { $0.kind == .noSpace }.count == 3)
        #expect(outcome.dispositions.first?.status == BindingAcknowledgement.Status.insufficientResources.rawValue)
        // Refreshing what it holds is not refused.
        let refresh = try cache.applyBindingUpdates([bu(2, Self.alternates(2))], to: entry, matchedBy: .packetSource,
                                                    packetSource: Self.peer, homeAddress: nil)
        #expect(refresh.changes.allSatisfy { $0.kind == .refreshed })
        #expect(cache.invariantViolations().isEmpty)
    }

    @Test func aTrustedEntryHasNoPerEntryAddressCap() throws {
        let (cache, _) = makeCache(HostCacheParameters(maximumAddressesPerUntrustedEntry: 3))
        let entry = try newForeign(cache, Self.peer, trust: .trusted)
        _ = try cache.applyBindingUpdates([bu(1, Self.alternates(5))], to: entry, matchedBy: .packetSource,
                                          packetSource: Self.peer, homeAddress: nil)
        #expect(cache.entry(entry)?.addresses.count == 6)
    }

    @Test func evictionPicksOnlyUntrustedEntriesAndAFullTrustedCacheRefuses() throws {
        let (cache, _) = makeCache(HostCacheParameters(maximumEntries: 4))
        let trusted = try (0..<2).map { try newForeign(cache, IPv6Address(high: 0x2001_0db8_0008_0000, low: UInt64($0 + 1)), trust: .trusted) }
        var untrusted = try Set((0..<2).map { try newForeign(cache, IPv6Address(high: 0x2001_0db8_0009_0000, low: UInt64($0 + 1))) })
        for round in 0..<200 {
            let creation = try cache.createForeignEntry(for: IPv6Address(high: 0x2001_0db8_000a_0000, low: UInt64(round + 1)))
            guard case .created(let id, let evicted, _) = creation else { Issue.record("not created"); return }
            #expect(evicted.count == 1)
            #expect(evicted.allSatisfy { untrusted.contains($0) }, "only untrusted entries are evicted")
            untrusted.subtract(evicted)
            untrusted.insert(id)
        }
        #expect(trusted.allSatisfy { cache.entry($0) != nil }, "trusted entries never are")
        // Full of trusted entries: a new untrusted one is refused.
        for id in untrusted { try cache.setTrust(.trusted, for: id) }
        #expect(throws: HostCacheError.cacheFull) { try cache.createForeignEntry(for: ip("2001:db8:b::1")) }
        #expect(cache.entryCount == 4)
    }
}
