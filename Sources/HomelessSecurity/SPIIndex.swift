/// Open-addressing map from inbound SPI to a slot in the SA table.
///
/// Built when SAs are installed (control path); lookups probe a flat array
/// of (SPI, slot) pairs and never allocate. SPI 0 is reserved (RFC 4302
/// 2.4) and marks empty buckets. The table is kept at most half full.
struct SPIIndex: Sendable {
    private var keys: [UInt32]
    private var slots: [Int32]
    private var mask: Int

    init(spis: [UInt32]) {
        var capacity = 8
        while capacity < spis.count * 2 { capacity *= 2 }
        keys = [UInt32](repeating: 0, count: capacity)
        slots = [Int32](repeating: -1, count: capacity)
        mask = capacity - 1
        for (slot, spi) in spis.enumerated() where spi != 0 {
            var bucket = Self.hash(spi) & mask
            while keys[bucket] != 0 { bucket = (bucket + 1) & mask }
            keys[bucket] = spi
            slots[bucket] = Int32(slot)
        }
    }

    /// Fibonacci hashing: SPIs are often sequential, the multiply spreads them.
    @inline(__always)
    static func hash(_ spi: UInt32) -> Int {
        Int(truncatingIfNeeded: (UInt64(spi) &* 0x9E37_79B9_7F4A_7C15) >> 32)
    }

    func slot(for spi: UInt32) -> Int? {
        guard spi != 0 else { return nil }
        return keys.withUnsafeBufferPointer { keys in
            var bucket = Self.hash(spi) & mask
            while true {
                let key = keys[bucket]
                if key == spi { return Int(slots[bucket]) }
                if key == 0 { return nil }
                bucket = (bucket + 1) & mask
            }
        }
    }
}
