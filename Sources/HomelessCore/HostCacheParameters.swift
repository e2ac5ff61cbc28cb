/// Tunables of the Host Cache. The draft (3.2) says protocol parameters
/// "shall be set by network management"; its values are the defaults here.
public struct HostCacheParameters: Sendable, Equatable {
    /// DEFAULT-LIFETIME (draft 3.2): activity-related addresses expire after
    /// this many seconds without use (2.1.1, 2.1.3); also the lifetime cap for
    /// addresses registered by untrusted entries (5.2).
    public var defaultLifetime: UInt64 = 600
    /// MAXIMUM-EXPIRED-LIFETIME (draft 3.2): an expired address is kept at
    /// most this many seconds before it is purged (2.1.3).
    public var maximumExpiredLifetime: UInt64 = 1800
    /// Maximum number of Host Cache Entries, Local and Foreign together.
    public var maximumEntries: Int = 4096
    /// Maximum number of addresses (live or expired) over all Foreign entries.
    public var maximumForeignAddresses: Int = 16384
    /// Maximum number of distinct local addresses over all Local entries.
    public var maximumLocalAddresses: Int = 256
    /// Longest Binding Update lifetime an untrusted entry gets, in seconds
    /// (5.2: "use the DEFAULT-LIFETIME instead"); nil: DEFAULT-LIFETIME.
    /// Infinity (0xFFFFFFFF) is clamped too, so an untrusted peer that
    /// stops talking always expires.
    public var untrustedLifetimeCap: UInt64?
    /// Most addresses (live or expired) one untrusted Foreign entry may
    /// hold (5.2): a peer vouched for by nothing but a handshake cannot
    /// fill the address capacity alone. More are refused (`noSpace`).
    public var maximumAddressesPerUntrustedEntry: Int = 64

    /// The lifetime cap in force for untrusted entries.
    public var untrustedLifetimeLimit: UInt64 { untrustedLifetimeCap ?? defaultLifetime }

    public init(defaultLifetime: UInt64 = 600, maximumExpiredLifetime: UInt64 = 1800,
                maximumEntries: Int = 4096, maximumForeignAddresses: Int = 16384,
                maximumLocalAddresses: Int = 256, untrustedLifetimeCap: UInt64? = nil,
                maximumAddressesPerUntrustedEntry: Int = 64) {
        self.defaultLifetime = defaultLifetime
        self.maximumExpiredLifetime = maximumExpiredLifetime
        self.maximumEntries = maximumEntries
        self.maximumForeignAddresses = maximumForeignAddresses
        self.maximumLocalAddresses = maximumLocalAddresses
        self.untrustedLifetimeCap = untrustedLifetimeCap
        self.maximumAddressesPerUntrustedEntry = maximumAddressesPerUntrustedEntry
    }

    /// Parameters for a host of up to `maximumPeers` peers (`homeless run
    /// --max-peers`): that many entries, and four foreign addresses per
    /// entry (a peer's identifier, its current, newest and previous
    /// locators: the ratio of the defaults above).
    public init(defaultLifetime: UInt64 = 600, maximumExpiredLifetime: UInt64 = 1800, maximumPeers: Int) {
        self.init(defaultLifetime: defaultLifetime, maximumExpiredLifetime: maximumExpiredLifetime,
                  maximumEntries: maximumPeers, maximumForeignAddresses: 4 * maximumPeers)
    }
}

/// SplitMix64 (Steele, Lea, Flood 2014): a small, fast, seedable generator.
/// The Host Cache uses it for hash seeds and random eviction when a
/// deterministic sequence is wanted (tests, fuzzing, benchmarks).
public struct SplitMix64: RandomNumberGenerator, Sendable {
    public var state: UInt64

    public init(seed: UInt64) { self.state = seed }

    @inlinable
    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
