import CHomeless

/// Why a ring geometry was refused before asking the kernel.
public enum RingGeometryError: Error, Hashable {
    /// Block size must be a positive multiple of the page size (4096).
    case blockSizeNotPageMultiple(UInt32)
    /// Frame size must be a multiple of 16 (TPACKET_ALIGNMENT) and hold the header.
    case frameSizeInvalid(UInt32)
    /// A block must hold at least one frame.
    case frameLargerThanBlock(frame: UInt32, block: UInt32)
    case blockCountZero
    /// The mapping would exceed what a 32-bit ring request can describe.
    case ringTooLarge
}

/// Page size the kernel requires ring blocks to be a multiple of. Every
/// architecture this engine runs on uses 4 KiB base pages for the ring.
let ringPageSize: UInt32 = 4096

/// How the kernel hands received frames to user space.
public enum RXRingLayout: String, Hashable, Sendable, CaseIterable {
    /// TPACKET_V2: fixed-size frame slots, one status word each. The kernel
    /// hands every frame over (and wakes a sleeping worker) the moment it
    /// is written, so a lone frame waits for nothing: the low-latency layout.
    case frames
    /// TPACKET_V3: variable-size frames packed into blocks, one status word
    /// per block; a block is handed over when full or when its retire
    /// timeout (at least 1 ms) passes. Denser for small frames, but a lone
    /// frame waits for the timeout.
    case blocks

    /// The TPACKET version the layout uses.
    var tpacketVersion: Int32 { self == .frames ? Int32(HL_TPACKET_V2) : Int32(HL_TPACKET_V3) }
}

/// Layout of a receive ring: `blockCount` blocks of `blockSize` bytes.
/// With `.frames` (TPACKET_V2) each block holds `blockSize / frameSize`
/// fixed slots; with `.blocks` (TPACKET_V3) the kernel packs variable-size
/// frames (at most `frameSize` bytes each, header included) into the
/// current block and hands the block to user space when it is full or
/// `retireTimeoutMilliseconds` have passed.
public struct RXRingGeometry: Hashable, Sendable {
    public var blockSize: UInt32
    public var blockCount: UInt32
    public var frameSize: UInt32
    /// TPACKET_V3 only: upper bound on the latency a lightly loaded ring
    /// adds: a block that is not full is retired after this long.
    public var retireTimeoutMilliseconds: UInt32
    public var layout: RXRingLayout

    public init(blockSize: UInt32, blockCount: UInt32, frameSize: UInt32, retireTimeoutMilliseconds: UInt32,
                layout: RXRingLayout = .blocks) {
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.frameSize = frameSize
        self.retireTimeoutMilliseconds = retireTimeoutMilliseconds
        self.layout = layout
    }

    /// A slot that holds a 64 KiB segmentation-offload super-frame with the
    /// ring's frame header, the virtio_net_hdr and the Ethernet header in
    /// front (the kernel puts the MAC header 76 bytes into a TPACKET_V2
    /// slot with PACKET_VNET_HDR; 256 bytes leave room for more).
    public static let superFrameSlotSize: UInt32 = 65536 + 256

    /// Per-frame hand-off (TPACKET_V2) in 128 blocks of 64 KiB, 32 slots
    /// of 2 KiB each: 4096 frames up to a 1500-byte MTU, 8 MiB per socket.
    /// A frame is handed over at once (no block retirement: microseconds,
    /// not a millisecond, per ring; docs/PERFORMANCE.md). A 64 KiB
    /// segmentation-offload super-frame (PACKET_VNET_HDR) does not fit a
    /// slot: the ring sets PACKET_COPY_THRESH, so the kernel writes it
    /// truncated with TP_STATUS_COPY and queues the whole frame on the
    /// socket, where the worker takes it with one recv() (`copiesLongFrames`).
    /// Small slots keep the ring deep for small frames (240 super-frame
    /// slots lost two thirds of 200 kpps on a busy machine).
    public static let standard = RXRingGeometry(
        blockSize: 64 * 1024, blockCount: 128, frameSize: 2048, retireTimeoutMilliseconds: 1,
        layout: .frames)

    /// TPACKET_V3 blocks for small frames only: 256 blocks of 64 KiB
    /// (16 MiB per socket), 2 KiB frames for a 1500-byte MTU, and 1 ms
    /// retirement. Many small blocks rather than few large ones: a block is
    /// handed over when full or after 1 ms, so at moderate rates blocks
    /// leave partly filled and the ring buffers (block count) milliseconds,
    /// not (size / frame) frames. 256 blocks ride out a quarter second
    /// without the worker; 32 blocks of 256 KiB lost 16 % of 200 kpps on a
    /// shared 2-CPU machine where this loses nothing (docs/PERFORMANCE.md).
    public static let smallFrameBlocks = RXRingGeometry(
        blockSize: 64 * 1024, blockCount: 256, frameSize: 2048, retireTimeoutMilliseconds: 1)

    public var mappedLength: Int { Int(blockSize) * Int(blockCount) }
    /// TPACKET_V2 slots (`.frames`): frames per block times blocks.
    public var frameCount: UInt32 { frameSize == 0 ? 0 : blockSize / frameSize * blockCount }
    /// Whether a 64 KiB super-frame reaches user space whole: in a slot or
    /// through the copy path (V2), or in a block (V3).
    public var holdsSuperFrames: Bool {
        layout == .frames || blockSize >= Self.superFrameSlotSize
    }

    /// V2 slots smaller than a super-frame: frames longer than a slot come
    /// through the socket's receive queue (PACKET_COPY_THRESH).
    public var copiesLongFrames: Bool { layout == .frames && frameSize < Self.superFrameSlotSize }

    /// Receive buffer (SO_RCVBUF) for the copy path: the kernel queues a
    /// copy only while the queued copies' memory is below it; 4 MiB holds
    /// a few dozen super-frames (each charged a few pages over 64 KiB).
    public static let copyReceiveBufferBytes: Int32 = 4 << 20

    public func validate() throws(RingGeometryError) {
        try validateBlocks(blockSize: blockSize, blockCount: blockCount, frameSize: frameSize,
                           minimumFrame: layout == .frames ? hl_v2_min_frame_size() : hl_v3_min_frame_size())
    }
}

/// Fixed-size TPACKET_V2 slots: slot `i` lives in block `i / perBlock`;
/// slots never straddle blocks.
struct FrameSlots {
    let base: UnsafeMutableRawPointer
    let blockSize: UInt32
    let frameSize: UInt32
    let framesPerBlock: UInt32
    let frameCount: UInt32

    @inline(__always)
    func address(_ index: UInt32) -> UnsafeMutableRawPointer {
        base + Int(index / framesPerBlock) * Int(blockSize) + Int(index % framesPerBlock) * Int(frameSize)
    }

    @inline(__always)
    func after(_ index: UInt32) -> UInt32 { index + 1 == frameCount ? 0 : index + 1 }
}

/// Layout of a TPACKET_V2 transmit ring: `frameCount` fixed-size slots,
/// grouped into blocks of `blockSize` bytes for the mapping.
public struct TXRingGeometry: Hashable, Sendable {
    public var blockSize: UInt32
    public var frameSize: UInt32
    public var frameCount: UInt32

    public init(blockSize: UInt32, frameSize: UInt32, frameCount: UInt32) {
        self.blockSize = blockSize
        self.frameSize = frameSize
        self.frameCount = frameCount
    }

    /// 240 slots of 64.25 KiB in 1 MiB blocks (16 MiB per socket): a slot
    /// takes a whole 64 KiB super-frame with its virtio_net_hdr, which the
    /// kernel segments only where the egress device needs it.
    public static let standard = TXRingGeometry(
        blockSize: 1 << 20, frameSize: RXRingGeometry.superFrameSlotSize, frameCount: 240)

    /// 4096 slots of 2 KiB in 64 KiB blocks (8 MiB per socket), for frames
    /// up to a 1500-byte MTU.
    public static let smallFrames = TXRingGeometry(blockSize: 64 * 1024, frameSize: 2048, frameCount: 4096)

    public var framesPerBlock: UInt32 { frameSize == 0 ? 0 : blockSize / frameSize }
    public var blockCount: UInt32 { framesPerBlock == 0 ? 0 : (frameCount + framesPerBlock - 1) / framesPerBlock }
    /// Slots the kernel makes: whole blocks, so `frameCount` rounded up to
    /// a multiple of `framesPerBlock`. The kernel sends slots in this
    /// ring order; user space must fill them in the same order.
    public var slotCount: UInt32 { blockCount * framesPerBlock }
    public var mappedLength: Int { Int(blockSize) * Int(blockCount) }
    /// Largest frame a slot can carry.
    public var maximumFrameLength: Int { Int(frameSize) - Int(hl_v2_tx_data_offset()) }

    public func validate() throws(RingGeometryError) {
        if frameCount == 0 { throw .blockCountZero }
        try validateBlocks(blockSize: blockSize, blockCount: blockCount, frameSize: frameSize,
                           minimumFrame: hl_v2_min_frame_size())
    }
}

private func validateBlocks(
    blockSize: UInt32, blockCount: UInt32, frameSize: UInt32, minimumFrame: UInt32
) throws(RingGeometryError) {
    if blockSize == 0 || blockSize % ringPageSize != 0 { throw .blockSizeNotPageMultiple(blockSize) }
    if frameSize < minimumFrame || frameSize % UInt32(HL_TPACKET_ALIGNMENT) != 0 {
        throw .frameSizeInvalid(frameSize)
    }
    if frameSize > blockSize { throw .frameLargerThanBlock(frame: frameSize, block: blockSize) }
    if blockCount == 0 { throw .blockCountZero }
    let (bytes, overflow) = blockSize.multipliedReportingOverflow(by: blockCount)
    if overflow || bytes > UInt32(Int32.max) { throw .ringTooLarge }
}
