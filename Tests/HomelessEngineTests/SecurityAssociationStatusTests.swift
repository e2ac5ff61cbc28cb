import Foundation
import Testing
@testable import HomelessEngine
import HomelessCore
import HomelessSecurity
import HomelessWire

/// `homeless show sa`: the JSON and text renderings of the SA database, and
/// the copy the mobility controller publishes for the control thread.
@Suite struct SecurityAssociationStatusTests {
    static let mobile = TranslationTests.address("2001:db8:a::10")
    static let peer = TranslationTests.address("2001:db8:c::20")
    static let key = [UInt8](repeating: 0x5A, count: AuthenticationAlgorithm.hmacSHA256_128.keyLength)

    /// An outbound SA bound to a Host Cache entry and past its rekey
    /// threshold, and an inbound SA that accepted sequence number 7.
    static func database() throws -> SecurityAssociationDatabase {
        var outbound = try SecurityAssociation(spi: 0x2001, direction: .outbound, algorithm: .hmacSHA256_128, key: key,
                                               source: mobile, destination: peer,
                                               hostCacheEntry: HostCacheEntryID(slot: 3, generation: 1))
        outbound.rekeyThreshold = 0
        var window = try #require(ReplayWindow(size: 64))
        window.accept(7)
        let inbound = try SecurityAssociation(spi: 0x2002, direction: .inbound, algorithm: .hmacSHA1_96,
                                              key: [UInt8](repeating: 1, count: AuthenticationAlgorithm.hmacSHA1_96.keyLength),
                                              source: peer, destination: mobile, associationClass: .anonymous,
                                              replayWindow: window)
        return try SecurityAssociationDatabase([outbound, inbound])
    }

    @Test func jsonListsEverySecurityAssociation() throws {
        let json = EngineStatus.securityAssociationsJSON(try Self.database())
        let object = try #require(try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any])
        #expect(object["count"] as? Int == 2)
        let associations = try #require(object["associations"] as? [[String: Any]])
        try #require(associations.count == 2)

        let outbound = associations[0]
        #expect(outbound["spi"] as? String == "0x2001")
        #expect(outbound["direction"] as? String == "outbound")
        #expect(outbound["algorithm"] as? String == "hmac-sha256")
        #expect(outbound["class"] as? String == "generic")
        #expect(outbound["source"] as? String == "2001:db8:a::10")
        #expect(outbound["destination"] as? String == "2001:db8:c::20")
        #expect(outbound["host-cache-entry"] as? String == "entry#3.1")
        #expect(outbound["last-sent-sequence"] as? Int == 0)
        #expect(outbound["next-sequence"] as? Int == 1)
        #expect(outbound["needs-rekey"] as? Bool == true)
        #expect(outbound["replay-window"] == nil)

        let inbound = associations[1]
        #expect(inbound["spi"] as? String == "0x2002")
        #expect(inbound["direction"] as? String == "inbound")
        #expect(inbound["algorithm"] as? String == "hmac-sha1")
        #expect(inbound["class"] as? String == "anonymous")
        #expect(inbound["host-cache-entry"] is NSNull)
        let window = try #require(inbound["replay-window"] as? [String: Any])
        #expect(window["size"] as? Int == 64)
        #expect(window["highest-accepted"] as? Int == 7)
        #expect(inbound["next-sequence"] == nil)
    }

    @Test func textListsEverySecurityAssociation() throws {
        let text = EngineStatus.securityAssociationsText(try Self.database())
        #expect(text == """
            security associations: 2
            SA 0x2001 outbound hmac-sha256 class generic
              2001:db8:a::10 -> 2001:db8:c::20, Host Cache entry entry#3.1
              next sequence 1, needs rekey
            SA 0x2002 inbound hmac-sha1 class anonymous
              2001:db8:c::20 -> 2001:db8:a::10, Host Cache entry none
              replay window 64, highest accepted 7

            """)
    }

    @Test func emptyDatabaseRendersEmptyList() {
        #expect(EngineStatus.securityAssociationsJSON(SecurityAssociationDatabase()) == "{\"count\":0,\"associations\":[]}\n")
        #expect(EngineStatus.securityAssociationsText(SecurityAssociationDatabase()) == "security associations: 0\n")
    }

    @Test func controllerPublishesItsDatabase() throws {
        let published = SecurityAssociationAccess()
        let access = HostCacheAccess(HostCache(clock: ManualClock(), random: SplitMix64(seed: 7)))
        _ = MobilityController(hostCache: access, securityAssociations: try Self.database(),
                               localAddresses: [Self.mobile], seed: 3, publishingTo: published)
        #expect(published.read { $0.associations.map(\.spi) } == [0x2001, 0x2002])
        #expect(published.read { $0.inbound(spi: 0x2002)?.replayWindow.highest } == 7)
    }

    /// A change made by the slow path (binding the outbound SA to the entry
    /// an outbound SYN created, draft 2.4.2) reaches the published copy.
    @Test func controllerPublishesEachChange() throws {
        let published = SecurityAssociationAccess()
        let access = HostCacheAccess(HostCache(clock: ManualClock(), random: SplitMix64(seed: 7)))
        let configuration = try ManualKeyingConfiguration(parsing: MobilityControllerTests.keys)
        var database = SecurityAssociationDatabase()
        try database.loadManual(configuration, isLocal: { $0 == MobilityControllerTests.mnOld })
        let controller = MobilityController(hostCache: access, securityAssociations: database,
                                            localAddresses: [MobilityControllerTests.mnOld], seed: 3, publishingTo: published)
        #expect(published.read { $0.associations.compactMap(\.hostCacheEntry) }.isEmpty)
        _ = MobilityControllerTests.tcpFrame(from: MobilityControllerTests.mnOld, to: MobilityControllerTests.cn, flags: 0x02)
            .withUnsafeBytes { controller.noteOutbound($0, now: access.now) }
        let entries = access.read { cache in cache.entryIDs }
        try #require(entries.count == 1)
        #expect(published.read { $0.associations.first { $0.direction == .outbound }?.hostCacheEntry } == entries[0])
        let json = EngineStatus.securityAssociationsJSON(published.read { $0 })
        #expect(json.contains("\"spi\":\"0x2001\"") && json.contains("\"spi\":\"0x2002\""))
        #expect(json.contains("\"host-cache-entry\":\"\(entries[0])\""))
    }
}
