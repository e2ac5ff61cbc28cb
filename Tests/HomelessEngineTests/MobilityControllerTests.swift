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

        init(local: IPv6Address, manualKeys: Bool = true) throws {
            access = HostCacheAccess(HostCache(clock: clock, random: SplitMix64(seed: 7)))
            var database = SecurityAssociationDatabase()
            if manualKeys {
                let configuration = try ManualKeyingConfiguration(parsing: MobilityControllerTests.keys)
                try database.loadManual(configuration, isLocal: { $0 == local })
            }
            controller = MobilityController(hostCache: access, securityAssociations: database,
                                            localAddresses: [local], seed: 3,
                                            handshake: manualKeys ? nil : AnonymousHandshakeConfiguration())
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
        _ = Self.tcpFrame(from: Self.mnOld, to: Self.cn, flags: 0x02).withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
        #expect(mn.entries().count == 1)
        let initial = Self.tcpFrame(from: Self.cn, to: Self.mnOld, flags: 0x12).withUnsafeBytes {
            mn.controller.noteInbound($0, now: mn.now)
        }
        let bindingUpdate = try #require(initial.first)
        // Signalling leaves as an IPv6 packet the kernel routes (next hop
        // and link header from its neighbour table), on the wire of its source.
        #expect(bindingUpdate.port == .kernelRouted && bindingUpdate.wire == 0)
        #expect(bindingUpdate.bytes.first.map { $0 >> 4 } == 6)
        let atCN = bindingUpdate.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
        #expect(atCN.drop == nil)
        #expect(atCN.consumed, "a standalone Binding Update (Next Header 59) does not reach the kernel")
        let acknowledgement = try #require(atCN.frames.first)
        let atMN = acknowledgement.received.withUnsafeBytes { mn.controller.handleInbound($0, now: mn.now) }
        #expect(atMN.drop == nil)
        #expect(atMN.consumed)
        return (bindingUpdate.received, acknowledgement.received)
    }

    @Test func theInitialBindingUpdateIsAuthenticatedAppliedAndAcknowledged() throws {
        let mn = try Node(local: Self.mnOld), cn = try Node(local: Self.cn)
        let (initial, _) = try handshake(mn, cn)
        // IPv6 + AH + Destination Options.
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

    /// Without manual keys: mn's SYN starts the anonymous handshake; its
    /// message 3 and the Initial Binding Update under the new SA follow
    /// message 2; cn creates its entry from message 3 and accepts the
    /// Binding Update under the anonymous SA (draft 2.4.3, 3.3.1).
    @Test func theAnonymousHandshakeKeysTheInitialBindingUpdate() throws {
        let mn = try Node(local: Self.mnOld, manualKeys: false), cn = try Node(local: Self.cn, manualKeys: false)
        let hello = Self.tcpFrame(from: Self.mnOld, to: Self.cn, flags: 0x02).withUnsafeBytes {
            mn.controller.noteOutbound($0, now: mn.now)
        }
        #expect(hello.count == 1 && hello.first?.port == .kernelRouted)
        #expect(mn.entries().isEmpty, "no entry before the handshake completes")
        let atCN = try #require(hello.first).received.withUnsafeBytes { cn.controller.handleHandshake($0, now: cn.now) }
        #expect(atCN.consumed && atCN.frames.count == 1)
        #expect(cn.entries().isEmpty, "message 1 creates no state at the responder")
        let atMN = try #require(atCN.frames.first).received.withUnsafeBytes { mn.controller.handleHandshake($0, now: mn.now) }
        #expect(atMN.consumed)
        #expect(atMN.frames.count == 1, "message 3, carrying the Initial Binding Update (draft A.2)")
        #expect(mn.entries().count == 1)
        let third = try #require(atMN.frames.first)
        let thirdPacket = try TranslationTests.parse(third.received)
        #expect(thirdPacket.authenticationHeaderOffset != nil && thirdPacket.upperLayerProtocol.rawValue == 253)
        #expect(mn.controller.statistics.bindingUpdatesSent == 1)
        let atCNThird = third.received.withUnsafeBytes { cn.controller.handleHandshake($0, now: cn.now) }
        #expect(atCNThird.consumed)
        #expect(cn.entries().count == 1)
        #expect(cn.controller.securityAssociations.associations.filter { $0.associationClass == .anonymous }.count == 2)
        #expect(cn.controller.statistics.bindingUpdatesApplied == 1, "the update behind message 3, covered by its AH")
        // cn acknowledges it (and sends its own Initial Binding Update).
        let acknowledgement = try #require(atCNThird.frames.first)
        let back = acknowledgement.received.withUnsafeBytes { mn.controller.handleInbound($0, now: mn.now) }
        #expect(back.drop == nil)
        for frame in atCNThird.frames.dropFirst() {
            for reply in frame.received.withUnsafeBytes({ mn.controller.handleInbound($0, now: mn.now) }).frames {
                _ = reply.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
            }
        }
        #expect(mn.entries().first?.capability == .homeless)
        #expect(cn.entries().first?.capability == .homeless)
        mn.controller.publishStatistics()
        #expect(mn.controller.publishedStatistics.handshake()?.contains { $0.name == "established-as-initiator" && $0.value == 1 } == true)
        #expect(mn.controller.publishedStatistics.mobility().contains { $0.name == "handshakes-established" && $0.value == 1 })
        // A peer that is not a Homeless host never answers: message 1 is
        // retransmitted, then the attempt ends and the peer stays plain.
        let other = TranslationTests.address("2001:db8:f::5")
        let lonely = Self.tcpFrame(from: Self.mnOld, to: other, flags: 0x02).withUnsafeBytes {
            mn.controller.noteOutbound($0, now: mn.now)
        }
        #expect(lonely.count == 1)
        var retransmissions = 0
        for _ in 0..<40 {
            guard let deadline = mn.controller.nextDeadline else { break }
            mn.clock.now = max(mn.clock.now, deadline)
            retransmissions += mn.controller.fireTimers(now: mn.now).filter { $0.port == .kernelRouted }.count
        }
        #expect(retransmissions >= 2)
        #expect(mn.controller.statistics.handshakesFailed == 1)
        #expect(mn.entries().count == 1, "no entry for the silent peer")
    }

    /// A Binding Request under AH is answered with a Binding Update that
    /// registers every address (draft 2.1.2, 3.2).
    @Test func aBindingRequestIsAnsweredWithABindingUpdate() throws {
        let mn = try Node(local: Self.mnOld), cn = try Node(local: Self.cn)
        _ = try handshake(mn, cn)
        var association = try #require(cn.controller.securityAssociations.outbound(entry: nil, destination: Self.mnOld))
        let request = DestinationOptionsHeader(nextHeader: .noNextHeader, options: [.bindingRequest(BindingRequest())])
        let packet = try MobilitySignallingPacket.build(options: request, source: Self.cn, destination: Self.mnOld,
                                                       association: &association)
        let frame = SlowPathFrame(port: .kernelRouted, bytes: packet).received
        let sentBefore = mn.controller.statistics.bindingUpdatesSent
        let result = frame.withUnsafeBytes { mn.controller.handleInbound($0, now: mn.now) }
        #expect(result.drop == nil && result.consumed)
        #expect(mn.controller.statistics.bindingRequestsReceived == 1)
        #expect(mn.controller.statistics.bindingUpdatesSent == sentBefore + 1)
        let update = try TranslationTests.parse(try #require(result.frames.first).received)
        #expect(update.mobilityOptions.bindingUpdate != nil && update.destination == Self.cn)
    }

    /// A Standard Host answers the Initial Binding Update with a Parameter
    /// Problem pointing at our Home Address option (draft 2.2.4): the peer
    /// becomes `standard`. A forged one without our SA's SPI is ignored.
    @Test func aParameterProblemForOurBindingUpdateMarksAStandardHost() throws {
        let mn = try Node(local: Self.mnOld)
        _ = Self.tcpFrame(from: Self.mnOld, to: Self.cn, flags: 0x02).withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
        let initial = Self.tcpFrame(from: Self.cn, to: Self.mnOld, flags: 0x12).withUnsafeBytes {
            mn.controller.noteInbound($0, now: mn.now)
        }
        let update = try #require(initial.first)
        let parsed = try TranslationTests.parse(update.received)
        let pointer = try #require(parsed.mobilityOptions.homeAddress) - 14
        func parameterProblem(quoting quoted: [UInt8]) -> [UInt8] {
            var icmp: [UInt8] = [4, 2, 0, 0] + [0, 0, UInt8(pointer >> 8), UInt8(pointer & 0xFF)]
            icmp += quoted
            return TranslationTests.frame(source: Self.cn, destination: Self.mnOld, protocol: .icmpv6, upper: icmp)
        }
        var forged = update.bytes
        forged[44] ^= 0xFF   // another SPI
        _ = parameterProblem(quoting: forged).withUnsafeBytes { mn.controller.noteInbound($0, now: mn.now) }
        #expect(mn.controller.statistics.parameterProblemsIgnored == 1)
        #expect(mn.entries().first?.capability != .standard)
        _ = parameterProblem(quoting: update.bytes).withUnsafeBytes { mn.controller.noteInbound($0, now: mn.now) }
        #expect(mn.controller.statistics.parameterProblemsAccepted == 1)
        #expect(mn.entries().first?.capability == .standard)
        #expect(mn.controller.translations().isEmpty, "a Standard Host's packets are not translated")
        // No more Binding Updates to it.
        mn.clock.advance(seconds: 60)
        #expect(mn.controller.fireTimers(now: mn.now).isEmpty)
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
        _ = Self.tcpFrame(from: Self.mnOld, to: Self.cn, flags: 0x02).withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
        let initial = Self.tcpFrame(from: Self.cn, to: Self.mnOld, flags: 0x12).withUnsafeBytes {
            mn.controller.noteInbound($0, now: mn.now)
        }
        let frame = try #require(initial.first)
        let result = frame.received.withUnsafeBytes { stranger.controller.handleInbound($0, now: stranger.now) }
        #expect(result.drop == .authenticationFailed)
        #expect(stranger.entries().isEmpty)
    }

    @Test func aPeerWithoutAnSAStaysAPlainPeer() throws {
        let mn = try Node(local: Self.mnOld)
        let other = TranslationTests.address("2001:db8:f::5")
        _ = Self.tcpFrame(from: Self.mnOld, to: other, flags: 0x02).withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
        #expect(mn.entries().isEmpty)
        let frames = Self.tcpFrame(from: other, to: Self.mnOld, flags: 0x12).withUnsafeBytes {
            mn.controller.noteInbound($0, now: mn.now)
        }
        #expect(frames.isEmpty)
    }

    /// Draft 2.3.1: a packet with a Home Address option MUST also carry a
    /// Binding Update (and AH). Without one, on signalling alone or on
    /// data, it is dropped and counted, never passed to the kernel (which
    /// would take the option's address as the source, RFC 6275 9.3.1).
    @Test func aHomeAddressOptionWithoutABindingUpdateIsDroppedAndCounted() throws {
        let cn = try Node(local: Self.cn)
        // Destination Options: PadN(2), Home Address at 8n+6 (24 octets).
        func homeAddressHeader(next: IPProtocol) -> [UInt8] { [next.rawValue, 2, 1, 2, 0, 0, 201, 16] + Self.mnOld.bytes }
        let alone = TranslationTests.frame(source: Self.mnNew, destination: Self.cn, protocol: .noNextHeader, upper: [],
                                           extensionHeaders: homeAddressHeader(next: .noNextHeader),
                                           firstNextHeader: .destinationOptions, fillChecksum: false)
        let onData = TranslationTests.frame(source: Self.mnNew, destination: Self.cn, protocol: .udp,
                                            upper: TranslationTests.udp(payload: [1, 2, 3, 4]),
                                            extensionHeaders: homeAddressHeader(next: .udp),
                                            firstNextHeader: .destinationOptions, fillChecksum: false)
        for frame in [alone, onData] {
            #expect(try TranslationTests.parse(frame).homeAddress == Self.mnOld)
            let result = frame.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
            #expect(result.drop == .homeAddressWithoutBindingUpdate)
            #expect(!result.consumed && result.reinject == nil && result.frames.isEmpty)
        }
        #expect(cn.controller.statistics.homeAddressWithoutBindingUpdate == 2)
        #expect(cn.controller.statistics.named.contains { $0.name == "home-address-without-binding-update" && $0.value == 2 })
        #expect(cn.entries().isEmpty)
    }

    /// A verified Binding Update whose sequence number is older than the
    /// last accepted one changes nothing (status 141): it is counted as
    /// stale, not as applied.
    @Test func aStaleBindingUpdateIsCountedApartFromAppliedOnes() throws {
        let mn = try Node(local: Self.mnOld), cn = try Node(local: Self.cn)
        _ = try handshake(mn, cn)
        mn.clock.advance(seconds: 1)
        // mn moves to its new address, then back: two Binding Updates.
        let older = try #require((mn.controller.localAddressAdded(Self.mnNew, now: mn.now)
            + mn.controller.localAddressRemoved(Self.mnOld, now: mn.now)).first)
        mn.clock.advance(seconds: 1)
        let newer = try #require((mn.controller.localAddressAdded(Self.mnOld, now: mn.now)
            + mn.controller.localAddressRemoved(Self.mnNew, now: mn.now)).first)
        // Delivered out of order: both AH sequence numbers are fresh for
        // the window, the older Binding Update's sequence number is stale.
        for update in [newer, older] {
            let result = update.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
            #expect(result.drop == nil)
        }
        #expect(cn.controller.statistics.bindingUpdatesApplied == 2, "the Initial Binding Update and the newer one")
        // Every Binding Update of the older packet (one per address it names).
        let olderUpdates = try TranslationTests.parse(older.received).mobilityOptions.count
        #expect(cn.controller.statistics.bindingUpdatesStale >= 1)
        #expect(cn.controller.statistics.bindingUpdatesStale < UInt64(olderUpdates + 1))
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
            _ = frame.withUnsafeBytes { mn.controller.noteOutbound($0, now: mn.now) }
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
            let result = update.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
            #expect(result.drop == nil)
            for reply in result.frames {
                _ = reply.received.withUnsafeBytes { mn.controller.handleInbound($0, now: mn.now) }
            }
        }
        let cnEntry = try #require(cn.entries().first)
        #expect(cnEntry.liveAddresses == [Self.mnNew])
        #expect(cnEntry.preferredDestination == Self.mnNew)
        #expect(mn.controller.localIdentifiersInUse == [Self.mnOld])
        let atMN = try #require(mn.controller.translations().first)
        #expect(atMN == TranslationRecord(localIdentifier: Self.mnOld, peerIdentifier: Self.cn,
                                          localLocator: Self.mnNew, peerLocator: Self.cn))
        // cn sends bulk traffic to mn's new address only once it answered
        // a probe (return routability); until then packets from it are
        // accepted and cn's data still goes to the old locator.
        let before = try #require(cn.controller.translations().first)
        #expect(before == TranslationRecord(localIdentifier: Self.cn, peerIdentifier: Self.mnOld,
                                            localLocator: Self.cn, peerLocator: Self.mnOld,
                                            alternatePeerLocator: Self.mnNew))
        let probes = cn.controller.verifyPeerLocators(now: cn.now)
        let probe = try #require(probes.first)
        #expect(probes.count == 1 && probe.port == .kernelRouted)
        let probePacket = try TranslationTests.parse(probe.received)
        #expect(probePacket.destination == Self.mnNew && probePacket.authenticationHeaderOffset != nil)
        #expect(cn.controller.verifyPeerLocators(now: cn.now).isEmpty, "one probe until the retry time")
        // A forged reply (wrong nonce) from a third party does nothing.
        let atMNProbe = probe.received.withUnsafeBytes { mn.controller.handleHandshake($0, now: mn.now) }
        #expect(atMNProbe.consumed)
        let reply = try #require(atMNProbe.frames.first)
        let replyPacket = try TranslationTests.parse(reply.received)
        #expect(replyPacket.source == Self.mnNew && replyPacket.destination == Self.cn)
        var tampered = reply.received
        tampered[tampered.count - 1] ^= 0x01
        _ = tampered.withUnsafeBytes { cn.controller.handleHandshake($0, now: cn.now) }
        #expect(cn.controller.translations().first?.peerLocator == Self.mnOld)
        let atCNReply = reply.received.withUnsafeBytes { cn.controller.handleHandshake($0, now: cn.now) }
        #expect(atCNReply.consumed)
        #expect(cn.controller.statistics.addressesVerified == 1)
        let atCN = try #require(cn.controller.translations().first)
        #expect(atCN == TranslationRecord(localIdentifier: Self.cn, peerIdentifier: Self.mnOld,
                                          localLocator: Self.cn, peerLocator: Self.mnNew,
                                          alternatePeerLocator: Self.mnOld, previousPeerLocator: Self.mnOld))
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
        // A peer that has not switched to our new locator yet still sends
        // to our ULID: its packets belong to the conversation too (the
        // worker rewrites only what differs from the identifiers).
        #expect(table.inbound(source: record.peerIdentifier, destination: record.localIdentifier) == record)
        #expect(table.inbound(source: TranslationTests.address("2001:db8:e::1"), destination: record.localIdentifier) == nil)
        var moved = record
        moved.peerLocator = TranslationTests.address("2001:db8:d::20")
        #expect(table.publish(moved))
        #expect(table.publishedRecords == [moved])
        #expect(table.inbound(source: moved.peerLocator, destination: moved.localLocator) == moved)
        table.withdraw(peerIdentifier: record.peerIdentifier)
        #expect(table.outbound(source: record.localIdentifier, destination: record.peerIdentifier) == nil)
    }

    @Test func inboundAlsoMatchesTheAnnouncedLocalAndThePreviousPeerLocator() {
        let table = TranslationTable(capacity: 2)
        let announced = TranslationTests.address("2001:db8:a::77")
        let previousPeer = TranslationTests.address("2001:db8:c::20")
        let peer = TranslationTests.address("2001:db8:c::99")
        let moving = TranslationRecord(localIdentifier: record.localIdentifier, peerIdentifier: record.peerIdentifier,
                                       localLocator: record.localLocator, peerLocator: peer,
                                       alternateLocalLocator: announced, alternatePeerLocator: previousPeer)
        #expect(table.publish(moving))
        for source in [peer, previousPeer] {
            for destination in [record.localLocator, announced] {
                #expect(table.inbound(source: source, destination: destination) == moving)
            }
        }
        #expect(table.inbound(source: TranslationTests.address("2001:db8:e::1"), destination: announced) == nil)
        #expect(table.inbound(source: peer, destination: TranslationTests.address("2001:db8:e::1")) == nil)
        // Outbound still by the identifiers only.
        #expect(table.outbound(source: record.localIdentifier, destination: record.peerIdentifier) == moving)
        #expect(table.outbound(source: announced, destination: record.peerIdentifier) == nil)
    }

    @Test func flowMarksArePerSlotAndClearedWhenTheSlotChangesHands() throws {
        let table = TranslationTable(capacity: 2)
        #expect(table.publish(record))
        let match = try #require(table.matchOutbound(source: record.localIdentifier, destination: record.peerIdentifier))
        let bit = TranslationTable.flowBit(protocolNumber: 6, localPort: 40000, peerPort: 5201)
        #expect(bit < TranslationTable.flowBits)
        #expect(!table.hasFlow(.identifiers, slot: match.slot, bit: bit))
        table.noteFlow(.identifiers, slot: match.slot, bit: bit)
        #expect(table.hasFlow(.identifiers, slot: match.slot, bit: bit))
        #expect(!table.hasFlow(.locators, slot: match.slot, bit: bit))
        table.noteFlow(.locators, slot: match.slot, bit: bit)
        #expect(table.hasFlow(.locators, slot: match.slot, bit: bit))
        // Same ports, other protocol or swapped direction: another flow
        // (for these ports; the hash may collide for others).
        #expect(TranslationTable.flowBit(protocolNumber: 17, localPort: 40000, peerPort: 5201) != bit)
        #expect(TranslationTable.flowBit(protocolNumber: 6, localPort: 5201, peerPort: 40000) != bit)
        // A republished record (new locators) keeps its flows.
        var moved = record
        moved.localLocator = TranslationTests.address("2001:db8:b::99")
        #expect(table.publish(moved))
        #expect(table.hasFlow(.identifiers, slot: match.slot, bit: bit))
        // Withdrawn, the slot forgets them; out-of-range slots are ignored.
        table.withdraw(peerIdentifier: record.peerIdentifier)
        #expect(!table.hasFlow(.identifiers, slot: match.slot, bit: bit))
        #expect(!table.hasFlow(.locators, slot: match.slot, bit: bit))
        table.noteFlow(.identifiers, slot: 7, bit: bit)
        #expect(!table.hasFlow(.identifiers, slot: 7, bit: bit))
    }

    /// Distinct flows of one peer rarely share a bit: 64 consecutive
    /// client ports toward one server port land on 64 different bits.
    @Test func consecutivePortsSpreadOverTheFlowBits() {
        let bits = Set((0..<64).map { TranslationTable.flowBit(protocolNumber: 6, localPort: UInt16(40000 + $0), peerPort: 5201) })
        #expect(bits.count == 64)
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

extension SlowPathFrame {
    /// The frame as the peer's ring receives it: a kernel-routed IPv6
    /// packet gets the Ethernet header the kernel would put in front.
    var received: [UInt8] {
        guard port == .kernelRouted else { return bytes }
        return [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x86, 0xDD] + bytes
    }
}
