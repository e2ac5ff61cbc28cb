import CHomeless
import HomelessSystem

/// A bounded single-producer single-consumer queue of frames from one
/// worker (producer) to the slow path (consumer). Slots are preallocated
/// and fixed-size, so pushing copies the frame and allocates nothing; a full
/// queue refuses the frame (the worker counts it as `punt-queue-full`)
/// rather than blocking the fast path.
///
/// Indices only grow; `tail - head` is the fill. The producer publishes a
/// slot by storing `tail` with release ordering after writing it, the
/// consumer frees it by storing `head` with release ordering after reading
/// it; each side loads the other's index with acquire ordering.
public final class PuntQueue: @unchecked Sendable {
    public let capacity: Int
    public let slotSize: Int
    private let mask: UInt64
    private let storage: UnsafeMutableRawPointer
    /// head at offset 0, tail at offset 64: separate cache lines.
    private let indices: UnsafeMutablePointer<UInt64>
    /// Producer-side cache of `head` (avoids an acquire load per push).
    private var cachedHead: UInt64 = 0
    /// Signalled after every push, so a sleeping slow path wakes at once.
    /// Every push, not only into an empty queue: the producer cannot tell
    /// without a race whether the consumer has gone to sleep. Punts are
    /// rare (signalling and conversation notes), so the write costs little.
    public let wakeup: SlowPathWakeup?

    /// Slot header: frame length (UInt32) and the frame's tag (UInt32).
    static let headerSize = 8

    /// `capacity` is rounded up to a power of two.
    public init(capacity: Int = 1024, maximumFrameLength: Int = 2048, wakeup: SlowPathWakeup? = nil) {
        self.wakeup = wakeup
        var rounded = 1
        while rounded < max(capacity, 2) { rounded <<= 1 }
        self.capacity = rounded
        mask = UInt64(rounded - 1)
        slotSize = (maximumFrameLength + Self.headerSize + 63) / 64 * 64
        storage = UnsafeMutableRawPointer.allocate(byteCount: rounded * slotSize, alignment: 64)
        let raw = UnsafeMutableRawPointer.allocate(byteCount: 128, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: 128)
        indices = raw.bindMemory(to: UInt64.self, capacity: 16)
    }

    deinit {
        storage.deallocate()
        UnsafeMutableRawPointer(indices).deallocate()
    }

    private var headPointer: UnsafeMutablePointer<UInt64> { indices }
    private var tailPointer: UnsafeMutablePointer<UInt64> { indices + 8 }

    /// Producer only. Copies `frame` with `tag`; false when full or too long.
    @inline(__always)
    public func push(_ frame: UnsafeRawBufferPointer, tag: UInt32) -> Bool {
        guard frame.count <= slotSize - Self.headerSize, let source = frame.baseAddress else { return false }
        let tail = hl_load_relaxed_u64(tailPointer)
        if tail &- cachedHead >= UInt64(capacity) {
            cachedHead = hl_load_acquire_u64(headPointer)
            if tail &- cachedHead >= UInt64(capacity) { return false }
        }
        let slot = storage + Int(tail & mask) * slotSize
        slot.storeBytes(of: UInt32(frame.count), as: UInt32.self)
        slot.storeBytes(of: tag, toByteOffset: 4, as: UInt32.self)
        (slot + Self.headerSize).copyMemory(from: source, byteCount: frame.count)
        hl_store_release_u64(tailPointer, tail &+ 1)
        wakeup?.signal()
        return true
    }

    /// Consumer only. Hands the oldest frame to `body` (valid only during
    /// the call) and frees its slot; false when empty.
    @discardableResult
    public func pop(_ body: (UnsafeRawBufferPointer, UInt32) -> Void) -> Bool {
        let head = hl_load_relaxed_u64(headPointer)
        let tail = hl_load_acquire_u64(tailPointer)
        guard tail != head else { return false }
        let slot = UnsafeRawPointer(storage + Int(head & mask) * slotSize)
        let length = Int(slot.load(as: UInt32.self))
        let tag = slot.load(fromByteOffset: 4, as: UInt32.self)
        body(UnsafeRawBufferPointer(start: slot + Self.headerSize, count: min(length, slotSize - Self.headerSize)), tag)
        hl_store_release_u64(headPointer, head &+ 1)
        return true
    }

    /// Frames waiting (any thread; approximate while both sides run).
    public var count: Int {
        Int(truncatingIfNeeded: hl_load_acquire_u64(tailPointer) &- hl_load_acquire_u64(headPointer))
    }
}
