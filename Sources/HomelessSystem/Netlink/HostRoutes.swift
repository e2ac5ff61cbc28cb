#if canImport(Glibc)
import Glibc
#endif
import CHomeless

/// Host routes and permanent neighbour entries, programmed over rtnetlink
/// (no `ip` process per change). Classifier steering keeps one of each per
/// peer address on an upper port's kernel side; a handover can change
/// many at once, on the slow path. Each call opens a NETLINK_ROUTE socket
/// in the calling thread's network namespace and waits for the kernel's
/// acknowledgement, so an error is the kernel's own answer.
public enum HostRoutes {
    /// Creates or replaces `destination`/128 out of `interfaceIndex` in
    /// routing table `table` (protocol static, no gateway: the neighbour
    /// entry supplies the link-layer address).
    public static func install(_ destination: [UInt8], interfaceIndex: Int32, table: UInt32) throws(SyscallError) {
        guard destination.count == 16 else { throw SyscallError(step: .routeChange, errno: EINVAL) }
        _ = try retryingInterrupts(.routeChange) { Int(hl_route_host6(destination, interfaceIndex, table, 1)) }
    }

    /// Removes `destination`/128 from `table`; false when there was none.
    @discardableResult
    public static func remove(_ destination: [UInt8], table: UInt32) throws(SyscallError) -> Bool {
        guard destination.count == 16 else { throw SyscallError(step: .routeChange, errno: EINVAL) }
        do {
            _ = try retryingInterrupts(.routeChange) { Int(hl_route_host6(destination, 0, table, 0)) }
            return true
        } catch where error.errno == ESRCH {
            return false
        }
    }

    /// Makes every socket of the namespace route its next packet afresh.
    ///
    /// A connected socket caches its route, and the kernel revalidates it
    /// only against the part of the routing tree it came from: a host
    /// route added to another table (the steering table, consulted first
    /// by a policy rule) leaves the main table's route valid, so a socket
    /// that talked to an address before the address became a peer would
    /// keep bypassing the engine. A change of the policy rules invalidates
    /// every cached IPv6 route, so this adds a "nop" rule at
    /// `rulePriority` (which matches and does nothing) and removes it
    /// again. A nop rule left there by an interrupted call changes no
    /// routing decision; the next call removes it.
    public static func invalidateCachedRoutes(rulePriority: UInt32) throws(SyscallError) {
        do {
            _ = try retryingInterrupts(.ruleChange) { Int(hl_rule_nop6(rulePriority, 1)) }
        } catch where error.errno == EEXIST {
            // A nop rule is already there: removing it below is the change.
        }
        // False (removed by someone else in between): the addition was a change.
        _ = try removeNopRule(rulePriority: rulePriority)
    }

    /// Removes a nop rule at `rulePriority` that an interrupted
    /// `invalidateCachedRoutes` left; false when there was none.
    @discardableResult
    public static func removeNopRule(rulePriority: UInt32) throws(SyscallError) -> Bool {
        do {
            _ = try retryingInterrupts(.ruleChange) { Int(hl_rule_nop6(rulePriority, 0)) }
            return true
        } catch where error.errno == ENOENT {
            return false
        }
    }

    /// Creates or replaces the permanent neighbour entry `address` ->
    /// `linkLayerAddress` (6 octets) on `interfaceIndex`.
    public static func installPermanentNeighbour(_ address: [UInt8], linkLayerAddress: [UInt8],
                                                 interfaceIndex: Int32) throws(SyscallError) {
        guard address.count == 16, linkLayerAddress.count == 6 else {
            throw SyscallError(step: .neighbourChange, errno: EINVAL)
        }
        _ = try retryingInterrupts(.neighbourChange) {
            Int(hl_neighbour_permanent6(interfaceIndex, address, linkLayerAddress, 1))
        }
    }

    /// Removes the neighbour entry of `address` on `interfaceIndex`; false
    /// when there was none.
    @discardableResult
    public static func removeNeighbour(_ address: [UInt8], interfaceIndex: Int32) throws(SyscallError) -> Bool {
        guard address.count == 16 else { throw SyscallError(step: .neighbourChange, errno: EINVAL) }
        let none = [UInt8](repeating: 0, count: 6)
        do {
            _ = try retryingInterrupts(.neighbourChange) { Int(hl_neighbour_permanent6(interfaceIndex, address, none, 0)) }
            return true
        } catch where error.errno == ENOENT {
            return false
        }
    }
}
