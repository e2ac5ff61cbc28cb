/// What one worker loop did.
public struct WorkerLoopCounters: Hashable, Sendable {
    public var blocks: UInt64 = 0
    public var frames: UInt64 = 0
    /// Times the ring was empty and the worker slept in poll().
    public var idleWaits: UInt64 = 0
    /// TX flushes the device refused for now (EAGAIN/ENOBUFS); the frames
    /// stay queued and go out with the next flush.
    public var transmitBusy: UInt64 = 0

    public init() {}
}

extension WorkerRings {
    /// The receive loop of one worker: every frame of every block goes to
    /// `handle` (which may queue frames on the TX ring), the TX ring is
    /// flushed, and only then is the block handed back. An empty ring
    /// flushes pending frames and sleeps in poll() for at most
    /// `idleTimeoutMilliseconds`, which bounds how late `stop` is noticed.
    public func run(
        until stop: StopSignal, idleTimeoutMilliseconds: Int32 = 10,
        _ handle: (RXFrame, PacketTXRing) -> Void
    ) throws(SyscallError) -> WorkerLoopCounters {
        var counters = WorkerLoopCounters()
        while !stop.isRaised {
            guard var block = receive.nextBlock() else {
                if case .wouldBlock = try transmit.flush() { counters.transmitBusy &+= 1 }
                counters.idleWaits &+= 1
                _ = try receive.waitForBlock(timeoutMilliseconds: idleTimeoutMilliseconds)
                continue
            }
            counters.blocks &+= 1
            let transmit = self.transmit
            block.forEachFrame { frame in
                counters.frames &+= 1
                handle(frame, transmit)
            }
            if case .wouldBlock = try transmit.flush() { counters.transmitBusy &+= 1 }
            receive.release(block)
        }
        _ = try transmit.flush()
        return counters
    }
}
