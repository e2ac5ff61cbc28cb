#if canImport(Glibc)
import Glibc
#endif

/// One IPv6 address of an interface as `ip -6 -o addr show` reports it,
/// with what is needed to add it again exactly (`ip -6 addr add`).
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

    static let replayableFlags: Set<String> = ["nodad", "noprefixroute", "home", "mngtmpaddr", "optimistic", "autojoin"]

    /// Arguments for `ip` that add this address to `device`.
    public func addArguments(device: String) -> [String] {
        var arguments = ["-6", "addr", "add", prefix, "dev", device]
        arguments += flags
        if validLifetime != "forever" || preferredLifetime != "forever" {
            arguments += ["valid_lft", validLifetime, "preferred_lft", preferredLifetime]
        }
        return arguments
    }

    /// Parses one line of `ip -6 -o addr show`.
    public init?(line: String) {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\\" }).map(String.init)
        guard let inet = words.firstIndex(of: "inet6"), inet + 1 < words.count else { return nil }
        prefix = words[inet + 1]
        var flags: [String] = []
        var valid = "forever"
        var preferred = "forever"
        var generated = false
        var index = inet + 2
        while index < words.count {
            let word = words[index]
            switch word {
            case "scope", "peer", "brd", "metric", "proto":
                index += 1
            case "valid_lft" where index + 1 < words.count:
                valid = Self.seconds(words[index + 1])
                index += 1
            case "preferred_lft" where index + 1 < words.count:
                preferred = Self.seconds(words[index + 1])
                index += 1
            case "temporary", "dynamic":
                generated = true
            default:
                if Self.replayableFlags.contains(word) { flags.append(word) }
            }
            index += 1
        }
        self.flags = flags
        validLifetime = valid
        preferredLifetime = preferred
        isKernelGenerated = generated
    }

    /// `1234sec` as printed, `1234` as `ip` takes it.
    static func seconds(_ word: String) -> String {
        word.hasSuffix("sec") ? String(word.dropLast(3)) : word
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
            words[expires + 1] = InterfaceAddress.seconds(words[expires + 1])
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

/// What `ip -o link show` tells about one link.
public struct LinkState: Hashable, Sendable {
    public var name: String
    public var index: Int32
    public var macAddress: String
    public var mtu: Int
    /// The flags between angle brackets: UP, ALLMULTI, PROMISC, LOWER_UP, ...
    public var flags: Set<String>

    public var isUp: Bool { flags.contains("UP") }
    public var isAllMulticast: Bool { flags.contains("ALLMULTI") }

    /// Parses one line of `ip -o link show`; nil unless it is an Ethernet link.
    public init?(line: String) {
        let words = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\\" }).map(String.init)
        guard words.count > 2, let index = Int32(words[0].dropLast()) else { return nil }
        var name = words[1].hasSuffix(":") ? String(words[1].dropLast()) : words[1]
        if let at = name.firstIndex(of: "@") { name = String(name[..<at]) }
        self.name = name
        self.index = index
        let bracketed = words[2].trimmingCharacters(in: "<>")
        flags = Set(bracketed.split(separator: ",").map(String.init))
        guard let mtuIndex = words.firstIndex(of: "mtu"), mtuIndex + 1 < words.count,
              let mtu = Int(words[mtuIndex + 1]) else { return nil }
        self.mtu = mtu
        guard let ether = words.firstIndex(of: "link/ether"), ether + 1 < words.count else { return nil }
        macAddress = words[ether + 1]
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

/// Reads and writes the host's interface configuration through iproute2
/// and /proc/sys, in the calling thread's network namespace.
public enum InterfaceConfiguration {
    static let ip = SystemCommand("ip")

    public static func link(named name: String) throws(SystemCommand.Failure) -> LinkState? {
        let output = try ip.check(["-o", "link", "show", "dev", name])
        return output.split(separator: "\n").lazy.compactMap { LinkState(line: String($0)) }.first
    }

    /// Whether a link of this name exists (of any type).
    public static func linkExists(_ name: String) -> Bool {
        ip.run(["-o", "link", "show", "dev", name]).succeeded
    }

    /// Global-scope IPv6 addresses of `device`, in the order the kernel
    /// lists them.
    public static func globalAddresses(of device: String) throws(SystemCommand.Failure) -> [InterfaceAddress] {
        let output = try ip.check(["-6", "-o", "addr", "show", "dev", device, "scope", "global"])
        return output.split(separator: "\n").compactMap { InterfaceAddress(line: String($0)) }
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
