/// A frame from the conversation tap (`hl_conversation_tap`, classifier
/// steering) is cut after `HL_CONVERSATION_TAP_SNAP` (128) octets: an
/// opening SYN fits, a UDP datagram mostly does not. Its IPv6 Payload
/// Length (and the UDP Length) still count the whole packet, which the
/// parser refuses as truncated. The slow path needs only the addresses,
/// the upper-layer protocol and a SYN's flags (draft 2.1.1), so the
/// lengths are cut to what was captured.
enum TappedConversationFrame {
    /// Ethernet (14 octets, untagged: the tap takes only EtherType IPv6 at
    /// offset 12) + the fixed IPv6 header (RFC 8200 3).
    static let ipv6Offset = 14
    static let upperLayerOffset = 54

    /// Cuts the Payload Length of the Ethernet/IPv6 frame whose first
    /// `captured` octets are in `frame`, and the UDP Length when UDP
    /// follows the IPv6 header, to the octets captured. Returns the
    /// frame's captured length. A frame captured whole, or one that is no
    /// Ethernet/IPv6 frame, is left as it is (the parser judges it).
    static func clipLengths(_ frame: UnsafeMutableRawBufferPointer, captured: Int) -> Int {
        let count = max(0, min(captured, frame.count))
        guard count >= upperLayerOffset, frame[12] == 0x86, frame[13] == 0xdd, frame[ipv6Offset] >> 4 == 6
        else { return count }
        let available = count - upperLayerOffset
        let payloadLength = ipv6Offset + 4
        let claimed = Int(frame[payloadLength]) << 8 | Int(frame[payloadLength + 1])
        guard claimed > available else { return count }
        store(UInt16(available), at: payloadLength, in: frame)
        let udp: UInt8 = 17
        if frame[ipv6Offset + 6] == udp, available >= 8 {
            store(UInt16(available), at: upperLayerOffset + 4, in: frame)
        }
        return count
    }

    private static func store(_ value: UInt16, at offset: Int, in frame: UnsafeMutableRawBufferPointer) {
        frame[offset] = UInt8(value >> 8)
        frame[offset + 1] = UInt8(value & 0xff)
    }
}
