import HomelessEngine
import HomelessSystem
import HomelessWire

/// The frames the forwarding benchmarks hand to the worker, built with the
/// project's own emitters (valid checksums, so a translated frame's
/// RFC 1624 fix-up starts from a correct sum).
enum ForwardedFrames {
    /// The host's wire interface, and the router on the wire.
    static let wireAddress = EthernetAddress(0x02, 0, 0, 0, 0, 0x0B)
    static let router = EthernetAddress(0x02, 0, 0, 0, 0, 0x0A)

    /// A plain peer: the kernel's addresses are the wire addresses.
    static let host = IPv6Address(high: 0x2001_0db8_0001_0000, low: 0x100)
    static let peer = IPv6Address(high: 0x2001_0db8_0009_0000, low: 0x9)

    /// A translated peer (DESIGN: ULIDs and locators): the kernel's
    /// connection runs between the identifiers, the wire carries the
    /// locators.
    static let translation = TranslationRecord(
        localIdentifier: IPv6Address(high: 0x2001_0db8_000a_0000, low: 0x10),
        peerIdentifier: IPv6Address(high: 0x2001_0db8_000c_0000, low: 0x20),
        localLocator: IPv6Address(high: 0x2001_0db8_000b_0000, low: 0x10),
        peerLocator: IPv6Address(high: 0x2001_0db8_000d_0000, low: 0x4_0020))

    /// Another translated peer, `number` >= 1: fills the translation table
    /// around `translation` (ULIDs in 2001:db8:e::/48, locators in
    /// 2001:db8:f::/48).
    static func otherPeer(_ number: Int) -> TranslationRecord {
        TranslationRecord(localIdentifier: translation.localIdentifier,
                          peerIdentifier: IPv6Address(high: 0x2001_0db8_000e_0000, low: UInt64(number)),
                          localLocator: translation.localLocator,
                          peerLocator: IPv6Address(high: 0x2001_0db8_000f_0000, low: UInt64(number)))
    }

    /// The offload metadata of a UDP/IPv6 datagram the host's kernel sent
    /// with checksum offload pending (virtio_net_hdr NEEDS_CSUM).
    static let udpChecksumOffload = PacketOffload(flags: PacketOffload.needsChecksumFlag, checksumStart: 54,
                                                  checksumOffset: 6)

    /// Ethernet / IPv6 / UDP of `frameLength` bytes in all (62 bytes of
    /// headers, the rest payload) as it travels in `direction`: outbound
    /// from the host's kernel to the router, inbound from the router to the
    /// host's wire address.
    static func udp(frameLength: Int, direction: FrameDirection, source: IPv6Address,
                    destination: IPv6Address) -> [UInt8] {
        precondition(frameLength >= 62, "a UDP/IPv6 frame has 62 bytes of headers")
        let udpLength = frameLength - 54
        var frame = [UInt8](repeating: 0, count: frameLength)
        frame.withUnsafeMutableBytes { buffer in
            ethernet(direction).emit(into: buffer)
            IPv6Header(flowLabel: 0x2_5A5A, payloadLength: UInt16(udpLength), nextHeader: .udp, source: source,
                       destination: destination).emit(into: buffer, at: 14)
            UDPHeader(sourcePort: 40_000, destinationPort: 4_791, length: UInt16(udpLength)).emit(into: buffer, at: 54)
            for index in 62..<frameLength { buffer[index] = UInt8(truncatingIfNeeded: index &* 7) }
            UDPHeader.fillChecksum(in: buffer, at: 54, source: source, destination: destination)
        }
        return frame
    }

    /// A TCP segment that opens a conversation, with the options a Linux
    /// stack puts on it (MSS, SACK permitted, timestamps, window scale: a
    /// 40-byte TCP header, 94-byte frame): outbound a SYN, inbound the
    /// SYN+ACK answering it. The worker forwards it and puts a copy on its
    /// punt queue for the slow path (draft 2.1.1, 2.1.2).
    static func tcpOpening(direction: FrameDirection) -> [UInt8] {
        let source = direction == .outbound ? host : peer
        let destination = direction == .outbound ? peer : host
        let flags: UInt8 = direction == .outbound ? 0x02 : 0x12
        let tcp: [UInt8] = [
            0x9C, 0x40, 0x01, 0xBB,  // ports 40000 -> 443
            0x1F, 0x2E, 0x3D, 0x4C,  // sequence
            0x00, 0x00, 0x00, direction == .outbound ? 0x00 : 0x01,  // acknowledgment
            0xA0, flags, 0xFF, 0xC4,  // data offset 10 (40 bytes), flags, window
            0x00, 0x00, 0x00, 0x00,  // checksum (filled below), urgent pointer
            0x02, 0x04, 0x05, 0xA0,  // MSS 1440
            0x04, 0x02,  // SACK permitted
            0x08, 0x0A, 0x00, 0x01, 0x02, 0x03, 0x00, 0x00, 0x00, 0x00,  // timestamps
            0x01,  // NOP
            0x03, 0x03, 0x07,  // window scale 7
        ]
        var frame = [UInt8](repeating: 0, count: 54 + tcp.count)
        frame.withUnsafeMutableBytes { buffer in
            ethernet(direction).emit(into: buffer)
            IPv6Header(payloadLength: UInt16(tcp.count), nextHeader: .tcp, source: source, destination: destination)
                .emit(into: buffer, at: 14)
            for (index, byte) in tcp.enumerated() { buffer[54 + index] = byte }
            TCPHeaderView.fillChecksum(in: buffer, at: 54, end: buffer.count, source: source, destination: destination)
        }
        return frame
    }

    static func ethernet(_ direction: FrameDirection) -> EthernetHeader {
        direction == .outbound
            ? EthernetHeader(destination: router, source: wireAddress, etherType: .ipv6)
            : EthernetHeader(destination: wireAddress, source: router, etherType: .ipv6)
    }
}
