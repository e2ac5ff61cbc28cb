import CHomeless

/// PACKET_FANOUT membership: every socket that joins the same group id on
/// the same interface receives a share of the traffic, so N worker threads
/// each own one RX ring. Group ids are per network namespace.
public struct FanoutGroup: Hashable, Sendable {
    public enum Mode: Hashable, Sendable {
        /// By flow hash: every packet of a flow reaches the same worker, so
        /// per-flow order is kept (the engine's default).
        case hash
        /// Round robin.
        case loadBalance
        /// By the CPU that received the packet.
        case cpu
        /// By the receive queue of the device.
        case queueMapping

        var kernelValue: UInt16 {
            switch self {
            case .hash: UInt16(HL_PACKET_FANOUT_HASH)
            case .loadBalance: UInt16(HL_PACKET_FANOUT_LB)
            case .cpu: UInt16(HL_PACKET_FANOUT_CPU)
            case .queueMapping: UInt16(HL_PACKET_FANOUT_QM)
            }
        }
    }

    public var id: UInt16
    public var mode: Mode
    /// Reassemble IP fragments before hashing, so fragments of one datagram
    /// reach the same worker (PACKET_FANOUT_FLAG_DEFRAG).
    public var defragment: Bool
    /// Spill to another member when this one's ring is full
    /// (PACKET_FANOUT_FLAG_ROLLOVER); off by default because it breaks
    /// per-flow ordering.
    public var rollover: Bool
    /// Let the kernel choose an id no other group in the namespace uses
    /// (PACKET_FANOUT_FLAG_UNIQUEID; `id` is ignored). The first member
    /// creates the group this way; read the id back with
    /// `PacketRXRing.fanoutGroupID()` and let the others join it by id.
    /// Group ids are shared by the whole network namespace, and joining an
    /// id that another interface's group uses fails with EINVAL.
    public var uniqueID: Bool

    public init(id: UInt16, mode: Mode = .hash, defragment: Bool = true, rollover: Bool = false) {
        self.id = id
        self.mode = mode
        self.defragment = defragment
        self.rollover = rollover
        self.uniqueID = false
    }

    /// A new group with a kernel-chosen id.
    public static func unique(mode: Mode = .hash, defragment: Bool = true, rollover: Bool = false) -> FanoutGroup {
        var group = FanoutGroup(id: 0, mode: mode, defragment: defragment, rollover: rollover)
        group.uniqueID = true
        return group
    }

    var kernelFlags: UInt16 {
        (defragment ? UInt16(HL_PACKET_FANOUT_FLAG_DEFRAG) : 0)
            | (rollover ? UInt16(HL_PACKET_FANOUT_FLAG_ROLLOVER) : 0)
            | (uniqueID ? UInt16(HL_PACKET_FANOUT_FLAG_UNIQUEID) : 0)
    }
}
