import HomelessCore
import HomelessWire
import Testing
@testable import HomelessSecurity

@Suite struct SecurityAssociationDatabaseTests {
    static let peer = IPv6Address("2001:db8:9::1")!
    static let otherPeer = IPv6Address("2001:db8:9::2")!

    static func association(_ spi: UInt32, _ direction: SecurityAssociationDirection,
                            destination: IPv6Address = peer, entry: HostCacheEntryID? = nil) throws -> SecurityAssociation {
        try SecurityAssociation(
            spi: spi, direction: direction, algorithm: .hmacSHA256_128, key: [UInt8](repeating: UInt8(spi & 0xFF), count: 32),
            source: PacketBuilder.source, destination: destination, hostCacheEntry: entry)
    }

    @Test func inboundLookupIsBySPIAlone() throws {
        var spis: [UInt32] = []
        var associations: [SecurityAssociation] = []
        for index in UInt32(0)..<200 {
            let spi = 0x1000 + index * 7
            spis.append(spi)
            associations.append(try Self.association(spi, .inbound))
        }
        associations.append(try Self.association(0x9999, .outbound))
        let database = try SecurityAssociationDatabase(associations)
        for spi in spis { #expect(database.inbound(spi: spi)?.spi == spi) }
        #expect(database.inbound(spi: 0x9999) == nil, "outbound SAs are not inbound candidates")
        #expect(database.inbound(spi: 0x1001) == nil)
        #expect(database.inbound(spi: 0) == nil)
    }

    @Test func duplicateInboundSPIInstallsNothing() throws {
        var database = try SecurityAssociationDatabase([try Self.association(0x1000, .inbound)])
        #expect(throws: SecurityAssociationError.duplicateSPI(0x2000)) {
            try database.replaceAll(with: [try Self.association(0x2000, .inbound), try Self.association(0x2000, .inbound)])
        }
        #expect(database.count == 1)
        #expect(database.inbound(spi: 0x1000) != nil)
        // The same SPI in both directions is fine (different peers pick them).
        try database.add(try Self.association(0x1000, .outbound))
        #expect(database.count == 2)
    }

    /// Draft 2.4.2: the SA bound to the peer's Foreign Host Cache Entry wins,
    /// whichever of the peer's addresses the packet goes to.
    @Test func outboundThroughTheHostCacheEntry() throws {
        let entry = HostCacheEntryID(slot: 3, generation: 1)
        let database = try SecurityAssociationDatabase([
            try Self.association(0x3000, .outbound, destination: Self.peer),
            try Self.association(0x3001, .outbound, destination: Self.otherPeer, entry: entry),
        ])
        #expect(database.outbound(entry: entry, destination: Self.peer)?.spi == 0x3001)
        #expect(database.outbound(entry: nil, destination: Self.peer)?.spi == 0x3000)
        #expect(database.outbound(entry: HostCacheEntryID(slot: 3, generation: 2), destination: Self.peer)?.spi == 0x3000)
        #expect(database.outbound(entry: nil, destination: IPv6Address("2001:db8::77")!) == nil)
    }

    @Test func endToEndThroughTwoDatabases() throws {
        let entry = HostCacheEntryID(slot: 1, generation: 1)
        var sender = try SecurityAssociationDatabase([try Self.association(0x4000, .outbound, destination: Self.peer, entry: entry)])
        var receiver = try SecurityAssociationDatabase([try Self.association(0x4000, .inbound, destination: Self.peer)])
        let plain = PacketBuilder.packet(destination: Self.otherPeer)
        var buffer = plain + [UInt8](repeating: 0, count: 32)
        let length = try buffer.withUnsafeMutableBytes {
            try sender.protectOutbound($0, packetLength: plain.count, insertingAt: 40, entry: entry, destination: Self.otherPeer)
        }
        let packet = Array(buffer[0..<length])
        let result = packet.withUnsafeBytes { receiver.verifyInbound($0) }
        #expect(result.verdict == .ok)
        #expect(result.associationClass == .generic)
        #expect(result.payloadOffset == 72)
        #expect(result.nextHeader == 17)
        #expect(receiver.inbound(spi: 0x4000)?.replayWindow.highest == 1)
        #expect(sender.outbound(entry: entry, destination: Self.peer)?.lastSentSequenceNumber == 1)
        let replayed = packet.withUnsafeBytes { receiver.verifyInbound($0) }
        #expect(replayed.verdict == .replay)
        #expect(throws: AHProtectError.noAssociation) {
            _ = try buffer.withUnsafeMutableBytes {
                try sender.protectOutbound($0, packetLength: plain.count, insertingAt: 40, entry: nil, destination: Self.otherPeer)
            }
        }
    }

    @Test func removeAndBind() throws {
        var database = try SecurityAssociationDatabase([
            try Self.association(0x5000, .inbound), try Self.association(0x5001, .outbound),
        ])
        let entry = HostCacheEntryID(slot: 9, generation: 4)
        let bound = database.bind(spi: 0x5001, direction: .outbound, to: entry)
        #expect(bound)
        let missing = database.bind(spi: 0x5002, direction: .outbound, to: entry)
        #expect(!missing)
        #expect(database.outbound(entry: entry, destination: Self.otherPeer)?.spi == 0x5001)
        database.removeAll { $0.spi == 0x5000 }
        #expect(database.inbound(spi: 0x5000) == nil)
        #expect(database.count == 1)
    }
}
