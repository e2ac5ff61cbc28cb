import Testing
import HomelessCore
import HomelessWire

/// Random event sequences against the per-peer machine: whatever happens,
/// what it sends is well-formed and its timers never fire in the past.
@Suite struct MobilityPropertyTests {
    typealias F = MobilityFixture

    @Test(arguments: [1, 2, 3, 4] as [UInt64])
    func randomEventSequencesKeepTheInvariants(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let pool = (0..<6).map { IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64($0) << 16, low: 0x10) } + [F.linkLocal]
        var state = PeerMobilityState(localIdentifier: pool[0], peerIdentifier: F.peer, localAddresses: [pool[0], pool[1]],
                                      initialSequence: UInt16(truncatingIfNeeded: rng.next()))
        var now = MonotonicInstant.origin
        var lastSequence: UInt16?
        var lastOffer: BindingUpdateSpec?
        var sent: [BindingUpdateSpec] = []
        var timer: MonotonicInstant?
        var standaloneCount = 0, homelessSteps = 0
        for step in 0..<3000 {
            let event: PeerMobilityEvent
            switch rng.next() % 14 {
            case 0: event = .firstReplyReceived
            case 1: event = .localAddressAdded(pool[Int(rng.next() % UInt64(pool.count))])
            case 2: event = .localAddressRemoved(pool[Int(rng.next() % UInt64(pool.count))])
            case 3, 4:
                // Acknowledge something we sent (or garbage).
                let sequence = sent.isEmpty || rng.next() % 4 == 0 ? UInt16(truncatingIfNeeded: rng.next())
                    : sent[Int(rng.next() % UInt64(sent.count))].lastSequence
                if rng.next() % 6 == 0 {
                    // Out of window: the peer's last accepted number, at
                    // most a little ahead of what it saw from us.
                    let accepted = (lastSequence ?? 0) &+ UInt16(rng.next() % 1000)
                    event = .bindingAcknowledgementReceived(sequence: accepted, status: 141, lifetime: 0)
                } else {
                    event = .bindingAcknowledgementReceived(sequence: sequence, status: rng.next() % 8 == 0 ? 130 : 0,
                                                            lifetime: UInt32(rng.next() % 900))
                }
            case 5: event = .bindingRequestReceived
            case 6: event = .piggybackSent(firstSequence: lastOffer?.firstSequence ?? 0)
            case 7: event = .idleTimeout
            case 8: event = .activityResumed
            case 9: event = .parameterProblem(pointsAtMobilityOption: rng.next() % 50 == 0)
            case 10: event = .peerBindingUpdateReceived(homelessSupport: rng.next() % 10 != 0)
            default:
                event = .timerFired
                if let deadline = timer { now = max(now, deadline) }
            }
            now = now.adding(milliseconds: rng.next() % 700)
            let actions = state.handle(event, now: now)
            for action in actions {
                switch action {
                case .sendStandalone(let spec), .offerPiggyback(let spec):
                    #expect(state.localAddresses.contains(spec.source), "step \(step): source must be live")
                    #expect(spec.source.scope == F.peer.scope)
                    #expect(Set(spec.registrations).isSubset(of: Set(state.localAddresses)))
                    #expect(Set(spec.withdrawals).isDisjoint(with: Set(state.localAddresses)))
                    #expect(spec.homeAddress == nil || spec.homeAddress == spec.source || !state.peerBindings.isEmpty)
                    #expect(BindingUpdateBuilder.destinationOptions(for: spec, nextHeader: .noNextHeader).isEncodable)
                    if case .sendStandalone = action {
                        if let last = lastSequence {
                            #expect(SequenceNumber.isNewer(spec.firstSequence, than: last), "step \(step): sequence reused")
                        }
                        lastSequence = spec.lastSequence
                        standaloneCount += 1
                        sent.append(spec)
                        if sent.count > 16 { sent.removeFirst() }
                    } else {
                        lastOffer = spec
                    }
                case .scheduleTimer(let at):
                    if let at { #expect(at > now, "step \(step): timer in the past") }
                    timer = at
                case .withdrawPiggybackOffer:
                    lastOffer = nil
                case .markCapability:
                    break
                }
            }
            if case .piggybackSent = event, let offer = lastOffer, state.offeredSpec == nil {
                if let last = lastSequence { #expect(SequenceNumber.isNewer(offer.firstSequence, than: last)) }
                lastSequence = offer.lastSequence
                lastOffer = nil
            }
            #expect(state.scheduledDeadline == timer)
            if state.phase == .homeless { homelessSteps += 1 }
        }
        #expect(standaloneCount > 50 && homelessSteps > 1000, "the sequence exercised the homeless phase")
    }
}
