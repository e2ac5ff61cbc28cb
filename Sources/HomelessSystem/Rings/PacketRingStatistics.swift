/// PACKET_STATISTICS of one RX socket, accumulated since it was opened (the
/// kernel resets its own counters on each read).
public struct PacketRingStatistics: Hashable, Sendable {
    /// Frames that reached the socket, including the dropped ones.
    public var packets: UInt64
    /// Frames dropped because the ring had no room (tp_drops).
    public var drops: UInt64
    /// Times the ring filled up and the queue froze (tp_freeze_q_cnt).
    public var freezeQueueCount: UInt64

    public init(packets: UInt64 = 0, drops: UInt64 = 0, freezeQueueCount: UInt64 = 0) {
        self.packets = packets
        self.drops = drops
        self.freezeQueueCount = freezeQueueCount
    }

    /// Frames written into the ring.
    public var delivered: UInt64 { packets >= drops ? packets - drops : 0 }
}
