import HomelessWire

/// The ICMPv6 Destination Unreachable, code 3 "address unreachable" (RFC
/// 4443 3.1), that the engine hands to the local upper layer when a packet
/// is sent through a Foreign Host Cache Entry whose addresses have all
/// expired (draft 2.2: "the IP layer behaves as if there was an ICMP
/// Destination Unreachable received").
///
/// ```
/// | IPv6 (40): src = unreachable ULID, dst = the local sender, NH = 58 |
/// | Type = 1 | Code = 3 | Checksum | Unused (32, zero)                  |
/// | As much of the invoking packet as fits in 1280 octets (RFC 4443 2.4 c) |
/// ```
public enum AddressUnreachableMessage {
    /// IPv6 minimum MTU: the whole error packet stays within it (RFC 4443 2.4 (c)).
    public static let maximumPacketLength = 1280
    public static let codeAddressUnreachable: UInt8 = 3

    /// Builds the error packet (IPv6 header first) for `invoking`, an IPv6
    /// packet starting at its header. The source is `source` or, by
    /// default, the invoking packet's destination (the unreachable peer, so
    /// the kernel matches the error to the right socket). Nil when no error
    /// may be sent (RFC 4443 2.4 (e)): the invoking packet is truncated
    /// below an IPv6 header, is itself an ICMPv6 error, or comes from a
    /// multicast or unspecified source.
    public static func build(invoking: UnsafeRawBufferPointer, source: IPv6Address? = nil,
                             hopLimit: UInt8 = 64) -> [UInt8]? {
        guard let header = try? IPv6HeaderView(checking: invoking) else { return nil }
        let sender = header.source
        guard !sender.isMulticast, !sender.isUnspecified else { return nil }
        if header.nextHeader == .icmpv6, header.payloadLength >= 1 {
            let type = invoking[IPv6HeaderView.length]
            if type < 128 { return nil }  // an error message: never answer it with another
        }
        let invokingLength = min(header.payloadEnd, invoking.count)
        let quoted = min(invokingLength, maximumPacketLength - IPv6HeaderView.length - 8)
        let body = [UInt8](repeating: 0, count: 4) + Array(invoking[0..<quoted])
        let message = ICMPv6Message(.other(type: ICMPv6View.typeDestinationUnreachable, code: codeAddressUnreachable, body: body))
        let errorSource = source ?? header.destination
        var packet = [UInt8](repeating: 0, count: IPv6HeaderView.length + message.bufferLength)
        packet.withUnsafeMutableBytes { raw in
            IPv6Header(payloadLength: UInt16(message.bufferLength), nextHeader: .icmpv6, hopLimit: hopLimit,
                       source: errorSource, destination: sender).emit(into: raw)
            message.emit(into: raw, at: IPv6HeaderView.length, source: errorSource, destination: sender)
        }
        return packet
    }
}
