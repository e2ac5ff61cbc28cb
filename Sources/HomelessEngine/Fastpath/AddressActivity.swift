import CHomeless
import HomelessWire

/// When the workers last carried traffic to or from a peer address, for
/// the activity-related lifetimes of draft 2.1.3 ("the addresses expire
/// when they have not been used for DEFAULT-LIFETIME seconds").
///
/// The slow path advances a coarse clock, the epoch, once a second; per
/// forwarded frame a worker stores the current epoch in the bucket of the
/// peer's address (a hash of the 128 bits into 4096 buckets). Before each
/// expiry sweep the slow path asks, for every activity-related address,
/// whether its bucket saw the current or the previous epoch, and restarts
/// the address's lifetime if so. Two addresses sharing a bucket keep each
/// other alive a little longer, never shorter. Workers only load the epoch
/// and store a bucket (relaxed, skipped when the value is already there):
/// no lock, no read-modify-write, no allocation.
public final class AddressActivity: @unchecked Sendable {
    static let bucketCount = 4096
    private let epoch: UnsafeMutablePointer<UInt64>
    private let buckets: UnsafeMutablePointer<UInt32>

    public init() {
        let epochRaw = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        epochRaw.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        epoch = epochRaw.bindMemory(to: UInt64.self, capacity: 8)
        let bytes = Self.bucketCount * MemoryLayout<UInt32>.stride
        let raw = UnsafeMutableRawPointer.allocate(byteCount: bytes, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: bytes)
        buckets = raw.bindMemory(to: UInt32.self, capacity: Self.bucketCount)
        // Epoch 0 would look like "used" to an untouched bucket.
        hl_store_relaxed_u64(epoch, 1)
    }

    deinit {
        UnsafeMutableRawPointer(epoch).deallocate()
        UnsafeMutableRawPointer(buckets).deallocate()
    }

    @inline(__always)
    static func bucket(of address: IPv6Address) -> Int {
        let mixed = (address.high ^ (address.low &* 0x9E37_79B9_7F4A_7C15)) &* 0xBF58_476D_1CE4_E5B9
        return Int(truncatingIfNeeded: mixed >> 52)
    }

    // MARK: Workers

    /// Records that a frame to or from `address` was forwarded now.
    @inline(__always)
    func noteUse(of address: IPv6Address) {
        let now = UInt32(truncatingIfNeeded: hl_load_relaxed_u64(epoch))
        let slot = buckets + Self.bucket(of: address)
        if hl_load_relaxed_u32(slot) != now { hl_store_relaxed_u32(slot, now) }
    }

    // MARK: Slow path

    /// Starts a new epoch (once a second).
    func advance() -> UInt32 {
        let next = hl_load_relaxed_u64(epoch) &+ 1
        hl_store_relaxed_u64(epoch, next)
        return UInt32(truncatingIfNeeded: next)
    }

    /// Whether `address` carried traffic in the current or the previous
    /// epoch (the interval since the last check).
    func wasUsedRecently(_ address: IPv6Address) -> Bool {
        let now = UInt32(truncatingIfNeeded: hl_load_relaxed_u64(epoch))
        let seen = hl_load_relaxed_u32(buckets + Self.bucket(of: address))
        return seen != 0 && (seen == now || seen &+ 1 == now)
    }
}
