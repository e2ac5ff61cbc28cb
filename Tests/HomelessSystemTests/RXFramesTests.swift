@testable import HomelessSystem
import Testing

/// The ring's frame headers live in memory shared with the kernel; the
/// walker must stay inside the block whatever they say.
@Suite struct RXFramesTests {
    /// tpacket_block_desc: num_pkts at 12, offset_to_first_pkt at 16.
    /// tpacket3_hdr: next_offset 0, snaplen 12, len 16, status 20, mac 24.
    final class FakeBlock {
        let memory = UnsafeMutableRawBufferPointer.allocate(byteCount: 4096, alignment: 64)
        init(packets: UInt32, firstOffset: UInt32) {
            memory.initializeMemory(as: UInt8.self, repeating: 0)
            memory.storeBytes(of: packets, toByteOffset: 12, as: UInt32.self)
            memory.storeBytes(of: firstOffset, toByteOffset: 16, as: UInt32.self)
        }
        deinit { memory.deallocate() }
        func frame(at offset: Int, next: UInt32, mac: UInt16, snap: UInt32, fill: UInt8) {
            memory.storeBytes(of: next, toByteOffset: offset, as: UInt32.self)
            memory.storeBytes(of: snap, toByteOffset: offset + 12, as: UInt32.self)
            memory.storeBytes(of: snap, toByteOffset: offset + 16, as: UInt32.self)
            memory.storeBytes(of: mac, toByteOffset: offset + 24, as: UInt16.self)
            let start = offset + Int(mac)
            if start + Int(snap) <= memory.count {
                for index in start..<(start + Int(snap)) { memory[index] = fill }
            }
        }
        func walk() -> (frames: [[UInt8]], malformed: Bool) {
            let block = RXBlock(base: memory.baseAddress!, index: 0, size: UInt32(memory.count))
            var iterator = block.frames.makeIterator()
            var frames: [[UInt8]] = []
            while let frame = iterator.next() { frames.append(Array(frame.bytes)) }
            return (frames, iterator.stoppedOnMalformedHeader)
        }
    }

    @Test func wellFormedFramesAreWalkedInOrder() {
        let block = FakeBlock(packets: 2, firstOffset: 48)
        block.frame(at: 48, next: 128, mac: 82, snap: 20, fill: 0xaa)
        block.frame(at: 176, next: 0, mac: 82, snap: 30, fill: 0xbb)
        let result = block.walk()
        #expect(result.frames == [[UInt8](repeating: 0xaa, count: 20), [UInt8](repeating: 0xbb, count: 30)])
        #expect(!result.malformed)
    }

    @Test func snapLengthPastTheBlockStopsTheWalk() {
        let block = FakeBlock(packets: 3, firstOffset: 48)
        block.frame(at: 48, next: 128, mac: 82, snap: 20, fill: 1)
        block.frame(at: 176, next: 128, mac: 82, snap: 5000, fill: 2)
        let result = block.walk()
        #expect(result.frames.count == 1)
        #expect(result.malformed)
    }

    @Test func zeroOrOutOfBlockNextOffsetStopsTheWalk() {
        let zero = FakeBlock(packets: 3, firstOffset: 48)
        zero.frame(at: 48, next: 0, mac: 82, snap: 20, fill: 1)
        #expect(zero.walk().frames.count == 1)
        #expect(zero.walk().malformed)

        let far = FakeBlock(packets: 2, firstOffset: 48)
        far.frame(at: 48, next: 0xffff_fff0, mac: 82, snap: 20, fill: 1)
        #expect(far.walk().frames.count == 1)
        #expect(far.walk().malformed)
    }

    @Test func firstOffsetPastTheBlockYieldsNothing() {
        let block = FakeBlock(packets: 5, firstOffset: 4090)
        let result = block.walk()
        #expect(result.frames.isEmpty)
        #expect(result.malformed)
    }
}
