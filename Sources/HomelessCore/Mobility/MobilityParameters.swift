/// Tunables of the per-peer mobility logic (draft 3.2: protocol parameters
/// "shall be set by network management"; the values below are defaults).
public struct MobilityParameters: Sendable, Equatable {
    /// First retransmission interval of an unacknowledged Binding Update;
    /// it doubles per transmission up to `maximumRetransmitSeconds`
    /// (the MIPv6 INITIAL_BINDACK_TIMEOUT / MAX_BINDACK_TIMEOUT pattern).
    public var initialRetransmitSeconds: UInt64 = 1
    public var maximumRetransmitSeconds: UInt64 = 32
    /// Initial Binding Updates sent without any answer (no Binding
    /// Acknowledgement, no Parameter Problem, no Binding Update) before the
    /// peer is treated as a Standard Host (2.2.3 emulation works with any host).
    public var maximumInitialTransmissions: Int = 6
    /// Lifetime requested in our Binding Updates, seconds (the peer may
    /// grant less: untrusted entries are capped at DEFAULT-LIFETIME, 5.2).
    public var requestedLifetime: UInt32 = 600
    /// Bindings are refreshed when this share (percent) of the granted
    /// lifetime has passed, so they never lapse at an active peer (1.4).
    public var refreshPercent: UInt64 = 80
    /// A Binding Update waiting to ride on a data packet (2.1.2, 2.2.1) is
    /// sent standalone when no packet to the peer took it within this time
    /// (milliseconds; 2.1.2: "a timer ... after a configurable timeout").
    public var piggybackWaitMilliseconds: UInt64 = 500
    /// Addresses per Binding Update: an Alternate Care-of Address
    /// sub-option takes 24 octets with its 8n+6 padding and an option's data at most 255 (the
    /// rest go in the next Binding Update).
    public var maximumAddressesPerUpdate: Int = 9

    public init(initialRetransmitSeconds: UInt64 = 1, maximumRetransmitSeconds: UInt64 = 32,
                maximumInitialTransmissions: Int = 6, requestedLifetime: UInt32 = 600,
                refreshPercent: UInt64 = 80, piggybackWaitMilliseconds: UInt64 = 500,
                maximumAddressesPerUpdate: Int = 9) {
        self.initialRetransmitSeconds = max(1, initialRetransmitSeconds)
        self.maximumRetransmitSeconds = max(self.initialRetransmitSeconds, maximumRetransmitSeconds)
        self.maximumInitialTransmissions = max(1, maximumInitialTransmissions)
        self.requestedLifetime = requestedLifetime
        self.refreshPercent = min(max(refreshPercent, 1), 99)
        self.piggybackWaitMilliseconds = piggybackWaitMilliseconds
        self.maximumAddressesPerUpdate = min(max(maximumAddressesPerUpdate, 1), 9)
    }
}

extension MonotonicInstant {
    /// The instant `nanoseconds` later, saturating at the end of time.
    @inlinable
    public func adding(nanoseconds delta: UInt64) -> MonotonicInstant {
        let (sum, overflow) = nanoseconds.addingReportingOverflow(delta)
        return MonotonicInstant(nanoseconds: overflow ? .max : sum)
    }

    /// The instant `milliseconds` later, saturating.
    @inlinable
    public func adding(milliseconds: UInt64) -> MonotonicInstant {
        let (delta, overflow) = milliseconds.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? MonotonicInstant(nanoseconds: .max) : adding(nanoseconds: delta)
    }
}
