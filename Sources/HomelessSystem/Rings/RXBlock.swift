import CHomeless

/// One batch of received frames that the kernel has handed to user space:
/// a TPACKET_V3 block, or a run of consecutive TPACKET_V2 frames (`run`).
/// It is non-copyable so that it is handed back exactly once, through
/// `PacketRXRing.release(_:)`; the frames it yields point into the ring and
/// must not be used after that.
public struct RXBlock: ~Copyable {
    /// V3: the block; V2: the ring's first slot.
    let base: UnsafeMutableRawPointer
    /// V3: the block index; V2: the first frame's slot index.
    let index: UInt32
    let size: UInt32
    /// The V2 frames of the batch (nil for a V3 block).
    let run: FrameRun?
    /// A virtio_net_hdr precedes each frame's MAC header.
    let offloads: Bool
    /// Where a V2 frame marked TP_STATUS_COPY is read whole (nil: none).
    let copyPath: CopyPath?
    var malformedFrames: UInt32 = 0
    var copiedFrames: UInt32 = 0
    var lostCopies: UInt32 = 0

    init(base: UnsafeMutableRawPointer, index: UInt32, size: UInt32, offloads: Bool = false) {
        self.base = base
        self.index = index
        self.size = size
        self.run = nil
        self.offloads = offloads
        self.copyPath = nil
    }

    init(slots: FrameSlots, first: UInt32, count: UInt32, offloads: Bool, copyPath: CopyPath? = nil) {
        self.base = slots.base
        self.index = first
        self.size = slots.frameSize
        self.run = FrameRun(slots: slots, first: first, count: count)
        self.offloads = offloads
        self.copyPath = copyPath
    }

    /// Frames in the batch, as reported by the kernel.
    public var packetCount: Int { run.map { Int($0.count) } ?? Int(hl_v3_block_packet_count(base)) }
    /// The kernel's running block sequence number (increments per block; 0
    /// for a V2 batch).
    public var sequence: UInt64 { run == nil ? hl_v3_block_sequence(base) : 0 }
    /// Whether the block was retired by the timeout rather than filled
    /// (never for a V2 batch: its frames are handed over one by one).
    public var retiredByTimeout: Bool {
        run == nil && hl_v3_block_status_acquire(base) & UInt32(HL_TP_STATUS_BLK_TMO) != 0
    }

    /// The frames of a V3 block, in arrival order. Walking stops at the
    /// first header that would reach outside the block. (Empty for a V2
    /// batch: use `forEachFrame`.)
    public var frames: RXFrames {
        guard run == nil else {
            return RXFrames(block: UnsafeRawPointer(base), blockSize: size, count: 0, firstOffset: 0,
                            offloads: offloads)
        }
        return RXFrames(block: UnsafeRawPointer(base), blockSize: size, count: hl_v3_block_packet_count(base),
                        firstOffset: hl_v3_block_first_packet_offset(base), offloads: offloads)
    }

    /// Visits every frame, counting the ones whose header reaches outside
    /// their block or slot. A V2 frame longer than its slot (TP_STATUS_COPY)
    /// is visited whole from the copy path's buffer, which the next such
    /// frame reuses: `body` must be done with a frame when it returns.
    public mutating func forEachFrame<E: Error>(_ body: (RXFrame) throws(E) -> Void) throws(E) {
        if let run {
            var index = run.first
            for _ in 0..<run.count {
                if let frame = RXFrame(slot: run.slots.address(index), slotSize: run.slots.frameSize,
                                       offloads: offloads) {
                    if frame.status & UInt32(HL_TP_STATUS_COPY) != 0, let copyPath {
                        if let whole = copyPath.receive(copyOf: frame, offloads: offloads) {
                            copiedFrames &+= 1
                            try body(whole)
                        } else {
                            lostCopies &+= 1
                            try body(frame)
                        }
                    } else {
                        try body(frame)
                    }
                } else {
                    malformedFrames &+= 1
                }
                index = run.slots.after(index)
            }
            return
        }
        var iterator = frames.makeIterator()
        while let frame = iterator.next() { try body(frame) }
        if iterator.stoppedOnMalformedHeader { malformedFrames &+= 1 }
    }
}

/// The second half of PACKET_COPY_THRESH: the kernel writes a frame longer
/// than its V2 slot truncated with TP_STATUS_COPY and queues the whole
/// frame on the socket's receive queue, in the same order as the slots
/// (af_packet.c tpacket_rcv queues the copy under the lock that claims the
/// slot). With PACKET_VNET_HDR, recv() returns the virtio_net_hdr first.
/// One buffer per ring, allocated once: nothing is allocated per frame.
struct CopyPath {
    let descriptor: Int32
    let buffer: UnsafeMutableRawBufferPointer

    /// A super-frame, its virtio_net_hdr, and room for the largest header.
    static let capacity = Int(RXRingGeometry.superFrameSlotSize)

    init(descriptor: Int32) {
        self.descriptor = descriptor
        buffer = .allocate(byteCount: Self.capacity, alignment: 64)
    }

    func deallocate() { buffer.deallocate() }

    /// The whole frame whose truncated slot is `slot`, read with one
    /// non-blocking recv(), or nil when none is queued (the receive buffer
    /// was full) or the copy's length does not match the slot's tp_len.
    @inline(__always)
    func receive(copyOf slot: RXFrame, offloads: Bool) -> RXFrame? {
        let received: Int
        do throws(SyscallError) {
            guard case .done(let count) = try retryingInterruptsNonBlocking(.receive, {
                hl_packet_receive(descriptor, buffer.baseAddress, buffer.count, 1)
            }) else { return nil }
            received = count
        } catch { return nil }
        let front = offloads ? PacketOffload.headerSize : 0
        guard received >= front, received - front == slot.wireLength, received < buffer.count else { return nil }
        let start = buffer.baseAddress! + front
        return RXFrame(bytes: UnsafeRawBufferPointer(start: start, count: received - front),
                       wireLength: slot.wireLength, status: slot.status & ~UInt32(HL_TP_STATUS_COPY),
                       seconds: slot.seconds, nanoseconds: slot.nanoseconds, flowHash: slot.flowHash,
                       vlanTag: slot.vlanTag,
                       offload: offloads ? PacketOffload.load(from: buffer.baseAddress!) : .none)
    }
}

/// Consecutive TPACKET_V2 slots handed over together.
struct FrameRun {
    let slots: FrameSlots
    let first: UInt32
    let count: UInt32
}

/// One received frame, pointing into the ring.
public struct RXFrame {
    /// The captured bytes starting at the Ethernet header (tp_snaplen bytes).
    public let bytes: UnsafeRawBufferPointer
    /// Length on the wire (tp_len); more than `bytes.count` when truncated.
    public let wireLength: Int
    /// tp_status (TP_STATUS_* flags such as CSUMNOTREADY, VLAN_VALID).
    public let status: UInt32
    public let seconds: UInt32
    public let nanoseconds: UInt32
    /// The flow hash the kernel used for fanout (tp_rxhash).
    public let flowHash: UInt32
    /// The 802.1Q tag (PCP, DEI, VLAN id) the kernel took off the frame, if
    /// it had one: `bytes` then starts with an untagged Ethernet header.
    public let vlanTag: UInt16?
    /// The kernel's offload metadata (a ring with PACKET_VNET_HDR): whether
    /// this is a super-frame, whether its checksum is still partial.
    public let offload: PacketOffload

    /// A frame described by the caller: one read from a capture file, or a
    /// ring frame's bytes and header fields copied elsewhere. `status`
    /// carries TP_STATUS_* flags as the kernel sets them in tp_status.
    public init(bytes: UnsafeRawBufferPointer, wireLength: Int, status: UInt32 = 0, seconds: UInt32 = 0,
                nanoseconds: UInt32 = 0, flowHash: UInt32 = 0, vlanTag: UInt16? = nil,
                offload: PacketOffload = .none) {
        self.offload = offload
        self.bytes = bytes
        self.wireLength = wireLength
        self.status = status
        self.seconds = seconds
        self.nanoseconds = nanoseconds
        self.flowHash = flowHash
        self.vlanTag = vlanTag
    }

    /// The tp_status flag of a frame whose TCP/UDP checksum is still to
    /// be computed (TP_STATUS_CSUMNOTREADY).
    public static var checksumNotReadyStatus: UInt32 { UInt32(HL_TP_STATUS_CSUMNOTREADY) }

    /// The checksum is not yet computed (locally generated, offloaded).
    public var checksumNotReady: Bool { status & UInt32(HL_TP_STATUS_CSUMNOTREADY) != 0 }
    public var truncated: Bool { wireLength > bytes.count }

    /// The frame in TPACKET_V2 slot `slot`, or nil when its header points
    /// outside the slot (never from a correct kernel; every offset comes
    /// from shared memory, so each is checked before it is used).
    @inline(__always)
    init?(slot: UnsafeMutableRawPointer, slotSize: UInt32, offloads: Bool) {
        let mac = hl_v2_frame_mac_offset(slot)
        let snap = hl_v2_frame_snap_length(slot)
        let front = UInt64(hl_v2_frame_header_size()) + (offloads ? UInt64(PacketOffload.headerSize) : 0)
        guard UInt64(mac) >= front, UInt64(mac) + UInt64(snap) <= UInt64(slotSize) else { return nil }
        let status = hl_v2_frame_status(slot)
        self.init(bytes: UnsafeRawBufferPointer(start: slot + Int(mac), count: Int(snap)),
                  wireLength: Int(hl_v2_frame_wire_length(slot)), status: status,
                  seconds: hl_v2_frame_seconds(slot), nanoseconds: hl_v2_frame_nanoseconds(slot),
                  vlanTag: status & UInt32(HL_TP_STATUS_VLAN_VALID) != 0 ? hl_v2_frame_vlan_tci(slot) : nil,
                  offload: offloads ? PacketOffload.load(from: slot + Int(mac) - PacketOffload.headerSize) : .none)
    }
}

/// The frames of one block, validated against the block bounds.
public struct RXFrames: Sequence {
    let block: UnsafeRawPointer
    let blockSize: UInt32
    let count: UInt32
    let firstOffset: UInt32
    var offloads = false

    public func makeIterator() -> Iterator {
        Iterator(block: block, blockSize: blockSize, remaining: count, offset: firstOffset, offloads: offloads)
    }

    public struct Iterator: IteratorProtocol {
        let block: UnsafeRawPointer
        let blockSize: UInt32
        var remaining: UInt32
        var offset: UInt32
        let offloads: Bool
        public private(set) var stoppedOnMalformedHeader = false

        static var headerSize: UInt32 { hl_v3_frame_header_size() }

        public mutating func next() -> RXFrame? {
            guard remaining > 0 else { return nil }
            // Every offset comes from shared memory: check each against the
            // block before dereferencing, in 64-bit arithmetic.
            guard UInt64(offset) + UInt64(Self.headerSize) <= UInt64(blockSize) else { return stop() }
            let header = block + Int(offset)
            let mac = hl_v3_frame_mac_offset(header)
            let snap = hl_v3_frame_snap_length(header)
            guard UInt64(offset) + UInt64(mac) + UInt64(snap) <= UInt64(blockSize),
                  !offloads || UInt64(mac) >= UInt64(Self.headerSize) + UInt64(PacketOffload.headerSize)
            else { return stop() }
            let frame = RXFrame(
                bytes: UnsafeRawBufferPointer(start: header + Int(mac), count: Int(snap)),
                wireLength: Int(hl_v3_frame_wire_length(header)), status: hl_v3_frame_status(header),
                seconds: hl_v3_frame_seconds(header), nanoseconds: hl_v3_frame_nanoseconds(header),
                flowHash: hl_v3_frame_rxhash(header),
                vlanTag: hl_v3_frame_status(header) & UInt32(HL_TP_STATUS_VLAN_VALID) != 0
                    ? hl_v3_frame_vlan_tci(header) : nil,
                offload: offloads ? PacketOffload.load(from: header + Int(mac) - PacketOffload.headerSize) : .none)
            remaining -= 1
            let next = hl_v3_frame_next_offset(header)
            if remaining > 0 {
                guard next != 0, UInt64(offset) + UInt64(next) < UInt64(blockSize) else {
                    stoppedOnMalformedHeader = true
                    remaining = 0
                    return frame
                }
                offset += next
            }
            return frame
        }

        private mutating func stop() -> RXFrame? {
            stoppedOnMalformedHeader = true
            remaining = 0
            return nil
        }
    }
}
