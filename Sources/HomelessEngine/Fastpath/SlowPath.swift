#if canImport(Glibc)
import Glibc
#endif
import HomelessSystem
import HomelessWire
import Logging

/// The consumer side of every worker's punt queue. Mobile IPv6 signalling
/// (draft section 4) and the engine's handshake land here. Until the Host
/// Cache processing is wired in, each frame is logged and re-injected
/// unchanged toward where it was going, so a host running the engine stays
/// reachable by peers that send such options; the count shows how many.
final class SlowPath: @unchecked Sendable {
    let queues: [PuntQueue]
    /// Per wire: a socket on the upper port (inbound frames) and one on the
    /// wire (outbound frames).
    let reinjectors: [Int: (upper: RawPacketSocket, wire: RawPacketSocket)]
    /// Written by the slow-path thread only.
    let counters = WorkerCounters()
    let logger: Logger

    init(queues: [PuntQueue], reinjectors: [Int: (upper: RawPacketSocket, wire: RawPacketSocket)], logger: Logger) {
        self.queues = queues
        self.reinjectors = reinjectors
        self.logger = logger
    }

    func run(until stop: StopSignal) {
        while !stop.isRaised {
            var handled = 0
            for queue in queues {
                while handled < 4096, queue.pop({ frame, tag in handle(frame, tag: tag) }) { handled += 1 }
            }
            if handled == 0 { usleep(1000) }
        }
    }

    private func handle(_ frame: UnsafeRawBufferPointer, tag: UInt32) {
        let direction: FrameDirection = tag & 1 == 0 ? .inbound : .outbound
        let wire = Int(tag >> 1)
        if logger.logLevel <= .debug, let packet = try? ParsedPacket.parse(frame) {
            logger.debug("punted frame", metadata: [
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
}
