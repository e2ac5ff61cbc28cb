#if canImport(Glibc)
import Glibc
#endif
import CHomeless

/// Sends complete IPv6 packets (header included, IPPROTO_RAW) out of one
/// interface with the kernel choosing the next hop and filling in the link
/// header from its neighbour table, resolving it first when needed
/// (Neighbour Discovery, RFC 4861 7.2). The source address in the packet is
/// sent as given: it need not be a local address of the interface.
///
/// Host mode sends the engine's own signalling this way through the upper
/// port's kernel side, so a Binding Update leaves through the link its
/// source address belongs to, toward the router the kernel uses there,
/// even before any packet was received on that link.
public final class KernelRoutedSocket {
    public let descriptor: Int32
    public let device: String

    public init(device: String) throws(SyscallError) {
        self.device = device
        descriptor = try retryingInterrupts(.rawIPv6) { hl_ipv6_raw_open(device) }
    }

    deinit { _ = hl_close(descriptor) }

    /// Sends one IPv6 packet (at least a fixed header); its destination
    /// address selects the route.
    public func send(ipv6Packet packet: [UInt8]) throws(SyscallError) {
        guard packet.count >= 40 else { throw SyscallError(step: .rawIPv6Send, errno: EINVAL) }
        let outcome = packet.withUnsafeBytes { bytes in
            bytes.withMemoryRebound(to: UInt8.self) { octets in
                hl_ipv6_raw_send(descriptor, bytes.baseAddress, bytes.count, octets.baseAddress.map { $0 + 24 })
            }
        }
        if outcome < 0 { throw SyscallError(step: .rawIPv6Send, errno: Int32(truncatingIfNeeded: 0 - outcome)) }
    }
}
