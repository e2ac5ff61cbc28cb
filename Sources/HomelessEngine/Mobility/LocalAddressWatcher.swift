import HomelessSystem
import HomelessWire
import Logging

/// Watches the global IPv6 addresses of the upper ports' kernel sides (in
/// host mode the host's addresses live there, not on the wire) by reading
/// `ip -6 -o addr` from the slow path whenever rtnetlink reports a change
/// (and once a second regardless), and reports the live ones that came and
/// went (draft 2.1.2, 2.1.3: a new or lost address is announced to every
/// peer in a Binding Update).
///
/// Live means global, preferred, and on a device whose wire has carrier:
/// a deprecated address (preferred lifetime 0) is kept for connections
/// that already use it but is not offered to peers, and an address of a
/// link that went down is lost as a locator (draft 2.1.3) although the
/// kernel side keeps it.
///
/// It also keeps ULIDs alive (DESIGN section 1: "a ULID stays a local
/// address for the kernel while any entry refers to it, even after the wire
/// interface lost it"): when an address that a peer's connection uses as
/// its local ULID disappears from the interface, it is added back with
/// `nodad preferred_lft 0`. The kernel then still owns it, so the
/// connection's socket keeps receiving (after translation) and sending with
/// it, but as a deprecated address the kernel does not choose it as the
/// source of new connections (RFC 4862 5.5.4); `nodad` because the address
/// was ours a moment ago and nothing else on the link uses it.
final class LocalAddressWatcher {
    /// Interval of the reading done without a netlink notification (1 s):
    /// a safety net; changes are normally read at once.
    static let pollInterval: UInt64 = 1_000_000_000

    struct Change: Equatable {
        var added: [IPv6Address] = []
        var removed: [IPv6Address] = []
        var keptAsIdentifier: [IPv6Address] = []
    }

    let devices: [String]
    /// Per device (same order): where a lost identifier is added back when
    /// the device itself is down. The device itself in bridge mode (its
    /// kernel side never goes down); with classifier steering the wire's
    /// kernel side, which stays up. An identifier lost from a device that
    /// is up goes back on that device, so the host keeps answering
    /// Neighbour Discovery for it on the link, as in bridge mode, and a
    /// peer can still open connections to it directly.
    let keepingOn: [String]
    let logger: Logger
    private(set) var live: Set<IPv6Address>
    /// Prefix length and device each address was last seen with.
    private var seen: [IPv6Address: (prefixLength: String, device: String)] = [:]

    /// False until the first poll, which only takes the baseline: the
    /// engine moves the wire's addresses to the upper port after the
    /// watcher is made, and the mobility table starts with them already.
    private var primed = false

    init(devices: [String], keepingOn: [String]? = nil, logger: Logger) {
        self.devices = devices
        self.keepingOn = keepingOn ?? devices
        self.logger = logger
        live = []
    }

    struct Observed {
        var address: IPv6Address
        var prefixLength: String
        var device: String
        var isPreferred: Bool
    }

    func currentAddresses() -> [Observed] {
        var result: [Observed] = []
        var read = Set<String>()
        for device in devices + keepingOn where read.insert(device).inserted {
            guard let addresses = try? InterfaceConfiguration.globalAddresses(of: device) else { continue }
            for entry in addresses {
                let parts = entry.prefix.split(separator: "/")
                guard let first = parts.first, let address = IPv6Address(String(first)) else { continue }
                let observed = Observed(address: address, prefixLength: parts.count > 1 ? String(parts[1]) : "128",
                                        device: device, isPreferred: entry.preferredLifetime != "0")
                seen[address] = (observed.prefixLength, device)
                result.append(observed)
            }
        }
        return result
    }

    /// The index (in `devices`, the engine's wire order) of the device an
    /// address was last seen on.
    func wire(of address: IPv6Address) -> Int? {
        seen[address].flatMap { devices.firstIndex(of: $0.device) ?? keepingOn.firstIndex(of: $0.device) }
    }

    /// One poll: what changed since the last, after putting back any
    /// identifier in `identifiers` that disappeared. Addresses of the
    /// devices in `downDevices` are not live.
    func poll(keeping identifiers: Set<IPv6Address>, downDevices: Set<String> = []) -> Change {
        var change = Change()
        var current = currentAddresses()
        let present = Set(current.map(\.address))
        for identifier in identifiers where !present.contains(identifier) {
            guard let where_ = seen[identifier] else { continue }
            var device = where_.device
            if let index = devices.firstIndex(of: device), keepingOn[index] != device,
               (try? InterfaceConfiguration.link(named: device))??.isUp != true {
                device = keepingOn[index]
            }
            let result = SystemCommand("ip").run([
                "-6", "addr", "add", "\(identifier)/\(where_.prefixLength)", "dev", device,
                "nodad", "preferred_lft", "0", "valid_lft", "forever",
            ] + (device == where_.device ? [] : ["noprefixroute"]))
            if result.succeeded {
                change.keptAsIdentifier.append(identifier)
                seen[identifier] = (where_.prefixLength, device)
                current.append(Observed(address: identifier, prefixLength: where_.prefixLength, device: device,
                                        isPreferred: false))
            } else {
                logger.warning("cannot keep identifier address", metadata: [
                    "address": "\(identifier)", "error": "\(result.errorOutput)",
                ])
            }
        }
        let nowLive = Set(current.filter { $0.isPreferred && !downDevices.contains($0.device) }.map(\.address))
        guard primed else {
            primed = true
            live = nowLive
            return change
        }
        change.added = nowLive.subtracting(live).sorted { "\($0)" < "\($1)" }
        change.removed = live.subtracting(nowLive).sorted { "\($0)" < "\($1)" }
        live = nowLive
        return change
    }
}
