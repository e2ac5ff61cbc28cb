// The header-by-header frame walker and its configuration and records.

/// What precedes the IPv6 header in the buffer.
public enum LinkLayer: Sendable, Hashable {
    /// Ethernet II, optionally with one 802.1Q tag.
    case ethernet
    /// The buffer starts with the IPv6 header (pcap LINKTYPE_RAW / IPV6, tun).
    case rawIPv6
}

/// Walker settings. The defaults are strict.
public struct PacketWalkerConfiguration: Sendable, Hashable {
    public var linkLayer: LinkLayer
    /// Extension headers (Hop-by-Hop, Routing, Fragment, Destination
    /// Options, AH) allowed before `.chainTooLong`.
    public var maximumExtensionHeaders: Int
    /// Enforce RFC 4942 2.1.9.5 padding rules (see `OptionWalker`).
    public var checksPadding: Bool
    /// Enforce the xn+y alignment of Mobile IPv6 options and sub-options.
    public var checksAlignment: Bool
    /// Code points of the Mobile IPv6 destination options.
    public var codePoints: MobileIPv6CodePoints

    public init(linkLayer: LinkLayer = .ethernet, maximumExtensionHeaders: Int = 8, checksPadding: Bool = true,
                checksAlignment: Bool = true, codePoints: MobileIPv6CodePoints = .draftEra) {
        self.linkLayer = linkLayer
        self.maximumExtensionHeaders = maximumExtensionHeaders
        self.checksPadding = checksPadding
        self.checksAlignment = checksAlignment
        self.codePoints = codePoints
    }
}

/// The kinds of header the walker returns, in the order they can occur.
public enum HeaderKind: UInt8, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case ethernet
    case ipv6
    case hopByHop
    case routing
    case fragment
    case destinationOptions
    case authentication
    /// ESP: opaque, ends the walk; `length` runs to the end of the IPv6 payload.
    case encapsulatingSecurityPayload
    /// Next Header 59: ends the walk; `length` covers any bytes that follow (ignored).
    case noNextHeader
    case icmpv6
    case udp
    case tcp
    /// Anything the walker does not look into: an unknown upper-layer
    /// protocol, or the data of a non-first fragment. Ends the walk.
    case payload

    /// True for the IPv6 extension headers counted against the chain limit.
    @inlinable public var isExtensionHeader: Bool {
        switch self {
        case .hopByHop, .routing, .fragment, .destinationOptions, .authentication: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .ethernet: return "ethernet"
        case .ipv6: return "ipv6"
        case .hopByHop: return "hop-by-hop"
        case .routing: return "routing"
        case .fragment: return "fragment"
        case .destinationOptions: return "destination-options"
        case .authentication: return "ah"
        case .encapsulatingSecurityPayload: return "esp"
        case .noNextHeader: return "no-next-header"
        case .icmpv6: return "icmpv6"
        case .udp: return "udp"
        case .tcp: return "tcp"
        case .payload: return "payload"
        }
    }
}

/// One header found by `PacketWalker`.
public struct HeaderRecord: Hashable, Sendable {
    public var kind: HeaderKind
    /// Absolute offset of the header's first byte.
    public var offset: Int
    /// Header length in bytes. For upper-layer headers (ICMPv6, UDP, TCP)
    /// the header only (ICMPv6: 4, UDP: 8, TCP: data offset * 4); for
    /// `.encapsulatingSecurityPayload`, `.noNextHeader` and `.payload` all
    /// bytes up to the end of the IPv6 payload.
    public var length: Int
    /// The Next Header value that announced this header (nil for `.ethernet`
    /// and for `.ipv6`).
    public var protocolNumber: IPProtocol?
    /// This header's own Next Header field (IPv6 and extension headers); nil otherwise.
    public var nextHeader: IPProtocol?

    @inlinable
    public init(kind: HeaderKind, offset: Int, length: Int, protocolNumber: IPProtocol?, nextHeader: IPProtocol?) {
        self.kind = kind
        self.offset = offset
        self.length = length
        self.protocolNumber = protocolNumber
        self.nextHeader = nextHeader
    }

    @inlinable public var end: Int { offset + length }
    @inlinable public var range: Range<Int> { offset..<(offset + length) }
}

/// Where the Mobile IPv6 destination options of a packet are (absolute
/// offsets of the option type bytes). Only the first of each kind is kept.
public struct MobilityOptionOffsets: Hashable, Sendable {
    /// Offset of the Destination Options header that carried the first Mobile IPv6 option.
    public var headerOffset: Int?
    public var homeAddress: Int?
    public var bindingUpdate: Int?
    public var bindingAcknowledgement: Int?
    public var bindingRequest: Int?
    /// The Destination Options header holding each of the options above
    /// (alignment of an option counts from its own header's start).
    public var homeAddressHeader: Int?
    public var bindingUpdateHeader: Int?
    public var bindingAcknowledgementHeader: Int?
    public var bindingRequestHeader: Int?
    /// Mobile IPv6 options seen in all Destination Options headers.
    public var count: Int = 0

    public init() {}
}

/// The first option in a Hop-by-Hop or Destination Options header that the
/// walker did not recognize and whose action bits say not to skip it
/// (RFC 8200 4.2). Not an error: the caller decides (drop, or send ICMPv6
/// Parameter Problem code 2 with `optionOffset - ipv6Offset` as pointer).
public struct UnrecognizedOption: Hashable, Sendable {
    public var type: UInt8
    /// Absolute offset of the option type byte.
    public var optionOffset: Int
    /// Kind of header it was found in (`.hopByHop` or `.destinationOptions`).
    public var headerKind: HeaderKind
    @inlinable public var action: OptionAction { OptionAction(optionType: type) }
}

/// Walks a frame header by header without allocating: the entry point of
/// the fast path (through `ParsedPacket`) and of `homeless inspect`.
///
/// ```swift
/// try frame.withUnsafeBytes { bytes in
///     var walker = PacketWalker(bytes, configuration: .init(linkLayer: .ethernet))
///     while let header = try walker.next() {
///         // header.kind, header.offset, header.length, header.nextHeader
///     }
/// }
/// ```
///
/// Every header is checked before it is returned (lengths, chain rules,
/// option TLVs and padding, Mobile IPv6 option lengths/alignment and
/// sub-options), so a caller may build the matching view from a record
/// without a second check failing. The first problem ends the walk with a
/// `WireError` whose offset is absolute in the buffer. Offsets in records
/// are absolute too. The walker borrows the buffer: records and views are
/// valid only while the memory is.
public struct PacketWalker {
    /// Options the walker recognizes besides padding and the Mobile IPv6
    /// options of the configured code points: Router Alert in Hop-by-Hop
    /// (RFC 2711) and Tunnel Encapsulation Limit in Destination Options
    /// (RFC 2473 5.1). Every other option is reported as unrecognized.
    public static let routerAlertOption: UInt8 = 0x05
    public static let tunnelEncapsulationLimitOption: UInt8 = 0x04

    public let bytes: UnsafeRawBufferPointer
    public let configuration: PacketWalkerConfiguration

    /// The Ethernet header, once walked.
    public private(set) var ethernet: EthernetFrameView?
    /// The IPv6 header, once walked.
    public private(set) var ipv6: IPv6HeaderView?
    /// Extension headers walked so far.
    public private(set) var extensionHeaderCount = 0
    /// Mobile IPv6 options found so far.
    public private(set) var mobilityOptions = MobilityOptionOffsets()
    /// Options that were neither padding nor recognized (any action bits).
    public private(set) var unrecognizedOptionCount = 0
    /// The first unrecognized option whose action is not `.skip`.
    public private(set) var firstActionableOption: UnrecognizedOption?
    /// The final destination from a Routing header with addresses, for the
    /// upper-layer pseudo-header (RFC 8200 8.1).
    public private(set) var routingFinalDestination: IPv6Address?
    /// True once a Fragment header with a non-zero offset was walked.
    public private(set) var isNonInitialFragment = false
    /// True once a Fragment header that is not atomic (RFC 6946) was walked:
    /// upper-layer lengths then describe the reassembled packet.
    public private(set) var isFragment = false

    @usableFromInline
    enum State {
        case link
        case network(offset: Int)
        case chain(offset: Int, next: IPProtocol, nextHeaderFieldOffset: Int)
        case fragmentData(offset: Int, next: IPProtocol)
        case done
    }

    @usableFromInline var state: State

    public init(_ bytes: UnsafeRawBufferPointer, configuration: PacketWalkerConfiguration = PacketWalkerConfiguration()) {
        self.bytes = bytes
        self.configuration = configuration
        self.state = configuration.linkLayer == .ethernet ? .link : .network(offset: 0)
    }

    /// End of the IPv6 payload (walk limit) once the IPv6 header is known.
    @inlinable public var payloadEnd: Int { ipv6?.payloadEnd ?? bytes.count }

    /// The next header, or nil when the walk is over.
    public mutating func next() throws(WireError) -> HeaderRecord? {
        switch state {
        case .done:
            return nil
        case .link:
            let frame = try EthernetFrameView(checking: bytes, at: 0)
            guard frame.etherType == .ipv6 else {
                state = .done
                throw WireError(.unsupportedEtherType, at: frame.payloadOffset - 2)
            }
            ethernet = frame
            state = .network(offset: frame.payloadOffset)
            return HeaderRecord(kind: .ethernet, offset: 0, length: frame.headerLength, protocolNumber: nil, nextHeader: nil)
        case .network(let offset):
            state = .done
            let header = try IPv6HeaderView(checking: bytes, at: offset)
            ipv6 = header
            state = .chain(offset: header.payloadOffset, next: header.nextHeader,
                           nextHeaderFieldOffset: offset + IPv6HeaderView.Field.nextHeader)
            return HeaderRecord(kind: .ipv6, offset: offset, length: IPv6HeaderView.length,
                                protocolNumber: nil, nextHeader: header.nextHeader)
        case .fragmentData(let offset, let next):
            state = .done
            return HeaderRecord(kind: .payload, offset: offset, length: payloadEnd - offset, protocolNumber: next, nextHeader: nil)
        case .chain(let offset, let next, let nextHeaderFieldOffset):
            state = .done  // any throw below ends the walk
            return try walkChain(offset: offset, next: next, nextHeaderFieldOffset: nextHeaderFieldOffset)
        }
    }

    mutating func walkChain(offset: Int, next: IPProtocol, nextHeaderFieldOffset: Int) throws(WireError) -> HeaderRecord? {
        let limit = payloadEnd
        let kind: HeaderKind
        let length: Int
        var nextHeader: IPProtocol? = nil
        switch next {
        case .hopByHop, .destinationOptions, .routing, .fragment, .authentication:
            // RFC 8200 4.1: Hop-by-Hop only immediately after the IPv6 header.
            if next == .hopByHop && extensionHeaderCount != 0 {
                throw WireError(.hopByHopNotFirst, at: nextHeaderFieldOffset)
            }
            guard extensionHeaderCount < configuration.maximumExtensionHeaders else {
                throw WireError(.chainTooLong, at: offset)
            }
            switch next {
            case .hopByHop, .destinationOptions:
                kind = next == .hopByHop ? .hopByHop : .destinationOptions
                let view = try OptionsHeaderView(checking: bytes, at: offset, limit: limit)
                try walkOptions(view, kind: kind)
                length = view.length
                nextHeader = view.nextHeader
            case .routing:
                kind = .routing
                let view = try RoutingHeaderView(checking: bytes, at: offset, limit: limit)
                if view.segmentsLeft > 0, let final = view.finalDestination { routingFinalDestination = final }
                length = view.length
                nextHeader = view.nextHeader
            case .fragment:
                kind = .fragment
                let view = try FragmentHeaderView(checking: bytes, at: offset, limit: limit)
                length = FragmentHeaderView.length
                nextHeader = view.nextHeader
                if !view.isFirstFragment { isNonInitialFragment = true }
                if !view.isAtomic { isFragment = true }
            default:
                kind = .authentication
                let view = try AuthenticationHeaderView(checking: bytes, at: offset, limit: limit)
                length = view.length
                nextHeader = view.nextHeader
            }
            extensionHeaderCount += 1
            if let following = nextHeader {
                if isNonInitialFragment && kind == .fragment {
                    state = .fragmentData(offset: offset + length, next: following)
                } else {
                    state = .chain(offset: offset + length, next: following, nextHeaderFieldOffset: offset)
                }
            }
            return HeaderRecord(kind: kind, offset: offset, length: length, protocolNumber: next, nextHeader: nextHeader)
        case .encapsulatingSecurityPayload:
            _ = try EncapsulatingSecurityPayloadView(checking: bytes, at: offset, limit: limit)
            return HeaderRecord(kind: .encapsulatingSecurityPayload, offset: offset, length: limit - offset,
                                protocolNumber: next, nextHeader: nil)
        case .noNextHeader:
            return HeaderRecord(kind: .noNextHeader, offset: offset, length: max(0, limit - offset),
                                protocolNumber: next, nextHeader: nil)
        case .icmpv6:
            _ = try ICMPv6View(checking: bytes, at: offset, limit: limit)
            return HeaderRecord(kind: .icmpv6, offset: offset, length: ICMPv6View.headerLength, protocolNumber: next, nextHeader: nil)
        case .udp:
            _ = try UDPHeaderView(checking: bytes, at: offset, limit: limit, checksDatagramLength: !isFragment)
            return HeaderRecord(kind: .udp, offset: offset, length: UDPHeaderView.length, protocolNumber: next, nextHeader: nil)
        case .tcp:
            let view = try TCPHeaderView(checking: bytes, at: offset, limit: limit)
            return HeaderRecord(kind: .tcp, offset: offset, length: view.headerLength, protocolNumber: next, nextHeader: nil)
        default:
            return HeaderRecord(kind: .payload, offset: offset, length: max(0, limit - offset), protocolNumber: next, nextHeader: nil)
        }
    }

    /// Checks every option of a Hop-by-Hop / Destination Options header and
    /// notes Mobile IPv6 options and unrecognized ones.
    mutating func walkOptions(_ view: OptionsHeaderView, kind: HeaderKind) throws(WireError) {
        var options = view.options(checksPadding: configuration.checksPadding)
        let codePoints = configuration.codePoints
        let checksPadding = configuration.checksPadding
        let checksAlignment = configuration.checksAlignment
        while let option = try options.next() {
            if option.isPadding { continue }
            if kind == .destinationOptions, let mobility = codePoints.optionKind(option.type) {
                switch mobility {
                case .homeAddress:
                    _ = try HomeAddressOptionView(checking: bytes, record: option, headerOffset: view.offset,
                                                  checksAlignment: checksAlignment)
                    if mobilityOptions.homeAddress == nil {
                        mobilityOptions.homeAddress = option.offset
                        mobilityOptions.homeAddressHeader = view.offset
                    }
                case .bindingUpdate:
                    let bu = try BindingUpdateOptionView(checking: bytes, record: option, headerOffset: view.offset,
                                                         checksAlignment: checksAlignment)
                    var subOptions = bu.subOptions(codePoints: codePoints, checksPadding: checksPadding, checksAlignment: checksAlignment)
                    try subOptions.validate()
                    if mobilityOptions.bindingUpdate == nil {
                        mobilityOptions.bindingUpdate = option.offset
                        mobilityOptions.bindingUpdateHeader = view.offset
                    }
                case .bindingAcknowledgement:
                    let ba = try BindingAcknowledgementOptionView(checking: bytes, record: option, headerOffset: view.offset,
                                                                  checksAlignment: checksAlignment)
                    var subOptions = ba.subOptions(codePoints: codePoints, checksPadding: checksPadding, checksAlignment: checksAlignment)
                    try subOptions.validate()
                    if mobilityOptions.bindingAcknowledgement == nil {
                        mobilityOptions.bindingAcknowledgement = option.offset
                        mobilityOptions.bindingAcknowledgementHeader = view.offset
                    }
                case .bindingRequest:
                    let br = try BindingRequestOptionView(checking: bytes, record: option, headerOffset: view.offset,
                                                          checksAlignment: checksAlignment)
                    var subOptions = br.subOptions(codePoints: codePoints, checksPadding: checksPadding, checksAlignment: checksAlignment)
                    try subOptions.validate()
                    if mobilityOptions.bindingRequest == nil {
                        mobilityOptions.bindingRequest = option.offset
                        mobilityOptions.bindingRequestHeader = view.offset
                    }
                }
                if mobilityOptions.headerOffset == nil { mobilityOptions.headerOffset = view.offset }
                mobilityOptions.count += 1
                continue
            }
            let recognized = kind == .hopByHop ? option.type == Self.routerAlertOption
                : option.type == Self.tunnelEncapsulationLimitOption
            if recognized { continue }
            unrecognizedOptionCount += 1
            if firstActionableOption == nil && option.action != .skip {
                firstActionableOption = UnrecognizedOption(type: option.type, optionOffset: option.offset, headerKind: kind)
            }
        }
    }
}
