public import CHomeless
public import HomelessWire

// MARK: - The fast-path address index
//
// Every packet the engine handles needs "which Host Cache Entry owns this
// 128-bit address?" (draft 1.4: a received packet's source selects the
// Foreign Host Cache Entry; its destination must be in a Local one). Worker
// threads ask that question millions of times a second while the slow-path
// actor, the only writer, adds and removes addresses as Binding Updates,
// expiry and netlink events arrive. The index therefore has to let readers
// proceed without locks, without allocating and without ever acting on a
// half-written slot.
//
// Layout. One raw allocation, page aligned (an anonymous mapping, so only
// the pages keys touch become resident), that never moves or grows:
//
//     +----------------------+  byte 0
//     | sequence counter     |  the table's seqlock word, alone in its line
//     | (padding to 64 B)    |
//     +----------------------+  byte 64
//     | slot 0: keyHigh      |  3 x UInt64 = 24 B per slot (as dense as the
//     |         keyLow       |  C reference table; a 32 B slot measured
//     |         value        |  slower at 1M entries: more pages, more TLB
//     | slot 1 ...           |  misses). value: opaque (see IndexedAddress)
//     +----------------------+  64 + 24 * slotCount
//
// Open addressing with linear probing over a power-of-two number of slots.
// By default slots >= 2 x capacity, so the load stays at or below one half
// and probe sequences stay short; since count <= capacity < slots, an empty
// slot always ends a probe. The key (0, 0) - the unspecified address, never
// a valid Host Cache address - marks an empty slot. Deletion uses backward
// shift (Knuth 6.4 Algorithm R): the following entries of the cluster move
// up into the hole, so there are no tombstones, the probe invariant holds
// after every operation and the memory stays exactly what was allocated,
// however many inserts and deletes happen.
//
// Concurrency: one writer, any number of readers, a seqlock.
//   * Every access to the slot words, by readers and by the writer, is a
//     relaxed atomic load or store through the C shim (hl_load_relaxed_u64,
//     hl_store_relaxed_u64). There are no plain racing accesses, so the
//     program has no data race in the C11/Swift memory model and
//     ThreadSanitizer has nothing to report; relaxed atomics on 64-bit words
//     compile to ordinary moves on x86-64 and AArch64.
//   * The writer brackets each operation (one insert, update or delete,
//     including all the slots a backward shift moves) with the sequence
//     counter: store odd (relaxed), release fence, slot stores, store even
//     (release). The release fence keeps the odd store ahead of the slot
//     stores; the final release store keeps the slot stores ahead of the
//     even value.
//   * A reader loads the counter with acquire, retries while it is odd,
//     probes with relaxed loads, issues an acquire fence and reloads the
//     counter. If it is unchanged no write overlapped the probe (any slot
//     store the reader observed would, through the fences, force it to see
//     the counter moved), so the answer - hit with its value, or miss - is
//     one the table really held. Otherwise the reader probes again. This
//     covers misses too: a key that a backward shift is moving can look
//     absent mid-write, and the changed counter sends the reader round
//     again. A torn read can only produce a wrong answer that is then
//     discarded; the probe loop is bounded by the slot count so even
//     garbage cannot trap or spin. Readers are lock-free, not wait-free.
//   * There is exactly one writer (the slow-path actor owns the HostCache
//     that owns this index), so writers need no mutual exclusion.
//   * Nothing is ever reclaimed while readers run: the slots are updated in
//     place and the allocation lives as long as the index object, which every
//     worker keeps a strong reference to. There is no RCU grace period to
//     manage because memory never moves.
//   Writes are rare (control-plane rate) and short (a few slots), so readers
//   almost never retry; a reader never makes the writer wait.
//
// Hash: a seeded 128 -> 64 bit multiply-xorshift mix of both halves
// (`AddressIndex.hash`), the same shape as the C reference table's. The
// seed is random per index in production, so a peer that chooses its own
// addresses (care-of addresses, Alternate Prefixes suffixes) cannot
// precompute a set that lands in one probe cluster. (It is not a keyed PRF;
// the bounded capacity and authenticated Binding Updates limit what an
// attacker can insert in the first place.)

/// Fixed-capacity, lock-free-read open-addressing map from IPv6 address to
/// an opaque 64-bit value. One writer thread; readers on any thread.
public final class AddressIndex: @unchecked Sendable {
    /// Words per slot: key high, key low, value.
    @usableFromInline static let wordsPerSlot = 3
    @usableFromInline static let headerWords = 8

    @usableFromInline let base: UnsafeMutablePointer<UInt64>
    @usableFromInline let slots: UnsafeMutablePointer<UInt64>
    @usableFromInline let seqlock: Seqlock
    @usableFromInline let mask: UInt64
    @usableFromInline let seed: UInt64

    /// Size of the mapping that holds the header and the slots.
    let byteCount: Int
    /// Number of slots (a power of two).
    public let slotCount: Int
    /// Maximum number of keys the writer accepts.
    public let capacity: Int
    /// Keys currently stored. Writer-side bookkeeping: read it only on the writer's thread.
    public private(set) var count: Int = 0

    /// Creates an index for up to `capacity` addresses. `slotCount` defaults
    /// to the smallest power of two >= 2 x capacity (at least 8); an explicit
    /// value must be a power of two greater than `capacity` (tests use small
    /// tables to force collisions and wrap-around).
    public init(capacity: Int, slotCount: Int? = nil, seed: UInt64 = 0) {
        precondition(capacity >= 1, "capacity must be positive")
        var slots = 8
        while slots < 2 * capacity { slots <<= 1 }
        if let explicit = slotCount {
            precondition(explicit > capacity && explicit & (explicit - 1) == 0,
                         "slotCount must be a power of two greater than capacity")
            slots = explicit
        }
        self.slotCount = slots
        self.capacity = capacity
        self.mask = UInt64(slots - 1)
        self.seed = seed
        let words = Self.headerWords + slots * Self.wordsPerSlot
        // Lazily backed zero pages (hl_memory.h): an index sized for a
        // million peers costs only the pages its keys touch.
        byteCount = words * 8
        guard let raw = hl_zeroed_pages_allocate(byteCount) else {
            fatalError("AddressIndex: cannot map \(byteCount) bytes")
        }
        self.base = raw.bindMemory(to: UInt64.self, capacity: words)
        self.slots = base + Self.headerWords
        self.seqlock = Seqlock(word: base)
    }

    deinit {
        hl_zeroed_pages_free(base, byteCount)
    }

    // MARK: Hash

    /// Seeded 128 -> 64 bit mix: both halves multiplied by odd constants,
    /// combined, then a xorshift-multiply finaliser so the low bits used for
    /// the slot index depend on all 128 input bits.
    @inlinable @inline(__always)
    public func hash(_ address: IPv6Address) -> UInt64 { Self.hash(address, seed: seed) }

    @inlinable @inline(__always)
    static func hash(_ address: IPv6Address, seed: UInt64) -> UInt64 {
        var x = (address.low ^ seed) &* 0x9E37_79B9_7F4A_7C15
        x ^= (address.high &+ 0x632B_E59B_D9B4_E019 &+ (seed >> 1)) &* 0xC2B2_AE3D_27D4_EB4F
        x ^= x >> 29
        x &*= 0xBF58_476D_1CE4_E5B9
        x ^= x >> 32
        return x
    }

    /// The slot where probing for `address` starts (tests use it to build
    /// colliding keys).
    public func homeSlot(of address: IPv6Address) -> Int { Int(hash(address) & mask) }

    // MARK: Readers (any thread)

    /// The value stored for `address`, or nil. Never blocks the writer,
    /// never allocates, never returns a value that was not stored for this
    /// key at some instant.
    @inlinable @inline(__always)
    public func lookup(_ address: IPv6Address) -> UInt64? {
        lookup(address, hash: hash(address))
    }

    /// `lookup` with a precomputed `hash(address)`.
    @inlinable @inline(__always)
    public func lookup(_ address: IPv6Address, hash: UInt64) -> UInt64? {
        table.lookup(address, hash: hash)
    }

    /// A reader for a loop of lookups (a worker's receive burst): the
    /// immutable fields a lookup needs, loaded once. See `Reader`.
    @inlinable @inline(__always)
    public var reader: Reader { Reader(owner: self) }

    /// The immutable fields a lookup needs, copied out of the object so the
    /// probe loop keeps them in registers (see `ReadView`).
    @inlinable @inline(__always)
    var table: ReadView { ReadView(slots: slots, mask: mask, seed: seed) }

    /// Hints the CPU to fetch the first slot `hash` probes.
    @inlinable @inline(__always)
    public func prefetch(hash: UInt64) { table.prefetch(hash: hash) }

    /// Batched lookup: hashes and prefetches up to 16 addresses before
    /// probing any, so their cache misses overlap (the DPDK pattern).
    /// `results[i]` receives the value for `addresses[i]`, or nil.
    /// `results` must be at least as long as `addresses`.
    @inlinable
    public func lookup(batch addresses: UnsafeBufferPointer<IPv6Address>,
                       into results: UnsafeMutableBufferPointer<UInt64?>) {
        table.lookup(batch: addresses, into: results)
    }

    // MARK: Writer (one thread only)

    public enum InsertResult: Equatable, Sendable {
        /// A new key was stored.
        case inserted
        /// The key was present; its value was replaced.
        case updated
        /// `count == capacity`: the key was not stored.
        case full
        /// The unspecified address cannot be a key (it marks empty slots).
        case invalidKey
    }

    /// Stores `value` for `address`, replacing any previous value.
    @discardableResult
    public func insert(_ address: IPv6Address, value: UInt64) -> InsertResult {
        if address.isUnspecified { return .invalidKey }
        let (index, found) = find(address)
        if found {
            seqlock.beginWrite()
            hl_store_relaxed_u64(slotPointer(index) + 2, value)
            seqlock.endWrite()
            return .updated
        }
        if count >= capacity { return .full }
        let slot = slotPointer(index)
        seqlock.beginWrite()
        hl_store_relaxed_u64(slot + 2, value)
        hl_store_relaxed_u64(slot, address.high)
        hl_store_relaxed_u64(slot + 1, address.low)
        seqlock.endWrite()
        count += 1
        return .inserted
    }

    /// Replaces the value of a present key; false when the key is absent.
    @discardableResult
    public func update(_ address: IPv6Address, value: UInt64) -> Bool {
        if address.isUnspecified { return false }
        let (index, found) = find(address)
        guard found else { return false }
        seqlock.beginWrite()
        hl_store_relaxed_u64(slotPointer(index) + 2, value)
        seqlock.endWrite()
        return true
    }

    /// Removes `address`; returns its value, or nil when it was absent.
    /// Backward shift: later members of the cluster whose home slot does not
    /// lie cyclically in (hole, member] move into the hole, all inside one
    /// write section so readers never see a cluster with a gap.
    @discardableResult
    public func remove(_ address: IPv6Address) -> UInt64? {
        if address.isUnspecified { return nil }
        let (found, isPresent) = find(address)
        guard isPresent else { return nil }
        var hole = found
        let removedValue = hl_load_relaxed_u64(slotPointer(hole) + 2)
        seqlock.beginWrite()
        var next = hole
        while true {
            next = (next &+ 1) & mask
            let candidate = slotPointer(next)
            let high = hl_load_relaxed_u64(candidate)
            let low = hl_load_relaxed_u64(candidate + 1)
            if high | low == 0 { break }
            let home = hash(IPv6Address(high: high, low: low)) & mask
            // The member at `next` may stay only if its home lies cyclically
            // in (hole, next]; otherwise moving it up keeps it reachable.
            let staysPut = hole <= next ? (hole < home && home <= next) : (hole < home || home <= next)
            if staysPut { continue }
            let target = slotPointer(hole)
            hl_store_relaxed_u64(target, high)
            hl_store_relaxed_u64(target + 1, low)
            hl_store_relaxed_u64(target + 2, hl_load_relaxed_u64(candidate + 2))
            hole = next
        }
        let emptied = slotPointer(hole)
        hl_store_relaxed_u64(emptied, 0)
        hl_store_relaxed_u64(emptied + 1, 0)
        hl_store_relaxed_u64(emptied + 2, 0)
        seqlock.endWrite()
        count -= 1
        return removedValue
    }

    /// Empties the table.
    public func removeAll() {
        seqlock.beginWrite()
        for word in 0..<(slotCount * Self.wordsPerSlot) { hl_store_relaxed_u64(slots + word, 0) }
        seqlock.endWrite()
        count = 0
    }

    /// Every stored (address, value), in slot order (writer side; tests and diagnostics).
    public func contents() -> [(address: IPv6Address, value: UInt64)] {
        var result: [(address: IPv6Address, value: UInt64)] = []
        result.reserveCapacity(count)
        for index in 0..<UInt64(slotCount) {
            let slot = slotPointer(index)
            let high = hl_load_relaxed_u64(slot), low = hl_load_relaxed_u64(slot + 1)
            if high | low != 0 { result.append((IPv6Address(high: high, low: low), hl_load_relaxed_u64(slot + 2))) }
        }
        return result
    }

    /// Number of write sections so far (sequence counter / 2): lets tests and
    /// counters see that the writer published.
    public var writeCount: UInt64 { seqlock.current >> 1 }

    @inline(__always)
    func slotPointer(_ index: UInt64) -> UnsafeMutablePointer<UInt64> {
        slots + Int(truncatingIfNeeded: index &* 3)
    }

    /// Writer-side probe: the slot holding `address`, or the empty slot
    /// where it would go.
    func find(_ address: IPv6Address) -> (index: UInt64, found: Bool) {
        var index = hash(address) & mask
        while true {
            let slot = slotPointer(index)
            let high = hl_load_relaxed_u64(slot), low = hl_load_relaxed_u64(slot + 1)
            if high == address.high && low == address.low { return (index, true) }
            if high | low == 0 { return (index, false) }
            index = (index &+ 1) & mask
        }
    }
}

// MARK: - Readers that keep the table in registers
//
// Why a value type: `slots`, `mask`, `seed` and the seqlock pointer are
// immutable, but they live in the index object, and every atomic in the
// seqlock bracket is a compiler barrier. A probe written against `self`
// therefore reloads them from the object after each acquire load: extra
// loads and a longer dependency chain per lookup, which at 1M entries
// (DRAM-bound) means fewer cache misses in flight. Copying them into a
// struct first makes them plain SSA values that the barriers do not touch;
// the seqlock pointer is not even copied but derived (`slots` minus the
// header line). docs/PERFORMANCE.md has the measurements.
//
// The copy changes nothing in the synchronisation: the fields copied never
// change after `init` (the allocation never moves or grows), and each
// lookup still runs the full seqlock bracket (acquire load, odd check,
// relaxed probe, acquire fence, re-check) of the comment at the top of this
// file, so every answer is still one the table really held at some instant.

extension AddressIndex {
    /// A lock-free reader of one index, for a loop of lookups on one thread
    /// (e.g. a worker's receive burst). Take it once per loop with
    /// `index.reader`; it holds a strong reference to the index, so the
    /// memory it reads stays allocated as long as the reader lives. It sees
    /// every write the writer publishes, exactly like `AddressIndex.lookup`.
    @frozen
    public struct Reader: @unchecked Sendable {
        /// Keeps the allocation alive; the probe uses only `table`.
        @usableFromInline let owner: AddressIndex
        @usableFromInline let table: ReadView

        @inlinable @inline(__always)
        init(owner: AddressIndex) {
            self.owner = owner
            self.table = owner.table
        }

        /// The value stored for `address`, or nil (see `AddressIndex.lookup`).
        @inlinable @inline(__always)
        public func lookup(_ address: IPv6Address) -> UInt64? {
            table.lookup(address, hash: table.hash(address))
        }

        /// Batched lookup (see `AddressIndex.lookup(batch:into:)`).
        @inlinable @inline(__always)
        public func lookup(batch addresses: UnsafeBufferPointer<IPv6Address>,
                           into results: UnsafeMutableBufferPointer<UInt64?>) {
            table.lookup(batch: addresses, into: results)
        }
    }

    /// The lookup code over copied immutable fields. Non-owning: used only
    /// inside a method of the index (whose `self` keeps the memory alive) or
    /// inside a `Reader` (which holds the index).
    @frozen @usableFromInline
    struct ReadView {
        @usableFromInline let slots: UnsafeMutablePointer<UInt64>
        @usableFromInline let mask: UInt64
        @usableFromInline let seed: UInt64

        @inlinable @inline(__always)
        init(slots: UnsafeMutablePointer<UInt64>, mask: UInt64, seed: UInt64) {
            self.slots = slots
            self.mask = mask
            self.seed = seed
        }

        /// The sequence word sits in the header line right before slot 0
        /// (see the layout at the top of the file): derived, not loaded.
        @inlinable @inline(__always)
        var seqlock: Seqlock { Seqlock(word: slots - AddressIndex.headerWords) }

        @inlinable @inline(__always)
        func hash(_ address: IPv6Address) -> UInt64 { AddressIndex.hash(address, seed: seed) }

        @inlinable @inline(__always)
        func prefetch(hash: UInt64) {
            hl_prefetch(slots + Int(truncatingIfNeeded: (hash & mask) &* 3))
        }

        /// One lookup inside its own seqlock bracket; retries while a write
        /// is in progress or overlapped the probe.
        @inlinable @inline(__always)
        func lookup(_ address: IPv6Address, hash: UInt64) -> UInt64? {
            while true {
                guard let start = seqlock.readBegin() else { continue }
                let result = probe(address, hash: hash)
                if seqlock.readValidate(start) { return result }
            }
        }

        @inlinable
        func lookup(batch addresses: UnsafeBufferPointer<IPv6Address>,
                    into results: UnsafeMutableBufferPointer<UInt64?>) {
            precondition(results.count >= addresses.count, "results buffer too short")
            let chunk = 16
            withUnsafeTemporaryAllocation(of: UInt64.self, capacity: chunk) { hashes in
                var start = 0
                while start < addresses.count {
                    let end = min(start + chunk, addresses.count)
                    for index in start..<end {
                        let h = hash(addresses[index])
                        hashes[index - start] = h
                        prefetch(hash: h)
                    }
                    while true {
                        guard let sequence = seqlock.readBegin() else { continue }
                        for index in start..<end {
                            results[index] = probe(addresses[index], hash: hashes[index - start])
                        }
                        if seqlock.readValidate(sequence) { break }
                    }
                    start = end
                }
            }
        }

        /// One probe sequence with relaxed loads. Bounded by the slot count, so a
        /// read torn by a concurrent write terminates (and is then discarded).
        @inlinable @inline(__always)
        func probe(_ address: IPv6Address, hash: UInt64) -> UInt64? {
            var index = hash & mask
            var remaining = mask
            while true {
                let slot = slots + Int(truncatingIfNeeded: index &* 3)
                let high = hl_load_relaxed_u64(slot)
                let low = hl_load_relaxed_u64(slot + 1)
                if high | low == 0 { return nil }
                if high == address.high && low == address.low { return hl_load_relaxed_u64(slot + 2) }
                if remaining == 0 { return nil }
                remaining &-= 1
                index = (index &+ 1) & mask
            }
        }
    }
}
