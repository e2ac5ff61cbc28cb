#if canImport(Glibc)
import Glibc
#endif
import CHomeless

/// What a receive socket listens to and how.
public struct PacketRXConfiguration: Hashable, Sendable {
    /// Interface to bind to (if_nametoindex); 0 would mean every interface.
    public var interfaceIndex: Int32
    /// EtherType to receive, host order; 0x0003 (ETH_P_ALL) is every frame.
    public var etherType: UInt16
    public var geometry: RXRingGeometry
    public var fanout: FanoutGroup?
    /// Do not see frames this host itself sends on the interface.
    public var ignoreOutgoing: Bool
    /// An eBPF socket-filter program descriptor, attached before the socket
    /// is bound so no unfiltered frame ever enters the ring.
    public var socketFilterDescriptor: Int32?
    /// PACKET_VNET_HDR: every frame comes with the kernel's offload
    /// metadata (`RXFrame.offload`), and segmentation-offload super-frames
    /// arrive whole instead of being segmented for the socket.
    public var receivesOffloads: Bool

    public static let everyEtherType: UInt16 = 0x0003

    public init(
        interfaceIndex: Int32, etherType: UInt16 = everyEtherType, geometry: RXRingGeometry = .standard,
        fanout: FanoutGroup? = nil, ignoreOutgoing: Bool = true, socketFilterDescriptor: Int32? = nil,
        receivesOffloads: Bool = false
    ) {
        self.receivesOffloads = receivesOffloads
        self.interfaceIndex = interfaceIndex
        self.etherType = etherType
        self.geometry = geometry
        self.fanout = fanout
        self.ignoreOutgoing = ignoreOutgoing
        self.socketFilterDescriptor = socketFilterDescriptor
    }
}

/// An AF_PACKET socket with a receive ring mapped into this process, in
/// one of two layouts (`RXRingLayout`). Owned by one worker thread: the
/// cursor is not shared.
///
/// Hand-off protocol (Documentation/networking/packet_mmap.rst): the kernel
/// fills a unit (a TPACKET_V3 block, or a TPACKET_V2 frame slot) and sets
/// its status to TP_STATUS_USER; user space reads the status with acquire
/// ordering, reads the frames, then stores TP_STATUS_KERNEL with release
/// ordering and moves on. Units are handed back strictly in ring order.
/// Either way the worker takes a batch (`RXBlock`): one V3 block, or every
/// consecutive ready V2 frame (at most `maximumBatch`).
public final class PacketRXRing {
    public let descriptor: Int32
    public let geometry: RXRingGeometry
    /// Frames carry the kernel's offload metadata (PACKET_VNET_HDR).
    public let receivesOffloads: Bool
    private let base: UnsafeMutableRawPointer
    /// The V2 slots (nil for a V3 ring).
    private let slots: FrameSlots?
    /// V3: the next block; V2: the next frame slot.
    private var currentBlock: UInt32 = 0
    private var blockOutstanding = false
    /// Most V2 frames taken as one batch: bounds how long frames wait for
    /// their TX flush and how late the ring is handed back.
    public static let maximumBatch: UInt32 = 64
    private var accumulated = PacketRingStatistics()
    /// Frames whose ring header pointed outside their block (never seen
    /// from a correct kernel; counted instead of trusted).
    public private(set) var malformedFrames: UInt64 = 0
    /// Where frames longer than a slot are read whole (nil without the
    /// copy path): one buffer, allocated with the ring, reused per frame.
    private let copyPath: CopyPath?
    /// Frames longer than a slot taken whole from the receive queue.
    public private(set) var copiedFrames: UInt64 = 0
    /// Frames longer than a slot whose whole copy was missing (receive
    /// buffer full, or a copy that did not match its slot): handed on
    /// truncated, for the worker to drop.
    public private(set) var lostCopies: UInt64 = 0

    /// Creates the socket and runs the setup steps in an order that lets no
    /// frame in before the ring, the filter and the binding are in place:
    /// socket, version, RX ring, mmap, ignore-outgoing, filter, bind, fanout.
    public init(configuration: PacketRXConfiguration) throws(PacketRingError) {
        let geometry = configuration.geometry
        do { try geometry.validate() } catch { throw .geometry(error) }
        let fd: Int32
        do { fd = try retryingInterrupts(.socket) { hl_packet_socket() } } catch { throw .system(error) }
        var mapped: UnsafeMutableRawPointer?
        do throws(SyscallError) {
            _ = try retryingInterrupts(.packetVersion) { hl_packet_set_version(fd, geometry.layout.tpacketVersion) }
            // Before the ring: the kernel refuses PACKET_VNET_HDR once one exists.
            if configuration.receivesOffloads {
                _ = try retryingInterrupts(.offloadHeader) { hl_packet_set_vnet_header(fd, 1) }
            }
            _ = try retryingInterrupts(.rxRing) {
                switch geometry.layout {
                case .frames:
                    hl_packet_set_rx_ring_v2(fd, geometry.blockSize, geometry.blockCount, geometry.frameSize)
                case .blocks:
                    hl_packet_set_rx_ring_v3(fd, geometry.blockSize, geometry.blockCount, geometry.frameSize,
                                             geometry.retireTimeoutMilliseconds)
                }
            }
            _ = try retryingInterrupts(.mapRing) { hl_packet_mmap(fd, geometry.mappedLength, &mapped) }
            if geometry.copiesLongFrames {
                _ = try retryingInterrupts(.copyThreshold) { hl_packet_set_copy_threshold(fd, 1) }
                _ = try retryingInterrupts(.receiveBuffer) {
                    hl_packet_set_receive_buffer(fd, RXRingGeometry.copyReceiveBufferBytes)
                }
            }
            if configuration.ignoreOutgoing {
                _ = try retryingInterrupts(.ignoreOutgoing) { hl_packet_set_ignore_outgoing(fd, 1) }
            }
            if let program = configuration.socketFilterDescriptor {
                _ = try retryingInterrupts(.attachFilter) { hl_packet_attach_bpf(fd, program) }
            }
            _ = try retryingInterrupts(.bind) {
                hl_packet_bind(fd, configuration.interfaceIndex, configuration.etherType)
            }
            if let group = configuration.fanout {
                _ = try retryingInterrupts(.fanout) {
                    // The group's hook, not the socket's, decides whether
                    // outgoing frames are seen (PACKET_IGNORE_OUTGOING alone
                    // does not reach it).
                    hl_packet_join_fanout(fd, group.id, group.mode.kernelValue, group.kernelFlags
                        | (configuration.ignoreOutgoing ? UInt16(HL_PACKET_FANOUT_FLAG_IGNORE_OUTGOING) : 0))
                }
            }
        } catch {
            if let mapped { _ = hl_munmap(mapped, geometry.mappedLength) }
            _ = hl_close(fd)
            throw .system(error)
        }
        guard let mapped else {
            _ = hl_close(fd)
            throw .system(SyscallError(step: .mapRing, errno: EINVAL))
        }
        self.descriptor = fd
        self.geometry = geometry
        self.base = mapped
        self.receivesOffloads = configuration.receivesOffloads
        slots = geometry.layout == .frames
            ? FrameSlots(base: mapped, blockSize: geometry.blockSize, frameSize: geometry.frameSize,
                         framesPerBlock: geometry.blockSize / geometry.frameSize, frameCount: geometry.frameCount)
            : nil
        copyPath = geometry.copiesLongFrames ? CopyPath(descriptor: fd) : nil
    }

    deinit {
        copyPath?.deallocate()
        _ = hl_munmap(base, geometry.mappedLength)
        _ = hl_close(descriptor)
    }

    /// The next batch in ring order if the kernel has handed it to user
    /// space: the next V3 block, or the run of ready V2 frames starting at
    /// the cursor. Nil when nothing is ready or a batch is already out.
    @inline(__always)
    public func nextBlock() -> RXBlock? {
        if blockOutstanding { return nil }
        if let slots {
            let first = currentBlock
            guard hl_v2_frame_status_acquire(slots.address(first)) & UInt32(HL_TP_STATUS_USER) != 0 else { return nil }
            var count: UInt32 = 1
            var next = slots.after(first)
            while count < Self.maximumBatch, next != first,
                  hl_v2_frame_status_acquire(slots.address(next)) & UInt32(HL_TP_STATUS_USER) != 0 {
                count += 1
                next = slots.after(next)
            }
            blockOutstanding = true
            return RXBlock(slots: slots, first: first, count: count, offloads: receivesOffloads, copyPath: copyPath)
        }
        let block = base + Int(currentBlock) * Int(geometry.blockSize)
        guard hl_v3_block_status_acquire(block) & UInt32(HL_TP_STATUS_USER) != 0 else { return nil }
        blockOutstanding = true
        return RXBlock(base: block, index: currentBlock, size: geometry.blockSize, offloads: receivesOffloads)
    }

    /// Gives the batch back to the kernel and advances past it.
    @inline(__always)
    public func release(_ block: consuming RXBlock) {
        guard blockOutstanding, block.index == currentBlock else { return }
        malformedFrames &+= UInt64(block.malformedFrames)
        copiedFrames &+= UInt64(block.copiedFrames)
        lostCopies &+= UInt64(block.lostCopies)
        if let slots {
            guard let run = block.run, run.count > 0 else { return }
            var index = currentBlock
            for _ in 0..<run.count {
                hl_v2_frame_release(slots.address(index))
                index = slots.after(index)
            }
            blockOutstanding = false
            currentBlock = index
            return
        }
        guard block.base == base + Int(currentBlock) * Int(geometry.blockSize) else { return }
        hl_v3_block_release(block.base)
        blockOutstanding = false
        currentBlock = currentBlock + 1 == geometry.blockCount ? 0 : currentBlock + 1
    }

    /// Whether the unit at the cursor is ready for user space.
    @inline(__always)
    private var cursorReady: Bool {
        if let slots {
            return hl_v2_frame_status_acquire(slots.address(currentBlock)) & UInt32(HL_TP_STATUS_USER) != 0
        }
        return hl_v3_block_status_acquire(base + Int(currentBlock) * Int(geometry.blockSize))
            & UInt32(HL_TP_STATUS_USER) != 0
    }

    /// Sleeps in poll() until a batch is ready, the timeout passes (false)
    /// or the socket reports an error. A negative timeout waits forever.
    public func waitForBlock(timeoutMilliseconds: Int32) throws(SyscallError) -> Bool {
        if blockOutstanding || cursorReady { return true }
        _ = try retryingInterrupts(.poll) { hl_poll_readable(descriptor, timeoutMilliseconds) }
        return cursorReady
    }

    /// PACKET_STATISTICS accumulated since the socket was opened.
    public func statistics() throws(SyscallError) -> PacketRingStatistics {
        var raw = hl_packet_stats()
        _ = try retryingInterrupts(.statistics) { hl_packet_statistics_v3(descriptor, &raw) }
        accumulated.packets &+= UInt64(raw.packets)
        accumulated.drops &+= UInt64(raw.drops)
        accumulated.freezeQueueCount &+= UInt64(raw.freeze_queue_count)
        return accumulated
    }

    /// The id of the fanout group this socket joined.
    public func fanoutGroupID() throws(SyscallError) -> UInt16 {
        UInt16(truncatingIfNeeded: try retryingInterrupts(.fanout) { hl_packet_fanout_group(descriptor) })
    }

    /// Replaces the socket filter (SO_ATTACH_BPF) on a running socket.
    public func attachFilter(programDescriptor: Int32) throws(SyscallError) {
        _ = try retryingInterrupts(.attachFilter) { hl_packet_attach_bpf(descriptor, programDescriptor) }
    }

    public func detachFilter() throws(SyscallError) {
        _ = try retryingInterrupts(.detachFilter) { hl_packet_detach_filter(descriptor) }
    }
}
