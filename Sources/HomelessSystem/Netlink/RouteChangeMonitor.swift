import CHomeless

/// Tells the slow path that the kernel's links or IPv6 addresses changed:
/// an rtnetlink socket subscribed to RTMGRP_LINK and RTMGRP_IPV6_IFADDR
/// (rtnetlink(7)), read without blocking.
///
/// It answers only "something changed"; the caller then re-reads the state
/// it watches. That keeps the parsing of addresses and flags in one place
/// (`InterfaceConfiguration`) and makes a lost notification harmless: an
/// overrun socket (ENOBUFS) also reads as a change.
public final class RouteChangeMonitor {
    public let descriptor: Int32
    private var buffer = [UInt8](repeating: 0, count: 16 * 1024)

    public init() throws(SyscallError) {
        descriptor = try retryingInterrupts(.routeMonitor) { hl_route_monitor_open() }
    }

    deinit { _ = hl_close(descriptor) }

    /// Reads every queued notification; the number of messages read (0:
    /// nothing changed since the last call).
    public func drain() throws(SyscallError) -> Int {
        let count = capacityDrain()
        if count < 0 { throw SyscallError(step: .routeMonitorReceive, errno: Int32(truncatingIfNeeded: 0 - count)) }
        return count
    }

    private func capacityDrain() -> Int {
        let capacity = buffer.count
        return buffer.withUnsafeMutableBytes { bytes in
            Int(hl_route_monitor_drain(descriptor, bytes.baseAddress, capacity))
        }
    }
}
