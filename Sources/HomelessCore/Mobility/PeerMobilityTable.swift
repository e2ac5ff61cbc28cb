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
    /// The deadlines again, earliest first, for `nextDeadline` and
    /// `fireTimers` in O(log peers) instead of a pass over every peer (the
    /// slow path asks for the next deadline on every round).
    private var queue = DeadlineQueue()

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
        setDeadline(nil, for: entry)
    }

    /// Forgets a peer (its entry was removed, 2.1.4).
    public mutating func removePeer(_ entry: HostCacheEntryID) {
        peers[entry] = nil
        setDeadline(nil, for: entry)
    }

    /// Applies an event to one peer; nil when the peer is unknown.
    public mutating func handle(_ event: PeerMobilityEvent, for entry: HostCacheEntryID, now: MonotonicInstant) -> [PeerMobilityAction]? {
        guard var state = peers[entry] else { return nil }
        let actions = state.handle(event, now: now)
        peers[entry] = state
        setDeadline(state.scheduledDeadline, for: entry)
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
    public var nextDeadline: MonotonicInstant? { queue.earliest }

    /// Delivers `timerFired` to every peer whose deadline has passed.
    public mutating func fireTimers(now: MonotonicInstant) -> [PeerActions] {
        let due = queue.takeDue(now: now, current: deadlines)
            .sorted { ($0.slot, $0.generation) < ($1.slot, $1.generation) }
        // Their pairs left the queue: whatever deadline `handle` sets next
        // (the same one included) goes back in.
        for entry in due { deadlines[entry] = nil }
        defer { queue.dropStale(current: deadlines) }
        var result: [PeerActions] = []
        for entry in due {
            if let actions = handle(.timerFired, for: entry, now: now), !actions.isEmpty {
                result.append(PeerActions(entry: entry, actions: actions))
            }
        }
        return result
    }

    private mutating func setDeadline(_ deadline: MonotonicInstant?, for entry: HostCacheEntryID) {
        guard deadlines[entry] != deadline else { return }
        deadlines[entry] = deadline
        if let deadline { queue.insert(deadline, for: entry) }
        queue.dropStale(current: deadlines)
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

/// A binary min-heap of (deadline, entry) pairs. A changed or cleared
/// deadline leaves its old pair behind; pairs that no longer match the
/// table's `deadlines` are dropped when they reach the top, so the top is
/// always current, and the heap is rebuilt when stale pairs outnumber the
/// live ones (amortised O(log n) a change).
struct DeadlineQueue: Sendable {
    private var heap: [(deadline: MonotonicInstant, entry: HostCacheEntryID)] = []

    var earliest: MonotonicInstant? { heap.first?.deadline }

    mutating func insert(_ deadline: MonotonicInstant, for entry: HostCacheEntryID) {
        heap.append((deadline, entry))
        var child = heap.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard heap[child].deadline < heap[parent].deadline else { break }
            heap.swapAt(child, parent)
            child = parent
        }
    }

    /// Drops stale pairs from the top; rebuilds when mostly stale.
    mutating func dropStale(current: [HostCacheEntryID: MonotonicInstant]) {
        if heap.count > 2 * current.count + 64 {
            heap = []
            for (entry, deadline) in current { insert(deadline, for: entry) }
            return
        }
        while let top = heap.first, current[top.entry] != top.deadline { removeTop() }
    }

    /// The entries whose current deadline is at or before `now`, each
    /// once; their pairs leave the heap.
    mutating func takeDue(now: MonotonicInstant, current: [HostCacheEntryID: MonotonicInstant]) -> [HostCacheEntryID] {
        var due: [HostCacheEntryID] = []
        var seen = Set<HostCacheEntryID>()
        while let top = heap.first, top.deadline <= now {
            removeTop()
            if current[top.entry] == top.deadline, seen.insert(top.entry).inserted { due.append(top.entry) }
        }
        dropStale(current: current)
        return due
    }

    private mutating func removeTop() {
        let last = heap.removeLast()
        guard !heap.isEmpty else { return }
        heap[0] = last
        var parent = 0
        while true {
            let left = 2 * parent + 1, right = left + 1
            var smallest = parent
            if left < heap.count, heap[left].deadline < heap[smallest].deadline { smallest = left }
            if right < heap.count, heap[right].deadline < heap[smallest].deadline { smallest = right }
            guard smallest != parent else { return }
            heap.swapAt(parent, smallest)
            parent = smallest
        }
    }
}
