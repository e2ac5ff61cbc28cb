public import HomelessWire

/// The fast path's read-only view of the Host Cache: lock-free lookups by
/// address (foreign and local) and the published per-entry records. One
/// `HostCache` (the single writer) keeps it current; any number of worker
/// threads read it concurrently. See `AddressIndex` for why that is safe.
///
/// Each address lookup and each entry record read is a consistent snapshot
/// of that one item; a multi-address change (a Binding Update replacing
/// several addresses) becomes visible address by address. Expiry reaches the
/// `isExpired` bits at the slow path's next `HostCache.expire()` sweep, so
/// the sweep interval bounds how long a worker may still treat an address
/// past its lifetime as live.
public final class HostCacheIndex: Sendable {
    /// Addresses of Foreign entries: a received packet's source (draft 1.4).
    public let foreign: AddressIndex
    /// Addresses of Local entries: a received packet's destination (draft 1.4).
    public let local: AddressIndex
    /// Per-entry destination choice, capability, trust, SA.
    public let entries: PublishedEntryTable

    init(foreignCapacity: Int, localCapacity: Int, entryCapacity: Int, seed: UInt64) {
        foreign = AddressIndex(capacity: foreignCapacity, seed: seed)
        local = AddressIndex(capacity: localCapacity, seed: seed ^ 0x5DEE_CE66_D1CE_4E5B)
        entries = PublishedEntryTable(capacity: entryCapacity)
    }

    /// The Foreign entry owning `address` (live or expired; check `isExpired`).
    @inlinable
    public func lookupForeign(_ address: IPv6Address) -> IndexedAddress? {
        foreign.lookup(address).map(IndexedAddress.init(rawValue:))
    }

    /// The Local entry owning `address`.
    @inlinable
    public func lookupLocal(_ address: IPv6Address) -> IndexedAddress? {
        local.lookup(address).map(IndexedAddress.init(rawValue:))
    }

    /// Where to send a packet for the peer owning `address`: the entry's
    /// preferred destination (draft 1.4). Nil when `address` is unknown or
    /// expired (5.3: an expired address is not attributed to its old owner),
    /// or the entry has no live address.
    @inlinable
    public func destination(forForeign address: IPv6Address) -> IPv6Address? {
        guard let hit = lookupForeign(address), !hit.isExpired else { return nil }
        return entries.preferredDestination(of: hit.entry)
    }
}
