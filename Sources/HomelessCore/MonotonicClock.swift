#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A point on a monotonic time line, in nanoseconds from an arbitrary origin.
///
/// Host Cache lifetimes (draft 2.1.3, 3.2) are measured on a monotonic clock
/// so that wall-clock steps never expire or resurrect addresses. Arithmetic
/// saturates: an absurd lifetime (up to 2^32 s) never traps.
public struct MonotonicInstant: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var nanoseconds: UInt64

    @inlinable
    public init(nanoseconds: UInt64) { self.nanoseconds = nanoseconds }

    public static let origin = MonotonicInstant(nanoseconds: 0)

    /// The instant `seconds` later, saturating at the end of time.
    @inlinable
    public func adding(seconds: UInt64) -> MonotonicInstant {
        let (delta, overflowA) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        let (sum, overflowB) = nanoseconds.addingReportingOverflow(delta)
        return MonotonicInstant(nanoseconds: overflowA || overflowB ? .max : sum)
    }

    @inlinable
    public static func < (lhs: MonotonicInstant, rhs: MonotonicInstant) -> Bool {
        lhs.nanoseconds < rhs.nanoseconds
    }

    public var description: String { "\(nanoseconds / 1_000_000_000).\(nanoseconds % 1_000_000_000)s" }
}

/// Source of the current monotonic time. The slow path takes one by
/// injection so tests can move time explicitly.
public protocol MonotonicClock: AnyObject {
    var now: MonotonicInstant { get }
}

/// CLOCK_MONOTONIC.
public final class SystemMonotonicClock: MonotonicClock, Sendable {
    public init() {}

    public var now: MonotonicInstant {
        var spec = timespec()
        clock_gettime(CLOCK_MONOTONIC, &spec)
        return MonotonicInstant(nanoseconds: UInt64(spec.tv_sec) &* 1_000_000_000 &+ UInt64(spec.tv_nsec))
    }
}

/// A clock that moves only when told to: for tests, fuzzing and replay.
public final class ManualClock: MonotonicClock {
    public var now: MonotonicInstant

    public init(now: MonotonicInstant = .origin) { self.now = now }

    public func advance(seconds: UInt64) { now = now.adding(seconds: seconds) }
    public func advance(nanoseconds: UInt64) { now = MonotonicInstant(nanoseconds: now.nanoseconds &+ nanoseconds) }
}
