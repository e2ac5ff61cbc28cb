import HomelessSystem
import HomelessWire
import Logging

/// Classifier steering (`--steering classifier`): the kernel keeps the
/// wire, and only the traffic of Homeless peers is the engine's. Two
/// things make it so, both kept here by the slow path:
///
/// * Inbound: every address a peer is known by goes into the classifier's
///   foreign-locator map on every wire, so the socket filter copies the
///   peer's frames into the engine's RX rings and the tc ingress program
///   takes them from the kernel (DESIGN section 1). Maps change before the
///   slow path's answers go out (a peer acknowledged on a new address may
///   send from it at once).
/// * Outbound: every such address gets a /128 route in the steering table
///   (`SteeringRoutes`) through the upper port's kernel side of the wire
///   the kernel would use without it, with the next hop the kernel would
///   use (`NextHopLookup` with the engine's lookup mark); the peer address
///   gets that next hop's link-layer address, from the wire's neighbour
///   table, as a permanent neighbour entry on the kernel side (both
///   programmed over rtnetlink, `HostRoutes`). The kernel then writes
///   frames for the peer into the upper port with the right destination
///   MAC, and the engine only translates them and copies them to the wire.
///   A next hop the wire has not resolved yet is resolved
///   (`NeighbourResolution`) and the route follows at the next refresh;
///   until then the kernel sends directly, untranslated.
///
/// Routes are re-read when rtnetlink reports a change and once a second,
/// so they follow a wire going down or a new default router. After a
/// route is added, the routes sockets cached are invalidated
/// (`HostRoutes.invalidateCachedRoutes`): a connection or connected UDP
/// socket that talked to an address before it became a peer's (a SYN the
/// handshake started from, a peer's new address) would otherwise keep
/// sending past the engine.
final class PeerSteering {
    struct SteeredWire {
        var names: HostModeWire
        var wireIndex: Int32
        var kernelSideIndex: Int32
        var classifier: WirePortClassifier
    }

    /// What a peer address is routed through.
    struct Route: Equatable {
        var kernelSide: String
        var kernelSideIndex: Int32
        var nextHop: IPv6Address
        var isGateway: Bool
        var linkLayerAddress: [UInt8]
    }

    let wires: [SteeredWire]
    /// Peers known before any traffic: the remote ends of manual SAs.
    let fixedPeers: Set<IPv6Address>
    let logger: Logger
    private(set) var routes: [IPv6Address: Route] = [:]
    private(set) var known: Set<IPv6Address> = []
    /// Peers whose next hop had no link-layer address at the last try.
    private(set) var unresolved: Set<IPv6Address> = []
    private var reportedFailures: Set<String> = []
    /// A route was added since sockets' cached routes were last
    /// invalidated.
    private var routeAdded = false
    /// Consecutive decisions that an installed route's address goes
    /// elsewhere; the route is removed at `elsewhereRefreshes`.
    private var elsewhereCount: [IPv6Address: Int] = [:]
    /// About three seconds of the once-a-second refresh (more often when
    /// rtnetlink reports changes).
    static let elsewhereRefreshes = 3

    init(wires: [SteeredWire], fixedPeers: Set<IPv6Address>, logger: Logger) {
        self.wires = wires
        self.fixedPeers = fixedPeers.filter(Self.isSteerable)
        self.logger = logger
    }

    /// Link-local, multicast and unspecified addresses are never a peer's
    /// locator (draft 2.2.1: the scope must match).
    static func isSteerable(_ address: IPv6Address) -> Bool {
        !address.isLinkLocal && !address.isMulticast && !address.isUnspecified && !address.isLoopback
    }

    /// Adds the policy rule that sends unmarked packets to the steering
    /// table; the undo removes it and flushes the table.
    static func installRule(journal: HostChangeJournal) throws(EngineError) {
        do {
            _ = UpperPort.ip.run(["-6", "route", "flush", "table", String(SteeringRoutes.table)])
            try UpperPort.ip.check(["-6", "rule", "add"] + SteeringRoutes.ruleArguments)
        } catch {
            throw .hostConfiguration("\(error)")
        }
        journal.record("steering rule and table \(SteeringRoutes.table)") {
            _ = UpperPort.ip.run(["-6", "route", "flush", "table", String(SteeringRoutes.table)])
            try UpperPort.ip.check(["-6", "rule", "del"] + SteeringRoutes.ruleArguments)
        }
    }

    /// Whether this network namespace has the steering rule (another engine
    /// steers here, or a crashed run left it).
    static func ruleExists() -> Bool {
        let outcome = UpperPort.ip.run(["-6", "rule", "show", "pref", String(SteeringRoutes.rulePreference)])
        return outcome.succeeded && outcome.output.contains("lookup")
    }

    /// Removes a crashed run's rule and table.
    static func removeLeftovers() {
        _ = UpperPort.ip.run(["-6", "route", "flush", "table", String(SteeringRoutes.table)])
        _ = try? HostRoutes.removeNopRule(rulePriority: SteeringRoutes.cacheInvalidationRulePreference)
        while ruleExists() {
            guard UpperPort.ip.run(["-6", "rule", "del", "pref", String(SteeringRoutes.rulePreference)]).succeeded
            else { break }
        }
    }

    /// Brings maps and routes in line with `peers` (plus the fixed ones):
    /// map entries first, for every wire, then routes for new addresses.
    /// Cheap when nothing changed.
    func update(peers: Set<IPv6Address>) {
        let all = peers.filter(Self.isSteerable).union(fixedPeers)
        guard all != known else { return }
        let added = all.subtracting(known)
        let removed = known.subtracting(all)
        for address in added { setMaps(address, present: true) }
        for address in removed { setMaps(address, present: false) }
        known = all
        for address in removed { route(address) }
        for address in added { route(address) }
        invalidateCachedRoutesIfAdded()
    }

    /// Re-reads every peer's next hop (links, addresses or routes changed,
    /// or the once-a-second refresh).
    func refreshRoutes() {
        for address in known { route(address) }
        invalidateCachedRoutesIfAdded()
    }

    /// Once per batch of changes: only an added route needs it (a changed
    /// or removed one invalidates the sockets that cached it by itself).
    private func invalidateCachedRoutesIfAdded() {
        guard routeAdded else { return }
        routeAdded = false
        do {
            try HostRoutes.invalidateCachedRoutes(rulePriority: SteeringRoutes.cacheInvalidationRulePreference)
        } catch {
            report("invalidate", "cached routes not invalidated; sockets may bypass new peer routes", [
                "error": "\(error)",
            ])
        }
    }

    private func setMaps(_ address: IPv6Address, present: Bool) {
        let locator = LocatorAddress(high: address.high, low: address.low)
        for wire in wires {
            do {
                if present {
                    try wire.classifier.addLocator(locator, to: .foreign)
                } else {
                    _ = try wire.classifier.removeLocator(locator, from: .foreign)
                }
            } catch {
                report("map \(wire.names.wire)", "classifier map update failed", [
                    "wire": "\(wire.names.wire)", "address": "\(address)", "error": "\(error)",
                ])
            }
        }
    }

    /// What a peer address's route should be now.
    enum Decision: Equatable {
        /// Through this kernel side, with this next hop.
        case route(Route)
        /// No longer a peer: no route through the engine.
        case none
        /// The host's routes send the address elsewhere (another
        /// interface) or nowhere. Taken as final only when it lasts: the
        /// kernel's choice among default routes follows the routers'
        /// reachability, which flickers while a neighbour is re-probed.
        case elsewhere
        /// The next hop has no usable link-layer address at the moment
        /// (resolution was triggered): an installed route stays as it is,
        /// a new one waits for the next refresh.
        case unresolved
    }

    /// Where `address` should be routed now: through the kernel side of
    /// the wire the host's own routes use, or not through the engine.
    private func decide(_ address: IPv6Address) -> Decision {
        guard known.contains(address) else { return .none }
        let hop: NextHop
        do {
            hop = try NextHopLookup.route(to: address.bytes, mark: SteeringRoutes.lookupMark)
        } catch {
            return .elsewhere
        }
        guard let wire = wires.first(where: { $0.wireIndex == hop.interfaceIndex }) else { return .elsewhere }
        let nextHop = hop.gateway.flatMap { IPv6Address(bytes: $0) } ?? address
        guard let neighbour = try? NextHopLookup.linkLayerAddress(of: nextHop.bytes, interfaceIndex: wire.wireIndex),
              NextHopLookup.isUsable(state: neighbour.state), neighbour.mac.count == 6
        else {
            NeighbourResolution.trigger(address: nextHop.bytes, interfaceIndex: wire.wireIndex)
            return .unresolved
        }
        return .route(Route(kernelSide: wire.names.kernelSide, kernelSideIndex: wire.kernelSideIndex, nextHop: nextHop,
                            isGateway: hop.gateway != nil, linkLayerAddress: neighbour.mac))
    }

    private func route(_ address: IPv6Address) {
        let desired: Route?
        switch decide(address) {
        case .route(let route):
            unresolved.remove(address)
            desired = route
        case .none:
            unresolved.remove(address)
            desired = nil
        case .elsewhere:
            unresolved.remove(address)
            if routes[address] != nil {
                let count = (elsewhereCount[address] ?? 0) + 1
                elsewhereCount[address] = count
                if count < Self.elsewhereRefreshes { return }
            }
            desired = nil
        case .unresolved:
            unresolved.insert(address)
            return
        }
        if desired != nil || routes[address] == nil { elsewhereCount[address] = nil }
        guard desired != routes[address] else { return }
        let old = routes[address]
        guard let desired else {
            _ = try? HostRoutes.remove(address.bytes, table: SteeringRoutes.table)
            if let old { _ = try? HostRoutes.removeNeighbour(address.bytes, interfaceIndex: old.kernelSideIndex) }
            routes[address] = nil
            elsewhereCount[address] = nil
            logger.info("peer no longer steered", metadata: ["address": "\(address)"])
            return
        }
        // The peer is made on-link on the kernel side, with the next hop's
        // link-layer address as its own (a permanent neighbour entry): the
        // kernel writes that MAC into the frames, and no gateway has to be
        // valid on the kernel side (a gateway reachable through the wire
        // would be refused there). Neighbour first, so the route never
        // points at an unresolved address.
        do {
            try HostRoutes.installPermanentNeighbour(address.bytes, linkLayerAddress: desired.linkLayerAddress,
                                                     interfaceIndex: desired.kernelSideIndex)
            try HostRoutes.install(address.bytes, interfaceIndex: desired.kernelSideIndex, table: SteeringRoutes.table)
        } catch {
            report("route \(address)", "peer route not installed", ["address": "\(address)", "error": "\(error)"])
            return
        }
        if let old, old.kernelSideIndex != desired.kernelSideIndex {
            _ = try? HostRoutes.removeNeighbour(address.bytes, interfaceIndex: old.kernelSideIndex)
        }
        if old == nil { routeAdded = true }
        routes[address] = desired
        let mac = desired.linkLayerAddress.map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined(separator: ":")
        logger.info("peer steered through the upper port", metadata: [
            "address": "\(address)", "kernel-side": "\(desired.kernelSide)", "next-hop": "\(desired.nextHop)",
            "lladdr": "\(mac)",
        ])
    }

    /// Logs a failure once per key (a failing map or route would otherwise
    /// repeat every second).
    private func report(_ key: String, _ message: Logger.Message, _ metadata: Logger.Metadata) {
        guard reportedFailures.insert(key).inserted else { return }
        logger.warning(message, metadata: metadata)
    }
}
