import HomelessSystem
import Testing

@Suite struct RingGeometryTests {
    @Test func standardGeometriesAreAccepted() throws {
        try RXRingGeometry.standard.validate()
        try TXRingGeometry.standard.validate()
        try RXRingGeometry.smallFrameBlocks.validate()
        try TXRingGeometry.smallFrames.validate()
        // Per-frame hand-off in 2 KiB slots, deep for small frames; 64 KiB
        // super-frames come whole through the copy path.
        #expect(RXRingGeometry.standard.layout == .frames)
        #expect(RXRingGeometry.standard.holdsSuperFrames)
        #expect(RXRingGeometry.standard.copiesLongFrames)
        #expect(RXRingGeometry.standard.frameCount >= 4096)
        #expect(RXRingGeometry.standard.mappedLength == 8 << 20)
        #expect(TXRingGeometry.standard.blockCount == 16)
        #expect(TXRingGeometry.standard.maximumFrameLength == 65536 + 256 - 32)
        #expect(!RXRingGeometry.smallFrameBlocks.holdsSuperFrames)
        #expect(RXRingGeometry.smallFrameBlocks.mappedLength == 256 * 64 * 1024)
        #expect(TXRingGeometry.smallFrames.maximumFrameLength == 2048 - 32)
    }

    /// A TPACKET_V2 slot must hold the V2 frame header; V3 its own.
    @Test func perFrameLayoutValidatesItsSlots() {
        var geometry = RXRingGeometry.standard
        geometry.frameSize = 2 << 20
        #expect(throws: RingGeometryError.frameLargerThanBlock(frame: 2 << 20, block: 64 * 1024)) {
            try geometry.validate()
        }
        // Slots that take a whole super-frame need no copy path.
        geometry.blockSize = 1 << 20
        geometry.blockCount = 16
        geometry.frameSize = RXRingGeometry.superFrameSlotSize
        #expect(geometry.frameCount == 16 * 15)
        #expect(geometry.holdsSuperFrames && !geometry.copiesLongFrames)
    }

    @Test func blockSizeMustBeWholePages() {
        let geometry = RXRingGeometry(blockSize: 5000, blockCount: 4, frameSize: 2048, retireTimeoutMilliseconds: 1)
        #expect(throws: RingGeometryError.blockSizeNotPageMultiple(5000)) { try geometry.validate() }
    }

    @Test func frameSizeMustBeAlignedAndHoldTheHeader() {
        let unaligned = RXRingGeometry(blockSize: 4096, blockCount: 4, frameSize: 2040, retireTimeoutMilliseconds: 1)
        #expect(throws: RingGeometryError.frameSizeInvalid(2040)) { try unaligned.validate() }
        let tiny = TXRingGeometry(blockSize: 4096, frameSize: 16, frameCount: 4)
        #expect(throws: RingGeometryError.frameSizeInvalid(16)) { try tiny.validate() }
        let huge = RXRingGeometry(blockSize: 4096, blockCount: 4, frameSize: 8192, retireTimeoutMilliseconds: 1)
        #expect(throws: RingGeometryError.frameLargerThanBlock(frame: 8192, block: 4096)) { try huge.validate() }
    }

    @Test func ringsLargerThanTheKernelRequestAreRefused() {
        let geometry = RXRingGeometry(blockSize: 1 << 20, blockCount: 1 << 12, frameSize: 2048,
                                      retireTimeoutMilliseconds: 1)
        #expect(throws: RingGeometryError.ringTooLarge) { try geometry.validate() }
        let empty = RXRingGeometry(blockSize: 4096, blockCount: 0, frameSize: 2048, retireTimeoutMilliseconds: 1)
        #expect(throws: RingGeometryError.blockCountZero) { try empty.validate() }
    }

    @Test func syscallErrorsNameTheStepAndErrno() {
        let error = SyscallError(step: .bind, errno: 19)
        #expect(error.description == "bind(AF_PACKET) failed: errno 19 (ENODEV)")
    }
}
