import HomelessSystem
import Logging

/// Passes a wire's carrier on to the host's kernel in host mode.
///
/// The kernel side of the upper port is a veth end: it has carrier while
/// the engine side is up, whatever happens to the wire. When the wire loses
/// carrier (cable out, link down, the other end gone), the kernel would go
/// on routing through the dead link. The mirror takes the engine side down
/// then, so the kernel side reports NO-CARRIER: with
/// `ignore_routes_with_linkdown` set on it (start-up does), the kernel's
/// routes through it are skipped and traffic takes the routes of the other
/// wires (multi-homing, DESIGN section 4: "the link goes down"). The
/// addresses stay on the kernel side, so connections keep their ULIDs; the
/// engine translates them to a live locator of the surviving link. When
/// the wire's carrier returns, the engine side comes up again.
///
/// The routes host mode moved to the kernel side (the wire's own, such as
/// its default route) are also taken away while the wire is down and put
/// back when it returns, as a routing daemon would. Carrier alone is not
/// enough: a connected socket keeps its cached route to the dead link
/// (the kernel marks the route `linkdown` without invalidating cached
/// copies) until TCP's retransmission timeouts make it look again, several
/// seconds later; removing a route invalidates every cached copy at once.
///
/// The state is read with `ip -o link` when rtnetlink reports a change,
/// not per packet.
final class WireCarrierMirror {
    let wires: [HostModeWire]
    /// Per wire, the routes start-up put on its kernel side.
    let routes: [[InterfaceRoute]]
    let logger: Logger
    /// Indexes (in `wires`) of the wires whose carrier is down now.
    private(set) var downWires: Set<Int> = []

    init(wires: [HostModeWire], routes: [[InterfaceRoute]], logger: Logger) {
        self.wires = wires
        self.routes = routes
        self.logger = logger
    }

    /// Kernel-side names of the wires that are down.
    var downKernelSides: Set<String> { Set(downWires.map { wires[$0].kernelSide }) }

    /// Reads every wire's state; the wires that lost and regained carrier
    /// since the last call. A wire that cannot be read (renamed, gone) is
    /// left as it was: the engine's health check reports a missing wire.
    func check() -> (wentDown: [Int], cameUp: [Int]) {
        var wentDown: [Int] = [], cameUp: [Int] = []
        for (index, names) in wires.enumerated() {
            guard let state = try? InterfaceConfiguration.link(named: names.wire) else { continue }
            let hasCarrier = state.isUp && state.flags.contains("LOWER_UP")
            if hasCarrier, downWires.contains(index) {
                downWires.remove(index)
                cameUp.append(index)
            } else if !hasCarrier, !downWires.contains(index) {
                downWires.insert(index)
                wentDown.append(index)
            }
        }
        return (wentDown, cameUp)
    }

    /// Sets the engine side of wire `index` up or down, which the kernel
    /// side sees as carrier, and puts back or takes away the wire's routes.
    func mirror(wire index: Int, up: Bool) {
        let names = wires[index]
        let ip = SystemCommand("ip")
        let outcome = ip.run(["link", "set", "dev", names.engineSide, up ? "up" : "down"])
        for route in index < routes.count ? routes[index] : [] {
            var arguments = route.addArguments(device: names.kernelSide)
            if !up, let verb = arguments.firstIndex(of: "add") { arguments[verb] = "del" }
            let changed = ip.run(arguments)
            if !changed.succeeded, !changed.errorOutput.contains("File exists"), !changed.errorOutput.contains("No such process") {
                logger.warning(up ? "cannot restore a route of the wire" : "cannot withdraw a route of the wire", metadata: [
                    "wire": "\(names.wire)", "route": "\(route.words.joined(separator: " "))", "error": "\(changed.errorOutput)",
                ])
            }
        }
        if outcome.succeeded {
            logger.info(up ? "wire carrier back, kernel side up" : "wire lost carrier, kernel side down", metadata: [
                "wire": "\(names.wire)", "kernel-side": "\(names.kernelSide)",
            ])
        } else {
            logger.warning("cannot mirror the wire's carrier", metadata: [
                "wire": "\(names.wire)", "engine-side": "\(names.engineSide)", "error": "\(outcome.errorOutput)",
            ])
        }
    }
}
