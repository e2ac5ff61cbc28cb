import CHomeless

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// Where the kernel would send a packet: the outgoing interface, and the
/// router to hand it to (nil when the destination is on-link, so the
/// packet goes to the destination's own link-layer address).
public struct NextHop: Equatable, Sendable {
    public var interfaceIndex: Int32
    /// The next-hop router's IPv6 address (16 octets), nil when on-link.
    public var gateway: [UInt8]?

    public init(interfaceIndex: Int32, gateway: [UInt8]?) {
        self.interfaceIndex = interfaceIndex
        self.gateway = gateway
    }
}

/// The slow path's view of the kernel's routing and neighbour tables, read
/// over rtnetlink (rtnetlink(7)) rather than by running `ip`: the engine
/// builds link headers itself, so it must learn the next hop and its MAC
/// address the same way the kernel's own stack would. Each call opens a
/// fresh NETLINK_ROUTE socket in the calling thread's network namespace.
///
/// Errors carry the step `.routeLookup` or `.neighbourLookup`: the
/// kernel's answer (ENETUNREACH, EHOSTUNREACH, ...) arrives in the reply.
public enum NextHopLookup {
    /// The route the kernel would pick for `destination` (16 octets) from a
    /// socket marked `mark` (SO_MARK; 0: unmarked), so fwmark policy rules
    /// apply as they do to the kernel's own traffic. Like
    /// `ip -6 route get DESTINATION mark MARK`. Throws the kernel's error
    /// when there is no usable route (ENETUNREACH, EHOSTUNREACH, ...).
    public static func route(to destination: [UInt8], mark: UInt32 = 0) throws(SyscallError) -> NextHop {
        guard destination.count == 16 else { throw SyscallError(step: .routeLookup, errno: EINVAL) }
        var interfaceIndex: Int32 = 0
        var hasGateway: Int32 = 0
        var gateway = [UInt8](repeating: 0, count: 16)
        _ = try retryingInterrupts(.routeLookup) {
            gateway.withUnsafeMutableBufferPointer { gatewayBytes in
                hl_route_lookup6(destination, mark, &interfaceIndex, gatewayBytes.baseAddress, &hasGateway)
            }
        }
        return NextHop(interfaceIndex: interfaceIndex, gateway: hasGateway != 0 ? gateway : nil)
    }

    /// The kernel's neighbour-table entry for `address` (16 octets) on the
    /// interface: its MAC address and NUD state (NUD_* from
    /// linux/neighbour.h). Nil when the kernel has no entry or no address
    /// for it yet (INCOMPLETE, FAILED): the caller then lets the kernel
    /// resolve it, e.g. by routing the packet through it.
    public static func linkLayerAddress(
        of address: [UInt8], interfaceIndex: Int32
    ) throws(SyscallError) -> (mac: [UInt8], state: UInt16)? {
        guard address.count == 16 else { throw SyscallError(step: .neighbourLookup, errno: EINVAL) }
        var mac = [UInt8](repeating: 0, count: 6)
        var state: UInt16 = 0
        do {
            _ = try retryingInterrupts(.neighbourLookup) {
                mac.withUnsafeMutableBufferPointer { macBytes in
                    hl_neighbour_lookup6(interfaceIndex, address, macBytes.baseAddress, &state)
                }
            }
        } catch where error.errno == ENOENT {
            return nil
        }
        return (mac, state)
    }

    /// Whether a neighbour in NUD `state` has a link-layer address the
    /// engine may send to (the kernel's NUD_VALID): REACHABLE, STALE, DELAY
    /// and PROBE (the latter three are being confirmed, but the address
    /// still stands), PERMANENT and NOARP.
    public static func isUsable(state: UInt16) -> Bool {
        // NUD_REACHABLE 0x02, NUD_STALE 0x04, NUD_DELAY 0x08, NUD_PROBE 0x10,
        // NUD_NOARP 0x40, NUD_PERMANENT 0x80.
        state & 0xDE != 0
    }
}
