import HomelessWire

/// A frame from the conversation tap (`hl_conversation_tap`, classifier
/// steering) is cut after `HL_CONVERSATION_TAP_SNAP` (128) octets: an
/// opening SYN fits, a UDP datagram mostly does not. Its IPv6 Payload
/// Length (and the UDP Length) still count the whole packet, which the
/// parser refuses as truncated. The slow path needs only the addresses,
/// the upper-layer protocol and a SYN's flags (draft 2.1.1), so the
/// lengths are cut to what was captured.
enum TappedConversationFrame {
    /// The tap takes only untagged frames with EtherType IPv6, and only
    /// packets without extension headers: the upper layer follows the
    /// fixed IPv6 header.
    static let ipv6Offset = EthernetFrameView.Field.untaggedLength
    static let upperLayerOffset = ipv6Offset + IPv6HeaderView.length

    /// Cuts the Payload Length of the Ethernet/IPv6 frame whose first
    /// `captured` octets are in `frame`, and the UDP Length when UDP
    /// follows the IPv6 header, to the octets captured. Returns the
    /// frame's captured length. A frame captured whole, or one that is no
    /// Ethernet/IPv6 frame, is left as it is (the parser judges it).
    static func clipLengths(_ frame: UnsafeMutableRawBufferPointer, captured: Int) -> Int {
        let count = max(0, min(captured, frame.count))
        guard count >= upperLayerOffset,
              UInt16(bigEndian: frame.loadUnaligned(fromByteOffset: EthernetFrameView.Field.typeOrTPID, as: UInt16.self))
                == EthernetType.ipv6.rawValue,
              frame[ipv6Offset] >> 4 == 6
        else { return count }
        // (More than 65535 captured octets: nothing can claim more.)
        let available = UInt16(clamping: count - upperLayerOffset)
        let payloadLength = ipv6Offset + IPv6HeaderView.Field.payloadLength
        let claimed = UInt16(bigEndian: frame.loadUnaligned(fromByteOffset: payloadLength, as: UInt16.self))
        guard claimed > available else { return count }
        frame.storeBytes(of: available.bigEndian, toByteOffset: payloadLength, as: UInt16.self)
        if frame[ipv6Offset + IPv6HeaderView.Field.nextHeader] == IPProtocol.udp.rawValue,
           available >= UDPHeaderView.length {
            frame.storeBytes(of: available.bigEndian, toByteOffset: upperLayerOffset + UDPHeaderView.Field.length,
                             as: UInt16.self)
        }
        return count
    }
}
