#if canImport(Glibc)
import Glibc
#endif
import CHomeless

/// Where and how a transmit ring sends.
public struct PacketTXConfiguration: Hashable, Sendable {
    public var interfaceIndex: Int32
    public var geometry: TXRingGeometry
    /// Hand frames straight to the driver (PACKET_QDISC_BYPASS): the engine
    /// does its own batching and must not be reordered or delayed by a qdisc.
    public var qdiscBypass: Bool
    /// Socket send buffer; bounds how many submitted frames may be in flight.
    public var sendBufferBytes: Int32?
    /// Skip a frame the device refuses (PACKET_LOSS) instead of failing the
    /// flush with EMSGSIZE and leaving the slot marked WRONG_FORMAT, which
    /// holds back every frame queued behind it until user space resets it.
    public var discardMalformedFrames: Bool
    /// PACKET_VNET_HDR: every slot opens with a virtio_net_hdr
    /// (`PacketOffload`), so a slot may carry a 64 KiB super-frame the
    /// kernel segments (and a partial checksum it completes) only where the
    /// egress device cannot (validate_xmit_skb).
    public var sendsOffloads: Bool

    public init(
        interfaceIndex: Int32, geometry: TXRingGeometry = .standard, qdiscBypass: Bool = true,
        sendBufferBytes: Int32? = 16 << 20, discardMalformedFrames: Bool = true, sendsOffloads: Bool = false
    ) {
        self.sendsOffloads = sendsOffloads
        self.interfaceIndex = interfaceIndex
        self.geometry = geometry
        self.qdiscBypass = qdiscBypass
        self.sendBufferBytes = sendBufferBytes
        self.discardMalformedFrames = discardMalformedFrames
    }
}

/// An AF_PACKET socket with a TPACKET_V2 transmit ring. The socket is bound
/// with protocol 0, so it never receives.
///
/// Hand-off protocol: a slot whose status (read with acquire ordering) is
/// TP_STATUS_AVAILABLE belongs to user space; the frame (after the
/// virtio_net_hdr with `sendsOffloads`) is written, its length stored, then
/// TP_STATUS_SEND_REQUEST stored with release ordering.
/// `flush()` (sendto with no data) makes the kernel transmit every requested
/// slot and set it back to AVAILABLE.
public final class PacketTXRing {
    public let descriptor: Int32
    public let geometry: TXRingGeometry
    /// Slots open with a virtio_net_hdr (PACKET_VNET_HDR).
    public let sendsOffloads: Bool
    /// Largest frame a slot carries (after its virtio_net_hdr, if any).
    public let maximumFrameLength: Int
    private let base: UnsafeMutableRawPointer
    private let slots: FrameSlots
    /// Where the virtio_net_hdr (with offloads) or else the frame starts.
    private let dataOffset: Int
    private var currentFrame: UInt32 = 0
    private var slotOutstanding = false
    // The counts are private stored properties behind public getters: a
    // stored property visible outside this file gets a dynamic exclusivity
    // check (swift_beginAccess) on every `+= 1`, once per frame.
    private var submittedSinceFlush: Int = 0
    private var wrongFormatCount: UInt64 = 0
    /// Frames submitted since the last flush.
    public var pendingFrames: Int { submittedSinceFlush }
    /// Slots found marked TP_STATUS_WRONG_FORMAT (a refused frame, only
    /// without `discardMalformedFrames`); they are reset and reused.
    public var wrongFormatFrames: UInt64 { wrongFormatCount }

    public init(configuration: PacketTXConfiguration) throws(PacketRingError) {
        let geometry = configuration.geometry
        do { try geometry.validate() } catch { throw .geometry(error) }
        let fd: Int32
        do { fd = try retryingInterrupts(.socket) { hl_packet_socket() } } catch { throw .system(error) }
        var mapped: UnsafeMutableRawPointer?
        do throws(SyscallError) {
            _ = try retryingInterrupts(.packetVersion) { hl_packet_set_version(fd, Int32(HL_TPACKET_V2)) }
            if configuration.qdiscBypass {
                _ = try retryingInterrupts(.qdiscBypass) { hl_packet_set_qdisc_bypass(fd, 1) }
            }
            if configuration.discardMalformedFrames {
                _ = try retryingInterrupts(.discardMalformed) { hl_packet_set_loss(fd, 1) }
            }
            if let bytes = configuration.sendBufferBytes {
                _ = try retryingInterrupts(.sendBuffer) { hl_packet_set_send_buffer(fd, bytes) }
            }
            // Before the ring: the kernel refuses PACKET_VNET_HDR once one exists.
            if configuration.sendsOffloads {
                _ = try retryingInterrupts(.offloadHeader) { hl_packet_set_vnet_header(fd, 1) }
            }
            _ = try retryingInterrupts(.txRing) {
                hl_packet_set_tx_ring_v2(fd, geometry.blockSize, geometry.blockCount, geometry.frameSize)
            }
            _ = try retryingInterrupts(.mapRing) { hl_packet_mmap(fd, geometry.mappedLength, &mapped) }
            _ = try retryingInterrupts(.bind) { hl_packet_bind(fd, configuration.interfaceIndex, 0) }
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
        self.dataOffset = Int(hl_v2_tx_data_offset())
        self.sendsOffloads = configuration.sendsOffloads
        self.maximumFrameLength = geometry.maximumFrameLength
            - (configuration.sendsOffloads ? PacketOffload.headerSize : 0)
        self.slots = FrameSlots(base: mapped, blockSize: geometry.blockSize, frameSize: geometry.frameSize,
                                framesPerBlock: geometry.framesPerBlock, frameCount: geometry.slotCount)
    }

    deinit {
        _ = hl_munmap(base, geometry.mappedLength)
        _ = hl_close(descriptor)
    }

    @inline(__always)
    private func frameAddress(_ index: UInt32) -> UnsafeMutableRawPointer { slots.address(index) }

    /// The next free slot in ring order, or nil while the kernel still owns
    /// it (ring full: flush and wait for space) or a slot is already out.
    @inline(__always)
    public func reserveSlot() -> TXSlot? {
        if slotOutstanding { return nil }
        let frame = frameAddress(currentFrame)
        var status = hl_v2_frame_status_acquire(frame)
        if status & UInt32(HL_TP_STATUS_WRONG_FORMAT) != 0 {
            wrongFormatCount &+= 1
            hl_v2_frame_reset(frame)
            status = UInt32(HL_TP_STATUS_AVAILABLE)
        }
        guard status == UInt32(HL_TP_STATUS_AVAILABLE) else { return nil }
        slotOutstanding = true
        let header = sendsOffloads ? PacketOffload.headerSize : 0
        return TXSlot(frame: frame, index: currentFrame,
                      buffer: UnsafeMutableRawBufferPointer(start: frame + dataOffset + header,
                                                            count: maximumFrameLength))
    }

    /// Publishes the first `length` bytes of the slot for transmission,
    /// with `offload` in its virtio_net_hdr (ignored by a ring without
    /// `sendsOffloads`, whose frames must be complete). A length outside
    /// 1...capacity gives the slot back unsent (false).
    @inline(__always)
    @discardableResult
    public func submit(_ slot: consuming TXSlot, length: Int, offload: PacketOffload = .none) -> Bool {
        guard slotOutstanding, slot.index == currentFrame, slot.frame == frameAddress(currentFrame) else {
            return false
        }
        slotOutstanding = false
        guard length > 0, length <= slot.buffer.count else { return false }
        if sendsOffloads {
            // Every slot is reused: the header is always written.
            offload.store(to: slot.frame + dataOffset)
            hl_v2_frame_submit(slot.frame, UInt32(length + PacketOffload.headerSize))
        } else {
            hl_v2_frame_submit(slot.frame, UInt32(length))
        }
        currentFrame = slots.after(currentFrame)
        submittedSinceFlush += 1
        return true
    }

    /// Gives a reserved slot back without sending it.
    public func abandon(_ slot: consuming TXSlot) {
        if slotOutstanding, slot.index == currentFrame { slotOutstanding = false }
    }

    /// Copies one frame into the next slot and submits it; false when the
    /// ring is full or the frame does not fit a slot.
    @inline(__always)
    @discardableResult
    public func enqueue(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard frame.count > 0, frame.count <= maximumFrameLength, let slot = reserveSlot() else {
            return false
        }
        if let source = frame.baseAddress, let destination = slot.buffer.baseAddress {
            destination.copyMemory(from: source, byteCount: frame.count)
        }
        return submit(slot, length: frame.count)
    }

    /// Asks the kernel to send every submitted frame without blocking.
    /// `.wouldBlock` (EAGAIN/ENOBUFS) means the device queue is busy: frames
    /// stay requested and the next flush sends them.
    @inline(__always)
    @discardableResult
    public func flush() throws(SyscallError) -> NonBlockingResult<Void> {
        guard submittedSinceFlush > 0 else { return .done(()) }
        switch try retryingInterruptsNonBlocking(.transmit, { hl_packet_tx_kick(descriptor) }) {
        case .done:
            submittedSinceFlush = 0
            return .done(())
        case .wouldBlock:
            return .wouldBlock
        }
    }

    /// Sleeps in poll() until the kernel has freed slots (POLLOUT).
    public func waitForSpace(timeoutMilliseconds: Int32) throws(SyscallError) -> Bool {
        try retryingInterrupts(.poll) { hl_poll_writable(descriptor, timeoutMilliseconds) } > 0
    }

    /// Whether every slot has been transmitted and returned to user space.
    public var isDrained: Bool {
        for index in 0..<geometry.slotCount
        where hl_v2_frame_status_acquire(frameAddress(index)) != UInt32(HL_TP_STATUS_AVAILABLE) {
            return false
        }
        return true
    }
}

/// A reserved TX slot: write the frame into `buffer`, then submit it.
public struct TXSlot: ~Copyable {
    let frame: UnsafeMutableRawPointer
    let index: UInt32
    public let buffer: UnsafeMutableRawBufferPointer
}
