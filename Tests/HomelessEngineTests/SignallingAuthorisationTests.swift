import Testing
@testable import HomelessEngine
import HomelessCore
import HomelessSecurity
import HomelessWire

/// Entry-bound authorisation of signalling (draft 2.4.2, 3.3.1, 5.3): a
/// hostile peer `ev` holding a valid SA of its own with `cn` (manually
/// keyed with a distinct key, or made by the anonymous handshake) sends
/// AH-valid signalling naming `mn`'s addresses. `cn` refuses it, counts
/// and records the refusal, and keeps `mn`'s entry as it was; `mn`'s own
/// updates still work.
@Suite struct SignallingAuthorisationTests {
    typealias Node = MobilityControllerTests.Node
    static let mnOld = MobilityControllerTests.mnOld
    static let mnNew = MobilityControllerTests.mnNew
    static let cn = MobilityControllerTests.cn
    static let ev = TranslationTests.address("2001:db8:d::66")

    /// mn-cn as in MobilityControllerTests, ev-cn and ev-mn with keys of
    /// their own.
    static let keys = MobilityControllerTests.keys + "\n" + """
        add 2001:db8:d::66 2001:db8:c::20 ah 0x3001 -A hmac-sha256 0x404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f;
        add 2001:db8:c::20 2001:db8:d::66 ah 0x3002 -A hmac-sha256 0x606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f;
        add 2001:db8:d::66 2001:db8:a::10 ah 0x4001 -A hmac-sha256 0x808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f;
        add 2001:db8:a::10 2001:db8:d::66 ah 0x4002 -A hmac-sha256 0xa0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf;
        """

    /// ev's own conversation with `peer`: SYN, first reply, Initial Binding
    /// Update, acknowledgement. `peer` then has an entry for ev bound to
    /// ev's SA.
    static func converse(_ ev: Node, with peer: Node, peerAddress: IPv6Address) throws {
        _ = MobilityControllerTests.tcpFrame(from: Self.ev, to: peerAddress, flags: 0x02).withUnsafeBytes {
            ev.controller.noteOutbound($0, now: ev.now)
        }
        let initial = MobilityControllerTests.tcpFrame(from: peerAddress, to: Self.ev, flags: 0x12).withUnsafeBytes {
            ev.controller.noteInbound($0, now: ev.now)
        }
        let update = try #require(initial.first)
        let atPeer = update.received.withUnsafeBytes { peer.controller.handleInbound($0, now: peer.now) }
        #expect(atPeer.drop == nil)
        for reply in atPeer.frames {
            #expect(reply.received.withUnsafeBytes { ev.controller.handleInbound($0, now: ev.now) }.drop == nil)
        }
    }

    /// A Binding Update ev builds by hand under its own outbound SA toward
    /// `destination` (AH valid: the peer verifies it; the SA's sequence
    /// counter moves, so the peer's replay window takes each one).
    static func forgedUpdate(under association: inout SecurityAssociation, to destination: IPv6Address,
                             source: IPv6Address = ev, homeAddress: IPv6Address?, withdrawals: [IPv6Address] = [],
                             registrations: [IPv6Address] = [], lifetime: UInt32 = 600,
                             sequence: UInt16 = 40_000) throws -> [UInt8] {
        let spec = BindingUpdateSpec(source: source, destination: destination, homeAddress: homeAddress,
                                     announcesHomelessSupport: true, withdrawals: withdrawals,
                                     registrations: registrations, lifetime: lifetime, firstSequence: sequence)
        let bytes = try MobilitySignallingPacket.standaloneBindingUpdate(spec, association: &association)
        return SlowPathFrame(port: .kernelRouted, bytes: bytes).received
    }

    /// mn moves from its ULID to `mnNew` one second on: the Binding Updates
    /// it sends to cn (the ones to other peers left out).
    static func renumber(_ mn: Node) throws -> [SlowPathFrame] {
        mn.clock.advance(seconds: 1)
        var sent = mn.controller.localAddressAdded(mnNew, now: mn.now)
        sent += mn.controller.localAddressRemoved(mnOld, now: mn.now)
        return try sent.filter { try TranslationTests.parse($0.received).destination == cn }
    }

    static func entry(of cn: Node, holding address: IPv6Address) -> HostCacheEntry? {
        cn.entries().first { $0.addresses[address] != nil }
    }

    /// cn's entry for mn, as a comparable snapshot.
    static func snapshot(_ cn: Node) -> (live: [IPv6Address], expired: [IPv6Address], preferred: IPv6Address?)? {
        entry(of: cn, holding: mnOld).map { ($0.liveAddresses.sorted(), $0.expiredAddresses.sorted(), $0.preferredDestination) }
    }

    @Test func aPeerWithItsOwnManualSACannotMoveOrDeleteAnotherPeersEntry() throws {
        let mn = try Node(local: Self.mnOld, keys: Self.keys), cn = try Node(local: Self.cn, keys: Self.keys)
        let ev = try Node(local: Self.ev, keys: Self.keys)
        _ = try MobilityControllerTests().handshake(mn, cn)
        try Self.converse(ev, with: cn, peerAddress: Self.cn)
        #expect(cn.entries().count == 2)
        let mnEntry = try #require(Self.entry(of: cn, holding: Self.mnOld))
        let evEntry = try #require(Self.entry(of: cn, holding: Self.ev))
        let before = try #require(Self.snapshot(cn))
        let applied = cn.controller.statistics.bindingUpdatesApplied
        var evSA = try #require(ev.controller.securityAssociations.outbound(entry: nil, destination: Self.cn))

        // Move mn to an address ev controls: Home Address option = mn's ULID.
        let move = try Self.forgedUpdate(under: &evSA, to: Self.cn, homeAddress: Self.mnOld, registrations: [Self.ev])
        let moved = move.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
        #expect(moved.drop == .unauthorised && moved.frames.isEmpty)
        #expect(cn.controller.statistics.signallingOtherEntryRefused == 1)
        let refusal = try #require(cn.controller.takeRefusals().first)
        #expect(refusal == SignallingRefusalRecord(reason: .entryOfAnotherAssociation(owner: mnEntry.id), spi: 0x3001,
                                                   claimed: Self.mnOld, owner: mnEntry.id))
        #expect(cn.controller.takeRefusals().isEmpty, "taken once")

        // Delete mn's address (lifetime 0), with and without the option.
        let delete = try Self.forgedUpdate(under: &evSA, to: Self.cn, homeAddress: Self.mnOld, withdrawals: [Self.mnOld],
                                           sequence: 40_001)
        #expect(delete.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == .unauthorised)
        let spoofed = try Self.forgedUpdate(under: &evSA, to: Self.cn, source: Self.mnOld, homeAddress: nil,
                                            registrations: [Self.mnOld], lifetime: 0, sequence: 40_002)
        #expect(spoofed.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == .unauthorised)
        #expect(cn.controller.statistics.signallingOtherEntryRefused == 3)

        // Address confusion (5.3): ev registers mn's live address in its own entry.
        let confuse = try Self.forgedUpdate(under: &evSA, to: Self.cn, homeAddress: Self.ev,
                                            registrations: [Self.ev, Self.mnOld], sequence: 40_003)
        #expect(confuse.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == .unauthorised)
        #expect(cn.controller.statistics.signallingOtherAddressRefused == 1)
        #expect(cn.controller.takeRefusals().last == SignallingRefusalRecord(
            reason: .addressOfAnotherEntry(address: Self.mnOld, owner: mnEntry.id), spi: 0x3001,
            claimed: Self.mnOld, owner: mnEntry.id))

        // mn's entry is untouched, ev's holds only ev; nothing was applied.
        let after = try #require(Self.snapshot(cn))
        #expect(after.live == before.live && after.expired == before.expired && after.preferred == before.preferred)
        #expect(Self.entry(of: cn, holding: Self.ev)?.id == evEntry.id)
        #expect(Self.entry(of: cn, holding: Self.ev)?.addresses.count == 1)
        #expect(cn.controller.statistics.bindingUpdatesApplied == applied)
        cn.controller.publishStatistics()
        #expect(cn.controller.publishedStatistics.mobility().contains { $0.name == "signalling-other-entry-refused" && $0.value == 3 })

        // ev's updates for its own entry still work.
        let own = try Self.forgedUpdate(under: &evSA, to: Self.cn, homeAddress: Self.ev, registrations: [Self.ev], sequence: 40_004)
        #expect(own.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == nil)

        // mn's legitimate renumbering still goes through.
        let updates = try Self.renumber(mn)
        #expect(!updates.isEmpty)
        for update in updates {
            #expect(update.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == nil)
        }
        #expect(Self.entry(of: cn, holding: Self.mnOld)?.liveAddresses == [Self.mnNew])
    }

    @Test func anAcknowledgementUnderAnotherPeersSADoesNotCompleteTheVictimsUpdate() throws {
        let mn = try Node(local: Self.mnOld, keys: Self.keys), cn = try Node(local: Self.cn, keys: Self.keys)
        let ev = try Node(local: Self.ev, keys: Self.keys)
        _ = try MobilityControllerTests().handshake(mn, cn)
        // ev has an SA with mn and an entry there (its own conversation).
        try Self.converse(ev, with: mn, peerAddress: Self.mnOld)
        // mn's renumbering: its update to cn waits for cn's acknowledgement.
        let updates = try Self.renumber(mn)
        #expect(!updates.isEmpty)
        let received = mn.controller.statistics.acknowledgementsReceived
        // ev acknowledges mn's pending update in cn's name (source cn)
        // under ev's own SA with mn.
        var association = try #require(ev.controller.securityAssociations.outbound(entry: nil, destination: Self.mnOld))
        let forged = try #require(try MobilitySignallingPacket.bindingAcknowledgement(
            [BindingAcknowledgement(status: 0, sequence: 0, lifetime: 600, refresh: 600)],
            source: Self.cn, destination: Self.mnOld, association: &association))
        let atMN = SlowPathFrame(port: .kernelRouted, bytes: forged).received.withUnsafeBytes {
            mn.controller.handleInbound($0, now: mn.now)
        }
        #expect(atMN.drop == .unauthorised)
        #expect(mn.controller.statistics.acknowledgementsReceived == received)
        #expect(mn.controller.statistics.signallingOtherEntryRefused == 1)
        #expect(mn.controller.takeRefusals().first?.spi == 0x4001)
        // The real acknowledgement from cn still completes it.
        for frame in updates {
            let atCN = frame.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
            #expect(atCN.drop == nil)
            for reply in atCN.frames {
                #expect(reply.received.withUnsafeBytes { mn.controller.handleInbound($0, now: mn.now) }.drop == nil)
            }
        }
        #expect(mn.controller.statistics.acknowledgementsReceived > received)
    }

    @Test func anUnboundSAMayNotAdoptAnotherPeersAddress() throws {
        // cn knows SAs for mn and for ev but no entries yet: ev's first
        // update claims mn's address. Its SA was made for ev, so it may not
        // create (and then own) mn's entry.
        let cn = try Node(local: Self.cn, keys: Self.keys), ev = try Node(local: Self.ev, keys: Self.keys)
        var evSA = try #require(ev.controller.securityAssociations.outbound(entry: nil, destination: Self.cn))
        let claim = try Self.forgedUpdate(under: &evSA, to: Self.cn, homeAddress: Self.mnOld, registrations: [Self.ev])
        #expect(claim.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == .unauthorised)
        #expect(cn.entries().isEmpty)
        #expect(cn.controller.statistics.signallingNotAssociationPeerRefused == 1)
    }

    // MARK: Anonymous handshake

    /// `initiator` opens a connection to `responder` without manual keys:
    /// the handshake, the Initial Binding Update in message 3, and the
    /// acknowledgements and updates that follow.
    static func anonymousConversation(_ initiator: Node, from local: IPv6Address, _ responder: Node,
                                      at peer: IPv6Address) throws {
        let hello = MobilityControllerTests.tcpFrame(from: local, to: peer, flags: 0x02).withUnsafeBytes {
            initiator.controller.noteOutbound($0, now: initiator.now)
        }
        let second = try #require(hello.first).received.withUnsafeBytes {
            responder.controller.handleHandshake($0, now: responder.now)
        }
        let third = try #require(second.frames.first).received.withUnsafeBytes {
            initiator.controller.handleHandshake($0, now: initiator.now)
        }
        let atResponder = try #require(third.frames.first).received.withUnsafeBytes {
            responder.controller.handleHandshake($0, now: responder.now)
        }
        #expect(atResponder.consumed)
        for frame in atResponder.frames {
            for reply in frame.received.withUnsafeBytes({ initiator.controller.handleInbound($0, now: initiator.now) }).frames {
                _ = reply.received.withUnsafeBytes { responder.controller.handleInbound($0, now: responder.now) }
            }
        }
    }

    @Test func aPeerWithAnAnonymousSAOfItsOwnCannotMoveOrDeleteAnotherPeersEntry() throws {
        let mn = try Node(local: Self.mnOld, manualKeys: false), cn = try Node(local: Self.cn, manualKeys: false)
        let ev = try Node(local: Self.ev, manualKeys: false)
        try Self.anonymousConversation(mn, from: Self.mnOld, cn, at: Self.cn)
        try Self.anonymousConversation(ev, from: Self.ev, cn, at: Self.cn)
        #expect(cn.controller.statistics.handshakesEstablished == 2)
        #expect(cn.entries().count == 2)
        let mnEntry = try #require(Self.entry(of: cn, holding: Self.mnOld))
        let before = try #require(Self.snapshot(cn))
        let evSPI = try #require(ev.controller.securityAssociations.outbound(entry: nil, destination: Self.cn)).spi
        #expect(cn.controller.securityAssociations.inbound(spi: evSPI)?.associationClass == .anonymous)
        var evSA = try #require(ev.controller.securityAssociations.outbound(entry: nil, destination: Self.cn))

        let move = try Self.forgedUpdate(under: &evSA, to: Self.cn, homeAddress: Self.mnOld, registrations: [Self.ev])
        #expect(move.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == .unauthorised)
        let delete = try Self.forgedUpdate(under: &evSA, to: Self.cn, homeAddress: Self.mnOld, withdrawals: [Self.mnOld],
                                           sequence: 40_001)
        #expect(delete.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == .unauthorised)
        #expect(cn.controller.statistics.signallingOtherEntryRefused == 2)
        #expect(cn.controller.takeRefusals().allSatisfy { $0.spi == evSPI && $0.owner == mnEntry.id && $0.claimed == Self.mnOld })
        let after = try #require(Self.snapshot(cn))
        #expect(after.live == before.live && after.expired == before.expired && after.preferred == before.preferred)

        // mn's own renumbering under its anonymous SA still works.
        for update in try Self.renumber(mn) {
            #expect(update.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == nil)
        }
        #expect(Self.entry(of: cn, holding: Self.mnOld)?.liveAddresses == [Self.mnNew])
    }

    /// Address confusion (5.3): another host now holds mn's address and
    /// runs the handshake with cn from it while cn's entry for mn, bound to
    /// mn's manually keyed SA, still lists the address live. The
    /// handshake's SAs are not bound to mn's entry, and the Binding Update
    /// behind its message 3 changes nothing.
    @Test func aHandshakeFromAnotherPeersLiveAddressDoesNotTakeItsEntry() throws {
        let mn = try Node(local: Self.mnOld, keys: Self.keys)
        let cn = try Node(local: Self.cn, keys: Self.keys, handshake: true)
        _ = try MobilityControllerTests().handshake(mn, cn)
        let mnEntry = try #require(Self.entry(of: cn, holding: Self.mnOld))
        let before = try #require(Self.snapshot(cn))
        let applied = cn.controller.statistics.bindingUpdatesApplied
        let impostor = try Node(local: Self.mnOld, manualKeys: false)
        let hello = MobilityControllerTests.tcpFrame(from: Self.mnOld, to: Self.cn, flags: 0x02).withUnsafeBytes {
            impostor.controller.noteOutbound($0, now: impostor.now)
        }
        let second = try #require(hello.first).received.withUnsafeBytes { cn.controller.handleHandshake($0, now: cn.now) }
        let third = try #require(second.frames.first).received.withUnsafeBytes {
            impostor.controller.handleHandshake($0, now: impostor.now)
        }
        let atCN = try #require(third.frames.first).received.withUnsafeBytes { cn.controller.handleHandshake($0, now: cn.now) }
        #expect(atCN.consumed)
        #expect(cn.controller.statistics.handshakesEstablished == 1)
        #expect(cn.controller.statistics.signallingOtherEntryRefused == 2, "the binding and the trailer's update")
        #expect(cn.controller.statistics.message3TrailersIgnored == 1)
        #expect(cn.controller.statistics.bindingUpdatesApplied == applied)
        let anonymous = cn.controller.securityAssociations.associations.filter { $0.associationClass == .anonymous }
        #expect(anonymous.count == 2 && anonymous.allSatisfy { $0.hostCacheEntry == nil })
        #expect(cn.controller.securityAssociations.inbound(spi: 0x2001)?.hostCacheEntry == mnEntry.id)
        let after = try #require(Self.snapshot(cn))
        #expect(after.live == before.live && after.expired == before.expired && after.preferred == before.preferred)
        #expect(cn.entries().count == 1)
    }

    /// mn withdrew its ULID (kept expired in cn's entry), then cn opened a
    /// new conversation to that address: a new entry holds it (5.3), one
    /// no SA speaks for yet. mn's signalling from that address under its
    /// own SA (made for it) still reaches the new entry; ev's does not. An
    /// update registering an address live in mn's first entry is refused
    /// there (the Host Cache would refuse it as a conflict anyway).
    @Test func theSAsPeerMayUpdateTheNewEntryOfItsWithdrawnAddress() throws {
        let mn = try Node(local: Self.mnOld, keys: Self.keys), cn = try Node(local: Self.cn, keys: Self.keys)
        let ev = try Node(local: Self.ev, keys: Self.keys)
        _ = try MobilityControllerTests().handshake(mn, cn)
        try Self.converse(ev, with: cn, peerAddress: Self.cn)
        for update in try Self.renumber(mn) {
            #expect(update.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == nil)
        }
        let old = try #require(Self.entry(of: cn, holding: Self.mnNew))
        #expect(old.expiredAddresses.contains(Self.mnOld))
        _ = MobilityControllerTests.tcpFrame(from: Self.cn, to: Self.mnOld, flags: 0x02).withUnsafeBytes {
            cn.controller.noteOutbound($0, now: cn.now)
        }
        let new = try #require(Self.entry(of: cn, holding: Self.mnOld))
        #expect(new.id != old.id)
        var evSA = try #require(ev.controller.securityAssociations.outbound(entry: nil, destination: Self.cn))
        let claim = try Self.forgedUpdate(under: &evSA, to: Self.cn, homeAddress: Self.mnOld, registrations: [Self.ev])
        #expect(claim.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == .unauthorised)
        var mnSA = try #require(mn.controller.securityAssociations.outbound(entry: nil, destination: Self.cn))
        let received = cn.controller.statistics.acknowledgementsReceived
        let acknowledgement = try #require(try MobilitySignallingPacket.bindingAcknowledgement(
            [BindingAcknowledgement(status: 0, sequence: 1, lifetime: 600, refresh: 600)],
            source: Self.mnOld, destination: Self.cn, association: &mnSA))
        #expect(SlowPathFrame(port: .kernelRouted, bytes: acknowledgement).received.withUnsafeBytes {
            cn.controller.handleInbound($0, now: cn.now)
        }.drop == nil)
        #expect(cn.controller.statistics.acknowledgementsReceived == received + 1)
        let refresh = try Self.forgedUpdate(under: &mnSA, to: Self.cn, source: Self.mnNew, homeAddress: Self.mnOld,
                                            registrations: [Self.mnNew], sequence: 50_000)
        #expect(refresh.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }.drop == .unauthorised)
        #expect(cn.controller.statistics.signallingOtherAddressRefused == 1)
        #expect(cn.controller.securityAssociations.inbound(spi: 0x2001)?.hostCacheEntry == old.id, "still bound to its entry")
    }

    // MARK: The decision alone

    static func association(class associationClass: SecurityAssociationClass, source: IPv6Address,
                            entry: HostCacheEntryID?) throws -> SecurityAssociation {
        try SecurityAssociation(spi: 0x5001, direction: .inbound, algorithm: .hmacSHA256_128,
                                key: [UInt8](repeating: 7, count: 32), source: source, destination: cn,
                                associationClass: associationClass, hostCacheEntry: entry)
    }

    @Test func theDecisionFollowsTheSAsEntryAndClass() throws {
        let mine = HostCacheEntryID(slot: 1, generation: 1), other = HostCacheEntryID(slot: 2, generation: 1)
        func decide(_ association: SecurityAssociation, content: ProtectedContent = .bindingUpdate, owner: HostCacheEntryID?,
                    otherBound: Bool = false, named: [IPv6Address] = [], live: [IPv6Address: HostCacheEntryID] = [:])
            -> SignallingAuthorisation.Decision {
            SignallingAuthorisation.decide(association: association, content: content, claimed: Self.mnOld, owner: owner,
                                           ownerHasOtherAssociation: otherBound, mayCreate: true, named: named,
                                           liveOwner: { live[$0] })
        }
        let bound = try Self.association(class: .generic, source: Self.mnOld, entry: mine)
        #expect(decide(bound, owner: mine) == .entry(mine, bind: false))
        #expect(decide(bound, owner: other, otherBound: true) == .refused(.entryOfAnotherAssociation(owner: other)))
        #expect(decide(bound, owner: other) == .entry(other, bind: false), "an entry no SA speaks for, of the SA's address")
        let boundElsewhere = try Self.association(class: .generic, source: Self.ev, entry: mine)
        #expect(decide(boundElsewhere, owner: other) == .refused(.entryOfAnotherAssociation(owner: other)))
        #expect(decide(bound, owner: nil) == .entry(mine, bind: false))
        #expect(decide(bound, owner: mine, named: [Self.ev], live: [Self.ev: other])
            == .refused(.addressOfAnotherEntry(address: Self.ev, owner: other)))
        let unbound = try Self.association(class: .generic, source: Self.mnOld, entry: nil)
        #expect(decide(unbound, owner: nil) == .createEntry)
        #expect(decide(unbound, owner: mine) == .entry(mine, bind: true))
        #expect(decide(unbound, owner: mine, otherBound: true) == .refused(.entryOfAnotherAssociation(owner: mine)))
        let stranger = try Self.association(class: .generic, source: Self.ev, entry: nil)
        #expect(decide(stranger, owner: nil) == .refused(.notTheAssociationsPeer))
        #expect(decide(stranger, owner: mine) == .refused(.notTheAssociationsPeer))
        let anonymous = try Self.association(class: .anonymous, source: Self.mnOld, entry: mine)
        #expect(decide(anonymous, content: .bindingAcknowledgement, owner: mine) == .entry(mine, bind: false))
        #expect(decide(anonymous, content: .other, owner: mine) == .refused(.associationClass))
        #expect(decide(bound, content: .other, owner: mine) == .entry(mine, bind: false))
    }
}

extension MobilityControllerTests.Node {
    /// A node with the manual SAs of `keys` that name `local`, and the
    /// anonymous handshake when `handshake`.
    init(local: IPv6Address, keys: String, handshake: Bool = false) throws {
        access = HostCacheAccess(HostCache(clock: clock, random: SplitMix64(seed: 7)))
        var database = SecurityAssociationDatabase()
        try database.loadManual(try ManualKeyingConfiguration(parsing: keys), isLocal: { $0 == local })
        controller = MobilityController(hostCache: access, securityAssociations: database, localAddresses: [local], seed: 3,
                                        handshake: handshake ? AnonymousHandshakeConfiguration() : nil)
    }
}
