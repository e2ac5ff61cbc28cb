import HomelessWire

/// Where AH sits in an IPv6 packet and which fields the ICV computation has
/// to rewrite (RFC 4302 3.3.3.1, Appendix A.2).
///
/// Found by a walk over the extension headers in front of AH; no bytes are
/// copied. `feedICVInput` then hands the ICV input to a sink in pieces.
struct AHPacketLayout: Equatable {
    /// 40 + IPv6 Payload Length; bytes beyond it (link-layer padding) are not part of the packet.
    var packetLength: Int
    var ahOffset: Int
    var ahLength: Int
    /// Offset of the Next Header field that holds 51 (6 for the IPv6 header).
    var precedingNextHeaderOffset: Int
    /// Offset of the Routing header that must be shown in its final-destination
    /// form, or -1 when none needs rewriting (none present, or Segments Left 0).
    var routingHeaderOffset: Int = -1
    /// Addresses in that Routing header (n) and how many were already visited (n - Segments Left).
    var routingAddressCount = 0
    var routingVisitedCount = 0

    static let ipv6HeaderLength = 40
    /// Extension headers allowed in front of AH; more is hostile or broken.
    static let maximumHeadersBeforeAH = 8

    /// IPv6 Next Header values the walker steps over (RFC 8200 4).
    static let hopByHop: UInt8 = 0
    static let routing: UInt8 = 43
    static let fragment: UInt8 = 44
    static let destinationOptions: UInt8 = 60

    /// The octets of the address the ICV input carries as destination:
    /// the final one from the Routing header when it still has segments left.
    var finalDestinationOffset: Int {
        guard routingHeaderOffset >= 0 else { return 24 }
        return routingHeaderOffset + 8 + (routingAddressCount - 1) * 16
    }

    /// Walks the chain of an IPv6 packet to its AH.
    static func locate(in packet: UnsafeRawBufferPointer) throws(AHPacketError) -> AHPacketLayout {
        let packetLength = try checkedPacketLength(packet)
        var nextHeader = packet.load(fromByteOffset: 6, as: UInt8.self)
        var nextHeaderOffset = 6
        var offset = ipv6HeaderLength
        var routingHeaderOffset = -1
        var routingAddressCount = 0
        var routingVisitedCount = 0
        var sawRoutingHeader = false
        var headers = 0
        while true {
            switch nextHeader {
            case AuthenticationHeaderLayout.protocolNumber:
                let view: AuthenticationHeaderView
                do {
                    view = try AuthenticationHeaderView(checking: packet, at: offset, limit: packetLength)
                } catch {
                    switch error.reason {
                    case .badLength: throw AHPacketError(.badPayloadLength, at: error.offset)
                    default: throw AHPacketError(.truncated, at: error.offset)
                    }
                }
                var layout = AHPacketLayout(
                    packetLength: packetLength, ahOffset: offset, ahLength: view.length,
                    precedingNextHeaderOffset: nextHeaderOffset)
                layout.routingHeaderOffset = routingHeaderOffset
                layout.routingAddressCount = routingAddressCount
                layout.routingVisitedCount = routingVisitedCount
                return layout
            case hopByHop, destinationOptions, routing:
                if nextHeader == hopByHop && offset != ipv6HeaderLength {
                    throw AHPacketError(.hopByHopNotFirst, at: nextHeaderOffset)
                }
                headers += 1
                guard headers <= maximumHeadersBeforeAH else { throw AHPacketError(.chainTooLong, at: offset) }
                guard packetLength - offset >= 8 else { throw AHPacketError(.truncated, at: offset) }
                let length = (Int(packet.load(fromByteOffset: offset + 1, as: UInt8.self)) + 1) * 8
                guard packetLength - offset >= length else { throw AHPacketError(.truncated, at: offset + 1) }
                if nextHeader == routing {
                    guard !sawRoutingHeader else { throw AHPacketError(.duplicateRoutingHeader, at: offset) }
                    sawRoutingHeader = true
                    let segmentsLeft = Int(packet.load(fromByteOffset: offset + 3, as: UInt8.self))
                    if segmentsLeft > 0 {
                        let count = try predictableAddressCount(packet, routingHeaderAt: offset, segmentsLeft: segmentsLeft)
                        routingHeaderOffset = offset
                        routingAddressCount = count
                        routingVisitedCount = count - segmentsLeft
                    }
                }
                nextHeader = packet.load(fromByteOffset: offset, as: UInt8.self)
                nextHeaderOffset = offset
                offset += length
            case fragment:
                throw AHPacketError(.fragmented, at: offset)
            default:
                throw AHPacketError(.noAuthenticationHeader, at: nextHeaderOffset)
            }
        }
    }

    /// Checks the fixed IPv6 header and returns 40 + Payload Length.
    static func checkedPacketLength(_ packet: UnsafeRawBufferPointer) throws(AHPacketError) -> Int {
        guard packet.count >= ipv6HeaderLength else { throw AHPacketError(.truncated, at: 0) }
        guard packet.load(fromByteOffset: 0, as: UInt8.self) >> 4 == 6 else { throw AHPacketError(.notIPv6, at: 0) }
        let payloadLength = Int(packet.loadBigEndianUInt16(at: 4))
        // Payload Length 0 means a jumbogram only with a Hop-by-Hop header (RFC 2675 3).
        guard payloadLength > 0 || packet.load(fromByteOffset: 6, as: UInt8.self) != hopByHop else {
            throw AHPacketError(.jumbogram, at: 4)
        }
        guard packet.count - ipv6HeaderLength >= payloadLength else { throw AHPacketError(.truncated, at: 4) }
        return ipv6HeaderLength + payloadLength
    }

    /// Type 0 (RFC 2460 4.4) and type 2 (RFC 6275 6.4) Routing headers are a
    /// reserved word followed by n addresses, Hdr Ext Len = 2n; with Segments
    /// Left s, the packet will reach its final destination after s swaps, so
    /// the receiver's view can be computed (RFC 4302 3.3.3.1.2.2). Other types
    /// with segments left cannot be predicted here.
    static func predictableAddressCount(
        _ packet: UnsafeRawBufferPointer, routingHeaderAt offset: Int, segmentsLeft: Int
    ) throws(AHPacketError) -> Int {
        let headerExtensionLength = Int(packet.load(fromByteOffset: offset + 1, as: UInt8.self))
        let type = packet.load(fromByteOffset: offset + 2, as: UInt8.self)
        guard type == 0 || type == 2, headerExtensionLength % 2 == 0 else {
            throw AHPacketError(.unpredictableRoutingHeader, at: offset + 2)
        }
        let count = headerExtensionLength / 2
        // RFC 6275 6.4: a type 2 header carries exactly one address.
        guard segmentsLeft <= count, type == 0 || count == 1 else {
            throw AHPacketError(.unpredictableRoutingHeader, at: offset + 3)
        }
        return count
    }

    /// Feeds the ICV input to `sink` (RFC 4302 3.3.3.1):
    /// - the IPv6 header with Traffic Class, Flow Label and Hop Limit zero and
    ///   the final destination address;
    /// - Hop-by-Hop and Destination Options headers before AH with the data
    ///   of options whose type has the chg bit (0x20) replaced by zeros
    ///   (RFC 8200 4.2; type and length stay);
    /// - a Routing header as it will arrive: Segments Left 0 and the
    ///   addresses shifted the way each hop's swap leaves them (RFC 2460 4.4);
    /// - AH with its ICV field, padding included, as zeros;
    /// - everything after AH as sent.
    func feedICVInput<Sink: ICVInputSink>(from packet: UnsafeRawBufferPointer, into sink: inout Sink) throws(AHPacketError) {
        feedIPv6Header(from: packet, into: &sink)
        var offset = Self.ipv6HeaderLength
        var nextHeader = packet.load(fromByteOffset: 6, as: UInt8.self)
        // `locate` has checked every header's bounds up to AH.
        while offset < ahOffset {
            let length = (Int(packet.load(fromByteOffset: offset + 1, as: UInt8.self)) + 1) * 8
            switch nextHeader {
            case Self.hopByHop, Self.destinationOptions:
                try feedOptionsHeader(from: packet, at: offset, length: length, into: &sink)
            case Self.routing where offset == routingHeaderOffset:
                feedRoutingHeaderAtFinalDestination(from: packet, at: offset, length: length, into: &sink)
            default:
                sink.absorb(UnsafeRawBufferPointer(rebasing: packet[offset..<(offset + length)]))
            }
            nextHeader = packet.load(fromByteOffset: offset, as: UInt8.self)
            offset += length
        }
        sink.absorb(UnsafeRawBufferPointer(rebasing: packet[ahOffset..<(ahOffset + AuthenticationHeaderLayout.fixedLength)]))
        sink.absorbZeros(ahLength - AuthenticationHeaderLayout.fixedLength)
        sink.absorb(UnsafeRawBufferPointer(rebasing: packet[(ahOffset + ahLength)..<packetLength]))
    }

    private func feedIPv6Header<Sink: ICVInputSink>(from packet: UnsafeRawBufferPointer, into sink: inout Sink) {
        // Five words on the stack: version only in word 0, Payload Length and
        // Next Header kept, Hop Limit zero, addresses filled below.
        var header: (UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0)
        let destinationOffset = finalDestinationOffset
        withUnsafeMutableBytes(of: &header) { bytes in
            bytes.storeBytes(of: packet.load(fromByteOffset: 0, as: UInt8.self) & 0xF0, toByteOffset: 0, as: UInt8.self)
            bytes.storeBytes(of: packet.loadUnaligned(fromByteOffset: 4, as: UInt16.self), toByteOffset: 4, as: UInt16.self)
            bytes.storeBytes(of: packet.load(fromByteOffset: 6, as: UInt8.self), toByteOffset: 6, as: UInt8.self)
            for word in 0..<2 {
                bytes.storeBytes(
                    of: packet.loadUnaligned(fromByteOffset: 8 + word * 8, as: UInt64.self),
                    toByteOffset: 8 + word * 8, as: UInt64.self)
                bytes.storeBytes(
                    of: packet.loadUnaligned(fromByteOffset: destinationOffset + word * 8, as: UInt64.self),
                    toByteOffset: 24 + word * 8, as: UInt64.self)
            }
            sink.absorb(UnsafeRawBufferPointer(bytes))
        }
    }

    /// Options are `Type(8) Len(8) Data` except Pad1 (RFC 8200 4.2).
    private func feedOptionsHeader<Sink: ICVInputSink>(
        from packet: UnsafeRawBufferPointer, at headerOffset: Int, length: Int, into sink: inout Sink
    ) throws(AHPacketError) {
        let end = headerOffset + length
        var runStart = headerOffset
        var offset = headerOffset + 2
        while offset < end {
            let type = packet.load(fromByteOffset: offset, as: UInt8.self)
            if type == 0 {  // Pad1
                offset += 1
                continue
            }
            guard end - offset >= 2 else { throw AHPacketError(.malformedOption, at: offset) }
            let dataLength = Int(packet.load(fromByteOffset: offset + 1, as: UInt8.self))
            let dataStart = offset + 2
            guard end - dataStart >= dataLength else { throw AHPacketError(.malformedOption, at: offset + 1) }
            if type & 0x20 != 0 && dataLength > 0 {
                sink.absorb(UnsafeRawBufferPointer(rebasing: packet[runStart..<dataStart]))
                sink.absorbZeros(dataLength)
                runStart = dataStart + dataLength
            }
            offset = dataStart + dataLength
        }
        sink.absorb(UnsafeRawBufferPointer(rebasing: packet[runStart..<end]))
    }

    /// With n addresses and s segments left, the current destination D and
    /// the remaining addresses A[n-s+1]...A[n] (1-based), each hop swaps the
    /// destination with the next address, so at the final destination:
    /// destination = A[n], A[1...n-s] unchanged, A[n-s+1] = D, and
    /// A[n-s+2...n] = the old A[n-s+1...n-1]. For a type 2 header (n = s = 1)
    /// that is a swap of the destination and the home address.
    private func feedRoutingHeaderAtFinalDestination<Sink: ICVInputSink>(
        from packet: UnsafeRawBufferPointer, at offset: Int, length: Int, into sink: inout Sink
    ) {
        sink.absorb(UnsafeRawBufferPointer(rebasing: packet[offset..<(offset + 3)]))
        sink.absorbZeros(1)  // Segments Left
        let addresses = offset + 8
        let visitedEnd = addresses + routingVisitedCount * 16
        let remainingBeforeLast = addresses + (routingAddressCount - 1) * 16
        sink.absorb(UnsafeRawBufferPointer(rebasing: packet[(offset + 4)..<visitedEnd]))
        sink.absorb(UnsafeRawBufferPointer(rebasing: packet[24..<40]))
        sink.absorb(UnsafeRawBufferPointer(rebasing: packet[visitedEnd..<remainingBeforeLast]))
        sink.absorb(UnsafeRawBufferPointer(rebasing: packet[(remainingBeforeLast + 16)..<(offset + length)]))
    }
}
