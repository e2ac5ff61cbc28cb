import Testing
@testable import HomelessEngine

@Suite struct PuntQueueTests {
    @Test func framesComeOutInOrderWithTheirTags() {
        let queue = PuntQueue(capacity: 4, maximumFrameLength: 64)
        for value in 0..<4 {
            let frame = [UInt8](repeating: UInt8(value), count: 10 + value)
            #expect(frame.withUnsafeBytes { queue.push($0, tag: UInt32(value)) })
        }
        // Full: the fifth frame is refused, not blocked on.
        #expect([UInt8](repeating: 9, count: 5).withUnsafeBytes { queue.push($0, tag: 9) } == false)
        #expect(queue.count == 4)
        for value in 0..<4 {
            var seen: ([UInt8], UInt32)?
            #expect(queue.pop { bytes, tag in seen = (Array(bytes), tag) })
            #expect(seen?.0 == [UInt8](repeating: UInt8(value), count: 10 + value))
            #expect(seen?.1 == UInt32(value))
        }
        #expect(queue.pop { _, _ in } == false)
    }

    @Test func aFrameLongerThanASlotIsRefused() {
        let queue = PuntQueue(capacity: 2, maximumFrameLength: 100)
        let long = [UInt8](repeating: 1, count: queue.slotSize)
        #expect(long.withUnsafeBytes { queue.push($0, tag: 0) } == false)
        #expect(queue.count == 0)
    }

    @Test func producerAndConsumerThreadsLoseNothing() async {
        let queue = PuntQueue(capacity: 64, maximumFrameLength: 64)
        let total = 100_000
        let producer = Task.detached {
            var refused = 0
            var next = 0
            while next < total {
                let pushed = withUnsafeBytes(of: UInt64(next)) { queue.push($0, tag: UInt32(next & 0xFFFF)) }
                if pushed { next += 1 } else { refused += 1 }
            }
            return refused
        }
        var expected = 0
        var mismatches = 0
        while expected < total {
            queue.pop { bytes, tag in
                let value = bytes.loadUnaligned(as: UInt64.self)
                if value != UInt64(expected) || tag != UInt32(expected & 0xFFFF) { mismatches += 1 }
                expected += 1
            }
        }
        _ = await producer.value
        #expect(mismatches == 0)
        #expect(queue.count == 0)
    }
}
