#if canImport(Glibc)
import Glibc
#endif
import HomelessEngine
import HomelessSystem
import HomelessWire

/// A forwarding worker on real AF_PACKET rings, in a network namespace of
/// its own so nothing it sends reaches the machine's interfaces.
///
/// The namespace holds a veth pair with IPv6 disabled: the worker's wire
/// TX ring is bound to one end, its upper-port TX ring to the other, so
/// every flush really transmits and the kernel drops the frames at the
/// peer end. The worker's two RX rings are bound to the namespace's
/// loopback, which stays down and never receives: the benchmarks hand the
/// worker its frames themselves (`ForwardingWorker.handle(_:direction:)`,
/// the function its loop calls for each frame of a received block).
final class ForwardingFixture: @unchecked Sendable {
    let worker: ForwardingWorker
    let punt: PuntQueue
    let translations: TranslationTable
    private let rings: LaneRings

    enum SetupError: Error, CustomStringConvertible {
        case notRoot
        case namespace(String)
        case rings(String)

        var description: String {
            switch self {
            case .notRoot: "needs root (it opens AF_PACKET rings in a network namespace of its own)"
            case .namespace(let detail): "cannot set up its network namespace: \(detail)"
            case .rings(let detail): "cannot open the rings: \(detail)"
            }
        }
    }

    /// Device names inside the private namespace.
    static let wireDevice = "fwdbench-wire"
    static let upperDevice = "fwdbench-upper"

    /// `peers`: records in the translation table, the benchmarks' peer
    /// (`ForwardedFrames.translation`) among them; the others are
    /// `ForwardedFrames.otherPeer(_:)`.
    init(puntCapacity: Int, peers: Int = 1) throws(SetupError) {
        guard geteuid() == 0 else { throw .notRoot }
        let lane: LaneRings
        do {
            lane = try NetworkNamespace.withNew { () throws(SetupError) -> LaneRings in try Self.openRings() }
        } catch let error as SetupError {
            throw error
        } catch {
            throw .namespace("\(error)")
        }
        rings = lane
        punt = PuntQueue(capacity: puntCapacity)
        translations = TranslationTable(capacity: max(peers, TranslationTable.defaultCapacity))
        // One translated peer, as after a handover: every frame of another
        // peer is looked up against it and misses. With more peers, the
        // benchmarks' peer is one of many in the workers' hash index.
        translations.publish(ForwardedFrames.translation)
        for other in 1..<max(peers, 1) { translations.publish(ForwardedFrames.otherPeer(other)) }
        worker = ForwardingWorker(id: 0, wireIndex: 0, rings: lane, wireAddress: ForwardedFrames.wireAddress,
                                  mtu: 1500, policy: WorkerPolicy(), punt: punt, translations: translations)
    }

    /// Inside the new namespace: the veth pair, then the worker's rings.
    private static func openRings() throws(SetupError) -> LaneRings {
        do {
            // Spawned programs start in this thread's (new) namespace.
            let sysctl = SystemCommand("sysctl")
            _ = try sysctl.check(["-qw", "net.ipv6.conf.default.disable_ipv6=1"])
            _ = try sysctl.check(["-qw", "net.ipv6.conf.all.disable_ipv6=1"])
            let ip = SystemCommand("ip")
            _ = try ip.check(["link", "add", wireDevice, "type", "veth", "peer", "name", upperDevice])
            _ = try ip.check(["link", "set", wireDevice, "up"])
            _ = try ip.check(["link", "set", upperDevice, "up"])
        } catch {
            throw .namespace("\(error)")
        }
        do {
            let loopback = try NetworkNamespace.interfaceIndex(named: "lo")
            let wire = try NetworkNamespace.interfaceIndex(named: wireDevice)
            let upper = try NetworkNamespace.interfaceIndex(named: upperDevice)
            let idle = RXRingGeometry(blockSize: 64 * 1024, blockCount: 2, frameSize: 2048, retireTimeoutMilliseconds: 1)
            // The engine's TX slots (64 KiB super-frame slots with a
            // virtio_net_hdr), enough of them for one measured iteration.
            var transmit = TXRingGeometry.standard
            transmit.frameCount = 68 * transmit.framesPerBlock
            return LaneRings(
                wireReceive: try PacketRXRing(configuration: PacketRXConfiguration(
                    interfaceIndex: loopback, etherType: 0x86DD, geometry: idle)),
                wireTransmit: try PacketTXRing(configuration: PacketTXConfiguration(
                    interfaceIndex: wire, geometry: transmit, sendsOffloads: true)),
                upperReceive: try PacketRXRing(configuration: PacketRXConfiguration(
                    interfaceIndex: loopback, etherType: 0x86DD, geometry: idle)),
                upperTransmit: try PacketTXRing(configuration: PacketTXConfiguration(
                    interfaceIndex: upper, geometry: transmit, sendsOffloads: true)))
        } catch {
            throw .rings("\(error)")
        }
    }

    /// Sends whatever the worker queued and waits until the kernel has
    /// given every TX slot back, and empties the punt queue, so the next
    /// measured run starts with free rings. False after a second without
    /// progress.
    func settle() -> Bool {
        while punt.pop({ _, _ in }) {}
        for _ in 0..<1000 {
            worker.flushTransmitRings()
            if rings.wireTransmit.isDrained && rings.upperTransmit.isDrained { return true }
            usleep(1000)
        }
        return false
    }

    /// Free TX slots are needed for this many frames between settles.
    var transmitSlots: Int {
        Int(min(rings.wireTransmit.geometry.frameCount, rings.upperTransmit.geometry.frameCount))
    }
}

/// What one frame left behind in the worker's counters and punt queue.
struct ForwardingOutcome: Equatable, CustomStringConvertible {
    var forwarded: UInt64
    var translated: UInt64
    var checksumsCompleted: UInt64
    var drops: UInt64
    var notes: Int

    init(_ fixture: ForwardingFixture) {
        let counters = fixture.worker.counters
        forwarded = counters[.inboundForwarded] + counters[.outboundForwarded]
        translated = counters[.translated]
        checksumsCompleted = counters[.checksumsCompleted]
        drops = counters.totalDrops + counters[.punted]
        notes = fixture.punt.count
    }

    init(forwarded: UInt64, translated: UInt64, checksumsCompleted: UInt64, drops: UInt64, notes: Int) {
        self.forwarded = forwarded
        self.translated = translated
        self.checksumsCompleted = checksumsCompleted
        self.drops = drops
        self.notes = notes
    }

    static func - (after: Self, before: Self) -> Self {
        Self(forwarded: after.forwarded - before.forwarded, translated: after.translated - before.translated,
             checksumsCompleted: after.checksumsCompleted - before.checksumsCompleted,
             drops: after.drops - before.drops, notes: after.notes - before.notes)
    }

    var description: String {
        "forwarded \(forwarded), translated \(translated), checksums completed \(checksumsCompleted), "
            + "dropped or punted \(drops), notes queued \(notes)"
    }
}
