import HomelessWire

/// A small direct-mapped set of IPv6 addresses a worker has seen lately,
/// so that it tells the slow path about the *first* UDP datagram to or
/// from an address (draft 2.1.1: a UDP conversation opens with its first
/// datagram; 2.1.2: its first reply triggers the Initial Binding Update)
/// without a note per datagram. One slot per hash value: a colliding
/// address evicts the previous one, whose next datagram is then noted
/// again (the slow path sees it already has the entry). Fixed memory,
/// allocated once; one owner thread, so no atomics; no allocation per use.
final class RecentAddressFilter {
    let slotCount: Int
    private let words: UnsafeMutablePointer<UInt64>

    /// `slots` is rounded up to a power of two.
    init(slots: Int = 1024) {
        var count = 1
        while count < max(slots, 1) { count <<= 1 }
        slotCount = count
        words = .allocate(capacity: count * 2)
        words.initialize(repeating: 0, count: count * 2)
    }

    deinit { words.deallocate() }

    /// Records `address`; true when it was not the address in its slot
    /// (first sight, or seen again after being evicted).
    @inline(__always)
    func insert(_ address: IPv6Address) -> Bool {
        // Fibonacci hashing of the folded address: cheap and spreads the
        // low-entropy interface identifiers of one prefix over the slots.
        let folded = (address.high ^ (address.low &* 0x9E37_79B9_7F4A_7C15)) &* 0x9E37_79B9_7F4A_7C15
        let slot = Int(truncatingIfNeeded: folded >> 32) & (slotCount - 1)
        let base = words + slot * 2
        if base[0] == address.high && base[1] == address.low { return false }
        base[0] = address.high
        base[1] = address.low
        return true
    }
}
