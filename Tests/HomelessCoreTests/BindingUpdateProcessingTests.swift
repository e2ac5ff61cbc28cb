import Testing
@testable import HomelessCore
import HomelessWire

/// Draft 2.1.2, 2.3.1, 3.1, 3.2.1, 3.2.2, 5.2 and MIPv6-12 5.1 as applied by
/// `HostCache.applyBindingUpdates`.
@Suite struct BindingUpdateProcessingTests {
    let home = ip("2001:db8:a::100")
    let careOf = ip("2001:db8:b::100")
    let other = ip("2001:db8:b::200")

    func trustedPeer(_ cache: HostCache, _ address: IPv6Address? = nil) throws -> HostCacheEntryID {
        try newForeign(cache, address ?? home, trust: .trusted)
    }

    // MARK: Add, refresh, delete

    @Test func homeAddressOptionRegistersTheNewSource() throws {
        let (cache, clock) = makeCache()
        let id = try trustedPeer(cache)
        clock.advance(seconds: 5)
        // 2.2.1: sending from a new address with HAO (a registered address) + BU.
        let outcome = try cache.applyBindingUpdates([bu(1, lifetime: 200, ack: true)], to: id,
                                                    matchedBy: .homeAddressOption, packetSource: careOf, homeAddress: home)
        #expect(outcome.changes == [AddressChange(address: careOf, entry: id, kind: .added)])
        #expect(outcome.dispositions == [BindingUpdateDisposition(sequence: 1, status: 0, rejection: nil, grantedLifetime: 200,
                                                                  acknowledgementRequested: true, isDeletion: false)])
        #expect(outcome.acknowledgements == [BindingAcknowledgement(status: 0, sequence: 1, lifetime: 200, refresh: 200)])
        let entry = try #require(cache.entry(id))
        #expect(entry.addresses[careOf]?.lifetime == .absolute(expiresAt: at(205)))
        #expect(entry.addresses[home]?.lifetime == .activity(lastUse: testEpoch))  // not covered by the BU
        #expect(entry.preferredDestination == careOf)  // source of the last packet (1.4)
        #expect(entry.lastAcceptedSequence == 1)
        #expect(entry.capability == .standardMobile)  // BU without Homeless Support (2.3.3)
        #expect(cache.index.lookupForeign(careOf)?.entry == id)
        #expect(cache.index.destination(forForeign: home) == careOf)
    }

    @Test func laterBindingUpdateRefreshesTheLifetime() throws {
        let (cache, clock) = makeCache()
        let id = try trustedPeer(cache)
        _ = try cache.applyBindingUpdates([bu(1, lifetime: 100)], to: id, matchedBy: .homeAddressOption,
                                          packetSource: careOf, homeAddress: home)
        clock.advance(seconds: 90)
        let outcome = try cache.applyBindingUpdates([bu(2, lifetime: 100)], to: id, matchedBy: .packetSource,
                                                    packetSource: careOf, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: careOf, entry: id, kind: .refreshed)])
        #expect(cache.entry(id)?.addresses[careOf]?.lifetime == .absolute(expiresAt: at(190)))
        #expect(outcome.acknowledgements.isEmpty)  // no A bit, nothing refused
    }

    @Test func bindingUpdateRevivesItsOwnExpiredAddress() throws {
        let (cache, clock) = makeCache()
        let id = try trustedPeer(cache)
        _ = try cache.applyBindingUpdates([bu(1, lifetime: 10, [.alternateCareOfAddress(careOf)])], to: id,
                                          matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        clock.advance(seconds: 20)
        cache.expire()
        #expect(cache.index.lookupForeign(careOf)?.isExpired == true)
        let outcome = try cache.applyBindingUpdates([bu(2, lifetime: 10, [.alternateCareOfAddress(careOf)])], to: id,
                                                    matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: careOf, entry: id, kind: .refreshed)])
        #expect(cache.entry(id)?.addresses[careOf]?.state == .live)
        #expect(cache.index.lookupForeign(careOf)?.isExpired == false)
    }

    @Test func zeroLifetimeExpiresTheRegisteredAddresses() throws {
        let (cache, clock) = makeCache()
        let id = try trustedPeer(cache)
        _ = try cache.applyBindingUpdates([bu(1, [.alternateCareOfAddress(careOf), .alternateCareOfAddress(other)])], to: id,
                                          matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(cache.entry(id)?.liveAddresses == [home, careOf, other])
        // 2.2.1: "a Binding Update removing the IP address", A bit set. The
        // address is kept as expired (2.1.3 recommends it), not deleted.
        let outcome = try cache.applyBindingUpdates([bu(2, lifetime: 0, ack: true, [.alternateCareOfAddress(other)])], to: id,
                                                    matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: other, entry: id, kind: .expired)])
        #expect(outcome.dispositions.first?.isDeletion == true)
        #expect(outcome.acknowledgements == [BindingAcknowledgement(status: 0, sequence: 2, lifetime: 0, refresh: 0)])
        #expect(cache.entry(id)?.liveAddresses == [home, careOf])
        #expect(cache.entry(id)?.expiredAddresses == [other])
        #expect(cache.index.lookupForeign(other)?.isExpired == true)
        #expect(cache.invariantViolations().isEmpty)
        // A second deletion of the same address changes nothing.
        let again = try cache.applyBindingUpdates([bu(3, lifetime: 0, [.alternateCareOfAddress(other)])], to: id,
                                                  matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(again.changes.isEmpty)
        // Purged by the sweep after MAXIMUM-EXPIRED-LIFETIME, not before.
        clock.advance(seconds: cache.parameters.maximumExpiredLifetime - 1)
        #expect(!cache.expire().changes.contains { $0.address == other })
        clock.advance(seconds: 1)
        #expect(cache.expire().changes.contains(AddressChange(address: other, entry: id, kind: .purged)))
        #expect(cache.index.lookupForeign(other) == nil)
    }

    @Test func anAddressWithdrawnByOnePeerMayBeRegisteredByAnother() throws {
        // 5.3: the expired address is never attributed to its previous owner
        // once another peer registers it.
        let (cache, _) = makeCache()
        let x = try trustedPeer(cache)
        _ = try cache.applyBindingUpdates([bu(1, [.alternateCareOfAddress(other)])], to: x,
                                          matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        _ = try cache.applyBindingUpdates([bu(2, lifetime: 0, [.alternateCareOfAddress(other)])], to: x,
                                          matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        let y = try newForeign(cache, careOf)
        let outcome = try cache.applyBindingUpdates([bu(1, [.alternateCareOfAddress(other)])], to: y,
                                                    matchedBy: .packetSource, packetSource: careOf, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: other, entry: y, kind: .takenOver(from: x))])
        #expect(cache.foreignMatch(for: other)?.entry == y)
        #expect(cache.entry(x)?.addresses[other] == nil)
    }

    @Test func zeroLifetimeNeverDeletesAnotherEntrysAddress() throws {
        let (cache, _) = makeCache()
        let x = try trustedPeer(cache)
        let y = try newForeign(cache, other)
        let outcome = try cache.applyBindingUpdates([bu(1, lifetime: 0, [.alternateCareOfAddress(other)])], to: x,
                                                    matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(outcome.changes.isEmpty)
        #expect(cache.foreignMatch(for: other)?.entry == y)
    }

    @Test func deletingTheLastAddressRemovesTheUnreferencedEntryWhenPurged() throws {
        // 2.1.4: the entry goes when its last (expired) address is removed
        // and nothing refers to it.
        let (cache, clock) = makeCache()
        let id = try trustedPeer(cache)
        let outcome = try cache.applyBindingUpdates([bu(1, lifetime: 0)], to: id, matchedBy: .packetSource,
                                                    packetSource: home, homeAddress: nil)
        #expect(!outcome.entryRemoved)
        #expect(cache.entry(id)?.liveAddresses == [])
        #expect(cache.entry(id)?.expiredAddresses == [home])
        #expect(cache.entry(id)?.preferredDestination == nil)
        clock.advance(seconds: cache.parameters.maximumExpiredLifetime)
        let report = cache.expire()
        #expect(report.removedEntries == [id])
        #expect(cache.entry(id) == nil)
        #expect(cache.index.lookupForeign(home) == nil)
    }

    @Test func careOfEqualToHomeAddressDeletesTheBinding() throws {
        let (cache, _) = makeCache()
        let id = try trustedPeer(cache)
        _ = try cache.applyBindingUpdates([bu(1, lifetime: 100, [.alternateCareOfAddress(careOf), .alternateCareOfAddress(other)])],
                                          to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        // MIPv6-12 5.1: a standard mobile host back home sends care-of == home.
        let outcome = try cache.applyBindingUpdates([bu(2, lifetime: 100, ack: true)], to: id, matchedBy: .homeAddressOption,
                                                    packetSource: home, homeAddress: home)
        #expect(outcome.changes == [AddressChange(address: careOf, entry: id, kind: .removed),
                                    AddressChange(address: other, entry: id, kind: .removed)])
        #expect(outcome.dispositions.first?.isDeletion == true)
        #expect(outcome.acknowledgements == [BindingAcknowledgement(status: 0, sequence: 2, lifetime: 0, refresh: 0)])
        #expect(cache.entry(id)?.liveAddresses == [home])
        // The same via an Alternate Care-of Address equal to the home address.
        _ = try cache.applyBindingUpdates([bu(3, lifetime: 100)], to: id, matchedBy: .homeAddressOption,
                                          packetSource: careOf, homeAddress: home)
        let again = try cache.applyBindingUpdates([bu(4, lifetime: 100, [.alternateCareOfAddress(home)])], to: id,
                                                  matchedBy: .homeAddressOption, packetSource: careOf, homeAddress: home)
        #expect(again.changes == [AddressChange(address: careOf, entry: id, kind: .removed)])
    }

    @Test func initialBindingUpdateRegistersInsteadOfDeleting() throws {
        // 3.2.1: HAO == source, Homeless Support first, Alternate Prefixes after.
        let (cache, clock) = makeCache()
        let source = ip("2001:db8:a::1:2:3:4")
        let id = try newForeign(cache, source, trust: .trusted)
        clock.advance(seconds: 1)
        let prefixes = AlternatePrefixes(prefixLengthCode: 1, prefixes: [[0x20, 0x01, 0x0d, 0xb8, 0, 0x0b, 0, 0]])
        let outcome = try cache.applyBindingUpdates([bu(7, lifetime: 400, ack: true, [.homelessSupport, .alternatePrefixes(prefixes)])],
                                                    to: id, matchedBy: .homeAddressOption, packetSource: source, homeAddress: source)
        let expanded = ip("2001:db8:b::1:2:3:4")
        #expect(outcome.changes == [AddressChange(address: source, entry: id, kind: .refreshed),
                                    AddressChange(address: expanded, entry: id, kind: .added)])
        #expect(outcome.dispositions.first?.isDeletion == false)
        #expect(outcome.acknowledgements == [BindingAcknowledgement(status: 0, sequence: 7, lifetime: 400, refresh: 400)])
        let entry = try #require(cache.entry(id))
        #expect(entry.capability == .homeless)
        #expect(entry.addresses[source]?.lifetime == .absolute(expiresAt: at(401)))
        #expect(entry.addresses[expanded]?.lifetime == .absolute(expiresAt: at(401)))
        #expect(cache.index.entries.read(id)?.capability == .homeless)
    }

    @Test func homelessCapabilityIsNotDowngradedByLaterPlainUpdates() throws {
        let (cache, _) = makeCache()
        let id = try trustedPeer(cache)
        _ = try cache.applyBindingUpdates([bu(1, [.homelessSupport])], to: id, matchedBy: .packetSource,
                                          packetSource: home, homeAddress: nil)
        _ = try cache.applyBindingUpdates([bu(2)], to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(cache.entry(id)?.capability == .homeless)
    }

    // MARK: Alternate Care-of Address and Alternate Prefixes

    @Test func everyAlternateCareOfAddressIsRegisteredInsteadOfTheSource() throws {
        let (cache, _) = makeCache()
        let id = try trustedPeer(cache)
        let source = ip("2001:db8:f::1")
        let outcome = try cache.applyBindingUpdates([bu(1, [.alternateCareOfAddress(careOf), .uniqueIdentifier(9),
                                                             .alternateCareOfAddress(other)])],
                                                    to: id, matchedBy: .homeAddressOption, packetSource: source, homeAddress: home)
        #expect(outcome.changes.map(\.address) == [careOf, other])
        #expect(cache.entry(id)?.addresses[source] == nil)
    }

    @Test func prefixSuffixComesFromThePacketSourceWithoutAPrecedingAlternateCareOf() throws {
        let source = ip("2001:db8:a::aaaa:bbbb:cccc:dddd")
        let update = bu(1, [.alternatePrefixes(AlternatePrefixes(prefixLengthCode: 1, prefixes: [
            [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0b, 0x00, 0x00], [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0c, 0x00, 0x00],
        ])), .alternateCareOfAddress(careOf)])
        // The Alt CoA comes after the prefixes, so it is not their suffix source.
        #expect(HostCache.registeredAddresses(of: update, packetSource: source) == [
            careOf, ip("2001:db8:b::aaaa:bbbb:cccc:dddd"), ip("2001:db8:c::aaaa:bbbb:cccc:dddd"),
        ])
    }

    @Test func prefixSuffixComesFromTheNearestPrecedingAlternateCareOf() throws {
        let source = ip("2001:db8:a::1")
        let first = ip("2001:db8:b::1111:2222:3333:4444")
        let second = ip("2001:db8:b::5555:6666:7777:8888")
        let prefix: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0x00, 0x0d, 0x00, 0x00]
        let update = bu(1, [
            .alternateCareOfAddress(first),
            .alternatePrefixes(AlternatePrefixes(prefixLengthCode: 1, prefixes: [prefix])),
            .alternateCareOfAddress(second),
            .alternatePrefixes(AlternatePrefixes(prefixLengthCode: 1, prefixes: [prefix])),
        ])
        #expect(HostCache.registeredAddresses(of: update, packetSource: source) == [
            first, second, ip("2001:db8:d::1111:2222:3333:4444"), ip("2001:db8:d::5555:6666:7777:8888"),
        ])
    }

    struct PrefixCase: Sendable, CustomStringConvertible {
        var code: UInt8
        var expected: String
        var prefix: [UInt8] { [UInt8](repeating: 0xAB, count: 4 * (Int(code) + 1)) }
        var description: String { "PL=\(code)" }
    }

    @Test(arguments: [
        PrefixCase(code: 0, expected: "abab:abab:a:0:1111:2222:3333:4444"),
        PrefixCase(code: 1, expected: "abab:abab:abab:abab:1111:2222:3333:4444"),
        PrefixCase(code: 2, expected: "abab:abab:abab:abab:abab:abab:3333:4444"),
        PrefixCase(code: 3, expected: "abab:abab:abab:abab:abab:abab:abab:abab"),
    ])
    func alternatePrefixesOfEveryLength(_ testCase: PrefixCase) throws {
        // P = 4 * (PL + 1) bytes (WIRE.md erratum), the rest from the suffix source.
        let (cache, _) = makeCache()
        let source = ip("2001:db8:a:0:1111:2222:3333:4444")
        let id = try newForeign(cache, source, trust: .trusted)
        let outcome = try cache.applyBindingUpdates(
            [bu(1, [.alternatePrefixes(AlternatePrefixes(prefixLengthCode: testCase.code, prefixes: [testCase.prefix]))])],
            to: id, matchedBy: .packetSource, packetSource: source, homeAddress: nil)
        #expect(outcome.changes == [AddressChange(address: source, entry: id, kind: .refreshed),
                                    AddressChange(address: ip(testCase.expected), entry: id, kind: .added)])
    }

    @Test func shortPrefixDataNeverTraps() {
        let combined = HostCache.combine(prefix: [0xFF], byteCount: 16, suffix: ip("2001:db8::1"))
        #expect(combined == ip("ff01:db8::1"))
        #expect(HostCache.combine(prefix: [], byteCount: 8, suffix: ip("2001:db8::1")) == ip("2001:db8::1"))
    }

    // MARK: Sequence numbers

    @Test func staleSequenceNumberIsRejectedWithTheLastAccepted() throws {
        let (cache, _) = makeCache()
        let id = try trustedPeer(cache)
        _ = try cache.applyBindingUpdates([bu(500)], to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        for stale: UInt16 in [500, 499, 100, 500 &+ 32_768] {
            let outcome = try cache.applyBindingUpdates([bu(stale, [.alternateCareOfAddress(careOf)])], to: id,
                                                        matchedBy: .packetSource, packetSource: home, homeAddress: nil)
            #expect(outcome.dispositions == [BindingUpdateDisposition(
                sequence: stale, status: 141, rejection: .sequenceNotNewer(lastAccepted: 500), grantedLifetime: 0,
                acknowledgementRequested: false, isDeletion: false)])
            #expect(outcome.acknowledgements == [BindingAcknowledgement(status: 141, sequence: 500, lifetime: 0, refresh: 0)])
            #expect(outcome.changes.isEmpty)
        }
        #expect(cache.entry(id)?.addresses[careOf] == nil)
        #expect(cache.entry(id)?.lastAcceptedSequence == 500)
        let newer = try cache.applyBindingUpdates([bu(500 &+ 32_767)], to: id, matchedBy: .packetSource,
                                                  packetSource: home, homeAddress: nil)
        #expect(newer.dispositions.first?.status == 0)
    }

    @Test func sequenceNumbersWrapAround() throws {
        let (cache, _) = makeCache()
        let id = try trustedPeer(cache)
        _ = try cache.applyBindingUpdates([bu(65_535)], to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        let wrapped = try cache.applyBindingUpdates([bu(0)], to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(wrapped.dispositions.first?.status == 0)
        #expect(cache.entry(id)?.lastAcceptedSequence == 0)
        let back = try cache.applyBindingUpdates([bu(65_535)], to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(back.dispositions.first?.rejection == .sequenceNotNewer(lastAccepted: 0))
    }

    @Test func severalIncreasingUpdatesGetOneAcknowledgement() throws {
        let (cache, _) = makeCache()
        let id = try trustedPeer(cache)
        // 3.2.2: several BUs, e.g. different lifetimes; one BA with the highest number.
        let outcome = try cache.applyBindingUpdates([
            bu(10, lifetime: 100, ack: true, [.alternateCareOfAddress(careOf)]),
            bu(11, lifetime: 200, [.alternateCareOfAddress(other)]),
            bu(65_000 &+ 1_000, lifetime: 50, [.alternateCareOfAddress(ip("2001:db8:b::300"))]),
        ], to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(outcome.dispositions.map(\.status) == [0, 0, 0])
        #expect(outcome.acknowledgements == [BindingAcknowledgement(status: 0, sequence: 464, lifetime: 50, refresh: 50)])
        #expect(cache.entry(id)?.addresses[careOf]?.lifetime == .absolute(expiresAt: at(100)))
        #expect(cache.entry(id)?.addresses[other]?.lifetime == .absolute(expiresAt: at(200)))
        #expect(cache.entry(id)?.lastAcceptedSequence == 464)
    }

    @Test func nonIncreasingUpdateInAPacketIsRejected() throws {
        let (cache, _) = makeCache()
        let id = try trustedPeer(cache)
        let outcome = try cache.applyBindingUpdates([
            bu(20, ack: true, [.alternateCareOfAddress(careOf)]),
            bu(20, [.alternateCareOfAddress(other)]),
        ], to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(outcome.dispositions.map(\.rejection) == [nil, .notIncreasingInPacket(previous: 20)])
        #expect(outcome.acknowledgements == [
            BindingAcknowledgement(status: 141, sequence: 20, lifetime: 0, refresh: 0),
            BindingAcknowledgement(status: 0, sequence: 20, lifetime: 300, refresh: 300),
        ])
        #expect(cache.entry(id)?.addresses[other] == nil)

        // The order check applies even when the earlier BU was itself rejected:
        // last accepted 20; packet [3, 21]: 3 is stale, 21 is newer than both.
        let mixed = try cache.applyBindingUpdates([bu(3), bu(21, [.alternateCareOfAddress(other)])], to: id,
                                                  matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(mixed.dispositions.map(\.rejection) == [.sequenceNotNewer(lastAccepted: 20), nil])
        #expect(cache.entry(id)?.addresses[other] != nil)
        // Packet [23, 22]: 22 is newer than the last accepted before the
        // packet, but not greater than its predecessor.
        let backwards = try cache.applyBindingUpdates([bu(23), bu(22, ack: true)], to: id,
                                                      matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(backwards.dispositions.map(\.rejection) == [nil, .notIncreasingInPacket(previous: 23)])
        #expect(backwards.acknowledgements == [BindingAcknowledgement(status: 141, sequence: 23, lifetime: 0, refresh: 0)])
    }

    @Test func noAcknowledgementUnlessRequestedOrRefused() throws {
        let (cache, _) = makeCache()
        let id = try trustedPeer(cache)
        let outcome = try cache.applyBindingUpdates([bu(1), bu(2)], to: id, matchedBy: .packetSource,
                                                    packetSource: home, homeAddress: nil)
        #expect(outcome.acknowledgements.isEmpty)
        let one = try cache.applyBindingUpdates([bu(3), bu(4, ack: true), bu(5)], to: id, matchedBy: .packetSource,
                                                packetSource: home, homeAddress: nil)
        #expect(one.acknowledgements.map(\.sequence) == [5])
    }

    // MARK: Trust (5.2)

    @Test func untrustedEntriesGetAtMostTheDefaultLifetime() throws {
        let (cache, _) = makeCache()
        let id = try newForeign(cache, home)
        let outcome = try cache.applyBindingUpdates([bu(1, lifetime: 5_000, ack: true, [.alternateCareOfAddress(careOf)]),
                                                     bu(2, lifetime: BindingUpdate.infiniteLifetime, [.alternateCareOfAddress(other)])],
                                                    to: id, matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(outcome.dispositions.map(\.grantedLifetime) == [600, 600])
        #expect(outcome.acknowledgements == [BindingAcknowledgement(status: 0, sequence: 2, lifetime: 600, refresh: 600)])
        #expect(cache.entry(id)?.addresses[careOf]?.lifetime == .absolute(expiresAt: at(600)))
        #expect(cache.entry(id)?.addresses[other]?.lifetime == .absolute(expiresAt: at(600)))
        // A shorter lifetime than the cap is honoured.
        _ = try cache.applyBindingUpdates([bu(3, lifetime: 30, [.alternateCareOfAddress(careOf)])], to: id,
                                          matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(cache.entry(id)?.addresses[careOf]?.lifetime == .absolute(expiresAt: at(30)))
        // Once trusted, the BU lifetime is used as sent.
        try cache.setTrust(.trusted, for: id)
        _ = try cache.applyBindingUpdates([bu(4, lifetime: 5_000, [.alternateCareOfAddress(careOf)])], to: id,
                                          matchedBy: .packetSource, packetSource: home, homeAddress: nil)
        #expect(cache.entry(id)?.addresses[careOf]?.lifetime == .absolute(expiresAt: at(5_000)))
    }
}
