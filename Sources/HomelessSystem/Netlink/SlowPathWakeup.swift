import CHomeless

/// Lets the fast path wake the slow path: an eventfd that the workers
/// signal after queueing a frame for it, and a wait that sleeps until it
/// is signalled, another descriptor (the rtnetlink monitor) is readable,
/// or a timeout passes. The slow path then costs nothing while idle and
/// reacts at once (a fixed sleep would add its length to every message).
public final class SlowPathWakeup: @unchecked Sendable {
    public let descriptor: Int32

    public init() throws(SyscallError) {
        descriptor = try retryingInterrupts(.wakeup) { hl_wakeup_open() }
    }

    deinit { _ = hl_close(descriptor) }

    /// Wakes the slow path (a write on the eventfd; never blocks).
    @inline(__always)
    public func signal() { _ = hl_wakeup_signal(descriptor) }

    /// Sleeps until signalled, `other` is readable, or `timeoutMilliseconds`
    /// passed; then clears the signal.
    public func wait(alsoFor others: [Int32] = [], timeoutMilliseconds: Int32) {
        _ = others.withUnsafeBufferPointer { buffer in
            hl_wakeup_wait(descriptor, buffer.baseAddress, Int32(buffer.count), timeoutMilliseconds)
        }
        _ = hl_wakeup_drain(descriptor)
    }
}
