public import HomelessWire

/// Names a Host Cache Entry: the slot it occupies in the fixed-size entry
/// table plus a generation that changes each time the slot is reused, so a
/// stale identifier (kept by a connection or a worker) can never reach the
/// entry that replaced it (draft 5.3: no silent attribution to another peer).
public struct HostCacheEntryID: Hashable, Sendable, CustomStringConvertible {
    /// Generations are 24 bits so an ID fits an `IndexedAddress` word.
    public static let generationMask: UInt32 = 0xFF_FFFF

    public let slot: UInt32
    public let generation: UInt32

    @inlinable
    public init(slot: UInt32, generation: UInt32) {
        self.slot = slot
        self.generation = generation & Self.generationMask
    }

    public var description: String { "entry#\(slot).\(generation)" }
}

/// Local entries hold our own addresses, Foreign entries a peer's (draft 1.3).
public enum HostCacheEntryKind: UInt8, Sendable {
    case local = 1
    case foreign = 2
}

/// What the peer is known to run (draft 2.2): it decides how packets to it
/// are built.
public enum PeerCapability: UInt8, Sendable, CaseIterable {
    /// Not known yet: send an Initial Binding Update (2.2.4, 3.2.1).
    case unknown = 0
    /// Runs Homeless Mobile IPv6 (it sent a Homeless Support sub-option, 3.1.1).
    case homeless = 1
    /// A standard Mobile IPv6 host (it sent a HAO or BU without Homeless Support, 2.3.3).
    case standardMobile = 2
    /// A plain IPv6 host (it rejected our Initial BU, 2.2.4).
    case standard = 3
}

/// Cache entry creation policy classes (draft 5.2).
public enum TrustClass: UInt8, Sendable {
    /// Not yet vouched for by an upper layer: BU lifetimes are capped at
    /// DEFAULT-LIFETIME and the entry may be evicted at random when the cache
    /// is full.
    case untrusted = 0
    /// An upper layer proved the peer reachable/honest (e.g. TCP's third
    /// handshake packet): BU lifetimes are honoured; never evicted.
    case trusted = 1
}

/// How an address's lifetime is counted (draft 2.1.3).
public enum AddressLifetime: Equatable, Sendable {
    /// Local addresses (2.1.1): never expire by time; removed when the
    /// interface loses them (netlink).
    case permanent
    /// Entered by other means than a Binding Update (2.1.1, 2.1.3): expires
    /// DEFAULT-LIFETIME seconds after its last use.
    case activity(lastUse: MonotonicInstant)
    /// Registered by a Binding Update: expires at a fixed instant, whether
    /// used or not (MIPv6 10.8); `nil` means the BU gave 0xFFFFFFFF (infinity).
    case absolute(expiresAt: MonotonicInstant?)
}

/// Whether an address is usable.
public enum AddressState: Equatable, Sendable {
    case live
    /// Past its lifetime; kept (2.1.3) until `since + MAXIMUM-EXPIRED-LIFETIME`,
    /// never used as a destination and never revived by mere use.
    case expired(since: MonotonicInstant)
}

/// One address of a Host Cache Entry.
public struct HostCacheAddress: Equatable, Sendable {
    public let address: IPv6Address
    public internal(set) var lifetime: AddressLifetime
    public internal(set) var state: AddressState
    /// When the address was last added or refreshed (picks a fallback
    /// preferred destination: the freshest live address).
    public internal(set) var refreshedAt: MonotonicInstant

    public var isLive: Bool { state == .live }

    /// The instant the address stops being live, given DEFAULT-LIFETIME
    /// (nil: never).
    public func expiry(defaultLifetime: UInt64) -> MonotonicInstant? {
        switch lifetime {
        case .permanent: return nil
        case .activity(let lastUse): return lastUse.adding(seconds: defaultLifetime)
        case .absolute(let expiresAt): return expiresAt
        }
    }
}

/// A Host Cache Entry (draft 1.3, 2.1): one host personality, ours or a peer's.
public struct HostCacheEntry: Sendable {
    public let id: HostCacheEntryID
    public let kind: HostCacheEntryKind
    /// Every address, live or expired.
    public internal(set) var addresses: [IPv6Address: HostCacheAddress]
    /// Foreign entries: what the peer runs.
    public internal(set) var capability: PeerCapability
    /// Foreign entries: creation-policy class (5.2).
    public internal(set) var trust: TrustClass
    /// Foreign entries: the destination to use, by default the source of the
    /// last packet received from the peer (draft 1.4); always a live address
    /// of the entry, or nil when none is live.
    public internal(set) var preferredDestination: IPv6Address?
    /// Sequence number of the last accepted Binding Update (nil before the
    /// first one).
    public internal(set) var lastAcceptedSequence: UInt16?
    /// Sequence number of the last Binding Update we sent to the peer.
    public internal(set) var sendSequence: UInt16
    /// Opaque identifier of the AH Security Association bound to this entry
    /// (draft 2.4.2); owned by the security layer.
    public internal(set) var securityAssociation: UInt64?
    /// Open connections referring to the entry (draft 2.1.4).
    public internal(set) var referenceCount: Int
    public let createdAt: MonotonicInstant

    public var liveAddresses: [IPv6Address] {
        addresses.values.filter(\.isLive).map(\.address).sorted()
    }
    public var expiredAddresses: [IPv6Address] {
        addresses.values.filter { !$0.isLive }.map(\.address).sorted()
    }
}
