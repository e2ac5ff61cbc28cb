public import HomelessCore

/// A token bucket (RFC 2697-style single rate) limiting probes for the
/// whole host: a peer that adds thousands of addresses to its entry cannot
/// make us send thousands of packets to third parties, only `rate` per
/// second after a burst. Pure: time comes in as a parameter.
public struct ProbeTokenBucket: Sendable, Equatable {
    /// Tokens added per second.
    public let rate: UInt64
    /// Bucket size: the largest burst.
    public let burst: UInt64
    /// Tokens, in billionths (so refill needs no division per call).
    private var nanotokens: UInt64
    private var last: MonotonicInstant

    public init(rate: UInt64, burst: UInt64, now: MonotonicInstant) {
        self.rate = rate
        self.burst = max(1, burst)
        self.nanotokens = self.burst * 1_000_000_000
        self.last = now
    }

    private mutating func refill(now: MonotonicInstant) {
        guard now > last else { return }
        let elapsed = now.nanoseconds - last.nanoseconds
        let (added, overflow) = elapsed.multipliedReportingOverflow(by: rate)
        let capacity = burst * 1_000_000_000
        nanotokens = overflow ? capacity : min(capacity, nanotokens.addingReportingOverflow(added).overflow ? capacity : nanotokens + added)
        last = now
    }

    /// Takes one token if there is one.
    public mutating func take(now: MonotonicInstant) -> Bool {
        refill(now: now)
        guard nanotokens >= 1_000_000_000 else { return false }
        nanotokens -= 1_000_000_000
        return true
    }

    /// Whole tokens available at `now`.
    public func available(now: MonotonicInstant) -> UInt64 {
        var copy = self
        copy.refill(now: now)
        return copy.nanotokens / 1_000_000_000
    }
}
