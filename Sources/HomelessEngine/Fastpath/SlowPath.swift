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
/// section 3; the anonymous handshake, 2.4.3; address probes), follows the
/// wires' carrier and the upper ports' addresses (rtnetlink), and fires the
/// timers. One thread with its own loop: everything it owns (the SA
/// database, the per-peer state machines) is touched by it alone; the Host
/// Cache is shared with the control thread through `HostCacheAccess`.
///
/// Punted frames are of two kinds:
/// - inbound signalling (Mobile IPv6 options) and the handshake protocol,
///   which the worker did not forward: handled here, then consumed, or
///   re-injected toward the kernel (data behind options, a protocol 253
///   packet that is not ours);
/// - notes (tag bit 1): copies of frames the worker forwarded anyway (an
///   outbound TCP SYN, an inbound SYN+ACK, an inbound ICMPv6 Parameter
///   Problem) that may open a conversation, be its first reply (2.1.1,
///   2.1.2) or reject a Binding Update (2.2.4).
/// The engine's own outbound signalling is sent through the kernel side
/// and passed to the wire by the workers without coming back here.
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
    /// Per wire: the raw IPv6 socket on its upper port's kernel side that
    /// the engine's own signalling leaves through (`SlowPathFrame.kernelRouted`).
    let kernelSockets: [Int: KernelRoutedSocket]
    /// The wires' carrier, passed on to the kernel sides (host mode,
    /// bridge steering).
    let carriers: WireCarrierMirror?
    /// Classifier steering: the classifier's maps and the peer routes.
    let steering: PeerSteering?
    /// Classifier steering with the anonymous handshake: per wire, a packet
    /// socket with the `hl_conversation_tap` filter, which keeps the
    /// outgoing TCP SYNs to peers the engine does not know (they do not
    /// pass through the workers, so no note is made for them).
    let conversationTaps: [Int: RawPacketSocket]
    /// One tapped frame at a time (the tap keeps 128 octets of each).
    private let tapBuffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
    /// rtnetlink notifications: links and addresses are re-read at once.
    let routeChanges: RouteChangeMonitor?
    /// Signalled by the punt queues: the loop sleeps on it when idle.
    let wakeup: SlowPathWakeup?
    let hostCache: HostCacheAccess
    let translations: TranslationTable
    let activity: AddressActivity
    /// How often the Host Cache expiry sweep runs (draft 2.1.3, 2.1.4).
    static let expiryIntervalNanoseconds: UInt64 = 1_000_000_000
    /// Set once host mode has moved the addresses to the upper ports: the
    /// first poll after it is the baseline.
    private let watchingAddresses = Atomic<Bool>(false)

    func startWatchingAddresses() { watchingAddresses.store(true, ordering: .releasing) }

    /// The longest idle sleep (it bounds how late a stop is noticed).
    static let maximumSleepMilliseconds: Int64 = 100

    init(queues: [PuntQueue], reinjectors: [Int: (upper: RawPacketSocket, wire: RawPacketSocket)],
         kernelSockets: [Int: KernelRoutedSocket] = [:], carriers: WireCarrierMirror? = nil,
         steering: PeerSteering? = nil, conversationTaps: [Int: RawPacketSocket] = [:],
         routeChanges: RouteChangeMonitor? = nil, wakeup: SlowPathWakeup? = nil,
         mobility: MobilityController, addresses: LocalAddressWatcher?, hostCache: HostCacheAccess,
         translations: TranslationTable, activity: AddressActivity = AddressActivity(), logger: Logger) {
        self.kernelSockets = kernelSockets
        self.activity = activity
        self.carriers = carriers
        self.steering = steering
        self.conversationTaps = conversationTaps
        self.routeChanges = routeChanges
        self.wakeup = wakeup
        self.translations = translations
        self.queues = queues
        self.reinjectors = reinjectors
        self.mobility = mobility
        self.addresses = addresses
        self.hostCache = hostCache
        self.logger = logger
    }

    deinit { tapBuffer.deallocate() }

    func run(until stop: StopSignal) {
        var nextFullRead = hostCache.now
        var nextVerification = hostCache.now
        var nextStatistics = hostCache.now
        var nextExpiry = hostCache.now
        while !stop.isRaised {
            var handled = 0
            for queue in queues {
                while handled < 4096, queue.pop({ frame, tag in handle(frame, tag: tag) }) { handled += 1 }
            }
            handled += drainConversationTaps()
            let now = hostCache.now
            if let deadline = mobility.nextDeadline, deadline <= now {
                send(mobility.fireTimers(now: now))
            }
            if watchingAddresses.load(ordering: .acquiring) {
                var changed = false
                if let routeChanges {
                    do { changed = try routeChanges.drain() > 0 } catch {
                        logger.warning("rtnetlink read failed", metadata: ["error": "\(error)"])
                        changed = true
                    }
                }
                if changed || nextFullRead <= now {
                    nextFullRead = MonotonicInstant(nanoseconds: now.nanoseconds &+ LocalAddressWatcher.pollInterval)
                    refreshLinksAndAddresses(now: now)
                    publishPeers()
                    steering?.refreshRoutes()
                }
            }
            if handled > 0 || nextVerification <= now {
                // New peer locators get their probes; answered probes
                // release the translations to them.
                nextVerification = MonotonicInstant(nanoseconds: now.nanoseconds &+ 10_000_000)
                send(mobility.verifyPeerLocators(now: now))
            }
            if nextExpiry <= now {
                nextExpiry = MonotonicInstant(nanoseconds: now.nanoseconds &+ Self.expiryIntervalNanoseconds)
                let expiry = mobility.runExpiry(activity: activity)
                for change in expiry.changes {
                    logger.info("peer address \(change.kind)", metadata: ["address": "\(change.address)", "entry": "\(change.entry)"])
                }
                for entry in expiry.removedEntries {
                    logger.info("Host Cache entry removed (every address purged)", metadata: ["entry": "\(entry)"])
                }
                if !expiry.changes.isEmpty || !expiry.removedEntries.isEmpty { publishPeers() }
            }
            if handled > 0 { publishPeers() }
            if handled > 0 || nextStatistics <= now {
                nextStatistics = MonotonicInstant(nanoseconds: now.nanoseconds &+ 100_000_000)
                mobility.publishStatistics()
            }
            if handled == 0 {
                sleepUntilWork(now: now, verificationDue: nextVerification, statisticsDue: min(nextStatistics, nextExpiry))
            }
        }
    }

    /// Idle: sleeps until a worker queues a frame (the wakeup eventfd),
    /// rtnetlink reports a change, or the next timer is due. Every
    /// signalling message crosses a slow path at each end, so a fixed
    /// sleep would be paid twice per message; this wait costs nothing while
    /// idle and returns at once when work comes.
    private func sleepUntilWork(now: MonotonicInstant, verificationDue: MonotonicInstant, statisticsDue: MonotonicInstant) {
        guard let wakeup else {
            usleep(1000)
            return
        }
        var due = min(verificationDue, statisticsDue)
        if let deadline = mobility.nextDeadline { due = min(due, deadline) }
        let remaining = due.nanoseconds > now.nanoseconds ? Int64(due.nanoseconds - now.nanoseconds) : 0
        let milliseconds = min((remaining + 999_999) / 1_000_000, Self.maximumSleepMilliseconds)
        wakeup.wait(alsoFor: [routeChanges?.descriptor ?? -1] + conversationTaps.values.map(\.descriptor),
                    timeoutMilliseconds: Int32(milliseconds))
    }

    /// What the workers (and, with classifier steering, the classifier and
    /// the peer routes) know of the peers: published after every change.
    private func publishPeers() {
        mobility.publishTranslations(to: translations)
        steering?.update(peers: mobility.peerAddresses)
    }

    /// Outgoing SYNs and first datagrams to unknown peers (classifier
    /// steering): each is noted as the workers note an outbound SYN or a
    /// first datagram (draft 2.1.1), which starts the anonymous handshake.
    /// At most 64 per tap and round.
    private func drainConversationTaps() -> Int {
        var taken = 0
        for (_, tap) in conversationTaps {
            for _ in 0..<64 {
                guard case .done(let length) = (try? tap.receive(into: tapBuffer)) ?? .wouldBlock else { break }
                taken += 1
                counters.add(.conversationsTapped)
                let captured = TappedConversationFrame.clipLengths(tapBuffer, captured: length)
                send(mobility.noteOutbound(UnsafeRawBufferPointer(rebasing: tapBuffer[0..<captured]),
                                           now: hostCache.now))
            }
        }
        return taken
    }

    /// Re-reads the wires' carrier and the kernel sides' addresses and acts
    /// on the differences. Order matters for a link that went down: its
    /// addresses are withdrawn and the translations moved to a surviving
    /// locator before the kernel side loses carrier and the kernel reroutes
    /// (so the first packet on the new link already carries the new
    /// locator); a link that came back is brought up first. The Binding
    /// Updates leave last: once a peer learns, its acknowledgements arrive
    /// through the surviving link, and until the kernel rerouted they would
    /// clock more segments into the dead link's kernel side, where the
    /// engine can only drop them (a whole window lost, and TCP waits for
    /// its retransmission timeout).
    private func refreshLinksAndAddresses(now: MonotonicInstant) {
        let carrier = carriers?.check() ?? (wentDown: [], cameUp: [])
        for wire in carrier.cameUp { carriers?.mirror(wire: wire, up: true) }
        var updates: [SlowPathFrame] = []
        if let addresses {
            updates = pollAddresses(addresses, now: now, downDevices: carriers?.downKernelSides ?? [])
        }
        if !carrier.wentDown.isEmpty { mobility.publishTranslations(to: translations) }
        for wire in carrier.wentDown { carriers?.mirror(wire: wire, up: false) }
        send(updates)
    }

    /// Acts on the kernel sides' address changes; the signalling they call
    /// for, to send.
    private func pollAddresses(_ watcher: LocalAddressWatcher, now: MonotonicInstant,
                               downDevices: Set<String>) -> [SlowPathFrame] {
        let change = watcher.poll(keeping: mobility.localIdentifiersInUse, downDevices: downDevices)
        var frames: [SlowPathFrame] = []
        for address in change.added {
            if let wire = watcher.wire(of: address) { mobility.noteLocalAddress(address, wire: wire) }
            logger.info("local address added", metadata: ["address": "\(address)"])
            frames += mobility.localAddressAdded(address, now: now)
        }
        for address in change.removed {
            logger.info("local address removed", metadata: ["address": "\(address)"])
            frames += mobility.localAddressRemoved(address, now: now)
        }
        for address in change.keptAsIdentifier {
            logger.info("identifier kept for open connections (deprecated, nodad)", metadata: ["address": "\(address)"])
        }
        return frames
    }

    /// Verified signalling its SA may not send (draft 2.4.2, 5.3): a peer
    /// with an SA of its own tried to change another peer's entry.
    private func logRefusals() {
        for refusal in mobility.takeRefusals() {
            logger.warning("signalling refused: \(refusal.reason.summary)", metadata: [
                "spi": "0x\(String(refusal.spi, radix: 16))", "claimed": "\(refusal.claimed)",
                "owner": "\(refusal.owner.map { "\($0)" } ?? "none")"])
        }
    }

    private func handle(_ frame: UnsafeRawBufferPointer, tag: UInt32) {
        let direction: FrameDirection = tag & 1 == 0 ? .inbound : .outbound
        let isNote = tag & 2 != 0
        let wire = Int(tag >> 2)
        let now = hostCache.now
        if isNote {
            if direction == .outbound {
                send(mobility.noteOutbound(frame, now: now))
            } else {
                send(mobility.noteInbound(frame, wire: wire, now: now))
            }
            return
        }
        if direction == .outbound {
            // Sent to a peer whose addresses have all expired (answer the
            // local sender, draft 2.2), or a data packet to carry an offered
            // Binding Update (2.2.1): the worker did not send it.
            // or taken by the slow path for a piggybacked Binding Update.
            // Only the destination's record can match: no copy of every peer's.
            let record = (try? ParsedPacket.parse(frame)).flatMap {
                translations.publishedRecord(peerIdentifier: $0.destination)
            }
            let outcome = mobility.outboundFrame(frame, wire: wire, records: record.map { [$0] } ?? [], now: now)
            send(outcome.frames)
            if outcome.offerTaken { mobility.publishTranslations(to: translations) }
            return
        }
        if direction == .inbound {
            let handshake = mobility.handleHandshake(frame, wire: wire, now: now)
            logRefusals()
            send(handshake.frames)
            if handshake.consumed {
                counters.add(.signallingConsumed)
                return
            }
            let result = mobility.handleInbound(frame, wire: wire, now: now)
            logRefusals()
            // The workers (and, with classifier steering, the classifier)
            // must know the peer's new addresses before our
            // acknowledgement lets it send from them.
            if !result.frames.isEmpty { publishPeers() }
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
            if let data = result.reinject, let sockets = reinjectors[wire] {
                // Piggybacked Binding Updates applied; the data goes up
                // without AH and the options, with the ULIDs.
                do {
                    try sockets.upper.send(data)
                    counters.add(.puntedReinjected)
                } catch {
                    counters.drop(DropReason(.transmitRingFull))
                }
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

    /// Sends each frame: kernel-routed IPv6 packets through the raw socket on
    /// their wire's kernel side, link-layer frames on the port they name.
    private func send(_ frames: [SlowPathFrame]) {
        for frame in frames {
            if frame.port == .kernelRouted {
                guard let socket = kernelSockets[frame.wire] else {
                    counters.drop(DropReason(.transmitRingFull))
                    continue
                }
                do {
                    try socket.send(ipv6Packet: frame.bytes)
                    counters.add(.signallingSent)
                } catch {
                    logger.debug("signalling not sent", metadata: ["wire": "\(frame.wire)", "error": "\(error)"])
                    counters.drop(DropReason(.transmitRingFull))
                }
                continue
            }
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
