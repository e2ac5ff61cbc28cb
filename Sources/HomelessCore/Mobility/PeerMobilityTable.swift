public import HomelessWire

/// The mobility state of every peer, keyed by Foreign Host Cache Entry, for
/// the slow path: it fans local address events out to every peer (2.1.2,
/// 2.1.3: "include a Binding Update in the next packets sent to such hosts
/// in the Host Cache"), keeps one earliest deadline for the engine's single
/// timer, and hands back each peer's actions. Pure: no I/O, no clock of its
/// own (every call takes `now`).
public struct PeerMobilityTable: Sendable {
    public let parameters: MobilityParameters
    public private(set) var peers: [HostCacheEntryID: PeerMobilityState] = [:]
    /// Our current local addresses (all scopes): new peers start with them.
    public private(set) var localAddresses: Set<IPv6Address>
    var deadlines: [HostCacheEntryID: MonotonicInstant] = [:]

    public init(parameters: MobilityParameters = MobilityParameters(), localAddresses: [IPv6Address] = []) {
        self.parameters = parameters
        self.localAddresses = Set(localAddresses)
    }

    /// Actions for one peer.
    public struct PeerActions: Equatable, Sendable {
        public var entry: HostCacheEntryID
        public var actions: [PeerMobilityAction]
    }

    /// Starts tracking a peer whose entry we created by initiating (2.1.1),
    /// or that the anonymous-authentication handshake created.
    public mutating func addPeer(_ entry: HostCacheEntryID, localIdentifier: IPv6Address, peerIdentifier: IPv6Address,
                                 initialSequence: UInt16) {
        peers[entry] = PeerMobilityState(localIdentifier: localIdentifier, peerIdentifier: peerIdentifier,
                                         localAddresses: Array(localAddresses), parameters: parameters,
                                         initialSequence: initialSequence)
        deadlines[entry] = nil
    }

    /// Forgets a peer (its entry was removed, 2.1.4).
    public mutating func removePeer(_ entry: HostCacheEntryID) {
        peers[entry] = nil
        deadlines[entry] = nil
    }

    /// Applies an event to one peer; nil when the peer is unknown.
    public mutating func handle(_ event: PeerMobilityEvent, for entry: HostCacheEntryID, now: MonotonicInstant) -> [PeerMobilityAction]? {
        guard var state = peers[entry] else { return nil }
        let actions = state.handle(event, now: now)
        peers[entry] = state
        deadlines[entry] = state.scheduledDeadline
        return actions
    }

    /// A local address appeared: every peer of its scope hears of it.
    public mutating func localAddressAdded(_ address: IPv6Address, now: MonotonicInstant) -> [PeerActions] {
        localAddresses.insert(address)
        return broadcast(.localAddressAdded(address), now: now)
    }

    /// A local address went away: every peer holding it gets a withdrawal.
    public mutating func localAddressRemoved(_ address: IPv6Address, now: MonotonicInstant) -> [PeerActions] {
        localAddresses.remove(address)
        return broadcast(.localAddressRemoved(address), now: now)
    }

    /// The earliest instant at which `fireTimers` has work.
    public var nextDeadline: MonotonicInstant? { deadlines.values.min() }

    /// Delivers `timerFired` to every peer whose deadline has passed.
    public mutating func fireTimers(now: MonotonicInstant) -> [PeerActions] {
        let due = deadlines.filter { $0.value <= now }.keys.sorted { ($0.slot, $0.generation) < ($1.slot, $1.generation) }
        var result: [PeerActions] = []
        for entry in due {
            if let actions = handle(.timerFired, for: entry, now: now), !actions.isEmpty {
                result.append(PeerActions(entry: entry, actions: actions))
            }
        }
        return result
    }

    mutating func broadcast(_ event: PeerMobilityEvent, now: MonotonicInstant) -> [PeerActions] {
        var result: [PeerActions] = []
        for entry in peers.keys.sorted(by: { ($0.slot, $0.generation) < ($1.slot, $1.generation) }) {
            if let actions = handle(event, for: entry, now: now), !actions.isEmpty {
                result.append(PeerActions(entry: entry, actions: actions))
            }
        }
        return result
    }
}

extension HostCache {
    /// Carries out the Host Cache part of a peer's actions
    /// (`markCapability`); the rest is packet I/O for the engine.
    public func apply(_ actions: [PeerMobilityAction], for entry: HostCacheEntryID) throws(HostCacheError) {
        for action in actions {
            switch action {
            case .markCapability(let capability):
                try setCapability(capability, for: entry)
            case .sendStandalone, .offerPiggyback, .withdrawPiggybackOffer, .scheduleTimer:
                break
            }
        }
    }
}
