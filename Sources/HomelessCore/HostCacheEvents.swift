public import HomelessWire

/// Something that happened to one address of the Host Cache: returned by
/// every mutating call for logging, counters and tests (the fast-path index
/// has already been updated when the caller sees it).
public struct AddressChange: Equatable, Sendable, CustomStringConvertible {
    public enum Kind: Equatable, Sendable {
        /// New in the entry.
        case added
        /// Already in the entry; lifetime renewed (and revived if it was expired).
        case refreshed
        /// Was an expired address of `from`; moved to this entry (draft 5.3 rule,
        /// see `HostCache`).
        case takenOver(from: HostCacheEntryID)
        /// Reached the end of its lifetime; kept as expired (2.1.3).
        case expired
        /// Deleted on request (Binding Update, netlink, administrative).
        case removed
        /// Expired for MAXIMUM-EXPIRED-LIFETIME, deleted (2.1.3).
        case purged
        /// Deleted because its entry was evicted (5.2) or removed.
        case entryRemoved
        /// Not added: `owner` holds it live (one owner per address, 5.3), or a
        /// Local entry holds it.
        case conflict(owner: HostCacheEntryID)
        /// Not added: no room and nothing evictable (5.2).
        case noSpace
        /// Not added: unspecified, loopback or multicast.
        case invalid
    }

    public var address: IPv6Address
    public var entry: HostCacheEntryID
    public var kind: Kind

    public init(address: IPv6Address, entry: HostCacheEntryID, kind: Kind) {
        self.address = address
        self.entry = entry
        self.kind = kind
    }

    /// True for the kinds that did not apply the requested change.
    public var isRefusal: Bool {
        switch kind {
        case .conflict, .noSpace, .invalid: return true
        default: return false
        }
    }

    public var description: String { "\(entry) \(address): \(kind)" }
}

/// Why a Host Cache call could not do what was asked.
public enum HostCacheError: Error, Equatable, Sendable {
    /// No free entry or address room, and no untrusted, unreferenced entry to
    /// evict (draft 5.2).
    case cacheFull
    /// No entry with this identifier (never existed, or removed since).
    case unknownEntry(HostCacheEntryID)
    /// The operation needs the other kind of entry (Local vs Foreign).
    case wrongKind(HostCacheEntryID)
    /// Unspecified, loopback or multicast: never a Host Cache address.
    case invalidAddress(IPv6Address)
    /// The address is held live by another entry (one owner per address, 5.3).
    case addressConflict(IPv6Address, owner: HostCacheEntryID)
    /// The address is not (or no longer) in the entry.
    case addressNotInEntry(IPv6Address, HostCacheEntryID)
    /// Open connections still refer to the entry (2.1.4).
    case entryInUse(HostCacheEntryID)
    /// `release` without a matching `retain`.
    case notRetained(HostCacheEntryID)
}

/// Result of `HostCache.createForeignEntry`.
public enum ForeignEntryCreation: Equatable, Sendable {
    /// A new entry; `evicted` lists untrusted entries dropped to make room (5.2).
    case created(HostCacheEntryID, evicted: [HostCacheEntryID], changes: [AddressChange])
    /// The address is already live in this entry: one entry per personality
    /// (1.3), nothing created.
    case existing(HostCacheEntryID)

    public var id: HostCacheEntryID {
        switch self {
        case .created(let id, _, _), .existing(let id): return id
        }
    }
}

/// How a received address matched a Foreign entry.
public struct ForeignMatch: Equatable, Sendable {
    public var entry: HostCacheEntryID
    /// False when the address is expired in that entry: the packet may be
    /// matched to connections that already exist (2.1.3: keeping expired
    /// addresses makes it "easier to react if the address is still used",
    /// e.g. by a Binding Request), but it must not create state for the
    /// entry, refresh it or become its preferred destination (5.3).
    public var isLive: Bool
}

/// Result of the periodic expiry sweep.
public struct ExpiryReport: Equatable, Sendable {
    public var changes: [AddressChange] = []
    /// Foreign entries removed because their last address was purged and no
    /// connection refers to them (2.1.4).
    public var removedEntries: [HostCacheEntryID] = []

    public init(changes: [AddressChange] = [], removedEntries: [HostCacheEntryID] = []) {
        self.changes = changes
        self.removedEntries = removedEntries
    }
}
