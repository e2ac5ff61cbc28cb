import HomelessCore
import HomelessWire

/// Parses a literal address used in a test.
func ip(_ text: String) -> IPv6Address {
    guard let address = IPv6Address(text) else { preconditionFailure("bad test address \(text)") }
    return address
}

/// Tests start at t = 1000 s so "0" never hides a bug.
let testEpoch = MonotonicInstant(nanoseconds: 1_000 * 1_000_000_000)

func makeCache(_ parameters: HostCacheParameters = HostCacheParameters(), seed: UInt64 = 1) -> (HostCache, ManualClock) {
    let clock = ManualClock(now: testEpoch)
    return (HostCache(parameters: parameters, clock: clock, random: SplitMix64(seed: seed)), clock)
}

func at(_ seconds: UInt64) -> MonotonicInstant { testEpoch.adding(seconds: seconds) }

/// Creates a Foreign entry that must be new.
func newForeign(_ cache: HostCache, _ address: IPv6Address, also: [IPv6Address] = [],
                trust: TrustClass = .untrusted) throws -> HostCacheEntryID {
    let creation = try cache.createForeignEntry(for: address, alsoKnownAs: also, trust: trust)
    guard case .created(let id, _, _) = creation else { preconditionFailure("expected a new entry, got \(creation)") }
    return id
}

func bu(_ sequence: UInt16, lifetime: UInt32 = 300, ack: Bool = false, _ subOptions: [MobilitySubOption] = []) -> BindingUpdate {
    BindingUpdate(flags: ack ? [.acknowledge] : [], sequence: sequence, lifetime: lifetime, subOptions: subOptions)
}
