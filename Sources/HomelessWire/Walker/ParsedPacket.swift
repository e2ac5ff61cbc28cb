/// A fixed-size summary of one frame for the fast path: where each piece
/// is, without allocating (every field is a trivial value; `Optional<Int>`
/// needs no heap).
///
/// ```swift
/// let packet = try bytes.withUnsafeBytes { try ParsedPacket.parse($0) }
/// if let bu = packet.mobilityOptions.bindingUpdate { ... }
/// ```
/// All offsets are absolute in the parsed buffer. The values of the
/// addresses are copied out; everything else is located by offset so the
/// caller can build views (`BindingUpdateOptionView`, `AuthenticationHeaderView`,
/// ...) on the same buffer without re-checking the walk.
public struct ParsedPacket: Hashable, Sendable {
    /// 0 for raw IPv6, 14 or 18 for Ethernet.
    public var linkHeaderLength = 0
    public var ethernetDestination: EthernetAddress?
    public var ethernetSource: EthernetAddress?
    public var vlanTag: VLANTag?

    /// Offset of the IPv6 header (== linkHeaderLength).
    public var ipv6Offset = 0
    public var source = IPv6Address.unspecified
    public var destination = IPv6Address.unspecified
    public var trafficClass: UInt8 = 0
    public var flowLabel: UInt32 = 0
    public var hopLimit: UInt8 = 0
    /// IPv6 Payload Length.
    public var payloadLength = 0
    /// One past the last IPv6 payload byte; bytes after it (Ethernet padding) are not part of the packet.
    public var packetEnd = 0

    /// Extension headers (Hop-by-Hop, Routing, Fragment, Destination Options, AH).
    public var extensionHeaderCount = 0
    public var hopByHopOffset: Int?
    public var routingHeaderOffset: Int?
    public var fragmentHeaderOffset: Int?
    /// True when the Fragment header has a non-zero offset: no upper-layer header follows.
    public var isNonInitialFragment = false
    /// True when a non-atomic Fragment header is present (first or later
    /// fragment): upper-layer lengths and checksums cover the reassembled packet.
    public var isFragment = false
    /// First Destination Options header (before or after Routing / AH).
    public var destinationOptionsOffset: Int?
    public var destinationOptionsCount = 0
    public var authenticationHeaderOffset: Int?
    public var encapsulatingSecurityPayloadOffset: Int?
    /// Final destination from a Routing header with segments left (pseudo-header destination).
    public var routingFinalDestination: IPv6Address?

    /// Mobile IPv6 destination options (and the header carrying them).
    /// `headerOffset` is the header of the first Mobile IPv6 option; each
    /// kind's first option and its own header are recorded too.
    public var mobilityOptions = MobilityOptionOffsets()
    /// The home address from the first Home Address option, if any.
    public var homeAddress: IPv6Address?
    public var unrecognizedOptionCount = 0
    /// First unrecognized option whose action bits say not to skip it.
    public var firstActionableOption: UnrecognizedOption?

    /// Protocol of the last Next Header in the chain (59 for No Next Header,
    /// 50 for ESP, the upper-layer protocol otherwise).
    public var upperLayerProtocol = IPProtocol.noNextHeader
    /// Offset of the upper-layer header (ICMPv6, UDP, TCP or unknown
    /// payload); nil for ESP, No Next Header and non-first fragments.
    public var upperLayerOffset: Int?
    /// Upper-layer header length (ICMPv6 4, UDP 8, TCP data offset * 4; 0 when unknown).
    public var upperLayerHeaderLength = 0

    public init() {}

    /// Bytes from the upper-layer header to the end of the packet.
    @inlinable public var upperLayerLength: Int { upperLayerOffset.map { packetEnd - $0 } ?? 0 }

    /// The destination for the upper-layer pseudo-header (RFC 8200 8.1):
    /// the final address of a Routing header with segments left.
    @inlinable public var pseudoHeaderDestination: IPv6Address { routingFinalDestination ?? destination }

    /// The source for the upper-layer pseudo-header as the receiving upper
    /// layer sees it: the home address when a Home Address option is present
    /// (the receiver substitutes it for the care-of source; MIPv6-12 / RFC
    /// 6275 6.3), else the IPv6 source.
    @inlinable public var pseudoHeaderSource: IPv6Address { homeAddress ?? source }

    /// Walks the whole frame (see `PacketWalker`) and summarizes it.
    /// Allocates nothing.
    public static func parse(_ bytes: UnsafeRawBufferPointer,
                             configuration: PacketWalkerConfiguration = PacketWalkerConfiguration()) throws(WireError) -> ParsedPacket {
        var packet = ParsedPacket()
        var walker = PacketWalker(bytes, configuration: configuration)
        while let header = try walker.next() {
            switch header.kind {
            case .ethernet:
                packet.linkHeaderLength = header.length
                if let frame = walker.ethernet {
                    packet.ethernetDestination = frame.destination
                    packet.ethernetSource = frame.source
                    packet.vlanTag = frame.vlanTag
                }
            case .ipv6:
                packet.ipv6Offset = header.offset
                if let ipv6 = walker.ipv6 {
                    packet.source = ipv6.source
                    packet.destination = ipv6.destination
                    packet.trafficClass = ipv6.trafficClass
                    packet.flowLabel = ipv6.flowLabel
                    packet.hopLimit = ipv6.hopLimit
                    packet.payloadLength = ipv6.payloadLength
                    packet.packetEnd = ipv6.payloadEnd
                    packet.upperLayerProtocol = ipv6.nextHeader
                }
            case .hopByHop:
                packet.hopByHopOffset = header.offset
            case .routing:
                if packet.routingHeaderOffset == nil { packet.routingHeaderOffset = header.offset }
            case .fragment:
                if packet.fragmentHeaderOffset == nil { packet.fragmentHeaderOffset = header.offset }
            case .destinationOptions:
                if packet.destinationOptionsOffset == nil { packet.destinationOptionsOffset = header.offset }
                packet.destinationOptionsCount += 1
            case .authentication:
                if packet.authenticationHeaderOffset == nil { packet.authenticationHeaderOffset = header.offset }
            case .encapsulatingSecurityPayload:
                packet.encapsulatingSecurityPayloadOffset = header.offset
            case .noNextHeader:
                break
            case .icmpv6, .udp, .tcp:
                packet.upperLayerOffset = header.offset
                packet.upperLayerHeaderLength = header.length
            case .payload:
                if !walker.isNonInitialFragment { packet.upperLayerOffset = header.offset }
            }
            if let next = header.nextHeader, header.kind != .ethernet { packet.upperLayerProtocol = next }
        }
        packet.extensionHeaderCount = walker.extensionHeaderCount
        packet.isNonInitialFragment = walker.isNonInitialFragment
        packet.isFragment = walker.isFragment
        packet.routingFinalDestination = walker.routingFinalDestination
        packet.mobilityOptions = walker.mobilityOptions
        packet.unrecognizedOptionCount = walker.unrecognizedOptionCount
        packet.firstActionableOption = walker.firstActionableOption
        if let homeAddressOffset = walker.mobilityOptions.homeAddress {
            packet.homeAddress = IPv6Address(bytes: bytes, at: homeAddressOffset + 2)
        }
        return packet
    }
}
