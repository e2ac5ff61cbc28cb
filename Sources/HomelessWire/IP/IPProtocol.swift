/// An IPv6 Next Header / IP protocol number (IANA "Assigned Internet
/// Protocol Numbers").
///
/// A struct rather than an enum so that every one of the 256 values decodes:
/// unknown numbers are carried as they are and the chain walker treats them
/// as an upper-layer protocol it does not look into.
public struct IPProtocol: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt8

    @inlinable
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    @inlinable
    public init(_ rawValue: UInt8) { self.rawValue = rawValue }

    /// IPv6 Hop-by-Hop Options (RFC 8200 4.3).
    public static let hopByHop = IPProtocol(0)
    public static let tcp = IPProtocol(6)
    public static let udp = IPProtocol(17)
    /// IPv6 encapsulated in IPv6 (RFC 2473).
    public static let ipv6 = IPProtocol(41)
    /// Routing header (RFC 8200 4.4).
    public static let routing = IPProtocol(43)
    /// Fragment header (RFC 8200 4.5).
    public static let fragment = IPProtocol(44)
    /// Encapsulating Security Payload (RFC 4303).
    public static let encapsulatingSecurityPayload = IPProtocol(50)
    /// Authentication Header (RFC 4302).
    public static let authentication = IPProtocol(51)
    public static let icmpv6 = IPProtocol(58)
    /// No Next Header (RFC 8200 4.7).
    public static let noNextHeader = IPProtocol(59)
    /// Destination Options (RFC 8200 4.6).
    public static let destinationOptions = IPProtocol(60)
    /// RFC 6275 Mobility Header.
    public static let mobility = IPProtocol(135)

    public var description: String {
        switch self {
        case .hopByHop: return "hop-by-hop"
        case .tcp: return "tcp"
        case .udp: return "udp"
        case .ipv6: return "ipv6"
        case .routing: return "routing"
        case .fragment: return "fragment"
        case .encapsulatingSecurityPayload: return "esp"
        case .authentication: return "ah"
        case .icmpv6: return "icmpv6"
        case .noNextHeader: return "no-next-header"
        case .destinationOptions: return "destination-options"
        case .mobility: return "mobility"
        default: return "protocol-\(rawValue)"
        }
    }
}
