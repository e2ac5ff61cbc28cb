import HomelessCore
import Synchronization

/// The engine's Host Cache behind a lock: the slow path is its only
/// writer, the control thread reads it for `homeless show cache`. Workers
/// never take the lock; they read `index`, the cache's lock-free published
/// view.
final class HostCacheAccess: @unchecked Sendable {
    /// Guards every use of `cache` (which is not thread-safe by itself).
    private let lock = Mutex(())
    private let cache: HostCache
    let index: HostCacheIndex

    init(_ cache: HostCache) {
        index = cache.index
        self.cache = cache
    }

    /// The cache's clock (the system clock in the engine, a manual one in tests).
    var now: MonotonicInstant { read { $0.clock.now } }

    func read<Result>(_ body: (HostCache) -> Result) -> Result {
        lock.withLock { _ in body(cache) }
    }

    func write<Result>(_ body: (HostCache) throws(HostCacheError) -> Result) throws(HostCacheError) -> Result {
        try lock.withLock { (_) throws(HostCacheError) -> Result in try body(cache) }
    }
}
