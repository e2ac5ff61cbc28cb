#if canImport(Glibc)
import Glibc
#endif

/// Makes the kernel resolve a neighbour it has no link-layer address for.
///
/// The kernel starts Neighbour Discovery (RFC 4861 7.2.2) when it has a
/// packet to send to an unresolved next hop, so sending it one empty UDP
/// datagram (discard port 9) out of the interface is enough; the datagram
/// itself goes out once the address is resolved, or is dropped with the
/// failed entry. Used by host mode's classifier steering for the router
/// (or on-link peer) a peer's traffic leaves through.
public enum NeighbourResolution {
    /// Sends the datagram; errors (no route, interface down) are returned,
    /// not thrown: the caller simply tries again later.
    @discardableResult
    public static func trigger(address: [UInt8], interfaceIndex: Int32) -> Int32 {
        guard address.count == 16 else { return EINVAL }
        let descriptor = socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard descriptor >= 0 else { return errno }
        defer { close(descriptor) }
        var target = sockaddr_in6()
        target.sin6_family = sa_family_t(AF_INET6)
        target.sin6_port = UInt16(9).bigEndian
        target.sin6_scope_id = UInt32(bitPattern: interfaceIndex)
        withUnsafeMutableBytes(of: &target.sin6_addr) { raw in
            for index in 0..<16 { raw[index] = address[index] }
        }
        // Leave through this interface even for a global address whose
        // route points elsewhere.
        var index = interfaceIndex
        _ = setsockopt(descriptor, SOL_SOCKET, SO_BINDTOIFINDEX, &index, socklen_t(MemoryLayout<Int32>.size))
        let sent = withUnsafePointer(to: &target) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { address in
                sendto(descriptor, nil, 0, Int32(MSG_DONTWAIT), address, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        return sent < 0 ? errno : 0
    }
}
