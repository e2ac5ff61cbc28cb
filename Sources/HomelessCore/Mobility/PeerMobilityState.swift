public import HomelessWire

/// The mobility state of one peer (one Foreign Host Cache Entry) as seen by
/// the local host: what the peer runs, which of our addresses its entry
/// holds, and which Binding Updates are in flight. A plain value with no
/// I/O: the engine feeds it events with the current time and carries out
/// the actions it returns (see `PeerMobilityEvent`, `PeerMobilityAction`).
///
/// Phases (draft section numbers):
/// ```
///  awaitingReply --firstReply--> probing --BA / BU with Homeless Support--> homeless
///        |                          |--Parameter Problem / no answer-----> standardHost
///        |                          '--BU without Homeless Support-------> standardMobile
///        '--BU with Homeless Support (the peer's Initial BU)------------> homeless
/// ```
/// * awaitingReply: we created the entry by initiating (2.1.1); the Initial
///   Binding Update waits for the peer's first reply (2.1.2).
/// * probing: the Initial Binding Update (3.2.1) is out, standalone with No
///   Next Header (2.2.4) so a peer that rejects it loses no data; it is
///   retransmitted with backoff until an answer or the attempt limit.
/// * homeless: the entry's addresses are kept in step with our local
///   addresses of the peer's scope: new ones registered, lost ones withdrawn
///   (lifetime 0), all refreshed before their granted lifetime ends. A
///   withdrawal or a change that needs a Home Address option is sent at
///   once; other changes are offered for piggybacking and sent standalone
///   when no data packet took them in time; retransmitted until
///   acknowledged (1 s doubling to 32 s). Binding Requests are answered with a Binding Update.
/// * standardHost / standardMobile: no Binding Updates from this machine;
///   the engine emulates a Standard Mobile Host per connection (2.2.2, 2.2.3).
///
/// Sequence numbers: every transmission (first or retransmission) uses new
/// ones, so a receiver that accepted an earlier copy whose Binding
/// Acknowledgement was lost never rejects the retransmission as old. An
/// out-of-window Binding Acknowledgement (status 141) carries the last
/// number the peer accepted; the counter jumps past it.
public struct PeerMobilityState: Sendable {
    public enum Phase: Equatable, Sendable {
        case awaitingReply
        case probing
        case homeless
        case standardHost
        case standardMobile
    }

    /// What the peer's entry holds of one of our addresses, as far as we know.
    public enum PeerBinding: Equatable, Sendable {
        /// Known to the peer by other means than a Binding Update (the
        /// address the conversation started from, activity lifetime at the
        /// peer, 2.1.1): to be registered with the next Binding Update.
        case unregistered
        /// Registered and acknowledged; `refreshAt` is when to renew it,
        /// nil for an infinite lifetime.
        case registered(expiresAt: MonotonicInstant?, refreshAt: MonotonicInstant?)
    }

    /// One transmission still waiting for its acknowledgement.
    struct Transmission: Equatable, Sendable {
        var spec: BindingUpdateSpec
    }

    public let parameters: MobilityParameters
    /// Our ULID for this peer: the address the conversation started from.
    public let localIdentifier: IPv6Address
    /// The peer's ULID: the address the conversation started to.
    public let peerIdentifier: IPv6Address
    public private(set) var phase: Phase
    /// Where Binding Updates go: the peer's last observed locator (1.4).
    public private(set) var peerLocator: IPv6Address
    /// Our live local addresses of the peer's scope, ascending: the set
    /// the peer's entry should hold.
    public private(set) var localAddresses: [IPv6Address]
    /// Our addresses the peer's entry holds.
    public private(set) var peerBindings: [IPv6Address: PeerBinding]
    /// The sequence number the next Binding Update gets.
    public private(set) var nextSequence: UInt16
    /// True once the peer acknowledged one of our Binding Updates (3.1:
    /// Homeless Support is sent until then).
    public private(set) var peerHasAcknowledged = false
    /// Status of the last negative acknowledgement (diagnostics).
    public private(set) var lastRefusalStatus: UInt8?
    /// After `idleTimeout`: no refreshes, no retransmissions.
    public private(set) var isDormant = false
    /// The current piggyback offer, if any.
    public private(set) var offeredSpec: BindingUpdateSpec?
    /// Standalone or piggybacked transmissions since the last acknowledgement.
    public private(set) var transmissionsSinceProgress = 0
    /// Instant of the next (re)transmission, if one is due.
    public private(set) var nextTransmissionAt: MonotonicInstant?
    /// The deadline last handed to the engine.
    public private(set) var scheduledDeadline: MonotonicInstant?

    var inFlight: [Transmission] = []
    var lastAcknowledgedSequence: UInt16?
    var backoffSeconds: UInt64
    var lastSource: IPv6Address?

    /// Keeps the last few transmissions: a late acknowledgement of any of
    /// them still counts.
    static let inFlightLimit = 8

    /// - Parameters:
    ///   - localIdentifier, peerIdentifier: the conversation's addresses (ULIDs).
    ///   - localAddresses: our current local addresses; those of another
    ///     scope than `peerIdentifier` are ignored (2.2.1: same scope).
    ///   - initialSequence: first Binding Update sequence number (random
    ///     per peer is a good choice).
    public init(localIdentifier: IPv6Address, peerIdentifier: IPv6Address, localAddresses: [IPv6Address],
                parameters: MobilityParameters = MobilityParameters(), initialSequence: UInt16 = 1) {
        self.parameters = parameters
        self.localIdentifier = localIdentifier
        self.peerIdentifier = peerIdentifier
        self.phase = .awaitingReply
        self.peerLocator = peerIdentifier
        let scope = peerIdentifier.scope
        self.localAddresses = Array(Set(localAddresses.filter { $0.scope == scope && Self.isUsable($0) })).sorted()
        self.peerBindings = [localIdentifier: .unregistered]
        self.nextSequence = initialSequence
        self.backoffSeconds = parameters.initialRetransmitSeconds
    }

    static func isUsable(_ address: IPv6Address) -> Bool {
        !address.isMulticast && !address.isUnspecified && !address.isLoopback
    }

    // MARK: - Queries

    /// The source our packets to the peer should use (2.2.1): the last one
    /// used if still live, else a live address the peer already holds (no
    /// Home Address option needed), preferring the ULID, else any live one.
    public var preferredSource: IPv6Address? {
        if let last = lastSource, localAddresses.contains(last) { return last }
        if localAddresses.contains(localIdentifier) { return localIdentifier }
        if let known = localAddresses.first(where: { peerBindings[$0] != nil }) { return known }
        return localAddresses.first
    }

    /// Addresses the peer's entry should get (new) or renew (refresh due).
    /// The source address data packets to the peer should carry on the
    /// wire (the locator the engine translates our ULID to): the preferred
    /// source once the peer's entry holds it, else a live address it holds,
    /// else the ULID while the peer holds it (the kernel keeps the ULID as
    /// a local address, DESIGN section 1). A new address is used for data
    /// only after the peer acknowledged it: before that the peer's engine
    /// cannot match the address to our entry, and its kernel would answer a
    /// packet from an unknown address with a reset (2.2.1 would have the
    /// packet carry a Home Address option and the Binding Update instead;
    /// the engine's fast path does not add options to data packets, so
    /// data waits for the acknowledgement, one round trip).
    public func dataSource(now: MonotonicInstant) -> IPv6Address? {
        func held(_ address: IPv6Address) -> Bool {
            switch peerBindings[address] {
            case .unregistered?: true
            case .registered(let expiresAt, _)?: expiresAt.map { now < $0 } ?? true
            case nil: false
            }
        }
        if let source = preferredSource, held(source) { return source }
        if let live = localAddresses.first(where: held) { return live }
        if held(localIdentifier) { return localIdentifier }
        return preferredSource
    }

    func registrationsNeeded(now: MonotonicInstant) -> [IPv6Address] {
        localAddresses.filter { address in
            switch peerBindings[address] {
            case nil, .unregistered?: return true
            case .registered(_, let refreshAt)?: return refreshAt.map { $0 <= now } ?? false
            }
        }
    }

    /// Addresses the peer holds that we lost.
    var withdrawalsNeeded: [IPv6Address] {
        peerBindings.keys.filter { !localAddresses.contains($0) }.sorted()
    }

    /// Earliest refresh instant of a live registered address.
    var nextRefreshAt: MonotonicInstant? {
        var earliest: MonotonicInstant?
        for address in localAddresses {
            if case .registered(_, let refreshAt?)? = peerBindings[address], earliest.map({ refreshAt < $0 }) ?? true {
                earliest = refreshAt
            }
        }
        return earliest
    }

    /// The Binding Updates the current state calls for, or nil when the
    /// peer's entry is in step (or we have no address to send from).
    func makeSpec(now: MonotonicInstant) -> BindingUpdateSpec? {
        guard let source = preferredSource else { return nil }
        let limit = parameters.maximumAddressesPerUpdate
        var registrations = Array(registrationsNeeded(now: now).prefix(limit))
        let withdrawals = Array(withdrawalsNeeded.prefix(limit))
        let sourceKnown = peerBindings[source] != nil
        // A source the peer does not hold must be registered in the same
        // packet (2.2.1), and listed first so it is surely within the limit.
        if !sourceKnown && !registrations.contains(source) {
            registrations = [source] + registrations.prefix(limit - 1)
        }
        if registrations.isEmpty && withdrawals.isEmpty { return nil }
        let homeAddress: IPv6Address?
        let initial = phase == .probing || !peerHasAcknowledged
        if phase == .probing && sourceKnown {
            homeAddress = source  // Initial Binding Update, 3.2.1
        } else if sourceKnown {
            homeAddress = nil     // 3.2.2: the peer's entry already holds the source
        } else {
            // 2.2.1: a previously registered address; prefer one we still have.
            let known = peerBindings.keys.sorted()
            homeAddress = known.first(where: { localAddresses.contains($0) }) ?? known.first
        }
        return BindingUpdateSpec(source: source, destination: peerLocator, homeAddress: homeAddress,
                                 announcesHomelessSupport: initial, withdrawals: withdrawals,
                                 registrations: registrations, lifetime: parameters.requestedLifetime,
                                 firstSequence: nextSequence)
    }

    // MARK: - Events

    /// Applies one event at `now` and returns what the engine must do.
    public mutating func handle(_ event: PeerMobilityEvent, now: MonotonicInstant) -> [PeerMobilityAction] {
        var actions: [PeerMobilityAction] = []
        switch event {
        case .firstReplyReceived:
            switch phase {
            case .awaitingReply:
                phase = .probing
                transmitStandalone(now: now, into: &actions)
            case .probing, .homeless, .standardHost, .standardMobile:
                break
            }
        case .peerLocatorObserved(let locator):
            if Self.isUsable(locator) && locator.scope == peerIdentifier.scope { peerLocator = locator }
        case .parameterProblem(let pointsAtMobilityOption):
            guard pointsAtMobilityOption else { break }
            switch phase {
            case .awaitingReply, .probing, .homeless:
                becomeStandard(.standardHost, capability: .standard, into: &actions)
            case .standardHost, .standardMobile:
                break
            }
        case .bindingAcknowledgementReceived(let sequence, let status, let lifetime):
            switch phase {
            case .probing, .homeless:
                acknowledge(sequence: sequence, status: status, lifetime: lifetime, now: now, into: &actions)
            case .awaitingReply, .standardHost, .standardMobile:
                break  // nothing of ours in flight
            }
        case .peerBindingUpdateReceived(let homelessSupport):
            switch phase {
            case .awaitingReply, .standardHost, .standardMobile:
                if homelessSupport {
                    // The peer's Initial BU (2.1.2: it "may be used to
                    // trigger sending an Initial Binding Update back").
                    phase = .homeless
                    actions.append(.markCapability(.homeless))
                    if !isDormant { transmitStandalone(now: now, into: &actions) }
                } else if phase != .standardMobile {
                    becomeStandard(.standardMobile, capability: .standardMobile, into: &actions)
                }
            case .probing:
                if homelessSupport {
                    // Our Initial BU is in flight; its acknowledgement follows.
                    phase = .homeless
                    actions.append(.markCapability(.homeless))
                } else {
                    becomeStandard(.standardMobile, capability: .standardMobile, into: &actions)
                }
            case .homeless:
                break  // the Host Cache applied it
            }
        case .bindingRequestReceived:
            switch phase {
            case .homeless:
                // Answer with a Binding Update renewing everything (MIPv6-12 5.4).
                for (address, binding) in peerBindings where localAddresses.contains(address) {
                    if case .registered(let expiresAt, _) = binding {
                        peerBindings[address] = .registered(expiresAt: expiresAt, refreshAt: now)
                    }
                }
                if !isDormant { transmitStandalone(now: now, into: &actions) }
            case .probing:
                transmitStandalone(now: now, into: &actions)
            case .awaitingReply:
                phase = .probing
                transmitStandalone(now: now, into: &actions)
            case .standardHost, .standardMobile:
                break
            }
        case .localAddressAdded(let address):
            guard Self.isUsable(address), address.scope == peerIdentifier.scope,
                  !localAddresses.contains(address) else { break }
            localAddresses.append(address)
            localAddresses.sort()
            addressesChanged(now: now, into: &actions)
        case .localAddressRemoved(let address):
            guard let index = localAddresses.firstIndex(of: address) else { break }
            localAddresses.remove(at: index)
            if lastSource == address { lastSource = nil }
            addressesChanged(now: now, into: &actions)
        case .piggybackSent(let firstSequence):
            guard let offer = offeredSpec, offer.firstSequence == firstSequence else { break }
            offeredSpec = nil
            recordTransmission(offer, now: now)
        case .timerFired:
            timerFired(now: now, into: &actions)
        case .idleTimeout:
            isDormant = true
            nextTransmissionAt = nil
            withdrawOffer(into: &actions)
        case .activityResumed:
            guard isDormant else { break }
            isDormant = false
            switch phase {
            case .homeless:
                offer(now: now, into: &actions)
            case .probing:
                transmitStandalone(now: now, into: &actions)
            case .awaitingReply, .standardHost, .standardMobile:
                break
            }
        }
        reschedule(into: &actions)
        return actions
    }

    // MARK: - Transitions

    mutating func becomeStandard(_ newPhase: Phase, capability: PeerCapability, into actions: inout [PeerMobilityAction]) {
        phase = newPhase
        inFlight.removeAll()
        nextTransmissionAt = nil
        withdrawOffer(into: &actions)
        actions.append(.markCapability(capability))
    }

    mutating func addressesChanged(now: MonotonicInstant, into actions: inout [PeerMobilityAction]) {
        switch phase {
        case .homeless:
            if !isDormant { offer(now: now, into: &actions) }
        case .probing:
            // The next retransmission of the Initial BU carries the new set;
            // if the probe's source went away, send from a live one now.
            if let offerSource = inFlight.last?.spec.source, !localAddresses.contains(offerSource), !isDormant {
                transmitStandalone(now: now, into: &actions)
            }
        case .awaitingReply, .standardHost, .standardMobile:
            break
        }
    }

    /// Offers the pending changes for piggybacking and makes sure a
    /// standalone transmission follows if no packet takes them in time.
    ///
    /// Two kinds of change go standalone at once:
    /// * one that needs a Home Address option (the peer does not hold our
    ///   source any more: a handover): it cannot ride on a data packet (the
    ///   option would change the receiver's pseudo-header source) and the
    ///   connection is stalled until the peer learns the new locator;
    /// * one that withdraws an address (2.1.3): the peer may be sending to
    ///   it, and everything it sends there is lost until it learns. Waiting
    ///   for a small data packet is no option then: a sender whose window
    ///   is full of segments lost on the dead link sends none until its
    ///   retransmission timeout, and the acknowledgements of those
    ///   retransmissions go to the dead address too.
    /// Only registrations (an address gained, a refresh) wait for a ride.
    mutating func offer(now: MonotonicInstant, into actions: inout [PeerMobilityAction]) {
        guard let spec = makeSpec(now: now) else {
            withdrawOffer(into: &actions)
            return
        }
        if spec.homeAddress != nil || !spec.withdrawals.isEmpty {
            transmitStandalone(now: now, into: &actions)
            return
        }
        if offeredSpec != spec {
            offeredSpec = spec
            actions.append(.offerPiggyback(spec))
        }
        let deadline = now.adding(milliseconds: parameters.piggybackWaitMilliseconds)
        if nextTransmissionAt.map({ deadline < $0 }) ?? true { nextTransmissionAt = deadline }
    }

    mutating func withdrawOffer(into actions: inout [PeerMobilityAction]) {
        if offeredSpec != nil {
            offeredSpec = nil
            actions.append(.withdrawPiggybackOffer)
        }
    }

    mutating func transmitStandalone(now: MonotonicInstant, into actions: inout [PeerMobilityAction]) {
        withdrawOffer(into: &actions)
        guard let spec = makeSpec(now: now) else {
            nextTransmissionAt = nil
            return
        }
        actions.append(.sendStandalone(spec))
        recordTransmission(spec, now: now)
    }

    mutating func recordTransmission(_ spec: BindingUpdateSpec, now: MonotonicInstant) {
        inFlight.append(Transmission(spec: spec))
        if inFlight.count > Self.inFlightLimit { inFlight.removeFirst(inFlight.count - Self.inFlightLimit) }
        nextSequence = spec.lastSequence &+ 1
        lastSource = spec.source
        transmissionsSinceProgress += 1
        nextTransmissionAt = now.adding(seconds: backoffSeconds)
        let (doubled, overflow) = backoffSeconds.multipliedReportingOverflow(by: 2)
        backoffSeconds = min(overflow ? .max : doubled, parameters.maximumRetransmitSeconds)
    }

    mutating func timerFired(now: MonotonicInstant, into actions: inout [PeerMobilityAction]) {
        guard !isDormant else { return }
        switch phase {
        case .probing:
            guard let due = nextTransmissionAt, due <= now else { return }
            if transmissionsSinceProgress >= parameters.maximumInitialTransmissions {
                // No answer at all: not even a Parameter Problem came back.
                becomeStandard(.standardHost, capability: .standard, into: &actions)
            } else {
                transmitStandalone(now: now, into: &actions)
            }
        case .homeless:
            // While a transmission is pending its deadline rules (each
            // retransmission carries every due refresh); the refresh
            // deadline only counts when nothing is in flight.
            let transmissionDue = nextTransmissionAt.map { $0 <= now } ?? false
            let refreshDue = nextTransmissionAt == nil && (nextRefreshAt.map { $0 <= now } ?? false)
            guard transmissionDue || refreshDue else { return }
            transmitStandalone(now: now, into: &actions)
        case .awaitingReply, .standardHost, .standardMobile:
            nextTransmissionAt = nil
        }
    }

    mutating func acknowledge(sequence: UInt16, status: UInt8, lifetime: UInt32, now: MonotonicInstant,
                              into actions: inout [PeerMobilityAction]) {
        let outOfWindow = BindingAcknowledgement.Status.sequenceNumberOutOfWindow.rawValue
        if status == outOfWindow {
            // The peer's last accepted number (WIRE.md status 141): only
            // believable if we are waiting for something.
            guard !inFlight.isEmpty else { return }
            if !SequenceNumber.isNewer(nextSequence, than: sequence) { nextSequence = sequence &+ 1 }
            if phase == .probing {
                phase = .homeless
                actions.append(.markCapability(.homeless))
            }
            lastRefusalStatus = status
            if !isDormant { transmitStandalone(now: now, into: &actions) }
            return
        }
        if let last = lastAcknowledgedSequence, !SequenceNumber.isNewer(sequence, than: last) { return }
        // Only the acknowledgement of a transmission's last Binding Update
        // completes it: the peer sends negative BAs for refused BUs first,
        // then one positive BA with the highest accepted number (3.2.2).
        guard let index = inFlight.lastIndex(where: { $0.spec.lastSequence == sequence }) else {
            if status >= 128, inFlight.contains(where: { $0.spec.firstSequence == sequence }) { lastRefusalStatus = status }
            return
        }
        let spec = inFlight[index].spec
        lastAcknowledgedSequence = sequence
        inFlight.removeFirst(index + 1)
        if phase == .probing {
            phase = .homeless
            actions.append(.markCapability(.homeless))
        }
        peerHasAcknowledged = true
        if status >= 128 { lastRefusalStatus = status }
        for address in spec.withdrawals where !localAddresses.contains(address) {
            peerBindings[address] = nil
        }
        // The registration is the packet's last BU (see `BindingUpdateSpec`),
        // so this BA carries its granted lifetime. A refusal or a zero
        // lifetime leaves the addresses without refresh: they are not
        // retried in a loop, only after the next change or Binding Request.
        for address in spec.registrations {
            if status >= 128 || lifetime == 0 {
                peerBindings[address] = .registered(expiresAt: now, refreshAt: nil)
            } else if lifetime == BindingUpdate.infiniteLifetime {
                peerBindings[address] = .registered(expiresAt: nil, refreshAt: nil)
            } else {
                let refreshIn = UInt64(lifetime) &* 10_000_000 &* parameters.refreshPercent  // ns: s * 1e9 * pct / 100
                peerBindings[address] = .registered(expiresAt: now.adding(seconds: UInt64(lifetime)),
                                                    refreshAt: now.adding(nanoseconds: refreshIn))
            }
        }
        transmissionsSinceProgress = 0
        backoffSeconds = parameters.initialRetransmitSeconds
        nextTransmissionAt = nil
        withdrawOffer(into: &actions)
        if !isDormant, makeSpec(now: now) != nil {
            // Changes made while the acknowledged BUs were in flight.
            offer(now: now, into: &actions)
        }
    }

    /// Emits `scheduleTimer` when the earliest deadline changed.
    mutating func reschedule(into actions: inout [PeerMobilityAction]) {
        var deadline: MonotonicInstant?
        if !isDormant {
            switch phase {
            case .probing:
                deadline = nextTransmissionAt
            case .homeless:
                deadline = nextTransmissionAt ?? nextRefreshAt
            case .awaitingReply, .standardHost, .standardMobile:
                deadline = nil
            }
        }
        if deadline != scheduledDeadline {
            scheduledDeadline = deadline
            actions.append(.scheduleTimer(at: deadline))
        }
    }
}
