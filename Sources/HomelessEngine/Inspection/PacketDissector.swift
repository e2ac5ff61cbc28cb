import HomelessWire

/// Turns captured packets into `PacketDissection`s for `homeless inspect`.
///
/// The walk itself is `PacketWalker`'s, so inspect reports exactly the
/// errors the fast path would drop a packet for. On top of the walk the
/// dissector decodes every field for printing (slow path: it allocates) and,
/// when the walk stops, still decodes what it can of the header that failed:
/// the Ethernet header of a non-IPv6 frame, the IPv6 header of a packet whose
/// payload length overruns, and the options that preceded a broken one.
public struct PacketDissector: Sendable {
    /// Walker settings; `linkLayer` is chosen per packet from its link type.
    public var configuration: PacketWalkerConfiguration

    public init(configuration: PacketWalkerConfiguration = PacketWalkerConfiguration()) {
        self.configuration = configuration
    }

    /// Dissects `packet`, the `index`-th (1-based) of its capture.
    public func dissect(_ packet: CapturedPacket, index: Int) -> PacketDissection {
        var dissection = PacketDissection(index: index, timestamp: packet.timestamp, originalLength: packet.originalLength,
                                          capturedLength: packet.capturedLength, linkType: packet.linkType,
                                          interfaceID: packet.interfaceID)
        packet.data.withUnsafeBytes { bytes in
            dissect(bytes, linkType: packet.linkType, isCut: packet.capturedLength < packet.originalLength, into: &dissection)
        }
        return dissection
    }

    /// Dissects a frame that was not read from a capture file.
    public func dissect(frame bytes: UnsafeRawBufferPointer, linkType: CaptureLinkType, index: Int = 1) -> PacketDissection {
        var dissection = PacketDissection(index: index, timestamp: nil, originalLength: bytes.count,
                                          capturedLength: bytes.count, linkType: linkType, interfaceID: nil)
        dissect(bytes, linkType: linkType, isCut: false, into: &dissection)
        return dissection
    }

    private func dissect(_ bytes: UnsafeRawBufferPointer, linkType: CaptureLinkType, isCut: Bool,
                         into dissection: inout PacketDissection) {
        let framing: LinkFraming
        switch LinkFraming.of(bytes, linkType: linkType) {
        case .success(let found): framing = found
        case .failure(let error):
            dissection.error = error
            return
        }
        var walkConfiguration = configuration
        walkConfiguration.linkLayer = framing.linkLayer
        let network = UnsafeRawBufferPointer(rebasing: bytes[framing.headerLength...])
        var walk = DissectionWalk(bytes: network, configuration: walkConfiguration)
        walk.run()
        if isCut, let clamped = walk.retryOverCapturedBytes() {
            // The capture kept only the first bytes of the packet (a snapshot
            // length): walk what is there rather than stop at the IPv6
            // payload length, so headers that were captured still print.
            walk = clamped
        }
        walk.result.shiftOffsets(by: framing.headerLength)
        dissection.ethernet = walk.result.ethernet
        dissection.ipv6 = walk.result.ipv6
        dissection.headers = walk.result.headers
        dissection.upper = walk.result.upper
        dissection.error = walk.result.error
        dissection.networkOffset = walk.ipv6Offset.map { $0 + framing.headerLength }
    }
}

/// How to reach the IPv6 header for a link type. Ethernet is left to the
/// walker; the Linux cooked and BSD loopback headers are stripped here and
/// the rest is walked as raw IPv6.
struct LinkFraming {
    var linkLayer: LinkLayer
    /// Bytes before what the walker sees.
    var headerLength: Int

    /// Linux cooked v1: protocol (EtherType) at 14 of 16 bytes; v2: at 0 of 20.
    static let cookedLength = 16
    static let cookedProtocolOffset = 14
    static let cooked2Length = 20
    static let cooked2ProtocolOffset = 0
    /// BSD loopback: a 4-byte address family in the writer's byte order;
    /// AF_INET6 is 24 (NetBSD, OpenBSD), 28 (FreeBSD) or 30 (Darwin).
    static let nullLength = 4
    static let inet6Families: Set<UInt32> = [24, 28, 30]

    static func of(_ bytes: UnsafeRawBufferPointer, linkType: CaptureLinkType) -> Result<LinkFraming, DissectionError> {
        if linkType == .ethernet { return .success(LinkFraming(linkLayer: .ethernet, headerLength: 0)) }
        if linkType.isRawIP { return .success(LinkFraming(linkLayer: .rawIPv6, headerLength: 0)) }
        switch linkType {
        case .linuxCooked:
            return cooked(bytes, length: cookedLength, protocolOffset: cookedProtocolOffset)
        case .linuxCooked2:
            return cooked(bytes, length: cooked2Length, protocolOffset: cooked2ProtocolOffset)
        case .null:
            guard bytes.count >= nullLength else {
                return .failure(DissectionError(reason: WireError.Reason.truncated.rawValue, offset: 0))
            }
            let family = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
            guard inet6Families.contains(family) || inet6Families.contains(family.byteSwapped) else {
                return .failure(DissectionError(reason: WireError.Reason.unsupportedEtherType.rawValue, offset: 0))
            }
            return .success(LinkFraming(linkLayer: .rawIPv6, headerLength: nullLength))
        default:
            return .failure(DissectionError(reason: DissectionError.unsupportedLinkTypeReason, offset: 0))
        }
    }

    private static func cooked(_ bytes: UnsafeRawBufferPointer, length: Int, protocolOffset: Int) -> Result<LinkFraming, DissectionError> {
        guard bytes.count >= length else {
            return .failure(DissectionError(reason: WireError.Reason.truncated.rawValue, offset: 0))
        }
        let type = UInt16(bytes[protocolOffset]) << 8 | UInt16(bytes[protocolOffset + 1])
        guard type == EthernetType.ipv6.rawValue else {
            return .failure(DissectionError(reason: WireError.Reason.unsupportedEtherType.rawValue, offset: protocolOffset))
        }
        return .success(LinkFraming(linkLayer: .rawIPv6, headerLength: length))
    }
}

extension PacketDissection {
    /// Adds `delta` to every offset (after walking a buffer that starts past a link header).
    mutating func shiftOffsets(by delta: Int) {
        guard delta != 0 else { return }
        for index in headers.indices {
            headers[index].offset += delta
            if case .options(var options) = headers[index].details {
                for option in options.indices { options[option].shiftOffsets(by: delta) }
                headers[index].details = .options(options)
            }
        }
        upper?.offset += delta
        error?.offset += delta
    }
}

extension DissectedOption {
    mutating func shiftOffsets(by delta: Int) {
        offset += delta
        guard var subOptions else { return }
        for index in subOptions.indices { subOptions[index].offset += delta }
        self.subOptions = subOptions
    }
}
