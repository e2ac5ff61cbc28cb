#if canImport(Glibc)
import Glibc
#endif
import HomelessCore
import HomelessSystem
import HomelessWire
import Logging
import Synchronization

/// The slow-path thread: drains every worker's punt queue, runs the
/// mobility controller (Binding Updates and Acknowledgements, draft
/// section 3), watches the upper ports' addresses and fires the mobility
/// timers. One thread with its own loop: everything it owns (the SA
/// database, the per-peer state machines) is touched by it alone; the Host
/// Cache is shared with the control thread through `HostCacheAccess`.
///
/// Punted frames are of three kinds:
/// - signalling (Mobile IPv6 options) and the engine's handshake, which the
///   worker did not forward: handled here, then consumed, or re-injected
///   toward where they were going (data behind options; handshake packets
///   until the handshake is wired in);
/// - notes (tag bit 1): copies of frames the worker forwarded anyway
///   (an outbound TCP SYN, an inbound SYN+ACK) that may open a conversation
///   or be its first reply (2.1.1, 2.1.2).
final class SlowPath: @unchecked Sendable {
    let queues: [PuntQueue]
    /// Per wire: a socket on the upper port (inbound frames) and one on the
    /// wire (outbound frames).
    let reinjectors: [Int: (upper: RawPacketSocket, wire: RawPacketSocket)]
    /// Written by the slow-path thread only.
    let counters = WorkerCounters()
    let logger: Logger
    let mobility: MobilityController
    let addresses: LocalAddressWatcher?
    let hostCache: HostCacheAccess
    let translations: TranslationTable
    /// Set once host mode has moved the addresses to the upper ports: the
    /// first poll after it is the baseline.
    private let watchingAddresses = Atomic<Bool>(false)

    func startWatchingAddresses() { watchingAddresses.store(true, ordering: .releasing) }

    init(queues: [PuntQueue], reinjectors: [Int: (upper: RawPacketSocket, wire: RawPacketSocket)],
         mobility: MobilityController, addresses: LocalAddressWatcher?, hostCache: HostCacheAccess,
         translations: TranslationTable, logger: Logger) {
        self.translations = translations
        self.queues = queues
        self.reinjectors = reinjectors
        self.mobility = mobility
        self.addresses = addresses
        self.hostCache = hostCache
        self.logger = logger
    }

    func run(until stop: StopSignal) {
        var nextAddressPoll = hostCache.now
        while !stop.isRaised {
            var handled = 0
            for queue in queues {
                while handled < 4096, queue.pop({ frame, tag in handle(frame, tag: tag) }) { handled += 1 }
            }
            let now = hostCache.now
            if let deadline = mobility.nextDeadline, deadline <= now {
                send(mobility.fireTimers(now: now))
            }
            if let addresses, nextAddressPoll <= now, watchingAddresses.load(ordering: .acquiring) {
                nextAddressPoll = MonotonicInstant(nanoseconds: now.nanoseconds &+ LocalAddressWatcher.pollInterval)
                pollAddresses(addresses, now: now)
                mobility.publishTranslations(to: translations)
            }
            if handled > 0 { mobility.publishTranslations(to: translations) }
            if handled == 0 { usleep(1000) }
        }
    }

    private func pollAddresses(_ watcher: LocalAddressWatcher, now: MonotonicInstant) {
        let change = watcher.poll(keeping: mobility.localIdentifiersInUse)
        for address in change.added {
            logger.info("local address added", metadata: ["address": "\(address)"])
            send(mobility.localAddressAdded(address, now: now))
        }
        for address in change.removed {
            logger.info("local address removed", metadata: ["address": "\(address)"])
            send(mobility.localAddressRemoved(address, now: now))
        }
        for address in change.keptAsIdentifier {
            logger.info("identifier kept for open connections (deprecated, nodad)", metadata: ["address": "\(address)"])
        }
    }

    private func handle(_ frame: UnsafeRawBufferPointer, tag: UInt32) {
        let direction: FrameDirection = tag & 1 == 0 ? .inbound : .outbound
        let isNote = tag & 2 != 0
        let wire = Int(tag >> 2)
        let now = hostCache.now
        if isNote {
            if direction == .outbound {
                mobility.noteOutbound(frame, now: now)
            } else {
                send(mobility.noteInbound(frame, wire: wire, now: now))
            }
            return
        }
        if direction == .inbound {
            let result = mobility.handleInbound(frame, wire: wire, now: now)
            send(result.frames)
            if let drop = result.drop {
                logger.debug("signalling dropped", metadata: ["reason": "\(drop.rawValue)"])
                counters.drop(DropReason(.signallingRejected))
                return
            }
            if result.consumed {
                counters.add(.signallingConsumed)
                return
            }
        }
        if logger.logLevel <= .debug, let packet = try? ParsedPacket.parse(frame) {
            logger.debug("punted frame re-injected", metadata: [
                "direction": "\(direction)", "source": "\(packet.source)", "destination": "\(packet.destination)",
                "mobility-options": "\(packet.mobilityOptions.count)",
                "upper-layer": "\(packet.upperLayerProtocol.rawValue)",
            ])
        }
        guard let sockets = reinjectors[wire] else { return }
        do {
            try (direction == .inbound ? sockets.upper : sockets.wire).send(frame)
            counters.add(.puntedReinjected)
        } catch {
            counters.drop(DropReason(.transmitRingFull))
        }
    }

    /// Sends on the wire each frame names (the one its peer was last heard on).
    private func send(_ frames: [SlowPathFrame]) {
        for frame in frames {
            guard let sockets = reinjectors[frame.wire] else {
                counters.drop(DropReason(.transmitRingFull))
                continue
            }
            do {
                try (frame.port == .wire ? sockets.wire : sockets.upper).send(frame.bytes)
                counters.add(.signallingSent)
            } catch {
                counters.drop(DropReason(.transmitRingFull))
            }
        }
    }
}
