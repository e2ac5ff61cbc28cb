#if canImport(Glibc)
import Glibc
#endif
import HomelessSystem
import Logging

/// A run of host mode that died without restoring (SIGKILL, a crash) leaves
/// its veth pair behind, holding the host's addresses and routes, and the
/// wire with IPv6 disabled. Each run claims its kernel-side interface in a
/// file, `/run/homeless/<network namespace inode>-<kernel side>.pid`
/// (every namespace has its own `hl0`), holding its process id; the
/// journal removes the claim on a clean stop. At start-up a kernel side
/// that exists with a claim whose process is gone is a leftover of this
/// engine: its addresses and routes go back to the wire, IPv6 is enabled
/// on the wire again, and the veth pair is deleted (with classifier
/// steering: the veth pair, rule, table and filter go, see `recover`). An interface without a
/// claim, or claimed by a live process, is left alone (start-up then
/// reports it exists).
enum CrashedRunRecovery {
    static let directory = "/run/homeless"

    /// The claim file for `kernelSide` in the calling thread's network namespace.
    static func claimPath(kernelSide: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 64)
        let length = readlink("/proc/self/ns/net", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        let target = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        // "net:[4026531840]"
        let inode = target.filter(\.isNumber)
        guard !inode.isEmpty else { return nil }
        return "\(directory)/\(inode)-\(kernelSide).pid"
    }

    /// Records this process as the owner of the wire's upper port, with
    /// the wire's settings host mode is about to change (called before
    /// `UpperPort.takeOver`); the journal removes the claim when the run
    /// ends cleanly.
    static func claim(_ names: HostModeWire, snapshot: WireSnapshot, steering: WireSteering = .bridge,
                      journal: HostChangeJournal) {
        guard let path = claimPath(kernelSide: names.kernelSide) else { return }
        _ = mkdir(directory, 0o755)
        var text = "\(getpid())\n"
        text += "steering=\(steering.rawValue)\n"
        if steering == .classifier {
            // Whether the wire had a clsact qdisc before this run (the run
            // creates one otherwise, and a recovery may remove it).
            let qdiscs = SystemCommand("tc").run(["qdisc", "show", "dev", names.wire])
            text += "clsact=\(qdiscs.output.contains("clsact") ? "present" : "absent")\n"
        }
        text += "disable_ipv6=\(snapshot.disableIPv6)\n"
        text += "allmulticast=\(snapshot.link.isAllMulticast ? "on" : "off")\n"
        for (feature, name) in UpperPort.receiveOffloads {
            text += "\(name)=\(UpperPort.offloadIsOn(feature, of: names.wire) ? "on" : "off")\n"
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        guard descriptor >= 0 else {
            journal.logger.warning("could not record the upper port's owner", metadata: ["file": "\(path)"])
            return
        }
        _ = text.utf8CString.withUnsafeBufferPointer { write(descriptor, $0.baseAddress, text.utf8.count) }
        close(descriptor)
        journal.record("owner of \(names.kernelSide) recorded in \(path)") { _ = unlink(path) }
    }

    /// The process id in the claim of `kernelSide` and the wire settings
    /// recorded with it, if there is a claim.
    static func claimant(kernelSide: String) -> (pid: pid_t, settings: [String: String])? {
        guard let path = claimPath(kernelSide: kernelSide),
              let bytes = try? WholeFileReader.read(path: path, limit: 4096) else { return nil }
        let lines = String(decoding: bytes, as: UTF8.self).split(separator: "\n")
        guard let first = lines.first, let pid = pid_t(first), pid > 0 else { return nil }
        var settings: [String: String] = [:]
        for line in lines.dropFirst() {
            let parts = line.split(separator: "=", maxSplits: 1)
            if parts.count == 2 { settings[String(parts[0])] = String(parts[1]) }
        }
        return (pid, settings)
    }

    /// Undoes what a dead run of this engine left on `names`; true when
    /// there was such a run. Throws when the leftovers could not be removed.
    ///
    /// Both steerings leave the veth pair and perhaps the wire's receive
    /// offloads off. A bridge run also left the host's addresses and routes
    /// on the kernel side (read before the pair goes, then put back on the
    /// wire) and the wire's IPv6 disabled; a classifier run left its
    /// steering rule and table, its tc ingress filter and perhaps the
    /// clsact qdisc it created.
    static func recover(_ names: HostModeWire, logger: Logger) throws(EngineError) -> Bool {
        guard InterfaceConfiguration.linkExists(names.kernelSide),
              let (pid, settings) = claimant(kernelSide: names.kernelSide),
              let path = claimPath(kernelSide: names.kernelSide)
        else { return false }
        if kill(pid, 0) == 0 || errno != ESRCH { return false }  // the owner still runs
        let steering = WireSteering(rawValue: settings["steering"] ?? "") ?? .bridge
        var addresses: [InterfaceAddress] = []
        var routes: [InterfaceRoute] = []
        do {
            if steering == .bridge {
                addresses = try InterfaceConfiguration.globalAddresses(of: names.kernelSide)
                routes = try InterfaceConfiguration.routes(through: names.kernelSide)
            }
            try UpperPort.ip.check(["link", "del", names.kernelSide])
            if InterfaceConfiguration.linkExists(names.wire) {
                if steering == .bridge {
                    try InterfaceConfiguration.setIPv6Setting("disable_ipv6", of: names.wire,
                                                              to: settings["disable_ipv6"] ?? "0")
                    if settings["allmulticast"] == "off" {
                        try UpperPort.ip.check(["link", "set", "dev", names.wire, "allmulticast", "off"])
                    }
                }
                for (_, name) in UpperPort.receiveOffloads where settings[name] == "on" {
                    _ = UpperPort.ethtool.run(["-K", names.wire, name, "on"])
                }
            }
        } catch {
            throw .hostConfiguration("removing the leftovers of a crashed run on \(names.wire): \(error)")
        }
        var metadata: Logger.Metadata = [
            "wire": "\(names.wire)", "kernel-side": "\(names.kernelSide)", "process": "\(pid)",
            "steering": "\(steering.rawValue)",
        ]
        switch steering {
        case .bridge:
            let failures = UpperPort.putBack(addresses: addresses, routes: routes, on: names.wire)
            metadata["addresses"] = "\(addresses.filter { !$0.isKernelGenerated }.map(\.prefix))"
            metadata["routes"] = "\(routes.filter { !$0.isKernelManaged && !$0.isMultipath }.count)"
            metadata["not-restored"] = "\(failures)"
        case .classifier:
            removeClassifierLeftovers(on: names.wire, settings: settings)
        }
        _ = unlink(path)
        logger.notice("removed the leftovers of a crashed run", metadata: metadata)
        return true
    }

    /// The steering rule and table; on the wire, the filter (only ours:
    /// handle, priority, program name) and the clsact qdisc if the dead run
    /// created it and nothing else hangs on it.
    private static func removeClassifierLeftovers(on wire: String, settings: [String: String]) {
        PeerSteering.removeLeftovers()
        guard InterfaceConfiguration.linkExists(wire) else { return }
        if let index = try? NetworkNamespace.interfaceIndex(named: wire) {
            _ = try? IngressAttachment.removeLeftover(interfaceIndex: index)
        }
        let tc = SystemCommand("tc")
        if settings["clsact"] == "absent",
           tc.run(["filter", "show", "dev", wire, "ingress"]).output.isEmpty,
           tc.run(["filter", "show", "dev", wire, "egress"]).output.isEmpty {
            _ = tc.run(["qdisc", "del", "dev", wire, "clsact"])
        }
    }
}
