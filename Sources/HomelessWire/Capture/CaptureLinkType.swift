/// The link-layer header type of captured packets (the tcpdump.org
/// LINKTYPE_ registry, also used by pcapng Interface Description Blocks).
///
/// Any 16-bit value decodes; the named constants are the ones the packet
/// dissector knows how to strip to reach the IPv6 header.
public struct CaptureLinkType: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt32

    public init(rawValue: UInt32) { self.rawValue = rawValue }

    /// LINKTYPE_NULL: BSD loopback, a 4-byte address family in the writer's byte order.
    public static let null = CaptureLinkType(rawValue: 0)
    /// LINKTYPE_ETHERNET: IEEE 802.3 / Ethernet II frames without FCS.
    public static let ethernet = CaptureLinkType(rawValue: 1)
    /// DLT_RAW as some BSDs numbered it: a raw IP packet.
    public static let bsdRaw12 = CaptureLinkType(rawValue: 12)
    /// DLT_RAW as OpenBSD numbered it: a raw IP packet.
    public static let bsdRaw14 = CaptureLinkType(rawValue: 14)
    /// LINKTYPE_RAW: a raw IPv4 or IPv6 packet, version from the first nibble.
    public static let raw = CaptureLinkType(rawValue: 101)
    /// LINKTYPE_LINUX_SLL: Linux "cooked" capture header, version 1 (16 bytes).
    public static let linuxCooked = CaptureLinkType(rawValue: 113)
    /// LINKTYPE_IPV6: a raw IPv6 packet.
    public static let ipv6 = CaptureLinkType(rawValue: 229)
    /// LINKTYPE_LINUX_SLL2: Linux "cooked" capture header, version 2 (20 bytes).
    public static let linuxCooked2 = CaptureLinkType(rawValue: 276)

    /// True for the link types whose packets start directly with the IP header.
    public var isRawIP: Bool {
        self == .raw || self == .ipv6 || self == .bsdRaw12 || self == .bsdRaw14
    }

    /// A short stable name: "ethernet", "raw", "null", "linux-sll",
    /// "linux-sll2", or "linktype-N" for anything else.
    public var description: String {
        switch self {
        case .ethernet: return "ethernet"
        case .raw, .ipv6, .bsdRaw12, .bsdRaw14: return "raw"
        case .null: return "null"
        case .linuxCooked: return "linux-sll"
        case .linuxCooked2: return "linux-sll2"
        default: return "linktype-\(rawValue)"
        }
    }
}
