import HomelessSystem
import HomelessWire
import Logging

/// Names of one wire interface and the veth pair host mode puts above it.
public struct HostModeWire: Hashable, Sendable {
    /// The wire interface (for example `eth0`).
    public var wire: String
    /// The veth end the host's kernel keeps: it takes over the wire's MAC
    /// address and IPv6 configuration.
    public var kernelSide: String
    /// The veth end the engine's rings use.
    public var engineSide: String

    public init(wire: String, kernelSide: String, engineSide: String) {
        self.wire = wire
        self.kernelSide = kernelSide
        self.engineSide = engineSide
    }
}

/// What start-up found on a wire interface before changing anything.
public struct WireSnapshot: Sendable {
    public var link: LinkState
    /// Global addresses in the kernel's listing order.
    public var addresses: [InterfaceAddress]
    /// Main-table routes through the wire interface.
    public var routes: [InterfaceRoute]
    /// net.ipv6.conf.<wire>.disable_ipv6 as it was.
    public var disableIPv6: String
    /// Per-interface IPv6 settings copied to the kernel side so the host
    /// behaves as it did (Router Advertisements, SLAAC, DAD).
    public var copiedSettings: [(key: String, value: String)]

    public var ethernetAddress: EthernetAddress? { EthernetAddress(parsing: link.macAddress) }
}

/// Host mode's upper port: a veth pair whose kernel side becomes the host's
/// IPv6 interface in place of the wire interface.
///
/// Design (see docs/ARCHITECTURE.md, "Host mode"): the kernel side takes the
/// wire interface's MAC address and, with it, the same link-local address.
/// The engine then bridges IPv6 frames between the wire and the upper port
/// unchanged: Neighbour Discovery stays end to end between the host's kernel
/// and the link (the kernel's neighbour table lives on the kernel side; NS,
/// NA, RS, RA, DAD and MLD pass through the engine like any other frame), so
/// no proxy state or MAC rewriting is needed. IPv6 is disabled on the wire
/// interface itself (`disable_ipv6`), so the kernel neither answers there
/// nor competes with the kernel side; AF_PACKET sockets still see every
/// frame, because packet taps run before the IPv6 input path. IPv4 and ARP
/// on the wire interface are untouched.
enum UpperPort {
    static let ip = SystemCommand("ip")
    static let ethtool = SystemCommand("ethtool")
    static let copiedSettingKeys = ["accept_ra", "autoconf", "accept_dad", "dad_transmits", "router_solicitations"]
    /// The receive offloads that merge frames: `ethtool -k` feature name
    /// and `ethtool -K` keyword.
    static let receiveOffloads = [("generic-receive-offload", "gro"), ("large-receive-offload", "lro")]

    /// Checks everything start-up will need without changing the host.
    static func validate(_ names: HostModeWire) throws(EngineError) -> WireSnapshot {
        for name in [names.wire, names.kernelSide, names.engineSide] {
            guard !name.isEmpty, name.utf8.count <= 15, !name.contains("/"), !name.contains(" ") else {
                throw .invalidInterfaceName(name)
            }
        }
        guard Set([names.wire, names.kernelSide, names.engineSide]).count == 3 else {
            throw .invalidInterfaceName(names.kernelSide)
        }
        guard InterfaceConfiguration.linkExists(names.wire) else { throw .noSuchInterface(names.wire) }
        let link: LinkState
        do {
            guard let state = try InterfaceConfiguration.link(named: names.wire) else {
                throw EngineError.notEthernet(names.wire)
            }
            link = state
        } catch let error as EngineError {
            throw error
        } catch {
            throw .hostConfiguration("\(error)")
        }
        guard EthernetAddress(parsing: link.macAddress) != nil else { throw .notEthernet(names.wire) }
        for name in [names.kernelSide, names.engineSide] where InterfaceConfiguration.linkExists(name) {
            throw .interfaceExists(name)
        }
        guard ethtool.resolvedPath != nil else { throw .missingTool("ethtool") }
        do {
            let addresses = try InterfaceConfiguration.globalAddresses(of: names.wire)
            let routes = try InterfaceConfiguration.routes(through: names.wire)
            let disable = try InterfaceConfiguration.ipv6Setting("disable_ipv6", of: names.wire)
            var settings: [(key: String, value: String)] = []
            for key in copiedSettingKeys {
                if let value = try? InterfaceConfiguration.ipv6Setting(key, of: names.wire) {
                    settings.append((key, value))
                }
            }
            return WireSnapshot(link: link, addresses: addresses, routes: routes, disableIPv6: disable,
                                copiedSettings: settings)
        } catch {
            throw .hostConfiguration("\(error)")
        }
    }

    /// Creates the veth pair: kernel side with the wire's MAC address and
    /// MTU and the wire's IPv6 settings, engine side without IPv6, both up.
    ///
    /// `superFrames` (rings with offload metadata and 64 KiB slots): both
    /// ends keep checksum and segmentation offloads on, so the host's TCP
    /// hands the engine 64 KiB super-frames with partial checksums, which
    /// cross the engine whole (docs/ARCHITECTURE.md, "Offloads"). Without,
    /// they are turned off: every frame must then arrive complete, with a
    /// valid checksum, no larger than the MTU.
    ///
    /// With classifier steering the kernel side only carries the kernel's
    /// packets for Homeless peers (routed there by `PeerSteering`) and the
    /// engine's deliveries from them: it takes no Router Advertisements,
    /// makes no addresses and runs no DAD, because the wire keeps all of
    /// that.
    static func create(_ names: HostModeWire, snapshot: WireSnapshot, steering: WireSteering = .bridge,
                       superFrames: Bool = true, journal: HostChangeJournal) throws(EngineError) {
        do {
            try ip.check(["link", "add", names.kernelSide, "type", "veth", "peer", "name", names.engineSide])
            journal.record("veth \(names.kernelSide)/\(names.engineSide) created") {
                try ip.check(["link", "del", names.kernelSide])
            }
            // The engine side carries frames only; its own IPv6 stack must
            // neither answer them nor send anything.
            try InterfaceConfiguration.setIPv6Setting("disable_ipv6", of: names.engineSide, to: "1")
            switch steering {
            case .bridge:
                for (key, value) in snapshot.copiedSettings {
                    try? InterfaceConfiguration.setIPv6Setting(key, of: names.kernelSide, to: value)
                }
            case .classifier:
                for key in copiedSettingKeys {
                    try? InterfaceConfiguration.setIPv6Setting(key, of: names.kernelSide, to: "0")
                }
                // No link-local address (so no solicited-node group and no
                // MLD report) and no multicast: the kernel side sends only
                // what is routed to it, and its peers are permanent
                // neighbours (no solicitations).
                try ip.check(["link", "set", "dev", names.kernelSide, "addrgenmode", "none", "multicast", "off"])
            }
            // A wire without carrier shows as a kernel side without carrier
            // (WireCarrierMirror); its routes must then be skipped, so the
            // kernel falls back to the other wires' routes.
            try? InterfaceConfiguration.setIPv6Setting("ignore_routes_with_linkdown", of: names.kernelSide, to: "1")
            let mtu = String(snapshot.link.mtu)
            try ip.check(["link", "set", "dev", names.kernelSide, "address", snapshot.link.macAddress, "mtu", mtu])
            try ip.check(["link", "set", "dev", names.engineSide, "mtu", mtu])
            let state = superFrames ? "on" : "off"
            for side in [names.kernelSide, names.engineSide] {
                let outcome = ethtool.run(["-K", side, "tx", state, "tso", state, "gso", state, "gro", "off"])
                if !outcome.succeeded {
                    journal.logger.warning("could not turn offloads \(state)", metadata: [
                        "interface": "\(side)", "error": "\(outcome.errorOutput)",
                    ])
                }
            }
            try ip.check(["link", "set", "dev", names.engineSide, "up"])
        } catch let error as EngineError {
            throw error
        } catch {
            throw .hostConfiguration("\(error)")
        }
    }

    /// Moves the wire's IPv6 configuration to the kernel side. Called once
    /// the engine's rings are open and its workers run, so the host's
    /// traffic has a path the moment the kernel side comes up.
    static func takeOver(_ names: HostModeWire, snapshot: WireSnapshot, superFrames: Bool = true,
                         journal: HostChangeJournal) throws(EngineError) {
        let wire = names.wire
        let kernelSide = names.kernelSide
        do {
            // The wire keeps receiving the multicast groups the kernel side
            // joins (solicited-node, all-nodes, MLD) although its own IPv6
            // stack no longer joins them.
            if !snapshot.link.isAllMulticast {
                try ip.check(["link", "set", "dev", wire, "allmulticast", "on"])
                journal.record("allmulticast on \(wire)") {
                    try ip.check(["link", "set", "dev", wire, "allmulticast", "off"])
                }
            }
            if !superFrames { turnReceiveOffloadsOff(wire, journal: journal) }
            // Disabling IPv6 removes the wire's addresses and every route
            // through it; the undo enables it again and puts them back as
            // they were (kernel-managed routes come back with the addresses).
            if snapshot.disableIPv6 != "1" {
                try InterfaceConfiguration.setIPv6Setting("disable_ipv6", of: wire, to: "1")
                journal.record("IPv6 disabled on \(wire)") {
                    try restoreWire(names, snapshot: snapshot, logger: journal.logger)
                }
            }
            try ip.check(["link", "set", "dev", kernelSide, "up"])
            journal.record("\(kernelSide) up with the host's IPv6 configuration") {
                // Down first: the kernel side's routes go with it, so the
                // wire's come back without duplicates.
                _ = ip.run(["link", "set", "dev", kernelSide, "down"])
                _ = ip.run(["-6", "addr", "flush", "dev", kernelSide])
            }
            // The kernel lists the newest address of a scope first; adding in
            // reverse listing order reproduces the order.
            for address in snapshot.addresses.reversed() where !address.isKernelGenerated {
                try ip.check(address.addArguments(device: kernelSide))
            }
            for route in snapshot.routes where !route.isKernelManaged && !route.isMultipath {
                try ip.check(route.addArguments(device: kernelSide))
            }
        } catch let error as EngineError {
            throw error
        } catch {
            throw .hostConfiguration("\(error)")
        }
    }

    /// Receive offloads that merge frames (GRO, LRO) would hand the RX ring
    /// super-frames larger than its slots: off while an engine whose rings
    /// cannot carry super-frames runs (journaled).
    static func turnReceiveOffloadsOff(_ wire: String, journal: HostChangeJournal) {
        for (feature, name) in receiveOffloads where offloadIsOn(feature, of: wire) {
            let outcome = ethtool.run(["-K", wire, name, "off"])
            if outcome.succeeded {
                journal.record("\(name) off on \(wire)") { try ethtool.check(["-K", wire, name, "on"]) }
            } else {
                journal.logger.warning("could not turn a receive offload off", metadata: [
                    "interface": "\(wire)", "offload": "\(name)", "error": "\(outcome.errorOutput)",
                ])
            }
        }
    }

    /// Classifier steering: the wire keeps its IPv6 configuration (and,
    /// with `superFrames`, its merging receive offloads), and the kernel
    /// side comes up (empty: `PeerSteering` routes the peers' addresses to it).
    static func attachBeside(_ names: HostModeWire, superFrames: Bool = true,
                             journal: HostChangeJournal) throws(EngineError) {
        if !superFrames { turnReceiveOffloadsOff(names.wire, journal: journal) }
        do {
            try ip.check(["link", "set", "dev", names.kernelSide, "up"])
        } catch {
            throw .hostConfiguration("\(error)")
        }
    }

    /// Whether `ethtool -k` reports `feature` on and changeable.
    static func offloadIsOn(_ feature: String, of device: String) -> Bool {
        let outcome = ethtool.run(["-k", device])
        guard outcome.succeeded else { return false }
        return outcome.output.split(separator: "\n").contains { line in
            let trimmed = line.drop { $0 == " " || $0 == "\t" }
            return trimmed.hasPrefix(feature + ": on") && !trimmed.contains("[fixed]")
        }
    }

    /// Puts the wire's IPv6 configuration back: IPv6 enabled as it was, the
    /// addresses in their original order and flags, the routes word for word.
    static func restoreWire(_ names: HostModeWire, snapshot: WireSnapshot, logger: Logger) throws {
        try InterfaceConfiguration.setIPv6Setting("disable_ipv6", of: names.wire, to: snapshot.disableIPv6)
        let failures = putBack(addresses: snapshot.addresses, routes: snapshot.routes, on: names.wire)
        if !failures.isEmpty {
            throw EngineError.hostConfiguration(failures.joined(separator: "; "))
        }
    }

    /// Adds the addresses host mode moves (not the kernel-generated ones)
    /// in reverse listing order, so they list in the same order, and the
    /// routes it moves (not the kernel-managed or multipath ones) word for
    /// word, on `device`. One already there is not a failure; returns
    /// what could not be added, with the kernel's message.
    static func putBack(addresses: [InterfaceAddress], routes: [InterfaceRoute], on device: String) -> [String] {
        var failures: [String] = []
        for address in addresses.reversed() where !address.isKernelGenerated {
            let outcome = ip.run(address.addArguments(device: device))
            if !outcome.succeeded && !outcome.errorOutput.contains("File exists") {
                failures.append("address \(address.prefix): \(outcome.errorOutput)")
            }
        }
        for route in routes where !route.isKernelManaged && !route.isMultipath {
            let outcome = ip.run(route.addArguments(device: device))
            if !outcome.succeeded && !outcome.errorOutput.contains("File exists") {
                failures.append("route \(route.words.joined(separator: " ")): \(outcome.errorOutput)")
            }
        }
        return failures
    }
}

extension EthernetAddress {
    /// Parses `aa:bb:cc:dd:ee:ff`.
    init?(parsing text: String) {
        let parts = text.split(separator: ":")
        guard parts.count == 6 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            guard part.count <= 2, let byte = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(byte)
        }
        self.init(rawValue: value)
    }
}
