import CHomeless

/// The plain counters a worker keeps. Only the owning worker writes them
/// (load + store, relaxed: no read-modify-write instruction and no lock on
/// the fast path); any thread may read them (relaxed loads) and sum them
/// across workers. A reader may see a value one batch old, never a torn one.
public final class WorkerCounters: @unchecked Sendable {
    public enum Counter: Int, CaseIterable, Sendable {
        case inboundPackets, inboundBytes, inboundForwarded
        case outboundPackets, outboundBytes, outboundForwarded
        case punted, puntedReinjected
        case blocks, idleWaits, transmitBusy
        /// Frames whose TCP/UDP checksum the worker completed (offload pending).
        case checksumsCompleted
        /// TCP super-frames (GSO) cut into wire-size segments, and the
        /// segments they made.
        case superFramesSegmented, segmentsCut
        /// Slow path: signalling-only packets (Next Header 59) taken off the
        /// path to the kernel, and signalling frames the engine sent.
        case signallingConsumed, signallingSent
        /// Frames the worker translated between ULIDs and locators.
        case translated
        /// The engine's own signalling (sent through the kernel side)
        /// passed from the upper port to the wire.
        case signallingPassed
        /// Inbound TCP/UDP packets that matched a peer's locators but
        /// belong to a conversation the kernel opened from the locator
        /// itself (no outbound flow mark): passed without translation.
        case newFlowsNotTranslated
        /// Slow path, classifier steering: outgoing TCP SYNs to unknown
        /// peers taken from the wire's conversation tap.
        case conversationsTapped
        /// Frames sent with their checksum still partial (virtio_net_hdr
        /// NEEDS_CSUM) for the kernel or device to complete, and
        /// super-frames (GSO/GRO) sent whole for the kernel to segment
        /// only where the egress device needs it.
        case partialChecksumsPassed, superFramesPassed
        /// Inbound ICMPv6 errors quoting a packet we sent translated:
        /// the quote (and our locator as destination) turned back into
        /// the ULIDs (RFC 4443 2.4 (c), RFC 8201).
        case icmpErrorsTranslated
    }

    static let dropBase = Counter.allCases.count
    static let slotCount = dropBase + DropReason.count

    private let slots: UnsafeMutablePointer<UInt64>

    public init() {
        // Own cache lines per worker: no false sharing between workers.
        let bytes = (Self.slotCount * MemoryLayout<UInt64>.stride + 63) / 64 * 64
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        slots = raw.bindMemory(to: UInt64.self, capacity: Self.slotCount)
    }

    deinit { UnsafeMutableRawPointer(slots).deallocate() }

    @inline(__always)
    public func add(_ counter: Counter, _ amount: UInt64 = 1) { bump(counter.rawValue, amount) }

    @inline(__always)
    public func drop(_ reason: DropReason) { bump(Self.dropBase + reason.index, 1) }

    @inline(__always)
    private func bump(_ slot: Int, _ amount: UInt64) {
        let pointer = slots + slot
        hl_store_relaxed_u64(pointer, hl_load_relaxed_u64(pointer) &+ amount)
    }

    public subscript(counter: Counter) -> UInt64 { hl_load_relaxed_u64(slots + counter.rawValue) }

    public subscript(reason: DropReason) -> UInt64 { hl_load_relaxed_u64(slots + Self.dropBase + reason.index) }

    public var totalDrops: UInt64 {
        (0..<DropReason.count).reduce(0) { $0 &+ hl_load_relaxed_u64(slots + Self.dropBase + $1) }
    }
}

extension WorkerCounters.Counter {
    /// Name in `show stats` output.
    public var name: String {
        switch self {
        case .inboundPackets: "inbound-packets"
        case .inboundBytes: "inbound-bytes"
        case .inboundForwarded: "inbound-forwarded"
        case .outboundPackets: "outbound-packets"
        case .outboundBytes: "outbound-bytes"
        case .outboundForwarded: "outbound-forwarded"
        case .punted: "punted"
        case .puntedReinjected: "punted-reinjected"
        case .blocks: "blocks"
        case .idleWaits: "idle-waits"
        case .transmitBusy: "transmit-busy"
        case .checksumsCompleted: "checksums-completed"
        case .superFramesSegmented: "super-frames-segmented"
        case .segmentsCut: "segments-cut"
        case .signallingConsumed: "signalling-consumed"
        case .signallingSent: "signalling-sent"
        case .translated: "translated"
        case .newFlowsNotTranslated: "new-flows-not-translated"
        case .signallingPassed: "signalling-passed"
        case .conversationsTapped: "conversations-tapped"
        case .partialChecksumsPassed: "partial-checksums-passed"
        case .superFramesPassed: "super-frames-passed"
        case .icmpErrorsTranslated: "icmp-errors-translated"
        }
    }
}
