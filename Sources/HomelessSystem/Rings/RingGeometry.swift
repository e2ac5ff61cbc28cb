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

/// Layout of a TPACKET_V3 receive ring: `blockCount` blocks of `blockSize`
/// bytes; the kernel packs variable-size frames (at most `frameSize` bytes
/// each, header included) into the current block and hands the block to
/// user space when it is full or `retireTimeoutMilliseconds` have passed.
public struct RXRingGeometry: Hashable, Sendable {
    public var blockSize: UInt32
    public var blockCount: UInt32
    public var frameSize: UInt32
    /// Upper bound on the latency a lightly loaded ring adds: a block that is
    /// not full is retired after this long.
    public var retireTimeoutMilliseconds: UInt32

    public init(blockSize: UInt32, blockCount: UInt32, frameSize: UInt32, retireTimeoutMilliseconds: UInt32) {
        self.blockSize = blockSize
        self.blockCount = blockCount
        self.frameSize = frameSize
        self.retireTimeoutMilliseconds = retireTimeoutMilliseconds
    }

    /// 256 blocks of 64 KiB (16 MiB per socket), 2 KiB frames for a
    /// 1500-byte MTU, and 1 ms retirement so a handover is not delayed.
    /// Many small blocks rather than few large ones: a block is handed over
    /// when full or after 1 ms, so at moderate rates blocks leave partly
    /// filled and the ring buffers (block count) milliseconds, not (size /
    /// frame) frames. 256 blocks ride out a quarter second without the
    /// worker; 32 blocks of 256 KiB lost 16 % of 200 kpps on a shared
    /// 2-CPU machine where this loses nothing (docs/PERFORMANCE.md).
    public static let standard = RXRingGeometry(
        blockSize: 64 * 1024, blockCount: 256, frameSize: 2048, retireTimeoutMilliseconds: 1)

    public var mappedLength: Int { Int(blockSize) * Int(blockCount) }

    public func validate() throws(RingGeometryError) {
        try validateBlocks(blockSize: blockSize, blockCount: blockCount, frameSize: frameSize,
                           minimumFrame: hl_v3_min_frame_size())
    }
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

    /// 4096 slots of 2 KiB in 64 KiB blocks (8 MiB per socket).
    public static let standard = TXRingGeometry(blockSize: 64 * 1024, frameSize: 2048, frameCount: 4096)

    public var framesPerBlock: UInt32 { frameSize == 0 ? 0 : blockSize / frameSize }
    public var blockCount: UInt32 { framesPerBlock == 0 ? 0 : (frameCount + framesPerBlock - 1) / framesPerBlock }
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
