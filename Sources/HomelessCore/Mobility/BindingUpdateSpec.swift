public import HomelessWire

/// What one transmission of Binding Updates to a peer says, decided by
/// `PeerMobilityState` and turned into option bytes by `BindingUpdateBuilder`.
///
/// At most two Binding Updates, with increasing sequence numbers (3.2.2):
/// first the withdrawal (lifetime 0) of lost addresses, then the
/// registration of new or refreshed ones. That order makes the single
/// positive Binding Acknowledgement the peer sends for the packet (3.2.2
/// shorthand: the highest sequence number) carry the lifetime granted to
/// the registration.
public struct BindingUpdateSpec: Equatable, Sendable {
    /// The packet must be sent from this local address.
    public var source: IPv6Address
    public var destination: IPv6Address
    /// Home Address option content: set when `source` is not yet known to
    /// the peer (2.2.1: "a Home Address Destination Option containing one
    /// of the previously registered addresses"), and in the Initial Binding
    /// Update, where it equals `source` (3.2.1).
    public var homeAddress: IPv6Address?
    /// Carry the Homeless Support sub-option first in each Binding Update
    /// (3.1, 3.2.1: until the peer's first Binding Acknowledgement).
    public var announcesHomelessSupport: Bool
    /// Addresses removed from the peer's entry (2.1.3): Binding Update with
    /// lifetime 0, one Alternate Care-of Address sub-option each.
    public var withdrawals: [IPv6Address]
    /// Addresses added or refreshed with `lifetime` seconds.
    public var registrations: [IPv6Address]
    public var lifetime: UInt32
    /// Sequence number of the first Binding Update; the next one gets +1.
    public var firstSequence: UInt16

    public init(source: IPv6Address, destination: IPv6Address, homeAddress: IPv6Address?, announcesHomelessSupport: Bool,
                withdrawals: [IPv6Address], registrations: [IPv6Address], lifetime: UInt32, firstSequence: UInt16) {
        self.source = source
        self.destination = destination
        self.homeAddress = homeAddress
        self.announcesHomelessSupport = announcesHomelessSupport
        self.withdrawals = withdrawals
        self.registrations = registrations
        self.lifetime = lifetime
        self.firstSequence = firstSequence
    }

    /// Number of Binding Updates (and sequence numbers) this spec uses.
    public var updateCount: Int { (withdrawals.isEmpty ? 0 : 1) + (registrations.isEmpty ? 0 : 1) }

    /// Sequence number of the last Binding Update.
    public var lastSequence: UInt16 { firstSequence &+ UInt16(max(updateCount, 1) - 1) }

    /// True when this is the Initial Binding Update of 3.2.1: Home Address
    /// = source, Homeless Support first, only registrations.
    public var isInitial: Bool { announcesHomelessSupport && homeAddress == source && withdrawals.isEmpty }
}
