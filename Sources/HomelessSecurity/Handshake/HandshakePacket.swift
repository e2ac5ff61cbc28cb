public import HomelessWire

/// IPv6 packets carrying handshake messages, laid out as draft A.2 asks:
///
///     message 1:  IPv6 | handshake(1)
///     message 2:  IPv6 | handshake(2) [| Destination Options: Initial BU]
///     message 3:  IPv6 | AH | handshake(3) [| Destination Options: Initial BU]
///
/// The message's own Next Header says what follows it (59, or 60 for a
/// Binding Update). Slow path: these allocate.
public enum HandshakePacket {
    public static let hopLimit: UInt8 = 64

    /// IPv6 header + `payload`, with `nextHeader` in the IPv6 header.
    public static func ipv6(source: IPv6Address, destination: IPv6Address, nextHeader: UInt8,
                            payload: [UInt8]) -> [UInt8] {
        var packet = [UInt8](repeating: 0, count: 40)
        packet[0] = 0x60
        packet[4] = UInt8(truncatingIfNeeded: payload.count >> 8)
        packet[5] = UInt8(truncatingIfNeeded: payload.count)
        packet[6] = nextHeader
        packet[7] = hopLimit
        packet.withUnsafeMutableBytes { bytes in
            source.write(to: bytes, at: 8)
            destination.write(to: bytes, at: 24)
        }
        return packet + payload
    }

    /// Messages 1 and 2 (and address probes): no keys exist yet, so no AH.
    public static func unprotected(source: IPv6Address, destination: IPv6Address, message: [UInt8],
                                   trailer: [UInt8] = [],
                                   handshakeNextHeader: UInt8 = HandshakeConstants.defaultNextHeader) -> [UInt8] {
        ipv6(source: source, destination: destination, nextHeader: handshakeNextHeader, payload: message + trailer)
    }

    /// Message 3 (or any handshake message once keys exist): AH made with
    /// `association` (the new outbound SA) right after the IPv6 header.
    public static func protected(source: IPv6Address, destination: IPv6Address, message: [UInt8],
                                 trailer: [UInt8] = [], with association: inout SecurityAssociation,
                                 handshakeNextHeader: UInt8 = HandshakeConstants.defaultNextHeader) throws(AHProtectError) -> [UInt8] {
        let plain = unprotected(source: source, destination: destination, message: message, trailer: trailer,
                                handshakeNextHeader: handshakeNextHeader)
        var buffer = plain + [UInt8](repeating: 0, count: association.algorithm.headerLength)
        let result: Result<Int, AHProtectError> = buffer.withUnsafeMutableBytes { bytes in
            do throws(AHProtectError) {
                return .success(try association.protect(bytes, packetLength: plain.count, insertingAt: 40))
            } catch {
                return .failure(error)
            }
        }
        return Array(buffer[0..<(try result.get())])
    }
}
