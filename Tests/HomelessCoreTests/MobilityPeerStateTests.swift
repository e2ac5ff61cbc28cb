import Testing
import HomelessCore
import HomelessWire

@Suite struct MobilityPeerStateTests {
    typealias F = MobilityFixture

    func machine(local: [IPv6Address] = [F.linkA, F.linkB, F.linkLocal]) -> PeerMobilityState {
        PeerMobilityState(localIdentifier: F.linkA, peerIdentifier: F.peer, localAddresses: local, initialSequence: 100)
    }

    @Test func nothingIsSentBeforeThePeerReplies() {
        var state = machine()
        #expect(state.phase == .awaitingReply)
        #expect(state.handle(.timerFired, now: F.at(seconds: 5)).isEmpty)
        #expect(state.handle(.localAddressAdded(F.linkC), now: F.at(seconds: 6)).isEmpty)
        // Link-local addresses are of another scope than the peer: never announced.
        #expect(!state.localAddresses.contains(F.linkLocal))
    }

    @Test func theFirstReplyTriggersAStandaloneInitialBindingUpdate() throws {
        var state = machine()
        let actions = state.handle(.firstReplyReceived, now: F.at(seconds: 10))
        #expect(state.phase == .probing)
        let spec = try #require(F.standalone(actions).first)
        #expect(spec.isInitial)
        #expect(spec.source == F.linkA && spec.homeAddress == F.linkA && spec.destination == F.peer)
        #expect(spec.registrations == [F.linkA, F.linkB])
        #expect(spec.firstSequence == 100)
        #expect(F.timer(actions) == .some(F.at(seconds: 11)))
        let updates = BindingUpdateBuilder.bindingUpdates(for: spec)
        #expect(updates.count == 1)
        #expect(updates[0].flags.contains(.acknowledge))
        #expect(updates[0].subOptions.first == .homelessSupport)
        // No Alternate Care-of Address: care-of = source = home (3.2.1); the
        // other address travels as an Alternate Prefix with the source's suffix.
        #expect(!updates[0].subOptions.contains { if case .alternateCareOfAddress = $0 { true } else { false } })
        guard case .alternatePrefixes(let prefixes)? = updates[0].subOptions.last else {
            Issue.record("no Alternate Prefixes sub-option"); return
        }
        #expect(prefixes.prefixByteCount == 8)
        #expect(prefixes.address(at: 0, suffixFrom: F.linkA) == F.linkB)
    }

    @Test func retransmissionsBackOffAndGiveUpAsStandardHost() throws {
        var state = machine()
        _ = state.handle(.firstReplyReceived, now: F.at(seconds: 0))
        var now: UInt64 = 0
        var sequences: [UInt16] = [100]
        for interval in [1, 2, 4, 8, 16] as [UInt64] {
            now += interval
            #expect(state.handle(.timerFired, now: F.at(seconds: now - 1)).isEmpty, "not due yet")
            let actions = state.handle(.timerFired, now: F.at(seconds: now))
            let spec = try #require(F.standalone(actions).first)
            sequences.append(spec.firstSequence)
            #expect(F.timer(actions) == .some(F.at(seconds: now + min(interval * 2, 32))))
        }
        #expect(sequences == [100, 101, 102, 103, 104, 105], "every transmission has a new sequence number")
        let last = state.handle(.timerFired, now: F.at(seconds: now + 32))
        #expect(state.phase == .standardHost)
        #expect(last.contains(.markCapability(.standard)))
        #expect(F.timer(last) == .some(nil))
    }

    @Test func aParameterProblemAtOurOptionMarksAStandardHost() {
        var state = machine()
        _ = state.handle(.firstReplyReceived, now: F.at(seconds: 0))
        #expect(state.handle(.parameterProblem(pointsAtMobilityOption: false), now: F.at(seconds: 0)).isEmpty)
        let actions = state.handle(.parameterProblem(pointsAtMobilityOption: true), now: F.at(seconds: 0))
        #expect(state.phase == .standardHost)
        #expect(actions == [.markCapability(.standard), .scheduleTimer(at: nil)])
        #expect(state.handle(.timerFired, now: F.at(seconds: 100)).isEmpty)
        #expect(state.handle(.localAddressAdded(F.linkC), now: F.at(seconds: 100)).isEmpty, "no BUs to a Standard Host")
    }

    @Test func aBindingUpdateWithoutHomelessSupportMarksAStandardMobileHost() {
        var state = machine()
        _ = state.handle(.firstReplyReceived, now: F.at(seconds: 0))
        let actions = state.handle(.peerBindingUpdateReceived(homelessSupport: false), now: F.at(seconds: 0))
        #expect(state.phase == .standardMobile)
        #expect(actions.contains(.markCapability(.standardMobile)))
    }

    /// Probe acknowledged: homeless, bindings registered, refresh at 80 %.
    func acknowledgedMachine() throws -> PeerMobilityState {
        var state = machine()
        let spec = try #require(F.standalone(state.handle(.firstReplyReceived, now: F.at(seconds: 0))).first)
        let actions = state.handle(.bindingAcknowledgementReceived(sequence: spec.lastSequence, status: 0, lifetime: 600),
                                   now: F.at(seconds: 1))
        #expect(actions.contains(.markCapability(.homeless)))
        #expect(F.timer(actions) == .some(F.at(seconds: 1 + 480)))
        return state
    }

    @Test func anAcknowledgementMakesThePeerHomelessAndSchedulesTheRefresh() throws {
        var state = try acknowledgedMachine()
        #expect(state.phase == .homeless)
        #expect(state.peerHasAcknowledged)
        #expect(state.peerBindings[F.linkA] == .registered(expiresAt: F.at(seconds: 601), refreshAt: F.at(seconds: 481)))
        // Stale or duplicate acknowledgements change nothing.
        #expect(state.handle(.bindingAcknowledgementReceived(sequence: 100, status: 0, lifetime: 5), now: F.at(seconds: 2)).isEmpty)
        // The refresh renews every address, standalone, without Homeless Support now.
        let actions = state.handle(.timerFired, now: F.at(seconds: 481))
        let refresh = try #require(F.standalone(actions).first)
        #expect(refresh.registrations == [F.linkA, F.linkB])
        #expect(!refresh.announcesHomelessSupport && refresh.homeAddress == nil)
        #expect(refresh.firstSequence == 101)
    }

    @Test func aNewAddressIsOfferedForPiggybackingThenSentStandaloneWhenIdle() throws {
        var state = try acknowledgedMachine()
        let added = state.handle(.localAddressAdded(F.linkC), now: F.at(seconds: 10))
        let offer = try #require(F.offers(added).first)
        #expect(offer.registrations == [F.linkC] && offer.withdrawals.isEmpty && offer.homeAddress == nil)
        #expect(BindingUpdateBuilder.bindingUpdates(for: offer)[0].subOptions == [.alternateCareOfAddress(F.linkC)])
        #expect(F.timer(added) == .some(F.at(seconds: 10, milliseconds: 500)))
        // No data packet took it: standalone at the deadline, retransmitted 1 s later.
        let fired = state.handle(.timerFired, now: F.at(seconds: 10, milliseconds: 500))
        #expect(fired.contains(.withdrawPiggybackOffer))
        let sent = try #require(F.standalone(fired).first)
        #expect(sent.registrations == [F.linkC])
        #expect(F.timer(fired) == .some(F.at(seconds: 11, milliseconds: 500)))
    }

    @Test func aWithdrawalIsSentAtOnceNotOfferedForPiggybacking() throws {
        // Multi-homing: linkA and linkB are registered; linkA's link goes
        // down. The peer may be sending to linkA: it must learn now, not
        // when a small data packet happens to leave.
        var state = try acknowledgedMachine()
        let actions = state.handle(.localAddressRemoved(F.linkA), now: F.at(seconds: 10))
        #expect(F.offers(actions).isEmpty)
        let sent = try #require(F.standalone(actions).first)
        #expect(sent.withdrawals == [F.linkA] && sent.registrations.isEmpty && sent.homeAddress == nil)
        #expect(sent.source == F.linkB)
        #expect(F.timer(actions) == .some(F.at(seconds: 11)), "retransmitted after 1 s unless acknowledged")
        // A gain alongside a loss goes with it, at once.
        var both = try acknowledgedMachine()
        _ = both.handle(.localAddressAdded(F.linkC), now: F.at(seconds: 10))
        let moved = both.handle(.localAddressRemoved(F.linkA), now: F.at(seconds: 10))
        let update = try #require(F.standalone(moved).first)
        #expect(update.withdrawals == [F.linkA] && update.registrations == [F.linkC])
        #expect(moved.contains(.withdrawPiggybackOffer), "the earlier offer of linkC is taken back")
    }

    @Test func aPiggybackedUpdateIsRetransmittedUntilAcknowledged() throws {
        var state = try acknowledgedMachine()
        let offer = try #require(F.offers(state.handle(.localAddressAdded(F.linkC), now: F.at(seconds: 10))).first)
        #expect(state.handle(.piggybackSent(firstSequence: offer.firstSequence &+ 7), now: F.at(seconds: 10)).isEmpty,
                "a report for another offer is ignored")
        let reported = state.handle(.piggybackSent(firstSequence: offer.firstSequence), now: F.at(seconds: 10))
        #expect(F.timer(reported) == .some(F.at(seconds: 11)))
        let retransmitted = try #require(F.standalone(state.handle(.timerFired, now: F.at(seconds: 11))).first)
        #expect(retransmitted.firstSequence == offer.firstSequence &+ 1)
        let acked = state.handle(.bindingAcknowledgementReceived(sequence: retransmitted.lastSequence, status: 0, lifetime: 300),
                                 now: F.at(seconds: 12))
        #expect(state.peerBindings[F.linkC] == .registered(expiresAt: F.at(seconds: 312), refreshAt: F.at(seconds: 252)))
        #expect(F.timer(acked) == .some(F.at(seconds: 252)), "the earliest refresh is now linkC's")
    }

    @Test func aLostAddressIsWithdrawnWithLifetimeZeroAndTheNewSourceCarriesAHomeAddress() throws {
        var state = try acknowledgedMachine()
        _ = state.handle(.localAddressAdded(F.linkC), now: F.at(seconds: 10))
        _ = state.handle(.localAddressRemoved(F.linkA), now: F.at(seconds: 10))
        let actions = state.handle(.localAddressRemoved(F.linkB), now: F.at(seconds: 10))
        #expect(F.offers(actions).isEmpty, "a handover needs a Home Address option: it cannot wait for a data packet")
        let offer = try #require(F.standalone(actions).first)
        #expect(offer.source == F.linkC)
        #expect(offer.homeAddress == F.linkA, "a previously registered address (2.2.1)")
        #expect(offer.withdrawals == [F.linkA, F.linkB])
        #expect(offer.registrations == [F.linkC])
        let updates = BindingUpdateBuilder.bindingUpdates(for: offer)
        #expect(updates.map(\.lifetime) == [0, 600])
        #expect(updates.map(\.sequence) == [offer.firstSequence, offer.firstSequence &+ 1])
        #expect(updates[0].subOptions == [.alternateCareOfAddress(F.linkA), .alternateCareOfAddress(F.linkB)])
        #expect(updates[1].subOptions.isEmpty, "the new source is the care-of address")
        #expect(updates.filter { !$0.flags.contains(.acknowledge) }.isEmpty)
    }

    @Test func dataMovesToANewAddressOnlyOnceThePeerAcknowledgedIt() throws {
        var state = try acknowledgedMachine(), now = F.at(seconds: 10)
        #expect(state.dataSource(now: now) == F.linkA)
        // Renumbering: linkC comes, linkA and linkB go. Until the peer
        // acknowledges linkC, data keeps the ULID, which the peer holds.
        _ = state.handle(.localAddressAdded(F.linkC), now: now)
        _ = state.handle(.localAddressRemoved(F.linkA), now: now)
        let actions = state.handle(.localAddressRemoved(F.linkB), now: now)
        let update = try #require(F.standalone(actions).first)
        #expect(state.preferredSource == F.linkC)
        #expect(state.dataSource(now: now) == F.linkA)
        now = F.at(seconds: 10, milliseconds: 1)
        _ = state.handle(.bindingAcknowledgementReceived(sequence: update.lastSequence, status: 0, lifetime: 600), now: now)
        #expect(state.dataSource(now: now) == F.linkC)
    }

    @Test func dataMovesAtOnceToALiveAddressThePeerHoldsAlready() throws {
        // Multi-homing: linkB was registered with the Initial Binding
        // Update; losing linkA moves data to linkB without waiting.
        var state = try acknowledgedMachine(), now = F.at(seconds: 10)
        #expect(state.peerBindings[F.linkB] != nil)
        _ = state.handle(.localAddressRemoved(F.linkA), now: now)
        #expect(state.dataSource(now: now) == F.linkB)
        // A refused registration does not count as held.
        now = F.at(seconds: 20)
        var refused = try acknowledgedMachine()
        let added = refused.handle(.localAddressAdded(F.linkC), now: now)
        let offer = try #require(F.offers(added).first)
        _ = refused.handle(.bindingAcknowledgementReceived(sequence: offer.lastSequence, status: 129, lifetime: 0), now: now)
        _ = refused.handle(.localAddressRemoved(F.linkA), now: now)
        _ = refused.handle(.localAddressRemoved(F.linkB), now: now)
        #expect(refused.dataSource(now: F.at(seconds: 21)) == F.linkA, "the ULID, which the peer still holds")
    }

    @Test func anOutOfWindowAcknowledgementResynchronisesTheSequence() throws {
        var state = try acknowledgedMachine()
        _ = state.handle(.localAddressAdded(F.linkC), now: F.at(seconds: 10))
        _ = state.handle(.timerFired, now: F.at(seconds: 11))
        let actions = state.handle(.bindingAcknowledgementReceived(sequence: 5000, status: 141, lifetime: 0), now: F.at(seconds: 11))
        let resent = try #require(F.standalone(actions).first)
        #expect(resent.firstSequence == 5001)
        #expect(state.lastRefusalStatus == 141)
    }

    @Test func aBindingRequestIsAnsweredWithABindingUpdate() throws {
        var state = try acknowledgedMachine()
        let answer = try #require(F.standalone(state.handle(.bindingRequestReceived, now: F.at(seconds: 20))).first)
        #expect(answer.registrations == [F.linkA, F.linkB])
    }

    @Test func idlePeersAreNeitherRefreshedNorRetransmittedTo() throws {
        var state = try acknowledgedMachine()
        let idle = state.handle(.idleTimeout, now: F.at(seconds: 30))
        #expect(F.timer(idle) == .some(nil))
        #expect(state.handle(.timerFired, now: F.at(seconds: 481)).isEmpty)
        #expect(F.offers(state.handle(.localAddressAdded(F.linkC), now: F.at(seconds: 500))).isEmpty)
        let resumed = state.handle(.activityResumed, now: F.at(seconds: 510))
        #expect(F.offers(resumed).first?.registrations == [F.linkA, F.linkB, F.linkC], "refresh due and the new address")
    }

    @Test func thePeersInitialBindingUpdateIsAnsweredWithOurs() throws {
        var state = machine()
        let actions = state.handle(.peerBindingUpdateReceived(homelessSupport: true), now: F.at(seconds: 0))
        #expect(state.phase == .homeless)
        #expect(actions.contains(.markCapability(.homeless)))
        let spec = try #require(F.standalone(actions).first)
        #expect(spec.announcesHomelessSupport && spec.registrations == [F.linkA, F.linkB])
    }

    @Test func theLargestUpdateStillEncodes() {
        let many = (1...20).map { IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64($0) << 16, low: UInt64($0) * 7919) }
        var state = PeerMobilityState(localIdentifier: many[0], peerIdentifier: F.peer, localAddresses: many)
        let spec = F.standalone(state.handle(.firstReplyReceived, now: .origin)).first
        #expect(spec?.registrations.count == MobilityParameters().maximumAddressesPerUpdate)
        if let spec {
            #expect(BindingUpdateBuilder.destinationOptions(for: spec, nextHeader: .noNextHeader).isEncodable)
            var withdrawing = spec
            withdrawing.withdrawals = Array(many.suffix(9))
            withdrawing.registrations = Array(many.prefix(9)).filter { $0 != spec.source }
            #expect(BindingUpdateBuilder.destinationOptions(for: withdrawing, nextHeader: .noNextHeader).isEncodable)
        }
    }
}
