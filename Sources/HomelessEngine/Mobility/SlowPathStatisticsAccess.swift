import Synchronization

/// The slow path's mobility and handshake counters as it last published
/// them, for the control thread (`homeless show stats`): copies under a
/// mutex, written by the slow path after it worked, read per request.
final class SlowPathStatisticsAccess: Sendable {
    typealias Counters = [(name: String, value: UInt64)]
    private let counters = Mutex<(mobility: Counters, handshake: Counters?)>(([], nil))

    func publish(mobility: Counters, handshake: Counters?) {
        counters.withLock { $0 = (mobility, handshake) }
    }

    /// Mobility counters (Binding Updates, acknowledgements, probes...).
    func mobility() -> Counters { counters.withLock { $0.mobility } }

    /// Handshake counters; nil when the engine runs without the handshake.
    func handshake() -> Counters? { counters.withLock { $0.handshake } }
}
