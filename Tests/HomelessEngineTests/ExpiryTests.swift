import Testing
@testable import HomelessEngine
import HomelessCore
import HomelessWire

/// The engine's side of Host Cache lifetimes (draft 2.1.3, 2.1.4, 2.2):
/// activity recorded by the workers, the slow path's sweep, the peers it
/// forgets, and the ICMPv6 address unreachable for a peer whose addresses
/// have all expired.
@Suite struct ExpiryTests {
    typealias Node = MobilityControllerTests.Node

    @Test func activityIsSeenForTheCurrentAndThePreviousEpochOnly() {
        let activity = AddressActivity()
        let address = TranslationTests.address("2001:db8:c::20")
        #expect(!activity.wasUsedRecently(address))
        activity.noteUse(of: address)
        #expect(activity.wasUsedRecently(address))
        _ = activity.advance()
        #expect(activity.wasUsedRecently(address), "used in the interval that just ended")
        _ = activity.advance()
        #expect(!activity.wasUsedRecently(address))
        // Buckets spread: 256 consecutive addresses use many buckets.
        let buckets = Set((0..<256).map { AddressActivity.bucket(of: IPv6Address(high: 0x2001_0db8_000c_0000, low: UInt64($0))) })
        #expect(buckets.count > 200)
    }

    @Test func theSweepKeepsUsedAddressesAliveAndForgetsPeersWhoseEntriesWent() throws {
        let mn = try Node(local: MobilityControllerTests.mnOld), cn = try Node(local: MobilityControllerTests.cn)
        _ = try MobilityControllerTests().handshake(mn, cn)
        let activity = AddressActivity()
        let defaultLifetime = mn.access.read { $0.parameters.defaultLifetime }
        let entry = try #require(mn.entries().first)
        // cn's address came from mn's SYN (cn sent no Binding Update here):
        // an activity-related lifetime (2.1.3). Stamped by the workers
        // between sweeps, it lives on past DEFAULT-LIFETIME.
        for _ in 0..<Int(defaultLifetime / 60) + 2 {
            mn.clock.advance(seconds: 60)
            activity.noteUse(of: MobilityControllerTests.cn)
            #expect(mn.controller.runExpiry(activity: activity).changes.isEmpty)
        }
        // The last stamp still counts at the next sweep; after that,
        // DEFAULT-LIFETIME without traffic expires it.
        mn.clock.advance(seconds: 1)
        #expect(mn.controller.runExpiry(activity: activity).changes.isEmpty)
        mn.clock.advance(seconds: defaultLifetime - 1)
        #expect(mn.controller.runExpiry(activity: activity).changes.isEmpty)
        mn.clock.advance(seconds: 1)
        let expiry = mn.controller.runExpiry(activity: activity)
        #expect(expiry.changes == [AddressChange(address: MobilityControllerTests.cn, entry: entry.id, kind: .expired)])
        #expect(mn.controller.statistics.addressesExpired == 1)
        // Every address expired: the translation marks the peer unreachable.
        let record = try #require(mn.controller.translations().first)
        #expect(record.isPeerUnreachable)
        // Purged after MAXIMUM-EXPIRED-LIFETIME; the entry and the peer go.
        mn.clock.advance(seconds: mn.access.read { $0.parameters.maximumExpiredLifetime })
        let purge = mn.controller.runExpiry(activity: activity)
        #expect(purge.removedEntries == [entry.id])
        #expect(mn.entries().isEmpty)
        #expect(mn.controller.translations().isEmpty)
        #expect(mn.controller.statistics.entriesRemoved == 1)
        #expect(mn.controller.statistics.addressesPurged == 1)
        // The SAs stay, unbound, for the peer's next entry.
        #expect(mn.controller.securityAssociations.associations.allSatisfy { $0.hostCacheEntry == nil })
    }

    @Test func anActivityLifetimeLivesWhileTheWorkersSeeTraffic() throws {
        let node = try Node(local: MobilityControllerTests.mnOld)
        let peer = TranslationTests.address("2001:db8:e::1")
        _ = try node.access.write { (cache) throws(HostCacheError) in try cache.createForeignEntry(for: peer, trust: .trusted) }
        let activity = AddressActivity()
        let lifetime = node.access.read { $0.parameters.defaultLifetime }
        for _ in 0..<3 {
            node.clock.advance(seconds: lifetime - 1)
            activity.noteUse(of: peer)
            #expect(node.controller.runExpiry(activity: activity).changes.isEmpty)
        }
        node.clock.advance(seconds: lifetime)
        _ = node.controller.runExpiry(activity: activity)
        #expect(node.entries().first?.expiredAddresses == [peer])
    }

    @Test func anUnreachablePeerIsAnsweredWithAnAddressUnreachableUpToTheSenderRateLimited() throws {
        let node = try Node(local: MobilityControllerTests.mnOld)
        var frame = TranslationTests.frame(source: MobilityControllerTests.mnOld, destination: MobilityControllerTests.cn,
                                           protocol: .udp, upper: TranslationTests.udp(payload: Array(0..<16)))
        let kernelMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x01], routerMAC: [UInt8] = [0x02, 0x00, 0x00, 0x00, 0x00, 0x09]
        frame.replaceSubrange(0..<6, with: routerMAC)
        frame.replaceSubrange(6..<12, with: kernelMAC)
        let answers = frame.withUnsafeBytes { node.controller.addressUnreachable(for: $0, wire: 0, now: node.now) }
        let answer = try #require(answers.first)
        #expect(answer.port == .upper)
        #expect(Array(answer.bytes[0..<6]) == kernelMAC && Array(answer.bytes[6..<12]) == routerMAC)
        let packet = try TranslationTests.parse(answer.bytes)
        #expect(packet.source == MobilityControllerTests.cn && packet.destination == MobilityControllerTests.mnOld)
        #expect(packet.upperLayerProtocol == .icmpv6)
        let icmp = try #require(packet.upperLayerOffset)
        #expect(answer.bytes[icmp] == 1 && answer.bytes[icmp + 1] == 3, "Destination Unreachable, address unreachable")
        // RFC 4443 2.4 (f): a burst of 10, then 10 per second.
        var sent = 1
        for _ in 0..<20 {
            sent += frame.withUnsafeBytes { node.controller.addressUnreachable(for: $0, wire: 0, now: node.now) }.count
        }
        #expect(sent == Int(MobilityController.addressUnreachablePerSecond))
        #expect(node.controller.statistics.addressUnreachableRateLimited == 11)
        node.clock.advance(seconds: 1)
        #expect(frame.withUnsafeBytes { node.controller.addressUnreachable(for: $0, wire: 0, now: node.now) }.count == 1)
        // A truncated frame is ignored.
        #expect(Array(frame[0..<30]).withUnsafeBytes { node.controller.addressUnreachable(for: $0, wire: 0, now: node.now) }.isEmpty)
    }

    @Test func theUnreachableFlagTravelsThroughTheTable() throws {
        let table = TranslationTable(capacity: 2)
        var record = TranslationTableTests().record
        record.isPeerUnreachable = true
        #expect(table.publish(record))
        #expect(table.outbound(source: record.localIdentifier, destination: record.peerIdentifier)?.isPeerUnreachable == true)
        record.isPeerUnreachable = false
        #expect(table.publish(record))
        #expect(table.outbound(source: record.localIdentifier, destination: record.peerIdentifier)?.isPeerUnreachable == false)
    }
}
