import HomelessCore
import HomelessWire

/// What changed among the mobility controller's peers since it last
/// published their translations and checked their locators, so that each
/// costs O(changed peers) per event instead of O(peers): with 10^5 peers,
/// rebuilding every record after each Binding Update made the slow path
/// quadratic in the number of peers.
struct PeerChanges {
    /// Peers republished per once-a-second sweep (`sweepSlice(of:)`).
    static let sweepSize = 1024

    /// Entries whose translation may differ from the published one.
    private var changed: Set<HostCacheEntryID> = []
    /// Entries whose addresses may need return-routability checks.
    private var locatorChecks: Set<HostCacheEntryID> = []
    /// Every translation may differ (local addresses changed; at start).
    private var everyTranslation = true
    private var everyLocator = true
    /// ULIDs of removed peers, to withdraw from the workers' table.
    private var withdrawals: [IPv6Address] = []
    /// The peers the sweep has not reached yet in this round.
    private var sweepQueue: [HostCacheEntryID] = []

    mutating func note(_ entry: HostCacheEntryID) {
        changed.insert(entry)
        locatorChecks.insert(entry)
    }

    mutating func noteAll() {
        everyTranslation = true
        everyLocator = true
    }

    /// The entry went away with its peer (ULID `peerIdentifier`).
    mutating func removed(_ entry: HostCacheEntryID, peerIdentifier: IPv6Address?) {
        changed.remove(entry)
        locatorChecks.remove(entry)
        if let peerIdentifier { withdrawals.append(peerIdentifier) }
    }

    /// True (once) when every translation must be rebuilt; the
    /// per-entry changes are then covered and dropped.
    mutating func takeAll() -> Bool {
        guard everyTranslation else { return false }
        everyTranslation = false
        changed.removeAll()
        withdrawals.removeAll()
        return true
    }

    mutating func takeWithdrawals() -> [IPv6Address] {
        defer { withdrawals.removeAll() }
        return withdrawals
    }

    mutating func takeChanged() -> Set<HostCacheEntryID> {
        defer { changed.removeAll() }
        return changed
    }

    /// The entries whose locators to check: `all` the first time and
    /// after `noteAll`, else those changed since the last call.
    mutating func takeLocatorChecks(all: some Collection<HostCacheEntryID>) -> [HostCacheEntryID] {
        defer { locatorChecks.removeAll() }
        if everyLocator {
            everyLocator = false
            return Array(all)
        }
        return Array(locatorChecks)
    }

    /// The next `sweepSize` entries of a round-robin pass over `all`
    /// (taken anew, O(peers), once per completed round: amortised O(1) a
    /// peer); they get their locators checked again too.
    mutating func sweepSlice(of all: some Collection<HostCacheEntryID>) -> [HostCacheEntryID] {
        if sweepQueue.isEmpty { sweepQueue = Array(all) }
        let slice = Array(sweepQueue.suffix(Self.sweepSize))
        sweepQueue.removeLast(slice.count)
        locatorChecks.formUnion(slice)
        return slice
    }
}
