import HomelessWire

/// One walk of a buffer that starts at the Ethernet or IPv6 header,
/// collecting a `PacketDissection`'s decoded parts (offsets relative to the
/// buffer).
struct DissectionWalk {
    let bytes: UnsafeRawBufferPointer
    let configuration: PacketWalkerConfiguration
    /// Only the decoded parts are used: ethernet, ipv6, headers, upper, error.
    var result = PacketDissection(index: 0, timestamp: nil, originalLength: 0, capturedLength: 0,
                                  linkType: .raw, interfaceID: nil)
    /// Where the IPv6 header starts, once known.
    private(set) var ipv6Offset: Int?

    init(bytes: UnsafeRawBufferPointer, configuration: PacketWalkerConfiguration) {
        self.bytes = bytes
        self.configuration = configuration
    }

    mutating func run() {
        var walker = PacketWalker(bytes, configuration: configuration)
        // What the walker was about to check when it failed: the kind and
        // offset announced by the last header it returned.
        var pending: (next: IPProtocol, offset: Int)?
        do {
            while let record = try walker.next() {
                pending = nil
                try take(record, walker: walker)
                if let next = record.nextHeader { pending = (next, record.end) }
            }
        } catch {
            result.error = DissectionError(error)
            recoverAfter(error, walker: walker, pending: pending)
        }
    }

    // MARK: Records

    private mutating func take(_ record: HeaderRecord, walker: PacketWalker) throws(WireError) {
        let limit = walker.payloadEnd
        switch record.kind {
        case .ethernet:
            if let frame = walker.ethernet { result.ethernet = EthernetHeader(frame) }
        case .ipv6:
            if let header = walker.ipv6 {
                result.ipv6 = IPv6Header(header)
                ipv6Offset = header.offset
            }
        case .hopByHop, .destinationOptions:
            var options: [DissectedOption] = []
            let view = try OptionsHeaderView(checking: bytes, at: record.offset, limit: limit)
            try decodeOptions(view, kind: record.kind, into: &options)
            appendHeader(record, details: .options(options))
        case .routing:
            let view = try RoutingHeaderView(checking: bytes, at: record.offset, limit: limit)
            let addresses = (0..<view.addressCount).compactMap { view.address($0) }
            appendHeader(record, details: .routing(type: view.routingType, segmentsLeft: view.segmentsLeft, addresses: addresses))
        case .fragment:
            let view = try FragmentHeaderView(checking: bytes, at: record.offset, limit: limit)
            appendHeader(record, details: .fragment(fragmentOffset: view.fragmentOffset, moreFragments: view.moreFragments,
                                                    identification: view.identification))
        case .authentication:
            let view = try AuthenticationHeaderView(checking: bytes, at: record.offset, limit: limit)
            let icv = Array(bytes[view.integrityCheckValueRange])
            appendHeader(record, details: .authentication(spi: view.securityParametersIndex, sequence: view.sequenceNumber, icv: icv))
        case .encapsulatingSecurityPayload:
            let view = try EncapsulatingSecurityPayloadView(checking: bytes, at: record.offset, limit: limit)
            appendHeader(record, details: .encapsulatingSecurityPayload(spi: view.securityParametersIndex,
                                                                         sequence: view.sequenceNumber))
        case .noNextHeader:
            break
        case .icmpv6, .udp, .tcp, .payload:
            result.upper = try UpperLayerDecoder.decode(record, bytes: bytes, limit: limit, isFragment: walker.isFragment)
        }
    }

    private mutating func appendHeader(_ record: HeaderRecord, details: DissectedHeader.Details) {
        result.headers.append(DissectedHeader(kind: record.kind, protocolNumber: record.protocolNumber ?? IPProtocol(0),
                                              offset: record.offset, length: record.length,
                                              nextHeader: record.nextHeader, details: details))
    }

    /// Decodes every option of a Hop-by-Hop or Destination Options header,
    /// appending each as soon as it is decoded so that a failure leaves the
    /// options before it in `options`.
    private func decodeOptions(_ view: OptionsHeaderView, kind: HeaderKind,
                               into options: inout [DissectedOption]) throws(WireError) {
        var walker = view.options(checksPadding: configuration.checksPadding)
        let decoder = OptionDecoder(bytes: bytes, headerOffset: view.offset, kind: kind, configuration: configuration,
                                    packetSource: result.ipv6?.source)
        while let record = try walker.next() {
            try decoder.decode(record, into: &options)
        }
    }

    // MARK: After an error

    /// Decodes what the walker did not return because the header failed its checks.
    private mutating func recoverAfter(_ error: WireError, walker: PacketWalker, pending: (next: IPProtocol, offset: Int)?) {
        switch configuration.linkLayer {
        case .ethernet:
            if let frame = walker.ethernet ?? (try? EthernetFrameView(checking: bytes, at: 0)) {
                result.ethernet = EthernetHeader(frame)
                if frame.etherType == .ipv6 { ipv6Offset = frame.payloadOffset }
            }
        case .rawIPv6:
            ipv6Offset = 0
        }
        if result.ipv6 == nil, let offset = ipv6Offset {
            result.ipv6 = Self.ipv6HeaderIgnoringPayloadLength(bytes, at: offset)
        }
        // A broken option: list the header with the options decoded before it.
        if let pending, pending.next == .hopByHop || pending.next == .destinationOptions, error.offset >= pending.offset,
           let view = try? OptionsHeaderView(checking: bytes, at: pending.offset, limit: walker.payloadEnd) {
            var options: [DissectedOption] = []
            let kind: HeaderKind = pending.next == .hopByHop ? .hopByHop : .destinationOptions
            try? decodeOptions(view, kind: kind, into: &options)
            result.headers.append(DissectedHeader(kind: kind, protocolNumber: pending.next, offset: view.offset,
                                                  length: view.length, nextHeader: view.nextHeader, details: .options(options)))
        }
    }

    /// The IPv6 header fields when the 40 bytes are there and the version is
    /// 6, whatever the payload length says.
    static func ipv6HeaderIgnoringPayloadLength(_ bytes: UnsafeRawBufferPointer, at offset: Int) -> IPv6Header? {
        guard offset >= 0, bytes.count - offset >= IPv6HeaderView.length, bytes[offset] >> 4 == 6 else { return nil }
        let first = UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
        let payloadLength = UInt16(bytes[offset + 4]) << 8 | UInt16(bytes[offset + 5])
        return IPv6Header(trafficClass: UInt8(truncatingIfNeeded: first >> 20), flowLabel: first & 0x000F_FFFF,
                          payloadLength: payloadLength, nextHeader: IPProtocol(bytes[offset + 6]),
                          hopLimit: bytes[offset + 7],
                          source: IPv6Address(bytes: bytes, at: offset + IPv6HeaderView.Field.source),
                          destination: IPv6Address(bytes: bytes, at: offset + IPv6HeaderView.Field.destination))
    }

    /// For a packet the capture cut short: when the walk stopped because the
    /// IPv6 payload length runs past the captured bytes, walks again over a
    /// copy whose payload length is clamped to what was captured. The IPv6
    /// header printed keeps the real payload length.
    func retryOverCapturedBytes() -> DissectionWalk? {
        guard let error = result.error, error.reason == WireError.Reason.lengthOverrun.rawValue,
              let offset = ipv6Offset, error.offset == offset + IPv6HeaderView.Field.payloadLength,
              let header = result.ipv6 else { return nil }
        var copy = Array(bytes)
        let captured = min(copy.count - offset - IPv6HeaderView.length, Int(header.payloadLength))
        guard captured >= 0 else { return nil }
        copy[offset + IPv6HeaderView.Field.payloadLength] = UInt8(truncatingIfNeeded: captured >> 8)
        copy[offset + IPv6HeaderView.Field.payloadLength + 1] = UInt8(truncatingIfNeeded: captured)
        var retry = copy.withUnsafeBytes { clampedBytes in
            var walk = DissectionWalk(bytes: clampedBytes, configuration: configuration)
            walk.run()
            return walk.result
        }
        retry.ipv6 = header
        var walk = DissectionWalk(bytes: bytes, configuration: configuration)
        walk.result = retry
        walk.ipv6Offset = offset
        return walk
    }
}
