import Testing
@testable import HomelessEngine
import HomelessCore
import HomelessSecurity
import HomelessWire

/// The Host Cache policy in force in the engine (draft 5.2) and the entry
/// lifecycle (2.1.4): peers known only through anonymous SAs get
/// untrusted entries (capped lifetimes, evictable), peers of configured
/// SAs trusted ones; idle peers go dormant and retire with every per-peer
/// structure, so memory stays flat while peers come and go.
@Suite struct PeerLifecycleTests {
    static let local = TranslationTests.address("2001:db8:c::20")
    static let key = [UInt8](repeating: 0x5A, count: 32)
    static let peerCount = 100_000

    /// cn with a manual clock and short lifetimes: untrusted bindings last
    /// 30 s, expired addresses are kept 30 s.
    struct Host {
        let clock = ManualClock()
        let access: HostCacheAccess
        let controller: MobilityController

        init(maximumEntries: Int = 4096, manualKeys: String? = nil) throws {
            access = HostCacheAccess(HostCache(
                parameters: HostCacheParameters(defaultLifetime: 30, maximumExpiredLifetime: 30,
                                                maximumEntries: maximumEntries, maximumForeignAddresses: 4 * 4096,
                                                untrustedLifetimeCap: 30),
                clock: clock, random: SplitMix64(seed: 11)))
            var database = SecurityAssociationDatabase()
            if let manualKeys {
                try database.loadManual(try ManualKeyingConfiguration(parsing: manualKeys),
                                        isLocal: { $0 == PeerLifecycleTests.local })
            }
            controller = MobilityController(hostCache: access, securityAssociations: database,
                                            localAddresses: [PeerLifecycleTests.local], seed: 5)
        }

        var now: MonotonicInstant { clock.now }
        func entries() -> [HostCacheEntry] { access.read { cache in cache.entryIDs.compactMap { cache.entry($0) } } }
    }

    static func peer(_ index: Int) -> IPv6Address { IPv6Address(high: 0x2001_0db8_0100_0000, low: UInt64(index + 1)) }

    /// Peer `index`'s Initial Binding Update (3.2.1: Home Address = source,
    /// Homeless Support, its address registered) under `association`.
    static func initialUpdate(_ index: Int, under association: inout SecurityAssociation, lifetime: UInt32 = 600,
                              sequence: UInt16 = 7) throws -> [UInt8] {
        try SignallingAuthorisationTests.forgedUpdate(under: &association, to: local, source: peer(index),
                                                      homeAddress: peer(index), registrations: [peer(index)],
                                                      lifetime: lifetime, sequence: sequence)
    }

    /// The anonymous SA pair a handshake with peer `index` leaves at cn
    /// (bound to nothing yet), and the peer's outbound SA to sign with.
    static func anonymousAssociations(_ index: Int) throws -> (atHost: [SecurityAssociation], peerOutbound: SecurityAssociation) {
        let inboundSPI = UInt32(0x10_0000 + 2 * index), outboundSPI = inboundSPI + 1
        let inbound = try SecurityAssociation(spi: inboundSPI, direction: .inbound, algorithm: .hmacSHA256_128, key: key,
                                              source: peer(index), destination: local, associationClass: .anonymous)
        let outbound = try SecurityAssociation(spi: outboundSPI, direction: .outbound, algorithm: .hmacSHA256_128, key: key,
                                               source: local, destination: peer(index), associationClass: .anonymous)
        let signing = try SecurityAssociation(spi: inboundSPI, direction: .outbound, algorithm: .hmacSHA256_128, key: key,
                                              source: peer(index), destination: local, associationClass: .anonymous)
        return ([inbound, outbound], signing)
    }

    /// Peers `range` each complete a handshake's worth of SAs with the
    /// host and send their Initial Binding Update (Homeless Support,
    /// lifetime `lifetime`): the host adopts each with an entry.
    static func arrive(_ range: Range<Int>, at host: Host, lifetime: UInt32 = 600) throws {
        var signers: [SecurityAssociation] = []
        var added = host.controller.securityAssociations.associations
        for index in range {
            let (atHost, signing) = try anonymousAssociations(index)
            added += atHost
            signers.append(signing)
        }
        var database = host.controller.securityAssociations
        try database.replaceAll(with: added)
        host.controller.securityAssociations = database
        for (offset, index) in range.enumerated() {
            let update = try initialUpdate(index, under: &signers[offset], lifetime: lifetime)
            let result = update.withUnsafeBytes { host.controller.handleInbound($0, now: host.now) }
            #expect(result.drop == nil, "peer \(index): \(String(describing: result.drop))")
        }
    }

    @Test func handshakePeersAreUntrustedWithCappedLifetimesAndConfiguredPeersTrusted() throws {
        let host = try Host(manualKeys: MobilityControllerTests.keys)
        try Self.arrive(0..<1, at: host, lifetime: BindingUpdate.infiniteLifetime)
        let anonymous = try #require(host.entries().first { $0.addresses[Self.peer(0)] != nil })
        #expect(anonymous.trust == .untrusted)
        #expect(anonymous.addresses[Self.peer(0)]?.lifetime == .absolute(expiresAt: host.now.adding(seconds: 30)),
                "an infinite lifetime is clamped to the cap")
        // A peer of a configured SA (mn, manual keys) gets a trusted entry.
        let mn = try MobilityControllerTests.Node(local: MobilityControllerTests.mnOld)
        _ = MobilityControllerTests.tcpFrame(from: MobilityControllerTests.mnOld, to: Self.local, flags: 0x02).withUnsafeBytes {
            mn.controller.noteOutbound($0, now: mn.now)
        }
        let initial = try #require(MobilityControllerTests.tcpFrame(from: Self.local, to: MobilityControllerTests.mnOld, flags: 0x12)
            .withUnsafeBytes { mn.controller.noteInbound($0, now: mn.now) }.first)
        #expect(initial.received.withUnsafeBytes { host.controller.handleInbound($0, now: host.now) }.drop == nil)
        let configured = try #require(host.entries().first { $0.addresses[MobilityControllerTests.mnOld] != nil })
        #expect(configured.trust == .trusted)
        #expect(mn.entries().first?.trust == .trusted, "the initiator's entry of a configured peer is trusted too")
    }

    @Test func aFullCacheEvictsAnUntrustedPeerWithItsAssociationsAndState() throws {
        let host = try Host(maximumEntries: 3)
        try Self.arrive(0..<3, at: host)
        #expect(host.entries().count == 3 && host.controller.mobility.peers.count == 3)
        let table = TranslationTable(capacity: 16)
        host.controller.publishTranslations(to: table)
        #expect(table.publishedRecords.count == 3)
        try Self.arrive(3..<4, at: host)
        #expect(host.entries().count == 3)
        #expect(host.controller.statistics.entriesEvicted == 1)
        #expect(host.controller.mobility.peers.count == 3)
        let held = Set(host.entries().flatMap { $0.addresses.keys })
        let evicted = try #require((0..<3).map(Self.peer).first { !held.contains($0) })
        #expect(held.contains(Self.peer(3)))
        // The evicted peer's anonymous SAs went with it; the others are bound.
        let associations = host.controller.securityAssociations.associations
        #expect(associations.count == 6)
        #expect(!associations.contains { $0.source == evicted || $0.destination == evicted })
        #expect(associations.allSatisfy { $0.hostCacheEntry != nil })
        #expect(host.controller.statistics.associationsRetired == 2)
        host.controller.publishTranslations(to: table)
        #expect(table.publishedRecords.count == 3)
        #expect(!table.publishedRecords.contains { $0.peerIdentifier == evicted })
        #expect(!host.controller.peerAddresses.contains(evicted), "no peer route or classifier entry for it")
    }

    @Test func aCacheFullOfTrustedEntriesRefusesANewUntrustedPeer() throws {
        let host = try Host(maximumEntries: 2)
        for index in 100..<102 {
            _ = try host.access.write { (cache) throws(HostCacheError) in
                try cache.createForeignEntry(for: Self.peer(index), trust: .trusted)
            }
        }
        var database = host.controller.securityAssociations
        let (atHost, signing) = try Self.anonymousAssociations(0)
        try database.replaceAll(with: atHost)
        host.controller.securityAssociations = database
        var signer = signing
        let update = try Self.initialUpdate(0, under: &signer)
        let result = update.withUnsafeBytes { host.controller.handleInbound($0, now: host.now) }
        #expect(result.drop == .unknownPeer)
        #expect(host.controller.statistics.entriesRefusedCacheFull == 1)
        #expect(host.entries().count == 2 && host.entries().allSatisfy { $0.trust == .trusted })
    }

    @Test func anIdlePeerGoesDormantThenRetiresWithItsAssociations() throws {
        let host = try Host()
        try Self.arrive(0..<1, at: host)
        let activity = AddressActivity()
        host.clock.advance(seconds: 30)
        _ = host.controller.runExpiry(activity: activity)
        let state = try #require(host.controller.mobility.peers.values.first)
        #expect(state.isDormant, "every address expired: no refreshes")
        #expect(host.controller.statistics.peersIdled == 1)
        #expect(host.controller.nextDeadline == nil, "no timer for refreshes or retransmissions")
        host.clock.advance(seconds: 30)
        let report = host.controller.runExpiry(activity: activity)
        #expect(report.removedEntries.count == 1)
        #expect(host.controller.securityAssociations.count == 0)
        #expect(host.controller.perPeerStructureSizes.values.allSatisfy { $0 == 0 }, "\(host.controller.perPeerStructureSizes)")
    }

    @Test func aDormantPeerThatSpeaksAgainIsRefreshedAgain() throws {
        let host = try Host()
        try Self.arrive(0..<1, at: host)
        host.clock.advance(seconds: 30)
        _ = host.controller.runExpiry(activity: AddressActivity())
        #expect(host.controller.mobility.peers.values.first?.isDormant == true)
        var (_, signer) = try Self.anonymousAssociations(0)
        _ = try Self.initialUpdate(0, under: &signer)
        let update = try Self.initialUpdate(0, under: &signer, sequence: 8)
        #expect(update.withUnsafeBytes { host.controller.handleInbound($0, now: host.now) }.drop == nil)
        #expect(host.controller.mobility.peers.values.first?.isDormant == false)
        #expect(host.entries().first?.liveAddresses == [Self.peer(0)])
    }

    /// 10^5 peers arrive in waves of 100, each with SAs, an entry, a state
    /// machine and a translation record, and retire when they fall silent:
    /// after each wave every structure is back to zero. (Small waves: each
    /// signalling packet costs O(SAs) in the SA database, which is not
    /// what this test measures; about 2 minutes in a debug build.)
    @Test(.timeLimit(.minutes(10))) func tenToTheFivePeersComeAndGoAndEveryStructureReturnsToZero() throws {
        let host = try Host()
        let table = TranslationTable(capacity: 2048)
        let activity = AddressActivity()
        let wave = 100
        for start in stride(from: 0, to: Self.peerCount, by: wave) {
            try Self.arrive(start..<(start + wave), at: host)
            host.controller.publishTranslations(to: table)
            #expect(host.entries().count == wave)
            #expect(host.controller.mobility.peers.count == wave)
            #expect(host.controller.securityAssociations.count == 2 * wave)
            #expect(table.publishedRecords.count == wave)
            host.clock.advance(seconds: 30)
            _ = host.controller.runExpiry(activity: activity)
            host.clock.advance(seconds: 30)
            _ = host.controller.runExpiry(activity: activity)
            host.controller.publishTranslations(to: table)
            #expect(host.entries().isEmpty)
            #expect(host.access.read { $0.foreignAddressCount } == 0)
            #expect(table.publishedRecords.isEmpty)
            #expect(host.controller.peerAddresses.isEmpty)
            let sizes = host.controller.perPeerStructureSizes
            #expect(sizes.values.allSatisfy { $0 == 0 }, "after the wave at \(start): \(sizes)")
            if sizes.values.contains(where: { $0 != 0 }) { return }
        }
        #expect(host.controller.statistics.entriesRemoved == UInt64(Self.peerCount))
        #expect(host.controller.statistics.associationsRetired == UInt64(2 * Self.peerCount))
    }
}
