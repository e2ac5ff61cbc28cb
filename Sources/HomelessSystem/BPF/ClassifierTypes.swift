import CHomeless

/// An IPv6 address as the classifier's maps key it: 16 bytes in network
/// order, given as two big-endian halves (the layout of HomelessWire's
/// IPv6Address, so the engine passes `address.high, address.low`).
public struct LocatorAddress: Hashable, Sendable {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    /// nil unless exactly 16 bytes are given.
    public init?<Bytes: Collection>(bytes: Bytes) where Bytes.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    func withNetworkBytes<R>(_ body: (UnsafePointer<UInt8>) -> R) -> R {
        withUnsafeBytes(of: (high.bigEndian, low.bigEndian)) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: UInt8.self))
        }
    }
}

/// The two locator maps the slow path fills.
public enum LocatorMap: Sendable {
    /// This host's locators (destinations the engine serves).
    case local
    /// Locators of Foreign Host Cache entries (sources that are the engine's).
    case foreign

    var shimValue: Int32 {
        switch self {
        case .local: Int32(HL_LOCATOR_MAP_LOCAL.rawValue)
        case .foreign: Int32(HL_LOCATOR_MAP_FOREIGN.rawValue)
        }
    }
}

/// The classifier's run-time configuration (map hl_config).
public struct ClassifierConfiguration: Hashable, Sendable {
    /// Next Header of the Anonymous Authentication handshake (default 253,
    /// the RFC 3692 experimentation value).
    public var handshakeNextHeader: UInt8
    /// Only frames to a local locator are the engine's (hosts: true;
    /// a gateway serving many hosts: false).
    public var requireLocalDestination: Bool
    /// RFC 6275 Mobility Header traffic (Next Header 135) is the engine's:
    /// the optional modern signalling profile. Off, a host's own Mobile IPv6
    /// stack keeps it.
    public var mobilityHeader: Bool

    public init(handshakeNextHeader: UInt8 = UInt8(HL_DEFAULT_HANDSHAKE_NEXT_HEADER),
                requireLocalDestination: Bool = false, mobilityHeader: Bool = false) {
        self.handshakeNextHeader = handshakeNextHeader
        self.requireLocalDestination = requireLocalDestination
        self.mobilityHeader = mobilityHeader
    }

    var kernelFlags: UInt32 {
        (requireLocalDestination ? UInt32(HL_CONFIG_REQUIRE_LOCAL_DESTINATION) : 0)
            | (mobilityHeader ? UInt32(HL_CONFIG_MOBILITY_HEADER) : 0)
    }

    init(handshakeNextHeader: UInt8, kernelFlags: UInt32) {
        self.init(handshakeNextHeader: handshakeNextHeader,
                  requireLocalDestination: kernelFlags & UInt32(HL_CONFIG_REQUIRE_LOCAL_DESTINATION) != 0,
                  mobilityHeader: kernelFlags & UInt32(HL_CONFIG_MOBILITY_HEADER) != 0)
    }
}
