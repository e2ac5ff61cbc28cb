/// A decoded sub-option of a draft-era Mobile IPv6 destination option
/// (MIPv6-12 5.5; Homeless additions in draft 3.1; WIRE.md section 1).
///
/// Pad1/PadN are not part of the value: emitters insert the minimal padding
/// each sub-option's alignment needs, and parsers check and skip it. Unknown
/// sub-option types decode to `.unknown` (they are skipped quietly per
/// MIPv6-12 5.5, but kept so a round trip preserves them).
public enum MobilitySubOption: Equatable, Hashable, Sendable {
    /// Unique Identifier (type 2, 2n): pairs a Binding Request with its Update.
    case uniqueIdentifier(UInt16)
    /// Alternate Care-of Address (type 4, 8n+6).
    case alternateCareOfAddress(IPv6Address)
    /// Homeless Support (type 128, ours; 2n): the sender runs Homeless MIPv6 (draft 3.1.1).
    case homelessSupport
    /// Alternate Prefixes (type 129, ours; 4n+1), draft 3.1.2 with the WIRE.md erratum.
    case alternatePrefixes(AlternatePrefixes)
    /// Any other type, with its data bytes as received.
    case unknown(type: UInt8, data: [UInt8])
}

/// Alternate Prefixes sub-option body (draft 3.1.2).
///
/// Wire: one byte `PL(2) | PrefixCount(6)`, then PrefixCount prefixes of
/// P bytes each, with **P = 4 * (PL + 1)** (WIRE.md erratum: the draft's
/// equation would give 4/16/64/256 bytes, contradicting its own table and
/// maxima of 63/31/21/15 prefixes; we follow the table).
public struct AlternatePrefixes: Equatable, Hashable, Sendable {
    /// The 2-bit PL field: prefixes are `4 * (prefixLengthCode + 1)` bytes.
    public var prefixLengthCode: UInt8
    /// Each prefix, exactly `prefixByteCount` bytes long.
    public var prefixes: [[UInt8]]

    public init(prefixLengthCode: UInt8, prefixes: [[UInt8]]) {
        self.prefixLengthCode = prefixLengthCode
        self.prefixes = prefixes
    }

    /// P = 4 * (PL + 1): 4, 8, 12 or 16 bytes.
    public var prefixByteCount: Int { 4 * (Int(prefixLengthCode & 0x3) + 1) }

    /// Combines prefix `index` with the low `16 - P` bytes of `suffixSource`
    /// (draft 3.1.2: the suffix comes from the nearest preceding Alternate
    /// Care-of Address sub-option, else the packet's source address).
    public func address(at index: Int, suffixFrom suffixSource: IPv6Address) -> IPv6Address {
        var bytes = suffixSource.bytes
        let prefix = prefixes[index]
        for position in 0..<min(prefix.count, 16) { bytes[position] = prefix[position] }
        return IPv6Address(bytes: bytes)!
    }
}

/// Binding Update flags (WIRE.md section 1).
public struct BindingUpdateFlags: OptionSet, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }
    /// A: acknowledgement requested.
    public static let acknowledge = BindingUpdateFlags(rawValue: 0x80)
    /// H: home registration.
    public static let homeRegistration = BindingUpdateFlags(rawValue: 0x40)
    /// R: sender is a router.
    public static let router = BindingUpdateFlags(rawValue: 0x20)
    /// D: duplicate address detection requested.
    public static let duplicateAddressDetection = BindingUpdateFlags(rawValue: 0x10)
}

/// A draft-era Binding Update destination option (type 198), decoded.
public struct BindingUpdate: Equatable, Hashable, Sendable {
    public var flags: BindingUpdateFlags
    /// Low 4 bits of the flags byte are reserved; kept for round trips.
    public var reservedBits: UInt8
    public var prefixLength: UInt8
    public var sequence: UInt16
    /// Seconds; 0 deletes, `BindingUpdate.infiniteLifetime` never expires.
    public var lifetime: UInt32
    public var subOptions: [MobilitySubOption]

    public static let infiniteLifetime: UInt32 = 0xFFFF_FFFF

    public init(flags: BindingUpdateFlags = [], reservedBits: UInt8 = 0, prefixLength: UInt8 = 0,
                sequence: UInt16, lifetime: UInt32, subOptions: [MobilitySubOption] = []) {
        self.flags = flags
        self.reservedBits = reservedBits
        self.prefixLength = prefixLength
        self.sequence = sequence
        self.lifetime = lifetime
        self.subOptions = subOptions
    }
}

/// A draft-era Binding Acknowledgement destination option (type 7), decoded.
public struct BindingAcknowledgement: Equatable, Hashable, Sendable {
    /// < 128 accepted; see `BindingAcknowledgement.Status`.
    public var status: UInt8
    public var sequence: UInt16
    public var lifetime: UInt32
    public var refresh: UInt32
    public var subOptions: [MobilitySubOption]

    public init(status: UInt8, sequence: UInt16, lifetime: UInt32, refresh: UInt32, subOptions: [MobilitySubOption] = []) {
        self.status = status
        self.sequence = sequence
        self.lifetime = lifetime
        self.refresh = refresh
        self.subOptions = subOptions
    }

    /// Status codes (WIRE.md section 1). Unknown values stay representable as raw UInt8.
    public enum Status: UInt8, Sendable {
        case accepted = 0
        case unspecified = 128
        case administrativelyProhibited = 130
        case insufficientResources = 131
        case homeRegistrationNotSupported = 132
        case notHomeSubnet = 133
        case incorrectInterfaceIdentifierLength = 136
        case notHomeAgent = 137
        case duplicateAddressDetectionFailed = 138
        /// Ours: sequence number out of window; carries the last accepted number.
        case sequenceNumberOutOfWindow = 141
    }
}

/// A draft-era Binding Request destination option (type 8), decoded.
public struct BindingRequest: Equatable, Hashable, Sendable {
    public var subOptions: [MobilitySubOption]
    public init(subOptions: [MobilitySubOption] = []) { self.subOptions = subOptions }
}

/// Sequence number arithmetic modulo 2^16 (WIRE.md section 1, MIPv6-12 5.1).
public enum SequenceNumber {
    /// True when `a` is newer than `b` in modulo-2^16 order.
    @inlinable
    public static func isNewer(_ a: UInt16, than b: UInt16) -> Bool {
        Int16(truncatingIfNeeded: a &- b) > 0
    }
}
