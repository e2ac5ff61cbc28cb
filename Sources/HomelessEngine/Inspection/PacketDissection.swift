public import HomelessSecurity
import HomelessWire

/// Everything `homeless inspect` decoded from one captured packet: the link
/// header, the IPv6 header, each extension header with its options and
/// sub-options, the upper-layer header, and the first wire error, if any.
///
/// Offsets are absolute: they count from the first byte of the captured
/// packet (the link-layer header when there is one), like the offsets of
/// `WireError`. When `error` is set, everything before it is still here;
/// the last header may be partial (it lists the options decoded before the
/// error).
public struct PacketDissection: Sendable {
    /// 1-based position in the capture.
    public var index: Int
    public var timestamp: CaptureTimestamp?
    /// Length on the wire.
    public var originalLength: Int
    /// Bytes present in the capture.
    public var capturedLength: Int
    public var linkType: CaptureLinkType
    /// pcapng interface ID (nil for classic pcap).
    public var interfaceID: Int?
    /// Present when the packet starts with an Ethernet header that decoded.
    public var ethernet: EthernetHeader?
    /// Present once the 40-byte IPv6 header decoded.
    public var ipv6: IPv6Header?
    /// Extension headers (and ESP), in packet order.
    public var headers: [DissectedHeader] = []
    /// The upper-layer header (TCP, UDP, ICMPv6, or an opaque payload).
    public var upper: DissectedUpperLayer?
    /// The first problem found, at its absolute offset; nil for a well-formed packet.
    public var error: DissectionError?
    /// Where the IPv6 header starts (after any link-layer header), when one was found.
    public var networkOffset: Int?
    /// The AH check of `homeless inspect --sa` (nil without `--sa`). Its
    /// offsets count from the IPv6 header; add `networkOffset` for absolute ones.
    public var ahVerification: AHVerification?

    public init(index: Int, timestamp: CaptureTimestamp?, originalLength: Int, capturedLength: Int,
                linkType: CaptureLinkType, interfaceID: Int?) {
        self.index = index
        self.timestamp = timestamp
        self.originalLength = originalLength
        self.capturedLength = capturedLength
        self.linkType = linkType
        self.interfaceID = interfaceID
    }
}

/// Why dissection stopped: a `WireError` reason (its stable raw value) or
/// `unsupported-link-type`, with the absolute offset.
public struct DissectionError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: String
    public var offset: Int

    public init(reason: String, offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public init(_ error: WireError) {
        self.init(reason: error.reason.rawValue, offset: error.offset)
    }

    public static let unsupportedLinkTypeReason = "unsupported-link-type"

    public var description: String { "\(reason) at offset \(offset)" }
}

/// One IPv6 extension header (or ESP) as decoded.
public struct DissectedHeader: Sendable {
    public var kind: HeaderKind
    /// The Next Header value that announced this header.
    public var protocolNumber: IPProtocol
    public var offset: Int
    /// Header length in bytes (for ESP: up to the end of the IPv6 payload).
    public var length: Int
    /// This header's own Next Header field (nil for ESP, whose is encrypted).
    public var nextHeader: IPProtocol?
    public var details: Details

    public enum Details: Sendable {
        /// Hop-by-Hop or Destination Options: every option, padding included.
        case options([DissectedOption])
        /// RFC 8200 4.4; the addresses of a Type 0 or Type 2 header.
        case routing(type: UInt8, segmentsLeft: UInt8, addresses: [IPv6Address])
        /// RFC 8200 4.5.
        case fragment(fragmentOffset: UInt16, moreFragments: Bool, identification: UInt32)
        /// RFC 4302 2: SPI, sequence number and the ICV with its padding.
        case authentication(spi: UInt32, sequence: UInt32, icv: [UInt8])
        /// RFC 4303 2: only SPI and sequence number are in clear.
        case encapsulatingSecurityPayload(spi: UInt32, sequence: UInt32)
    }

    public init(kind: HeaderKind, protocolNumber: IPProtocol, offset: Int, length: Int, nextHeader: IPProtocol?, details: Details) {
        self.kind = kind
        self.protocolNumber = protocolNumber
        self.offset = offset
        self.length = length
        self.nextHeader = nextHeader
        self.details = details
    }
}

/// One option of a Hop-by-Hop / Destination Options header, or one
/// sub-option of a Mobile IPv6 option; both are TLVs (RFC 8200 4.2,
/// MIPv6-12 5.5).
public struct DissectedOption: Sendable {
    public var type: UInt8
    /// A stable name ("binding-update", "pad1", ..., "unknown").
    public var name: String
    /// Absolute offset of the type byte.
    public var offset: Int
    /// The Opt Data Len field (0 for Pad1, which has none).
    public var dataLength: Int
    /// Decoded option data, in wire order.
    public var fields: [InspectionMember]
    /// Sub-options of a Binding Update, Acknowledgement or Request; nil for
    /// options that cannot carry any, and for sub-options themselves.
    public var subOptions: [DissectedOption]?

    public init(type: UInt8, name: String, offset: Int, dataLength: Int, fields: [InspectionMember] = [],
                subOptions: [DissectedOption]? = nil) {
        self.type = type
        self.name = name
        self.offset = offset
        self.dataLength = dataLength
        self.fields = fields
        self.subOptions = subOptions
    }

    /// The unrecognized-option action in the top two type bits (RFC 8200 4.2).
    public var action: OptionAction { OptionAction(optionType: type) }
    /// The chg bit: option data may change en route (RFC 8200 4.2).
    public var mayChangeEnRoute: Bool { type & 0x20 != 0 }
}

extension OptionAction {
    /// Stable names used by `homeless inspect`.
    public var inspectionName: String {
        switch self {
        case .skip: return "skip"
        case .discard: return "discard"
        case .discardAndSendParameterProblem: return "discard-icmp"
        case .discardAndSendParameterProblemUnlessMulticast: return "discard-icmp-unicast"
        }
    }
}

/// The upper-layer header that ended the extension header chain.
public struct DissectedUpperLayer: Sendable {
    public var kind: HeaderKind
    public var protocolNumber: IPProtocol
    public var offset: Int
    /// Header length (TCP, UDP, ICMPv6) or, for an opaque payload, bytes to the end of the IPv6 payload.
    public var length: Int
    /// Decoded header fields, in wire order.
    public var fields: [InspectionMember]

    public init(kind: HeaderKind, protocolNumber: IPProtocol, offset: Int, length: Int, fields: [InspectionMember]) {
        self.kind = kind
        self.protocolNumber = protocolNumber
        self.offset = offset
        self.length = length
        self.fields = fields
    }

    /// "tcp", "udp", "icmpv6", or the protocol's name for an opaque payload.
    public var protocolName: String {
        kind == .payload ? protocolNumber.description : kind.description
    }
}
