/// Every code point the Mobile IPv6 codecs use, in one table.
///
/// The draft builds on draft-era Mobile IPv6 (draft-ietf-mobileip-ipv6-12),
/// whose destination option numbers were never final, and leaves its own
/// additions TBD (draft 3.1). Since then IANA gave 7 and 8 to CALIPSO and
/// SMF_DPD (WIRE.md section 1). Keeping them in one value lets a deployment
/// switch numbers without touching the codecs; parsers and emitters take a
/// table and default to `.draftEra`.
public struct MobileIPv6CodePoints: Hashable, Sendable {
    // Destination option types (type byte = act(2) chg(1) rest(5)).
    /// Binding Update (act 11: unknown -> discard + Parameter Problem). Alignment 4n+2.
    public var bindingUpdate: UInt8
    /// Binding Acknowledgement (act 00). Alignment 4n+3.
    public var bindingAcknowledgement: UInt8
    /// Binding Request (act 00). No alignment.
    public var bindingRequest: UInt8
    /// Home Address (act 11). Alignment 8n+6.
    public var homeAddress: UInt8

    // Sub-option types (inside BU/BA/BR).
    public var subOptionPad1: UInt8
    public var subOptionPadN: UInt8
    /// Unique Identifier, 2n.
    public var uniqueIdentifier: UInt8
    /// Alternate Care-of Address, 8n+6.
    public var alternateCareOfAddress: UInt8
    /// Homeless Support (ours, draft 3.1.1), 2n.
    public var homelessSupport: UInt8
    /// Alternate Prefixes (ours, draft 3.1.2), 4n+1.
    public var alternatePrefixes: UInt8

    // Next Header values.
    /// Destination Options header carrying the options (RFC 8200).
    public var destinationOptionsNextHeader: IPProtocol
    /// Authentication Header protecting Binding Updates (RFC 4302).
    public var authenticationNextHeader: IPProtocol
    /// RFC 6275 Mobility Header (modern profile, WIRE.md section 3).
    public var mobilityHeaderNextHeader: IPProtocol
    /// Anonymous Authentication messages (ours, WIRE.md section 4; RFC 3692 experimental value).
    public var anonymousAuthenticationNextHeader: IPProtocol

    // Binding Acknowledgement status values.
    /// Status values below this one mean "accepted".
    public var firstRejectionStatus: UInt8
    public var statusAccepted: UInt8
    public var statusUnspecified: UInt8
    public var statusAdministrativelyProhibited: UInt8
    public var statusInsufficientResources: UInt8
    public var statusHomeRegistrationNotSupported: UInt8
    public var statusNotHomeSubnet: UInt8
    public var statusIncorrectInterfaceIdentifierLength: UInt8
    public var statusNotHomeAgent: UInt8
    public var statusDuplicateAddressDetectionFailed: UInt8
    /// Ours: sequence number out of window; the BA carries the last accepted number.
    public var statusSequenceNumberOutOfWindow: UInt8

    /// The values of WIRE.md section 1 (draft-ietf-mobileip-ipv6-12 era plus
    /// this project's choices for the draft's TBDs).
    public static let draftEra = MobileIPv6CodePoints(
        bindingUpdate: 198, bindingAcknowledgement: 7, bindingRequest: 8, homeAddress: 201,
        subOptionPad1: 0, subOptionPadN: 1, uniqueIdentifier: 2, alternateCareOfAddress: 4,
        homelessSupport: 128, alternatePrefixes: 129,
        destinationOptionsNextHeader: .destinationOptions, authenticationNextHeader: .authentication,
        mobilityHeaderNextHeader: .mobility, anonymousAuthenticationNextHeader: IPProtocol(253),
        firstRejectionStatus: 128, statusAccepted: 0, statusUnspecified: 128, statusAdministrativelyProhibited: 130,
        statusInsufficientResources: 131, statusHomeRegistrationNotSupported: 132, statusNotHomeSubnet: 133,
        statusIncorrectInterfaceIdentifierLength: 136, statusNotHomeAgent: 137,
        statusDuplicateAddressDetectionFailed: 138, statusSequenceNumberOutOfWindow: 141)

    public init(bindingUpdate: UInt8, bindingAcknowledgement: UInt8, bindingRequest: UInt8, homeAddress: UInt8,
                subOptionPad1: UInt8, subOptionPadN: UInt8, uniqueIdentifier: UInt8, alternateCareOfAddress: UInt8,
                homelessSupport: UInt8, alternatePrefixes: UInt8,
                destinationOptionsNextHeader: IPProtocol, authenticationNextHeader: IPProtocol,
                mobilityHeaderNextHeader: IPProtocol, anonymousAuthenticationNextHeader: IPProtocol,
                firstRejectionStatus: UInt8, statusAccepted: UInt8, statusUnspecified: UInt8,
                statusAdministrativelyProhibited: UInt8, statusInsufficientResources: UInt8,
                statusHomeRegistrationNotSupported: UInt8, statusNotHomeSubnet: UInt8,
                statusIncorrectInterfaceIdentifierLength: UInt8, statusNotHomeAgent: UInt8,
                statusDuplicateAddressDetectionFailed: UInt8, statusSequenceNumberOutOfWindow: UInt8) {
        self.bindingUpdate = bindingUpdate
        self.bindingAcknowledgement = bindingAcknowledgement
        self.bindingRequest = bindingRequest
        self.homeAddress = homeAddress
        self.subOptionPad1 = subOptionPad1
        self.subOptionPadN = subOptionPadN
        self.uniqueIdentifier = uniqueIdentifier
        self.alternateCareOfAddress = alternateCareOfAddress
        self.homelessSupport = homelessSupport
        self.alternatePrefixes = alternatePrefixes
        self.destinationOptionsNextHeader = destinationOptionsNextHeader
        self.authenticationNextHeader = authenticationNextHeader
        self.mobilityHeaderNextHeader = mobilityHeaderNextHeader
        self.anonymousAuthenticationNextHeader = anonymousAuthenticationNextHeader
        self.firstRejectionStatus = firstRejectionStatus
        self.statusAccepted = statusAccepted
        self.statusUnspecified = statusUnspecified
        self.statusAdministrativelyProhibited = statusAdministrativelyProhibited
        self.statusInsufficientResources = statusInsufficientResources
        self.statusHomeRegistrationNotSupported = statusHomeRegistrationNotSupported
        self.statusNotHomeSubnet = statusNotHomeSubnet
        self.statusIncorrectInterfaceIdentifierLength = statusIncorrectInterfaceIdentifierLength
        self.statusNotHomeAgent = statusNotHomeAgent
        self.statusDuplicateAddressDetectionFailed = statusDuplicateAddressDetectionFailed
        self.statusSequenceNumberOutOfWindow = statusSequenceNumberOutOfWindow
    }

    /// Which Mobile IPv6 destination option `type` is under this table.
    @inlinable
    public func optionKind(_ type: UInt8) -> MobilityOptionKind? {
        if type == bindingUpdate { return .bindingUpdate }
        if type == bindingAcknowledgement { return .bindingAcknowledgement }
        if type == bindingRequest { return .bindingRequest }
        if type == homeAddress { return .homeAddress }
        return nil
    }

    /// The option type for `kind`.
    @inlinable
    public func optionType(_ kind: MobilityOptionKind) -> UInt8 {
        switch kind {
        case .bindingUpdate: return bindingUpdate
        case .bindingAcknowledgement: return bindingAcknowledgement
        case .bindingRequest: return bindingRequest
        case .homeAddress: return homeAddress
        }
    }

    /// True when a BA status means the binding was accepted (status < 128).
    @inlinable
    public func isAccepted(status: UInt8) -> Bool { status < firstRejectionStatus }
}

/// The draft-era Mobile IPv6 destination options.
public enum MobilityOptionKind: UInt8, Hashable, Sendable, CaseIterable {
    case bindingUpdate, bindingAcknowledgement, bindingRequest, homeAddress
}

/// An `xn+y` alignment requirement (RFC 8200 4.2): the type byte of an
/// option or sub-option must sit `y` bytes past a multiple of `x` counted
/// from the start of the enclosing Destination Options header.
public struct OptionAlignment: Hashable, Sendable, CustomStringConvertible {
    public var multiple: Int
    public var remainder: Int

    @inlinable
    public init(_ multiple: Int, _ remainder: Int) {
        self.multiple = max(1, multiple)
        self.remainder = remainder % max(1, multiple)
    }

    public static let none = OptionAlignment(1, 0)

    /// True when `position` (relative to the header start) satisfies it.
    @inlinable
    public func isSatisfied(at position: Int) -> Bool { position % multiple == remainder }

    /// Bytes of padding needed before an option placed at `position`.
    @inlinable
    public func padding(before position: Int) -> Int {
        ((remainder - position % multiple) % multiple + multiple) % multiple
    }

    public var description: String { "\(multiple)n+\(remainder)" }
}

extension MobilityOptionKind {
    /// Alignment of each option (WIRE.md section 1).
    @inlinable
    public var alignment: OptionAlignment {
        switch self {
        case .bindingUpdate: return OptionAlignment(4, 2)
        case .bindingAcknowledgement: return OptionAlignment(4, 3)
        case .bindingRequest: return .none
        case .homeAddress: return OptionAlignment(8, 6)
        }
    }

    /// Opt Data Len of the fixed fields, before any sub-options.
    @inlinable
    public var fixedDataLength: Int {
        switch self {
        case .bindingUpdate: return 8
        case .bindingAcknowledgement: return 11
        case .bindingRequest: return 0
        case .homeAddress: return 16
        }
    }
}
