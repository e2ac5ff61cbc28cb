public import HomelessCore
public import HomelessWire

/// Settings of address verification.
public struct ReturnRoutabilityConfiguration: Sendable {
    /// Wait before the first retry; doubled after each probe.
    public var retryNanoseconds: UInt64 = 1_000_000_000
    /// Probes per address before it is `failed`.
    public var maximumProbes = 3
    /// How long a verified address stays verified; then it is probed again
    /// (the peer may have left it and someone else may hold it now).
    public var verifiedNanoseconds: UInt64 = 600_000_000_000
    /// Host-wide probe rate limit: tokens per second and burst.
    public var probesPerSecond: UInt64 = 20
    public var probeBurst: UInt64 = 10
    /// Addresses tracked at most; beyond that new ones stay unverified
    /// (and so receive no bulk traffic).
    public var maximumTracked = 16384

    public init() {}
}

/// Where one (Foreign Host Cache Entry, address) pair stands.
public enum AddressVerificationState: Sendable, Equatable {
    /// Learned from a Binding Update; no probe sent yet.
    case unverified
    /// A probe with `nonce` is out; `probes` sent so far.
    case probing(nonce: HandshakeBlock16, probes: Int, nextProbe: MonotonicInstant)
    /// The peer answered from this address at `since`.
    case verified(since: MonotonicInstant)
    /// No answer after every probe.
    case failed
}

/// A probe the caller must send: `message` in a handshake packet from one
/// of our addresses to `address` (the address being tested).
public struct AddressProbeRequest: Sendable, Equatable {
    public var entry: HostCacheEntryID
    public var address: IPv6Address
    public var message: AddressProbeMessage
}

/// What became of a probe reply.
public enum AddressProbeReplyOutcome: String, Sendable {
    /// The address is verified.
    case verified
    /// No probe is out for this entry and address (late, duplicate or unsolicited).
    case unexpected
    /// The nonce is not the one sent (a guess, or an old probe's).
    case wrongNonce = "wrong-nonce"
}

/// Counters of address verification.
public struct ReturnRoutabilityCounters: Sendable, Equatable {
    public var probesSent = 0
    /// Probes that were due but waited for the rate limit.
    public var probesDeferred = 0
    public var verified = 0
    public var failed = 0
    public var unexpectedReplies = 0
    public var wrongNonces = 0
    /// Addresses not tracked because the table was full.
    public var untracked = 0
}

/// Return routability for addresses added by Binding Updates (beyond the
/// draft; RFC 4225 3.1, 5.2.2): an address a peer claims is used as a
/// destination for bulk traffic only after the peer answered, from that
/// address, a probe carrying an unpredictable nonce. Without this a peer
/// could name a victim's address in a Binding Update and have us flood it
/// ("bombing", RFC 4225 3.2). Binding Acknowledgements and probes
/// themselves may go to an unverified address.
///
/// A pure state machine per (entry, address): unverified -> probing ->
/// verified | failed, with retries and exponential backoff, under a
/// host-wide token bucket. The clock and the random source are parameters.
public struct ReturnRoutability: Sendable {
    public let configuration: ReturnRoutabilityConfiguration
    private var addresses: [Key: AddressVerificationState] = [:]
    private var bucket: ProbeTokenBucket
    public private(set) var counters = ReturnRoutabilityCounters()

    private struct Key: Hashable, Sendable {
        var entry: HostCacheEntryID
        var address: IPv6Address
    }

    public init(configuration: ReturnRoutabilityConfiguration = ReturnRoutabilityConfiguration(), now: MonotonicInstant) {
        self.configuration = configuration
        bucket = ProbeTokenBucket(rate: configuration.probesPerSecond, burst: configuration.probeBurst, now: now)
    }

    public var trackedCount: Int { addresses.count }

    public func state(entry: HostCacheEntryID, address: IPv6Address) -> AddressVerificationState? {
        addresses[Key(entry: entry, address: address)]
    }

    /// May `address` of `entry` receive bulk traffic at `now`? Only when verified and not yet due for re-verification.
    public func mayReceiveBulkTraffic(entry: HostCacheEntryID, address: IPv6Address, now: MonotonicInstant) -> Bool {
        switch addresses[Key(entry: entry, address: address)] {
        case .verified(let since)?:
            return now.nanoseconds &- since.nanoseconds < configuration.verifiedNanoseconds
        case .unverified?, .probing?, .failed?, nil:
            return false
        }
    }

    /// A Binding Update added `address` to `entry`. Returns false when the
    /// table is full (the address stays unusable for bulk traffic). An
    /// address already tracked keeps its state.
    @discardableResult
    public mutating func addressAdded(entry: HostCacheEntryID, address: IPv6Address) -> Bool {
        let key = Key(entry: entry, address: address)
        guard addresses[key] == nil else { return true }
        guard addresses.count < configuration.maximumTracked else {
            counters.untracked += 1
            return false
        }
        addresses[key] = .unverified
        return true
    }

    /// Marks an address verified without a probe: the address the
    /// handshake ran with (message 3 under AH came from it, and the cookie
    /// proved the peer received message 2 there).
    public mutating func addressVerifiedByHandshake(entry: HostCacheEntryID, address: IPv6Address, now: MonotonicInstant) {
        let key = Key(entry: entry, address: address)
        guard addresses[key] != nil || addresses.count < configuration.maximumTracked else {
            counters.untracked += 1
            return
        }
        addresses[key] = .verified(since: now)
    }

    public mutating func addressRemoved(entry: HostCacheEntryID, address: IPv6Address) {
        addresses[Key(entry: entry, address: address)] = nil
    }

    public mutating func entryRemoved(_ entry: HostCacheEntryID) {
        addresses = addresses.filter { $0.key.entry != entry }
    }

    /// Timers: the probes to send now, within the rate limit. Due probes
    /// that find the bucket empty stay due (`probesDeferred`) and go out
    /// on a later poll; verified addresses whose time ran out are probed
    /// again; addresses out of retries become `failed`.
    public mutating func poll<Random: RandomNumberGenerator>(now: MonotonicInstant, random: inout Random) -> [AddressProbeRequest] {
        var requests: [AddressProbeRequest] = []
        // Sorted so that the order (and who waits for the bucket) does not depend on hashing.
        for key in addresses.keys.sorted(by: { ($0.address, $0.entry.slot) < ($1.address, $1.entry.slot) }) {
            guard let state = addresses[key] else { continue }
            let next: AddressVerificationState
            switch state {
            case .failed:
                continue
            case .verified(let since):
                guard now.nanoseconds &- since.nanoseconds >= configuration.verifiedNanoseconds else { continue }
                guard bucket.take(now: now) else {
                    counters.probesDeferred += 1
                    continue
                }
                next = .probing(nonce: HandshakeBlock16(high: random.next(), low: random.next()), probes: 1,
                                nextProbe: retryTime(now, probes: 1))
            case .unverified:
                guard bucket.take(now: now) else {
                    counters.probesDeferred += 1
                    continue
                }
                next = .probing(nonce: HandshakeBlock16(high: random.next(), low: random.next()), probes: 1,
                                nextProbe: retryTime(now, probes: 1))
            case .probing(let nonce, let probes, let nextProbe):
                guard now >= nextProbe else { continue }
                guard probes < configuration.maximumProbes else {
                    addresses[key] = .failed
                    counters.failed += 1
                    continue
                }
                guard bucket.take(now: now) else {
                    counters.probesDeferred += 1
                    continue
                }
                // The same nonce again: a late reply to an earlier probe still counts.
                next = .probing(nonce: nonce, probes: probes + 1, nextProbe: retryTime(now, probes: probes + 1))
            }
            addresses[key] = next
            if case .probing(let nonce, _, _) = next {
                counters.probesSent += 1
                requests.append(AddressProbeRequest(entry: key.entry, address: key.address,
                                                    message: AddressProbeMessage(kind: .probe, nonce: nonce)))
            }
        }
        return requests
    }

    private func retryTime(_ now: MonotonicInstant, probes: Int) -> MonotonicInstant {
        let shift = UInt64(min(max(probes - 1, 0), 16))
        let (delay, overflow) = configuration.retryNanoseconds.multipliedReportingOverflow(by: 1 << shift)
        let (at, late) = now.nanoseconds.addingReportingOverflow(overflow ? .max : delay)
        return MonotonicInstant(nanoseconds: late ? .max : at)
    }

    /// A probe reply that verified under AH with `entry`'s SA, from
    /// `source` (the address it answers for).
    public mutating func receiveReply(_ reply: AddressProbeMessage, source: IPv6Address, entry: HostCacheEntryID,
                                      now: MonotonicInstant) -> AddressProbeReplyOutcome {
        let key = Key(entry: entry, address: source)
        guard reply.kind == .reply, case .probing(let nonce, _, _)? = addresses[key] else {
            counters.unexpectedReplies += 1
            return .unexpected
        }
        guard nonce.constantTimeEquals(reply.nonce) else {
            counters.wrongNonces += 1
            return .wrongNonce
        }
        addresses[key] = .verified(since: now)
        counters.verified += 1
        return .verified
    }
}
