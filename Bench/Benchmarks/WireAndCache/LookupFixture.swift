import HomelessCore
import HomelessWire

/// A filled fast-path address index and the keys to look up, built once per
/// size. Keys follow the distribution of a busy Host Cache: 2001:db8::/32
/// with 32 random bits of subnet and 64 random interface-identifier bits;
/// misses come from another /32 (2001:db9::/32), so they are never present.
/// The same distribution is used by Reference/hash_table_reference.c.
final class LookupFixture: @unchecked Sendable {
    let entries: Int
    let index: AddressIndex
    /// `queryCount` present keys in random order.
    let hits: UnsafeMutableBufferPointer<IPv6Address>
    /// `queryCount` absent keys.
    let misses: UnsafeMutableBufferPointer<IPv6Address>
    let results: UnsafeMutableBufferPointer<UInt64?>
    /// A power of two, so `position & queryMask` cycles through the queries.
    let queryCount: Int
    var queryMask: Int { queryCount - 1 }

    init(entries: Int, queryCount: Int, seed: UInt64) {
        precondition(queryCount & (queryCount - 1) == 0, "queryCount must be a power of two")
        self.entries = entries
        self.queryCount = queryCount
        var random = SplitMix64(seed: seed)
        index = AddressIndex(capacity: entries, seed: random.next())
        var keys: [IPv6Address] = []
        keys.reserveCapacity(entries)
        while keys.count < entries {
            let key = IPv6Address(high: 0x2001_0db8_0000_0000 | random.next() & 0xFFFF_FFFF, low: random.next())
            if index.insert(key, value: UInt64(keys.count)) == .inserted { keys.append(key) }
        }
        hits = .allocate(capacity: queryCount)
        misses = .allocate(capacity: queryCount)
        results = .allocate(capacity: queryCount)
        results.initialize(repeating: nil)
        for position in 0..<queryCount {
            hits[position] = keys[Int(random.next() % UInt64(entries))]
            misses[position] = IPv6Address(high: 0x2001_0db9_0000_0000 | random.next() & 0xFFFF_FFFF, low: random.next())
        }
    }

    deinit {
        hits.deallocate()
        misses.deallocate()
        results.deallocate()
    }

    /// `count` independent lookups starting at query 0; returns the number found.
    @inline(__always)
    func lookUp(_ queries: UnsafeMutableBufferPointer<IPv6Address>, count: Int) -> Int {
        var found = 0
        for position in 0..<count where index.lookup(queries[position & queryMask]) != nil {
            found &+= 1
        }
        return found
    }

    /// The same lookups through one `AddressIndex.Reader`, taken once per
    /// call as a worker takes it once per receive burst.
    @inline(__always)
    func lookUpWithReader(_ queries: UnsafeMutableBufferPointer<IPv6Address>, count: Int) -> Int {
        let reader = index.reader
        var found = 0
        for position in 0..<count where reader.lookup(queries[position & queryMask]) != nil {
            found &+= 1
        }
        return found
    }

    /// The same lookups through the batched (hash, prefetch, probe) API, 256 at a time.
    @inline(__always)
    func lookUpBatched(_ queries: UnsafeMutableBufferPointer<IPv6Address>, count: Int) -> Int {
        let batch = 256
        var found = 0
        var start = 0
        while start < count {
            let offset = start & queryMask
            let length = min(batch, count - start, queryCount - offset)
            index.lookup(batch: UnsafeBufferPointer(rebasing: queries[offset..<(offset + length)]),
                         into: UnsafeMutableBufferPointer(rebasing: results[0..<length]))
            for position in 0..<length where results[position] != nil { found &+= 1 }
            start += length
        }
        return found
    }
}

/// 1024 entries: the table (2048 slots x 24 B = 48 KiB) stays in L1/L2.
let smallIndex = LookupFixture(entries: 1 << 10, queryCount: 1 << 16, seed: 0x1000)
/// 1048576 entries: 2^21 slots x 24 B = 48 MiB, larger than the last-level
/// cache, so most lookups miss it.
let largeIndex = LookupFixture(entries: 1 << 20, queryCount: 1 << 20, seed: 0x100000)
