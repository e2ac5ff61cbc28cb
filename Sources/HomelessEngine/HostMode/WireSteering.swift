/// How host mode divides a wire's IPv6 traffic between the kernel and the
/// engine (docs/ARCHITECTURE.md, "Host mode" and "Classifier steering").
public enum WireSteering: String, CaseIterable, Sendable {
    /// Every IPv6 frame of the wire passes through the engine: the host's
    /// IPv6 configuration moves to the upper port's kernel side and IPv6 is
    /// disabled on the wire. Nothing to classify, no BPF program; Neighbour
    /// Discovery passes through the engine end to end.
    case bridge
    /// The kernel keeps the wire, its addresses, routes and Neighbour
    /// Discovery. The BPF classifier (DESIGN section 1) takes only the
    /// engine's frames from it: signalling, the handshake, and frames from
    /// the addresses of peers in the Host Cache (the slow path fills the
    /// classifier's maps). Traffic to those peers is routed through the
    /// upper port (a policy-routing table of /128 routes the slow path
    /// keeps); everything else never touches the engine.
    case classifier
}

/// Policy routing that classifier steering uses to route the kernel's
/// packets for Homeless peers through the upper port.
///
/// The /128 routes live in a table of their own, consulted by one rule for
/// every packet without the engine's firewall mark. The engine asks the
/// kernel where a peer would go *without* those routes (its own route
/// lookups carry the mark), so it follows the host's real routing as links
/// and routers change. One engine per network namespace can steer this way.
public enum SteeringRoutes {
    /// The routing table of the peer routes ("HL").
    public static let table: UInt32 = 0x484C
    /// The rule's preference: after `local` (0), before `main` (32766).
    public static let rulePreference: UInt32 = 0x484C
    /// Where a "nop" rule comes and goes to invalidate the routes sockets
    /// cached (`HostRoutes.invalidateCachedRoutes`), right after the
    /// steering rule.
    public static let cacheInvalidationRulePreference: UInt32 = rulePreference + 1
    /// The mark the engine's own route lookups carry to skip the table.
    public static let lookupMark: UInt32 = 0x484C

    /// `ip -6 rule` arguments after `add`/`del`.
    static var ruleArguments: [String] {
        ["pref", String(rulePreference), "not", "fwmark", "0x" + String(lookupMark, radix: 16),
         "lookup", String(table)]
    }
}
