import CHomeless

#if canImport(Glibc)
import Glibc
#endif

/// One IPv6 address of an interface as the kernel reports it (RTM_NEWADDR;
/// what `ip -6 addr show` prints), with what is needed to add it again
/// exactly (`ip -6 addr add`).
public struct InterfaceAddress: Hashable, Sendable {
    /// Address and prefix length, e.g. `2001:db8:a::10/64`.
    public var prefix: String
    /// Flags `ip addr add` accepts back (nodad, noprefixroute, home,
    /// mngtmpaddr, optimistic, autojoin).
    public var flags: [String]
    /// `forever` or seconds left.
    public var validLifetime: String
    public var preferredLifetime: String
    /// Addresses the kernel made itself (SLAAC `dynamic` ones it refreshes,
    /// privacy `temporary` ones) come back on their own from the next
    /// Router Advertisement.
    public var isKernelGenerated: Bool

    /// Arguments for `ip` that add this address to `device`.
    public func addArguments(device: String) -> [String] {
        var arguments = ["-6", "addr", "add", prefix, "dev", device]
        arguments += flags
        if validLifetime != "forever" || preferredLifetime != "forever" {
            arguments += ["valid_lft", validLifetime, "preferred_lft", preferredLifetime]
        }
        return arguments
    }

    /// IFA_F_* bits (linux/if_addr.h) and the words `ip` uses for them.
    static let replayableFlagBits: [(bit: UInt32, word: String)] = [
        (0x02, "nodad"), (0x04, "optimistic"), (0x10, "home"), (0x100, "mngtmpaddr"),
        (0x200, "noprefixroute"), (0x400, "autojoin"),
    ]
    static let temporaryBit: UInt32 = 0x01
    static let permanentBit: UInt32 = 0x80

    /// The address as RTM_GETADDR reported it.
    init(_ facts: hl_address_facts) {
        let text = withUnsafeBytes(of: facts.address) { InterfaceAddress.presentation(of: $0) }
        prefix = "\(text)/\(facts.prefix_length)"
        flags = Self.replayableFlagBits.filter { facts.flags & $0.bit != 0 }.map(\.word)
        validLifetime = Self.lifetime(facts.valid_lifetime)
        preferredLifetime = Self.lifetime(facts.preferred_lifetime)
        // `ip` prints `temporary` for privacy addresses and `dynamic` for
        // addresses without IFA_F_PERMANENT (SLAAC).
        isKernelGenerated = facts.flags & Self.temporaryBit != 0 || facts.flags & Self.permanentBit == 0
    }

    /// Seconds as `ip` takes them; all ones is infinite (INFINITY_LIFE_TIME).
    static func lifetime(_ seconds: UInt32) -> String {
        seconds == UInt32.max ? "forever" : String(seconds)
    }

    /// RFC 5952 text of 16 octets, as inet_ntop(3) and `ip` write it.
    static func presentation(of octets: UnsafeRawBufferPointer) -> String {
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN))
        guard inet_ntop(AF_INET6, octets.baseAddress, &text, socklen_t(text.count)) != nil else { return "::" }
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}

/// One main-table IPv6 route through an interface, as a line of
/// `ip -6 -o route show table main`; replayed word for word with
/// `ip -6 route add`, so every attribute the kernel printed comes back.
public struct InterfaceRoute: Hashable, Sendable {
    public var words: [String]

    /// Words that describe the route's state, not a setting: `ip route add`
    /// rejects them.
    static let stateWords: Set<String> = ["linkdown", "dead", "offload", "trap", "offload_failed", "rt_offload", "rt_trap"]

    public init?(line: String) {
        var words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\\" }).map(String.init)
        guard !words.isEmpty else { return nil }
        words.removeAll { Self.stateWords.contains($0) }
        if let expires = words.firstIndex(of: "expires"), expires + 1 < words.count {
            // `1234sec` as printed, `1234` as `ip route add` takes it.
            let printed = words[expires + 1]
            words[expires + 1] = printed.hasSuffix("sec") ? String(printed.dropLast(3)) : printed
        }
        self.words = words
    }

    public var device: String? {
        guard let index = words.firstIndex(of: "dev"), index + 1 < words.count else { return nil }
        return words[index + 1]
    }

    public var protocolName: String? {
        guard let index = words.firstIndex(of: "proto"), index + 1 < words.count else { return nil }
        return words[index + 1]
    }

    /// Routes the kernel creates and removes itself: connected prefixes
    /// (`proto kernel`, from the addresses) and those learnt from Router
    /// Advertisements (`proto ra`).
    public var isKernelManaged: Bool { protocolName == "kernel" || protocolName == "ra" }

    /// Multipath routes name several devices; they are left alone.
    public var isMultipath: Bool { words.contains("nexthop") }

    /// Arguments for `ip` that add this route, on `device` instead of the
    /// one it was on.
    public func addArguments(device newDevice: String? = nil) -> [String] {
        var words = self.words
        if let newDevice, let index = words.firstIndex(of: "dev"), index + 1 < words.count {
            words[index + 1] = newDevice
        }
        return ["-6", "route", "add"] + words
    }
}

/// What the kernel tells about one link (RTM_NEWLINK; what
/// `ip -o link show` prints).
public struct LinkState: Hashable, Sendable {
    public var name: String
    public var index: Int32
    public var macAddress: String
    public var mtu: Int
    /// The flags between angle brackets: UP, ALLMULTI, PROMISC, LOWER_UP, ...
    public var flags: Set<String>

    public var isUp: Bool { flags.contains("UP") }
    public var isAllMulticast: Bool { flags.contains("ALLMULTI") }

    /// IFF_* bits (linux/if.h) with the names `ip` prints for them.
    static let flagNames: [(bit: UInt32, name: String)] = [
        (0x1, "UP"), (0x2, "BROADCAST"), (0x8, "LOOPBACK"), (0x10, "POINTOPOINT"), (0x80, "NOARP"),
        (0x100, "PROMISC"), (0x200, "ALLMULTI"), (0x400, "MASTER"), (0x800, "SLAVE"), (0x1000, "MULTICAST"),
        (0x10000, "LOWER_UP"), (0x20000, "DORMANT"),
    ]
    static let runningBit: UInt32 = 0x40

    /// The link as RTM_GETLINK reported it; nil unless it is an Ethernet
    /// link (ARPHRD_ETHER with a 6-octet address).
    init?(name: String, _ facts: hl_link_facts) {
        guard facts.type == 1, facts.address_length == 6 else { return nil }
        self.name = name
        index = facts.ifindex
        mtu = Int(facts.mtu)
        macAddress = withUnsafeBytes(of: facts.address) { bytes in
            bytes.prefix(6).map { byte in
                let digits = String(byte, radix: 16)
                return byte < 16 ? "0" + digits : digits
            }.joined(separator: ":")
        }
        var flags = Set(Self.flagNames.filter { facts.flags & $0.bit != 0 }.map(\.name))
        // As `ip` shows it: an interface that is up without carrier.
        if facts.flags & 0x1 != 0, facts.flags & Self.runningBit == 0 { flags.insert("NO-CARRIER") }
        self.flags = flags
    }
}

extension String {
    func trimmingCharacters(in set: String) -> String {
        let characters = Set(set)
        var result = Substring(self)
        while let first = result.first, characters.contains(first) { result = result.dropFirst() }
        while let last = result.last, characters.contains(last) { result = result.dropLast() }
        return String(result)
    }
}

/// Reads and writes the host's interface configuration, in the calling
/// thread's network namespace: links and addresses are read over rtnetlink
/// (the slow path re-reads them on every change, so no process is spawned
/// for a look), routes through iproute2 (replayed word for word), settings
/// through /proc/sys.
public enum InterfaceConfiguration {
    static let ip = SystemCommand("ip")

    /// The link named `name`; nil when it is not an Ethernet link. Throws
    /// ENODEV (step `.linkQuery`) when there is no such link.
    public static func link(named name: String) throws(SyscallError) -> LinkState? {
        LinkState(name: name, try facts(ofLink: name))
    }

    /// Whether a link of this name exists (of any type).
    public static func linkExists(_ name: String) -> Bool {
        (try? facts(ofLink: name)) != nil
    }

    static func facts(ofLink name: String) throws(SyscallError) -> hl_link_facts {
        var facts = hl_link_facts()
        _ = try retryingInterrupts(.linkQuery) { hl_link_query(name, &facts) }
        return facts
    }

    /// Global-scope IPv6 addresses of `device`, in the order the kernel
    /// lists them (like `ip -6 addr show dev DEVICE scope global`).
    public static func globalAddresses(of device: String) throws(SyscallError) -> [InterfaceAddress] {
        let index = try facts(ofLink: device).ifindex
        var entries = [hl_address_facts](repeating: hl_address_facts(), count: 16)
        while true {
            let total = try retryingInterrupts(.addressQuery) {
                entries.withUnsafeMutableBufferPointer { hl_address_dump6(index, $0.baseAddress, $0.count) }
            }
            // Addresses added between a dump that overflowed and this one
            // make it overflow again; the room grows with the count.
            if total <= entries.count {
                return entries.prefix(Int(total)).filter { $0.scope == 0 }.map(InterfaceAddress.init)
            }
            entries = [hl_address_facts](repeating: hl_address_facts(), count: Int(total) + 16)
        }
    }

    /// Main-table IPv6 routes whose device is `device`.
    public static func routes(through device: String) throws(SystemCommand.Failure) -> [InterfaceRoute] {
        let output = try ip.check(["-6", "-o", "route", "show", "table", "main"])
        return output.split(separator: "\n").compactMap { InterfaceRoute(line: String($0)) }
            .filter { $0.device == device || ($0.isMultipath && $0.words.contains(device)) }
    }

    /// Reads /proc/sys/net/ipv6/conf/<device>/<key>.
    public static func ipv6Setting(_ key: String, of device: String) throws(SystemError) -> String {
        let path = "/proc/sys/net/ipv6/conf/\(device)/\(key)"
        let file = try FileDescriptor(openingForReading: path)
        var buffer = [UInt8](repeating: 0, count: 64)
        let outcome = buffer.withUnsafeMutableBytes { bytes in
            Result { () throws(SystemError) in try file.read(into: bytes) }
        }
        let count = try outcome.get()
        return String(decoding: buffer[0..<count], as: UTF8.self).trimmingCharacters(in: " \n")
    }

    /// Writes /proc/sys/net/ipv6/conf/<device>/<key>.
    public static func setIPv6Setting(_ key: String, of device: String, to value: String) throws(SystemError) {
        let path = "/proc/sys/net/ipv6/conf/\(device)/\(key)"
        let fd = open(path, O_WRONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SystemError("open", path, errno: errno) }
        defer { close(fd) }
        let bytes = Array((value + "\n").utf8)
        let written = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress, $0.count) }
        guard written == bytes.count else { throw SystemError("write", path, errno: written < 0 ? errno : EIO) }
    }
}
