import Testing
import HomelessCore
import HomelessWire

/// The Binding Updates our machine produces, applied by the peer's real
/// Host Cache (`applyBindingUpdates`), and its acknowledgements fed back.
@Suite struct MobilityHostCacheTests {
    typealias F = MobilityFixture

    /// Emits the options of `spec` and decodes them again, as the peer would.
    func overTheWire(_ spec: BindingUpdateSpec) throws -> [BindingUpdate] {
        let header = BindingUpdateBuilder.destinationOptions(for: spec, nextHeader: .noNextHeader)
        var bytes = [UInt8](repeating: 0xEE, count: header.bufferLength)
        bytes.withUnsafeMutableBytes { header.emit(into: $0) }
        let decoded = try bytes.withUnsafeBytes { raw in
            try DestinationOptionsHeader(OptionsHeaderView(checking: raw, at: 0), codePoints: .draftEra)
        }
        #expect(decoded == header)
        return decoded.options.compactMap { if case .bindingUpdate(let update) = $0 { return update } else { return nil } }
    }

    func apply(_ spec: BindingUpdateSpec, to cache: HostCache, entry: HostCacheEntryID) throws -> BindingUpdateOutcome {
        try cache.applyBindingUpdates(try overTheWire(spec), to: entry,
                                      matchedBy: spec.homeAddress == nil ? .packetSource : .homeAddressOption,
                                      packetSource: spec.source, homeAddress: spec.homeAddress)
    }

    @Test func initialUpdateThenHandoverKeepThePeersEntryInStep() throws {
        let clock = ManualClock()
        let peerCache = HostCache(clock: clock, random: SplitMix64(seed: 3))
        // The peer knows us by the address the conversation started from.
        let entry = try peerCache.createForeignEntry(for: F.linkA, trust: .trusted).id

        var state = PeerMobilityState(localIdentifier: F.linkA, peerIdentifier: F.peer,
                                      localAddresses: [F.linkA, F.linkB], initialSequence: 7)
        let initial = try #require(F.standalone(state.handle(.firstReplyReceived, now: clock.now)).first)
        var outcome = try apply(initial, to: peerCache, entry: entry)
        #expect(peerCache.entry(entry)?.capability == .homeless)
        #expect(peerCache.entry(entry)?.liveAddresses == [F.linkA, F.linkB])
        let ack = try #require(outcome.acknowledgements.last)
        _ = state.handle(.bindingAcknowledgementReceived(sequence: ack.sequence, status: ack.status, lifetime: ack.lifetime),
                         now: clock.now)
        #expect(state.phase == .homeless)

        // Handover: link C appears, links A and B go away.
        clock.advance(seconds: 30)
        _ = state.handle(.localAddressAdded(F.linkC), now: clock.now)
        _ = state.handle(.localAddressRemoved(F.linkA), now: clock.now)
        let actions = state.handle(.localAddressRemoved(F.linkB), now: clock.now)
        let handover = try #require(F.standalone(actions).first)
        outcome = try apply(handover, to: peerCache, entry: entry)
        #expect(outcome.dispositions.allSatisfy { $0.isAccepted })
        #expect(peerCache.entry(entry)?.liveAddresses == [F.linkC])
        #expect(peerCache.entry(entry)?.preferredDestination == F.linkC, "replies go to the new locator (1.4)")
        let handoverAck = try #require(outcome.acknowledgements.last)
        #expect(handoverAck.sequence == handover.lastSequence)
        let done = state.handle(.bindingAcknowledgementReceived(sequence: handoverAck.sequence, status: handoverAck.status,
                                                                lifetime: handoverAck.lifetime), now: clock.now)
        #expect(Set(state.peerBindings.keys) == [F.linkC])
        #expect(F.timer(done) == .some(clock.now.adding(seconds: 480)))
        #expect(peerCache.invariantViolations().isEmpty)
    }

    @Test func anUntrustedPeerGrantsLessAndWeRefreshEarlier() throws {
        let clock = ManualClock()
        let peerCache = HostCache(parameters: HostCacheParameters(defaultLifetime: 100), clock: clock, random: SplitMix64(seed: 4))
        let entry = try peerCache.createForeignEntry(for: F.linkA).id
        var state = PeerMobilityState(localIdentifier: F.linkA, peerIdentifier: F.peer, localAddresses: [F.linkA])
        let initial = try #require(F.standalone(state.handle(.firstReplyReceived, now: clock.now)).first)
        let ack = try #require(try apply(initial, to: peerCache, entry: entry).acknowledgements.last)
        #expect(ack.lifetime == 100)
        let actions = state.handle(.bindingAcknowledgementReceived(sequence: ack.sequence, status: ack.status, lifetime: ack.lifetime),
                                   now: clock.now)
        #expect(F.timer(actions) == .some(clock.now.adding(seconds: 80)))
    }
}

@Suite struct MobilityParameterProblemTests {
    typealias F = MobilityFixture

    /// ICMPv6 Parameter Problem quoting `invoking`, pointer `pointer`.
    func parameterProblem(code: UInt8 = 2, pointer: UInt32, invoking: [UInt8]) -> [UInt8] {
        let message = ICMPv6Message(.parameterProblem(code: code, pointer: pointer, invokingPacket: invoking))
        var bytes = [UInt8](repeating: 0, count: message.bufferLength)
        bytes.withUnsafeMutableBytes { message.emit(into: $0, source: F.peer, destination: F.linkA) }
        return bytes
    }

    func initialPacket() -> [UInt8] {
        let spec = BindingUpdateSpec(source: F.linkA, destination: F.peer, homeAddress: F.linkA, announcesHomelessSupport: true,
                                     withdrawals: [], registrations: [F.linkA, F.linkB], lifetime: 600, firstSequence: 1)
        let header = BindingUpdateBuilder.destinationOptions(for: spec, nextHeader: .noNextHeader)
        var options = [UInt8](repeating: 0, count: header.bufferLength)
        options.withUnsafeMutableBytes { header.emit(into: $0) }
        return F.packet(source: F.linkA, destination: F.peer, nextHeader: .destinationOptions, payload: options)
    }

    @Test func thePointerAtOurHomeAddressOptionIsRecognised() throws {
        let invoking = initialPacket()
        // The HAO (8n+6) follows a 4-octet PadN: type byte at 40 + 6.
        #expect(invoking[46] == 201)
        let match = parameterProblem(pointer: 46, invoking: invoking).withUnsafeBytes {
            InitialBindingUpdateRejection.match(icmpMessage: $0)
        }
        #expect(match == InitialBindingUpdateRejection(invokingSource: F.linkA, invokingDestination: F.peer, option: .homeAddress))
        let buOffset = try #require((48..<invoking.count).first { invoking[$0] == 198 })
        let atBU = parameterProblem(pointer: UInt32(buOffset), invoking: invoking).withUnsafeBytes {
            InitialBindingUpdateRejection.match(icmpMessage: $0)
        }
        #expect(atBU?.option == .bindingUpdate)
    }

    /// A host without AH (or without Destination Options) rejects the
    /// header itself: code 1 pointing at the Next Header field naming it
    /// (what a Linux kernel without IPsec AH sends).
    @Test func anUnrecognizedHeaderOfOurUpdateIsRecognised() {
        let invoking = initialPacket()   // IPv6 (Next Header 60) | Destination Options
        let match = parameterProblem(code: 1, pointer: 6, invoking: invoking).withUnsafeBytes {
            InitialBindingUpdateRejection.match(icmpMessage: $0)
        }
        #expect(match == InitialBindingUpdateRejection(invokingSource: F.linkA, invokingDestination: F.peer, unrecognizedHeader: 60))
        // The same packet behind AH: the pointer names AH in the IPv6 header.
        var withAH = invoking
        withAH[6] = IPProtocol.authentication.rawValue
        let ahMatch = parameterProblem(code: 1, pointer: 6, invoking: withAH).withUnsafeBytes {
            InitialBindingUpdateRejection.match(icmpMessage: $0)
        }
        #expect(ahMatch?.unrecognizedHeader == 51 && ahMatch?.option == nil)
        // Code 1 elsewhere, or naming a header that is not ours, is not ours.
        var tcp = invoking
        tcp[6] = IPProtocol.tcp.rawValue
        for (packet, pointer) in [(invoking, UInt32(7)), (invoking, UInt32(46)), (tcp, UInt32(6)), (invoking, UInt32(40))] {
            #expect(parameterProblem(code: 1, pointer: pointer, invoking: packet).withUnsafeBytes {
                InitialBindingUpdateRejection.match(icmpMessage: $0)
            } == nil)
        }
    }

    @Test func otherPointersCodesAndTruncationsAreNotOurs() {
        let invoking = initialPacket()
        for (code, pointer) in [(UInt8(2), UInt32(47)), (2, 6), (2, 48), (0, 46), (2, 100_000)] {
            let message = parameterProblem(code: code, pointer: pointer, invoking: invoking)
            #expect(message.withUnsafeBytes { InitialBindingUpdateRejection.match(icmpMessage: $0) } == nil)
        }
        for cut in [0, 20, 41, 45] {
            let message = parameterProblem(pointer: 46, invoking: Array(invoking.prefix(cut)))
            #expect(message.withUnsafeBytes { InitialBindingUpdateRejection.match(icmpMessage: $0) } == nil)
        }
        var rng = SplitMix64(seed: 9)
        for _ in 0..<500 {
            let garbage = (0..<Int(rng.next() % 120)).map { _ in UInt8(truncatingIfNeeded: rng.next()) }
            _ = garbage.withUnsafeBytes { InitialBindingUpdateRejection.match(icmpMessage: $0) }
        }
    }
}

@Suite struct MobilitySourceSelectionTests {
    typealias F = MobilityFixture

    let ports = [
        WirePortAddresses(port: 0, isUp: true, hasRoute: true, addresses: [F.linkA, F.address("fe80::a")]),
        WirePortAddresses(port: 1, isUp: true, hasRoute: true, addresses: [F.linkB, F.address("fe80::b")]),
    ]

    @Test func theSourceHasTheDestinationsScope() {
        let global = SourceLocatorSelection.select(for: F.peer, ports: ports)
        #expect(global?.address.scope == .global)
        let local = SourceLocatorSelection.select(for: F.address("fe80::99"), ports: ports,
                                                  lastUsed: SourceLocatorChoice(port: 1, address: F.address("fe80::b")))
        #expect(local == SourceLocatorChoice(port: 1, address: F.address("fe80::b")))
    }

    @Test func theLastUsedLocatorStaysUntilItsLinkGoesDown() {
        let last = SourceLocatorChoice(port: 1, address: F.linkB)
        #expect(SourceLocatorSelection.select(for: F.peer, ports: ports, lastUsed: last) == last)
        var down = ports
        down[1].isUp = false
        #expect(SourceLocatorSelection.select(for: F.peer, ports: down, lastUsed: last) == SourceLocatorChoice(port: 0, address: F.linkA))
        down[0].isUp = false
        #expect(SourceLocatorSelection.select(for: F.peer, ports: down, lastUsed: last) == nil)
    }

    @Test func routesThenPeerKnowledgeThenPrefixDecide() {
        var noRoute = ports
        noRoute[0].hasRoute = false
        #expect(SourceLocatorSelection.select(for: F.peer, ports: noRoute)?.port == 1)
        #expect(SourceLocatorSelection.select(for: F.peer, ports: ports, knownToPeer: [F.linkB])?.address == F.linkB)
        #expect(SourceLocatorSelection.select(for: F.address("2001:db8:b::99"), ports: ports)?.address == F.linkB)
        #expect(SourceLocatorSelection.commonPrefixLength(F.linkA, F.linkA) == 128)
        #expect(SourceLocatorSelection.commonPrefixLength(F.linkA, F.linkB) == 47)
    }
}
