public import HomelessWire

/// An address prefix with an optional port, the selector of a policy
/// (RFC 4301 4.4.1.1, as `setkey(8)` writes it: `address/prefixlen[port]`).
public struct PolicyAddressRange: Equatable, Sendable, CustomStringConvertible {
    public var address: IPv6Address
    public var prefixLength: Int
    /// nil matches any port.
    public var port: UInt16?

    public init(address: IPv6Address, prefixLength: Int = 128, port: UInt16? = nil) {
        self.address = address
        self.prefixLength = max(0, min(128, prefixLength))
        self.port = port
    }

    public func contains(_ candidate: IPv6Address) -> Bool {
        let high = Self.mask(bits: min(prefixLength, 64))
        let low = Self.mask(bits: max(prefixLength - 64, 0))
        return (candidate.high ^ address.high) & high == 0 && (candidate.low ^ address.low) & low == 0
    }

    public func matches(_ candidate: IPv6Address, port candidatePort: UInt16?) -> Bool {
        guard contains(candidate) else { return false }
        guard let port else { return true }
        return candidatePort == port
    }

    static func mask(bits: Int) -> UInt64 {
        bits == 0 ? 0 : ~UInt64(0) << UInt64(64 - bits)
    }

    public var description: String {
        "\(address)/\(prefixLength)" + (port.map { "[\($0)]" } ?? "")
    }
}

/// What a policy does with matching traffic (RFC 4301 4.4.1: PROTECT, BYPASS, DISCARD).
public enum PolicyAction: Equatable, Sendable {
    /// `discard`: drop.
    case discard
    /// `none`: pass without AH.
    case bypass
    /// `ipsec ah/transport//LEVEL`: AH required; with `use`, a missing SA
    /// lets the packet through unprotected (outbound) or without AH (inbound).
    case protect(ProtectionLevel)
}

/// The `setkey(8)` request levels.
public enum ProtectionLevel: Equatable, Sendable {
    case require
    case use
    /// `unique[:id]`: require, with an SA bound to the policy (by request id).
    case unique(requestID: UInt32?)
    /// `default`: the system default, taken here as `require`.
    case `default`

    public var isRequired: Bool {
        if case .use = self { return false }
        return true
    }
}

/// One Security Policy Database entry (RFC 4301 4.4.1) from `spdadd`.
public struct SecurityPolicy: Equatable, Sendable {
    public var direction: SecurityAssociationDirection
    public var source: PolicyAddressRange
    public var destination: PolicyAddressRange
    /// Upper-layer protocol; nil matches any.
    public var upperLayerProtocol: UInt8?
    public var action: PolicyAction
    /// Line of the `spdadd` statement.
    public var line: Int

    public init(direction: SecurityAssociationDirection, source: PolicyAddressRange, destination: PolicyAddressRange,
                upperLayerProtocol: UInt8?, action: PolicyAction, line: Int) {
        self.direction = direction
        self.source = source
        self.destination = destination
        self.upperLayerProtocol = upperLayerProtocol
        self.action = action
        self.line = line
    }

    public func matches(source candidateSource: IPv6Address, destination candidateDestination: IPv6Address,
                        upperLayerProtocol candidateProtocol: UInt8, sourcePort: UInt16? = nil,
                        destinationPort: UInt16? = nil) -> Bool {
        if let upperLayerProtocol, upperLayerProtocol != candidateProtocol { return false }
        return source.matches(candidateSource, port: sourcePort)
            && destination.matches(candidateDestination, port: destinationPort)
    }
}

extension Array where Element == SecurityPolicy {
    /// The first policy of `direction` that matches, in file order.
    public func firstMatch(direction: SecurityAssociationDirection, source: IPv6Address, destination: IPv6Address,
                           upperLayerProtocol: UInt8, sourcePort: UInt16? = nil,
                           destinationPort: UInt16? = nil) -> SecurityPolicy? {
        first {
            $0.direction == direction
                && $0.matches(source: source, destination: destination, upperLayerProtocol: upperLayerProtocol,
                              sourcePort: sourcePort, destinationPort: destinationPort)
        }
    }
}
