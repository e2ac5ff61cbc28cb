public import CHomeless

/// A sequence counter over one 64-bit word of shared memory: the
/// single-writer, many-reader synchronisation of the fast-path tables
/// (see the comment at the top of `AddressIndex`).
///
/// Writer: `beginWrite()` makes the counter odd, then a release fence orders
/// that store before every later data store; `endWrite()` publishes the data
/// with a release store of the next even value.
/// Reader: `readBegin()` loads the counter with acquire (so data loads cannot
/// move above it) and reports an odd value as "retry"; after the relaxed data
/// loads, `readValidate` issues an acquire fence (so the data loads cannot
/// move below the second counter load) and compares. Equal even values mean
/// no write overlapped the read, so the data is a consistent snapshot.
///
/// The type is a plain pointer wrapper: copying it never retains, so it can
/// live in the hot loop of a worker. The memory is owned elsewhere.
public struct Seqlock {
    @usableFromInline let word: UnsafeMutablePointer<UInt64>

    @inlinable public init(word: UnsafeMutablePointer<UInt64>) { self.word = word }

    /// Reader: the counter to validate against, or nil while a write is in progress.
    @inlinable @inline(__always)
    public func readBegin() -> UInt64? {
        let value = hl_load_acquire_u64(word)
        if value & 1 != 0 {
            hl_cpu_relax()
            return nil
        }
        return value
    }

    /// Reader: true when no write happened since `readBegin` returned `start`.
    @inlinable @inline(__always)
    public func readValidate(_ start: UInt64) -> Bool {
        hl_fence_acquire()
        return hl_load_relaxed_u64(word) == start
    }

    /// Writer only.
    @inlinable
    public func beginWrite() {
        let value = hl_load_relaxed_u64(word)
        hl_store_relaxed_u64(word, value &+ 1)
        hl_fence_release()
    }

    /// Writer only.
    @inlinable
    public func endWrite() {
        let value = hl_load_relaxed_u64(word)
        hl_store_release_u64(word, value &+ 1)
    }

    /// The current value (writer, or diagnostics).
    @inlinable
    public var current: UInt64 { hl_load_acquire_u64(word) }
}
