import HomelessWire

/// Why a worker dropped a frame. The first reasons are the wire parser's
/// (`WireError.Reason`, same kebab-case names), the rest the engine's own.
/// Each reason is one slot of a worker's counter block.
public struct DropReason: Hashable, Sendable, CustomStringConvertible {
    /// Slot in `DropReason.all` (and in the counter block's drop area).
    public let index: Int

    /// Reasons that come from the engine rather than from parsing.
    public enum Engine: String, CaseIterable, Sendable {
        /// The ring kept fewer bytes than the frame had (a frame longer than
        /// the ring's frame size, for example a GSO super-frame).
        case frameTruncated = "frame-truncated"
        /// The frame carried an 802.1Q tag (stripped into ring metadata);
        /// host mode bridges untagged frames only.
        case vlanTagged = "vlan-tagged"
        /// Unicast to another station's MAC address (seen in promiscuous mode).
        case notForHost = "not-for-host"
        /// The worker's bounded queue to the slow path was full.
        case puntQueueFull = "punt-queue-full"
        /// The destination port's TX ring had no free slot even after a flush.
        case transmitRingFull = "transmit-ring-full"
        /// The frame is longer than a TX slot holds.
        case frameTooLong = "frame-too-long"
        /// Slow path: a Binding Update or Acknowledgement that failed AH
        /// verification, did not decode, or that the Host Cache refused.
        case signallingRejected = "signalling-rejected"
        /// Outbound to a peer whose Host Cache addresses have all expired
        /// (draft 2.2); the slow path answers the sender with ICMPv6
        /// Destination Unreachable, address unreachable.
        case peerUnreachable = "peer-unreachable"
        /// Classifier steering: a multicast frame from the upper port's
        /// kernel side (its own MLD or ND). Only the peers' unicast
        /// traffic is routed there; the wire's own stack speaks for the
        /// host on the link.
        case kernelSideMulticast = "kernel-side-multicast"
    }

    /// Stored once: a synthesized `allCases` builds a new array on every
    /// access, which the fast path must not do.
    static let wireReasons = WireError.Reason.allCases
    static let engineReasons = Engine.allCases
    public static let wireReasonCount = wireReasons.count
    public static let count = wireReasonCount + engineReasons.count

    @inline(__always)
    public init(_ reason: WireError.Reason) {
        // Linear over a dozen cases, on the drop path only; stays correct
        // when the parser gains reasons.
        index = Self.wireReasons.firstIndex(of: reason) ?? 0
    }

    @inline(__always)
    public init(_ reason: Engine) {
        let offset = switch reason {
        case .frameTruncated: 0
        case .vlanTagged: 1
        case .notForHost: 2
        case .puntQueueFull: 3
        case .transmitRingFull: 4
        case .frameTooLong: 5
        case .signallingRejected: 6
        case .peerUnreachable: 7
        case .kernelSideMulticast: 8
        }
        index = Self.wireReasonCount + offset
    }

    init(index: Int) { self.index = index }

    public static var all: [DropReason] { (0..<count).map { DropReason(index: $0) } }

    public var name: String {
        if index < Self.wireReasonCount { return Self.wireReasons[index].rawValue }
        return Self.engineReasons[index - Self.wireReasonCount].rawValue
    }

    public var description: String { name }
}
