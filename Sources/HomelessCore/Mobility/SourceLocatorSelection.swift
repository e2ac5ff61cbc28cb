public import HomelessWire

/// One wire port's addresses and state, as the slow path knows them from netlink.
public struct WirePortAddresses: Equatable, Sendable {
    public var port: Int
    /// Link up and usable.
    public var isUp: Bool
    /// The port has a route toward the destination (for global
    /// destinations: a default or more specific route).
    public var hasRoute: Bool
    public var addresses: [IPv6Address]

    public init(port: Int, isUp: Bool, hasRoute: Bool, addresses: [IPv6Address]) {
        self.port = port
        self.isUp = isUp
        self.hasRoute = hasRoute
        self.addresses = addresses
    }
}

/// The chosen source locator and the port to send it on.
public struct SourceLocatorChoice: Equatable, Sendable {
    public var port: Int
    public var address: IPv6Address

    public init(port: Int, address: IPv6Address) {
        self.port = port
        self.address = address
    }
}

/// Multi-homing: chooses the source locator for a destination among the
/// addresses of the wire ports (draft 2.2.1: the source "MAY be
/// individually selected ... as long as the selected source address
/// matches scope and scoped domain of the selected destination address").
public enum SourceLocatorSelection {
    /// Rules, in order:
    /// 1. Only addresses on ports that are up, of the destination's scope,
    ///    unicast and specified. A link-local destination is only reachable
    ///    on the link it was seen on: when `lastUsed` names a port, only that
    ///    port qualifies (the draft offers no way to know scoped domains).
    /// 2. Stability: the last used locator while its port is up and still
    ///    has it (a flow does not hop between links for no reason).
    /// 3. A port with a route to the destination.
    /// 4. The last used port (a new address on the same link, after renumbering).
    /// 5. An address the peer already holds (`knownToPeer`): no Home Address
    ///    option and Binding Update needed (2.2.1).
    /// 6. The longest common prefix with the destination (RFC 6724 rule 8).
    /// 7. Lowest port, then lowest address: deterministic.
    /// When a link goes down its addresses drop out at rule 1 and the flow
    /// moves to the best surviving port. Returns nil when no port qualifies.
    public static func select(for destination: IPv6Address, ports: [WirePortAddresses],
                              lastUsed: SourceLocatorChoice? = nil,
                              knownToPeer: Set<IPv6Address> = []) -> SourceLocatorChoice? {
        let scope = destination.scope
        var best: (choice: SourceLocatorChoice, rank: [Int])?
        for port in ports where port.isUp {
            if scope == .linkLocal, let last = lastUsed, last.port != port.port { continue }
            for address in port.addresses
            where address.scope == scope && !address.isMulticast && !address.isUnspecified && !address.isLoopback {
                let isLast = lastUsed.map { $0.port == port.port && $0.address == address } ?? false
                let rank = [
                    isLast ? 0 : 1,
                    port.hasRoute ? 0 : 1,
                    lastUsed?.port == port.port ? 0 : 1,
                    knownToPeer.contains(address) ? 0 : 1,
                    128 - commonPrefixLength(address, destination),
                    port.port,
                ]
                let choice = SourceLocatorChoice(port: port.port, address: address)
                if let current = best {
                    if rank.lexicographicallyPrecedes(current.rank)
                        || (rank == current.rank && address < current.choice.address) {
                        best = (choice, rank)
                    }
                } else {
                    best = (choice, rank)
                }
            }
        }
        return best?.choice
    }

    /// Number of leading bits `a` and `b` share.
    public static func commonPrefixLength(_ a: IPv6Address, _ b: IPv6Address) -> Int {
        let high = a.high ^ b.high
        if high != 0 { return high.leadingZeroBitCount }
        return 64 + (a.low ^ b.low).leadingZeroBitCount
    }
}
