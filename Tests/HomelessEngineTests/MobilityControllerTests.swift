import Testing
@testable import HomelessEngine
import HomelessCore
import HomelessSecurity
import HomelessWire

/// The slow path's mobility work between two engines, without sockets:
/// entry creation on an outbound SYN, the Initial Binding Update after the
/// first reply, its verification and acknowledgement at the peer, the
/// Binding Updates of a renumbering, and the translations published.
@Suite struct MobilityControllerTests {
    static let mnOld = TranslationTests.address("2001:db8:a::10")
    static let mnNew = TranslationTests.address("2001:db8:a::99")
    static let cn = TranslationTests.address("2001:db8:c::20")

    static let keys = """
        add 2001:db8:a::10 2001:db8:c::20 ah 0x2001 -A hmac-sha256 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;
        add 2001:db8:c::20 2001:db8:a::10 ah 0x2002 -A hmac-sha256 0x202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f;
        """

    struct Node {
        let clock = ManualClock()
        let access: HostCacheAccess
        let controller: MobilityController

        init(local: IPv6Address) throws {
            access = HostCacheAccess(HostCache(clock: clock, random: SplitMix64(seed: 7)))
            let configuration = try ManualKeyingConfiguration(parsing: MobilityControllerTests.keys)
            var database = SecurityAssociationDatabase()
            try database.loadManual(configuration, isLocal: { $0 == local })
            controller = MobilityController(hostCache: access, securityAssociations: database,
                                            localAddresses: [local], seed: 3)
        }

        var now: MonotonicInstant { clock.now }

        func entries() -> [HostCacheEntry] { access.read { cache in cache.entryIDs.compactMap { cache.entry($0) } } }
    }

    static func tcpFrame(from source: IPv6Address, to destination: IPv6Address, flags: UInt8) -> [UInt8] {
        var segment = TranslationTests.tcp(payload: [])
        segment[13] = flags
        return TranslationTests.frame(source: source, destination: destination, protocol: .tcp, upper: segment)
    }

    /// mn opens a connection to cn and gets cn's first reply: the Initial
    /// Binding Update goes to cn, which adopts mn and acknowledges.
    func handshake(_ mn: Node, _ cn: Node) throws -> (initial: [UInt8], acknowledgement: [UInt8]) {
        Self.tcpFrame(from: Self.mnOld, to: Self.cn, flags: 0x02).withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
        #expect(mn.entries().count == 1)
        let initial = Self.tcpFrame(from: Self.cn, to: Self.mnOld, flags: 0x12).withUnsafeBytes {
            mn.controller.noteInbound($0, now: mn.now)
        }
        let bindingUpdate = try #require(initial.first)
        #expect(bindingUpdate.port == .wire)
        let atCN = bindingUpdate.bytes.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
        #expect(atCN.drop == nil)
        #expect(atCN.consumed, "a standalone Binding Update (Next Header 59) does not reach the kernel")
        let acknowledgement = try #require(atCN.frames.first)
        let atMN = acknowledgement.bytes.withUnsafeBytes { mn.controller.handleInbound($0, now: mn.now) }
        #expect(atMN.drop == nil)
        #expect(atMN.consumed)
        return (bindingUpdate.bytes, acknowledgement.bytes)
    }

    @Test func theInitialBindingUpdateIsAuthenticatedAppliedAndAcknowledged() throws {
        let mn = try Node(local: Self.mnOld), cn = try Node(local: Self.cn)
        let (initial, _) = try handshake(mn, cn)
        // The signalling frame goes back the way the reply came: link
        // addresses swapped, IPv6 + AH + Destination Options.
        #expect(Array(initial[0..<6]) == [0x04, 0x04, 0x04, 0x04, 0x04, 0x04])
        let packet = try TranslationTests.parse(initial)
        #expect(packet.authenticationHeaderOffset != nil)
        #expect(packet.source == Self.mnOld && packet.destination == Self.cn)
        let cnEntry = try #require(cn.entries().first)
        #expect(cnEntry.liveAddresses.contains(Self.mnOld))
        #expect(cnEntry.capability == .homeless)
        let mnEntry = try #require(mn.entries().first)
        #expect(mnEntry.capability == .homeless)
        #expect(cn.controller.statistics.acknowledgementsSent == 1)
        #expect(mn.controller.statistics.acknowledgementsReceived == 1)
        // Before any move the wire addresses are the identifiers.
        let before = mn.controller.translations()
        #expect(before.count == 1 && before.allSatisfy { $0.isIdentity })
    }

    @Test func aTamperedOrReplayedBindingUpdateIsDroppedAndCounted() throws {
        let mn = try Node(local: Self.mnOld), cn = try Node(local: Self.cn)
        let (initial, _) = try handshake(mn, cn)
        // Replay: the same packet again.
        let replay = initial.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
        #expect(replay.drop == .authenticationFailed)
        // Tampering: another source address (covered by the ICV, RFC 4302 3.3.3.1).
        var tampered = initial
        tampered[14 + 8 + 15] ^= 0x01
        let bad = tampered.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
        #expect(bad.drop == .authenticationFailed)
        #expect(cn.controller.statistics.authenticationFailures == 2)
        #expect(cn.controller.statistics.bindingUpdatesApplied == 1)
    }

    @Test func aBindingUpdateWithoutAnSAForThePeerCreatesNothing() throws {
        let mn = try Node(local: Self.mnOld)
        let stranger = try Node(local: TranslationTests.address("2001:db8:e::1"))
        Self.tcpFrame(from: Self.mnOld, to: Self.cn, flags: 0x02).withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
        let initial = Self.tcpFrame(from: Self.cn, to: Self.mnOld, flags: 0x12).withUnsafeBytes {
            mn.controller.noteInbound($0, now: mn.now)
        }
        let frame = try #require(initial.first)
        let result = frame.bytes.withUnsafeBytes { stranger.controller.handleInbound($0, now: stranger.now) }
        #expect(result.drop == .authenticationFailed)
        #expect(stranger.entries().isEmpty)
    }

    @Test func aPeerWithoutAnSAStaysAPlainPeer() throws {
        let mn = try Node(local: Self.mnOld)
        let other = TranslationTests.address("2001:db8:f::5")
        Self.tcpFrame(from: Self.mnOld, to: other, flags: 0x02).withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
        #expect(mn.entries().isEmpty)
        let frames = Self.tcpFrame(from: other, to: Self.mnOld, flags: 0x12).withUnsafeBytes {
            mn.controller.noteInbound($0, now: mn.now)
        }
        #expect(frames.isEmpty)
    }

    /// Hostile input: mutated and truncated signalling never traps, never
    /// creates state without a verified AH.
    @Test func mutatedAndTruncatedSignallingIsDroppedWithoutTrapping() throws {
        let mn = try Node(local: Self.mnOld), cn = try Node(local: Self.cn)
        let (initial, acknowledgement) = try handshake(mn, cn)
        var random = SplitMix64(seed: 42)
        let appliedBefore = cn.controller.statistics.bindingUpdatesApplied
        for round in 0..<2000 {
            var frame = round % 2 == 0 ? initial : acknowledgement
            switch random.next() % 3 {
            case 0:
                frame = Array(frame.prefix(Int(random.next() % UInt64(frame.count))))
            case 1:
                let position = Int(random.next() % UInt64(frame.count))
                frame[position] ^= UInt8(truncatingIfNeeded: random.next() | 1)
            default:
                for _ in 0..<4 {
                    let position = Int(random.next() % UInt64(frame.count))
                    frame[position] = UInt8(truncatingIfNeeded: random.next())
                }
            }
            let result = frame.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
            #expect(result.frames.isEmpty || result.drop == nil)
            _ = frame.withUnsafeBytes { mn.controller.handleInbound($0, now: mn.now) }
            _ = frame.withUnsafeBytes { mn.controller.noteInbound($0, now: mn.now) }
            frame.withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
        }
        // Every copy replays or alters the one accepted packet: nothing new applied.
        #expect(cn.controller.statistics.bindingUpdatesApplied == appliedBefore)
        #expect(cn.entries().count == 1)
    }

    @Test func renumberingMovesThePeersEntryAndTheTranslations() throws {
        let mn = try Node(local: Self.mnOld), cn = try Node(local: Self.cn)
        _ = try handshake(mn, cn)
        mn.clock.advance(seconds: 1)
        var updates = mn.controller.localAddressAdded(Self.mnNew, now: mn.now)
        updates += mn.controller.localAddressRemoved(Self.mnOld, now: mn.now)
        #expect(!updates.isEmpty)
        for update in updates {
            let result = update.bytes.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
            #expect(result.drop == nil)
            for reply in result.frames {
                _ = reply.bytes.withUnsafeBytes { mn.controller.handleInbound($0, now: mn.now) }
            }
        }
        let cnEntry = try #require(cn.entries().first)
        #expect(cnEntry.liveAddresses == [Self.mnNew])
        #expect(cnEntry.preferredDestination == Self.mnNew)
        #expect(mn.controller.localIdentifiersInUse == [Self.mnOld])
        let atMN = try #require(mn.controller.translations().first)
        #expect(atMN == TranslationRecord(localIdentifier: Self.mnOld, peerIdentifier: Self.cn,
                                          localLocator: Self.mnNew, peerLocator: Self.cn))
        let atCN = try #require(cn.controller.translations().first)
        #expect(atCN == TranslationRecord(localIdentifier: Self.cn, peerIdentifier: Self.mnOld,
                                          localLocator: Self.cn, peerLocator: Self.mnNew))
    }
}

/// The workers' lock-free view of the translations.
@Suite struct TranslationTableTests {
    let record = TranslationRecord(localIdentifier: MobilityControllerTests.mnOld, peerIdentifier: MobilityControllerTests.cn,
                                   localLocator: MobilityControllerTests.mnNew, peerLocator: MobilityControllerTests.cn)

    @Test func lookupsMatchBothDirectionsAndWithdrawalRemoves() {
        let table = TranslationTable(capacity: 4)
        #expect(table.outbound(source: record.localIdentifier, destination: record.peerIdentifier) == nil)
        #expect(table.publish(record))
        #expect(table.outbound(source: record.localIdentifier, destination: record.peerIdentifier) == record)
        #expect(table.inbound(source: record.peerLocator, destination: record.localLocator) == record)
        // The kernel's packets use the identifiers; the wire's the locators.
        #expect(table.inbound(source: record.peerIdentifier, destination: record.localIdentifier) == nil)
        var moved = record
        moved.peerLocator = TranslationTests.address("2001:db8:d::20")
        #expect(table.publish(moved))
        #expect(table.publishedRecords == [moved])
        #expect(table.inbound(source: moved.peerLocator, destination: moved.localLocator) == moved)
        table.withdraw(peerIdentifier: record.peerIdentifier)
        #expect(table.outbound(source: record.localIdentifier, destination: record.peerIdentifier) == nil)
    }

    @Test func aFullTableRefusesAndReusesWithdrawnSlots() {
        let table = TranslationTable(capacity: 2)
        var records: [TranslationRecord] = []
        for index in 0..<3 {
            var next = record
            next.peerIdentifier = IPv6Address(high: 0x2001_0db8_000c_0000, low: UInt64(index + 1))
            records.append(next)
        }
        #expect(table.publish(records[0]) && table.publish(records[1]))
        #expect(!table.publish(records[2]))
        table.withdraw(peerIdentifier: records[0].peerIdentifier)
        #expect(table.publish(records[2]))
        #expect(table.outbound(source: record.localIdentifier, destination: records[2].peerIdentifier) == records[2])
    }

    @Test func readersSeeWholeRecordsWhileTheWriterRepublishes() async {
        let table = TranslationTable(capacity: 8)
        let a = record
        let b = TranslationRecord(localIdentifier: a.localIdentifier, peerIdentifier: a.peerIdentifier,
                                  localLocator: TranslationTests.address("2001:db8:b::10"),
                                  peerLocator: TranslationTests.address("2001:db8:d::20"))
        table.publish(a)
        await withTaskGroup(of: Int.self) { group in
            group.addTask {
                var torn = 0
                for _ in 0..<50_000 {
                    if let seen = table.outbound(source: a.localIdentifier, destination: a.peerIdentifier), seen != a, seen != b {
                        torn += 1
                    }
                }
                return torn
            }
            group.addTask {
                for index in 0..<50_000 { table.publish(index % 2 == 0 ? b : a) }
                return 0
            }
            var torn = 0
            for await count in group { torn += count }
            #expect(torn == 0)
        }
    }
}

/// `homeless run --sa FILE`.
@Suite struct ManualKeyingFileTests {
    func write(_ text: String) -> String {
        let path = "/tmp/homeless-sa-test-\(UInt32.random(in: 0...UInt32.max)).conf"
        let file = fopen(path, "w")
        fputs(text, file)
        fclose(file)
        return path
    }

    @Test func aGoodFileLoadsTheSAsOfThisHost() throws {
        let path = write(MobilityControllerTests.keys)
        defer { unlink(path) }
        let configuration = try ManualKeyingFile.load(path: path)
        let database = try ManualKeyingFile.database(configuration, path: path, localAddresses: [MobilityControllerTests.mnOld])
        #expect(database.count == 2)
        #expect(database.outbound(entry: nil, destination: MobilityControllerTests.cn)?.spi == 0x2001)
        #expect(database.inbound(spi: 0x2002) != nil)
        let elsewhere = try ManualKeyingFile.database(configuration, path: path,
                                                      localAddresses: [TranslationTests.address("2001:db8:e::1")])
        #expect(elsewhere.count == 0)
    }

    @Test func aBadFileNamesItsLine() throws {
        let path = write("add 2001:db8::1 2001:db8::2 ah 0x10 -A hmac-sha256 0x00;\n# fine\nadd nonsense;\n")
        defer { unlink(path) }
        #expect {
            _ = try ManualKeyingFile.load(path: path)
        } throws: { error in
            guard let error = error as? EngineError, case .invalidOption(let message) = error else { return false }
            return message.contains("\(path): line 3")
        }
        #expect(throws: EngineError.self) { _ = try ManualKeyingFile.load(path: "/nonexistent/sa.conf") }
    }
}

#if canImport(Glibc)
import Glibc
#endif
