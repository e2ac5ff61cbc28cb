#if canImport(Glibc)
import Glibc
#endif
import HomelessCore
import HomelessSecurity
import HomelessSystem
import HomelessWire
import Logging
import Synchronization

/// How an engine instance runs.
public struct EngineConfiguration: Sendable {
    /// Instance name: the control socket is `@homeless/<name>`.
    public var name: String
    public var wires: [HostModeWire]
    /// Worker threads per wire (each owns one ring per port and direction).
    public var workersPerWire: Int
    /// Pin worker k to CPU k modulo the CPUs available.
    public var pinWorkers: Bool
    public var rxGeometry: RXRingGeometry
    public var txGeometry: TXRingGeometry
    /// The rings carry the kernel's offload metadata (PACKET_VNET_HDR):
    /// checksums may stay partial and, with slots large enough
    /// (`carriesSuperFrames`), 64 KiB super-frames cross the engine whole.
    public var ringOffloads: Bool
    public var policy: WorkerPolicy
    /// Frames each worker may queue for the slow path.
    public var puntQueueCapacity: Int
    /// Manually keyed SAs (`--sa FILE`, setkey syntax) and the file's name
    /// for messages. Without SAs no Binding Update can be sent or accepted
    /// (draft 2.4) and every peer is a plain peer.
    public var manualKeying: ManualKeyingConfiguration?
    public var manualKeyingPath: String
    /// Runs the anonymous-authentication handshake (draft 2.4.3, A.2)
    /// toward peers without a manual SA; nil: off.
    public var anonymousHandshake: AnonymousHandshakeConfiguration?
    /// DEFAULT-LIFETIME and MAXIMUM-EXPIRED-LIFETIME (draft 3.2) and the
    /// Host Cache's bounds.
    public var hostCacheParameters: HostCacheParameters
    /// The lifetime our Binding Updates request, retransmission and refresh.
    public var mobilityParameters: MobilityParameters
    /// Whether all of a wire's IPv6 passes through the engine (`bridge`) or
    /// the kernel keeps the wire and the BPF classifier takes only the
    /// engine's traffic (`classifier`).
    public var steering: WireSteering

    public init(name: String = "default", wires: [HostModeWire], workersPerWire: Int = 1, pinWorkers: Bool = true,
                rxGeometry: RXRingGeometry = .standard, txGeometry: TXRingGeometry = .standard,
                ringOffloads: Bool = true,
                policy: WorkerPolicy = WorkerPolicy(), puntQueueCapacity: Int = 1024,
                manualKeying: ManualKeyingConfiguration? = nil, manualKeyingPath: String = "",
                anonymousHandshake: AnonymousHandshakeConfiguration? = nil,
                hostCacheParameters: HostCacheParameters = HostCacheParameters(),
                mobilityParameters: MobilityParameters = MobilityParameters(),
                steering: WireSteering = .bridge) {
        self.steering = steering
        self.anonymousHandshake = anonymousHandshake
        self.hostCacheParameters = hostCacheParameters
        self.mobilityParameters = mobilityParameters
        self.manualKeying = manualKeying
        self.manualKeyingPath = manualKeyingPath
        self.name = name
        self.wires = wires
        self.workersPerWire = workersPerWire
        self.pinWorkers = pinWorkers
        self.rxGeometry = rxGeometry
        self.txGeometry = txGeometry
        self.ringOffloads = ringOffloads
        self.policy = policy
        self.puntQueueCapacity = puntQueueCapacity
    }

    /// Whether super-frames cross the engine whole: the rings carry offload
    /// metadata, the RX rings take 64 KiB frames (in a slot, or through the
    /// copy path of smaller TPACKET_V2 slots) and the TX slots hold them. Then the upper port keeps its
    /// segmentation and checksum offloads on and the wire its receive
    /// offloads (GRO, LRO); otherwise they are turned off, as every frame
    /// must fit a slot as it is.
    public var carriesSuperFrames: Bool {
        ringOffloads && rxGeometry.holdsSuperFrames && txGeometry.frameSize >= RXRingGeometry.superFrameSlotSize
    }

    /// Default veth names for the wire at `index`: `hl<index>` for the
    /// kernel side, `hl<index>p` for the engine side.
    public static func defaultWire(_ wire: String, index: Int, prefix: String = "hl") -> HostModeWire {
        HostModeWire(wire: wire, kernelSide: "\(prefix)\(index)", engineSide: "\(prefix)\(index)p")
    }

    /// The control socket's abstract name for an instance.
    public static func controlSocketName(_ name: String) -> String { "homeless/\(name)" }
}

/// One wire in a running engine.
struct RunningWire {
    var names: HostModeWire
    var snapshot: WireSnapshot
    var wireIndex: Int32
    var upperIndex: Int32
    var wireFanout: UInt16?
    var upperFanout: UInt16?
    /// Classifier steering: the wire port (classifier loaded, socket
    /// filter on the RX rings, tc ingress attached); nil in bridge mode.
    var classifiedPort: WirePort?
}

/// A running engine in host mode: per wire an upper port (veth pair) and
/// workers bridging it to the wire, a slow-path thread draining the
/// workers' punt queues, and a control socket for `homeless show`.
///
/// `start()` validates everything before touching the host, then records
/// every change in a `HostChangeJournal`; `stop()` (and a failed start)
/// stops the threads, closes the rings and rolls the journal back.
public final class Engine: @unchecked Sendable {
    public let configuration: EngineConfiguration
    let logger: Logger
    private let journal: HostChangeJournal
    private var wires: [RunningWire] = []
    private(set) var workers: [ForwardingWorker] = []
    private var threads: [WorkerThread] = []
    private let stopSignal = StopSignal()
    private var control: ControlListener?
    private var slowPath: SlowPath?
    private var stopped = false
    /// The engine's Host Cache (slow path only; read by the control thread
    /// under the lock).
    let hostCache: HostCacheAccess
    /// The slow path's SA database, as last published (read by the control thread).
    let securityAssociations = SecurityAssociationAccess()
    /// The slow path's mobility and handshake counters (nil until it starts).
    private(set) var slowPathStatistics: SlowPathStatisticsAccess?
    let startedAt = SystemMonotonicClock().now
    /// Per-peer ULID <-> locator translations: the slow path publishes,
    /// the workers read without locks. One slot per Host Cache entry
    /// (`--max-peers`).
    let translations: TranslationTable
    /// When each peer address last carried traffic: stamped by the
    /// workers, read by the slow path's expiry sweep.
    let activity = AddressActivity()
    /// Signalled by the workers' punt queues; the slow path sleeps on it.
    private var slowPathWakeup: SlowPathWakeup?

    public init(configuration: EngineConfiguration, logger: Logger) {
        self.configuration = configuration
        hostCache = HostCacheAccess(HostCache(parameters: configuration.hostCacheParameters, clock: SystemMonotonicClock()))
        translations = TranslationTable(capacity: configuration.hostCacheParameters.maximumEntries)
        self.logger = logger
        journal = HostChangeJournal(logger: logger)
    }

    /// Everything start-up checks before changing the host.
    public static func validate(_ configuration: EngineConfiguration) throws(EngineError) -> [WireSnapshot] {
        guard !configuration.wires.isEmpty else { throw .noWire }
        guard configuration.workersPerWire >= 1, configuration.workersPerWire <= 64 else {
            throw .invalidOption("--workers must be between 1 and 64")
        }
        guard !configuration.name.isEmpty,
              EngineConfiguration.controlSocketName(configuration.name).utf8.count <= ControlSocket.maximumNameLength,
              !configuration.name.contains(where: { $0 == "/" || $0 == " " || $0 == "\n" })
        else { throw .invalidOption("--name must be 1 to 90 characters without '/' or spaces") }
        do {
            try configuration.rxGeometry.validate()
            try configuration.txGeometry.validate()
        } catch {
            throw .invalidOption("ring geometry: \(error)")
        }
        var seen = Set<String>()
        for wire in configuration.wires {
            for name in [wire.wire, wire.kernelSide, wire.engineSide] {
                guard seen.insert(name).inserted else { throw .duplicateWire(name) }
            }
        }
        guard geteuid() == 0 else { throw .notRoot }
        if configuration.steering == .classifier, PeerSteering.ruleExists() {
            throw .hostConfiguration(
                "the IPv6 policy rule with preference \(SteeringRoutes.rulePreference) exists: another engine steers with the classifier in this network namespace (one per namespace), or remove it with `ip -6 rule del pref \(SteeringRoutes.rulePreference)`")
        }
        return try configuration.wires.map { (wire) throws(EngineError) in try UpperPort.validate(wire) }
    }

    /// Binds and listens on the engine's abstract control socket. The name
    /// of a run that just died (SIGKILL) can stay bound for a moment after
    /// its process is gone: a child it was spawning holds a copy of the
    /// descriptor table until it execs (close-on-exec acts only then). So
    /// after removing a dead run's leftovers, a name in use is retried for
    /// up to two seconds before the start is refused.
    static func listenForControl(_ engineName: String, afterDeadRun: Bool) throws(EngineError) -> ControlListener {
        let controlName = EngineConfiguration.controlSocketName(engineName)
        var attempts = afterDeadRun ? 40 : 1
        while true {
            do {
                return try ControlSocket.listen(name: controlName)
            } catch {
                guard error.errno == EADDRINUSE else { throw .hostConfiguration("\(error)") }
                attempts -= 1
                guard attempts > 0 else { throw .controlSocketInUse(engineName) }
                usleep(50_000)
            }
        }
    }

    /// Validates, builds the upper ports, opens the rings, starts the
    /// workers, moves the host's IPv6 configuration, opens the control
    /// socket. On failure everything done so far is undone.
    public func start() throws(EngineError) {
        // A dead run of this engine on these interfaces (SIGKILL, crash)
        // left the host's addresses on its veth pair: put them back first.
        var recoveredDeadRun = false
        if geteuid() == 0 {
            for names in configuration.wires {
                if try CrashedRunRecovery.recover(names, logger: logger) { recoveredDeadRun = true }
            }
        }
        let snapshots = try Self.validate(configuration)
        // Claim the name first: a second engine of the same name must fail
        // before it touches the host.
        control = try Self.listenForControl(configuration.name, afterDeadRun: recoveredDeadRun)
        do throws(EngineError) {
            for (index, names) in configuration.wires.enumerated() {
                try UpperPort.create(names, snapshot: snapshots[index], steering: configuration.steering,
                                     superFrames: configuration.carriesSuperFrames, journal: journal)
                CrashedRunRecovery.claim(names, snapshot: snapshots[index], steering: configuration.steering,
                                         journal: journal)
                if configuration.steering == .classifier {
                    try UpperPort.attachBeside(names, superFrames: configuration.carriesSuperFrames, journal: journal)
                }
                try openLanes(wireNumber: index, names: names, snapshot: snapshots[index])
            }
            try startThreads(snapshots: snapshots)
            for (index, names) in configuration.wires.enumerated() where configuration.steering == .bridge {
                try UpperPort.takeOver(names, snapshot: snapshots[index], superFrames: configuration.carriesSuperFrames,
                                       journal: journal)
                logger.info("wire in host mode", metadata: [
                    "wire": "\(names.wire)", "kernel-side": "\(names.kernelSide)",
                    "engine-side": "\(names.engineSide)", "addresses": "\(snapshots[index].addresses.map(\.prefix))",
                    "routes": "\(snapshots[index].routes.filter { !$0.isKernelManaged }.count)",
                ])
            }
            if configuration.steering == .classifier {
                for wire in wires {
                    logger.info("wire in host mode, classifier steering", metadata: [
                        "wire": "\(wire.names.wire)", "kernel-side": "\(wire.names.kernelSide)",
                        "engine-side": "\(wire.names.engineSide)",
                        "leftover-filter-removed": "\(wire.classifiedPort?.removedLeftover ?? false)",
                    ])
                }
            }
            slowPath?.startWatchingAddresses()
            startControlThread()
        } catch {
            logger.error("start-up failed, undoing", metadata: ["error": "\(error)"])
            stop()
            throw error
        }
        logger.info("engine running", metadata: [
            "name": "\(configuration.name)", "control": "@\(control?.name ?? "")",
            "workers": "\(workers.count)",
        ])
    }

    private func openLanes(wireNumber: Int, names: HostModeWire, snapshot: WireSnapshot) throws(EngineError) {
        guard let wireAddress = snapshot.ethernetAddress else { throw .notEthernet(names.wire) }
        let wireIndex: Int32
        let upperIndex: Int32
        do {
            wireIndex = try NetworkNamespace.interfaceIndex(named: names.wire)
            upperIndex = try NetworkNamespace.interfaceIndex(named: names.engineSide)
        } catch {
            throw .ring(names.wire, "\(error)")
        }
        if slowPathWakeup == nil {
            do { slowPathWakeup = try SlowPathWakeup() } catch { throw .thread("\(error)") }
        }
        let count = configuration.workersPerWire
        var wireGroup: FanoutGroup? = count > 1 ? .unique() : nil
        var upperGroup: FanoutGroup? = count > 1 ? .unique() : nil
        // Classifier steering: the wire's rings come from a WirePort (the
        // classifier loaded, its socket filter on every RX ring, then the
        // tc ingress program attached); bridge mode reads all of its IPv6.
        var classifiedPort: WirePort?
        var classifiedRings: [WorkerRings] = []
        if configuration.steering == .classifier {
            do {
                let port = try WirePort(configuration: WirePortConfiguration(
                    interfaceName: names.wire, workers: count, rxGeometry: configuration.rxGeometry,
                    txGeometry: configuration.txGeometry, ringOffloads: configuration.ringOffloads,
                    classifier: ClassifierConfiguration(handshakeNextHeader: configuration.policy.handshakeNextHeader)))
                journal.record("classifier on \(names.wire) (socket filter, tc ingress)") { try port.close() }
                classifiedRings = port.takeWorkerRings()
                classifiedPort = port
                wireGroup = port.fanoutGroupID.map { FanoutGroup(id: $0) }
            } catch {
                throw .ring(names.wire, "\(error)")
            }
        }
        // With the classifier the upper port carries only peer traffic.
        var policy = configuration.policy
        policy.upperCarriesPeerTrafficOnly = configuration.steering == .classifier
        for member in 0..<count {
            let lane: LaneRings
            do {
                let wireReceive = classifiedRings.isEmpty ? try openReceive(index: wireIndex, group: &wireGroup)
                    : classifiedRings[member].receive
                let upperReceive = try openReceive(index: upperIndex, group: &upperGroup)
                lane = LaneRings(
                    wireReceive: wireReceive,
                    wireTransmit: classifiedRings.isEmpty ? try PacketTXRing(configuration: PacketTXConfiguration(
                        interfaceIndex: wireIndex, geometry: configuration.txGeometry,
                        sendsOffloads: configuration.ringOffloads)) : classifiedRings[member].transmit,
                    upperReceive: upperReceive,
                    upperTransmit: try PacketTXRing(configuration: PacketTXConfiguration(
                        interfaceIndex: upperIndex, geometry: configuration.txGeometry,
                        sendsOffloads: configuration.ringOffloads)))
            } catch {
                throw .ring(names.wire, "\(error)")
            }
            workers.append(ForwardingWorker(
                id: workers.count, wireIndex: wireNumber, rings: lane, wireAddress: wireAddress,
                mtu: snapshot.link.mtu, policy: policy, punt: PuntQueue(capacity: configuration.puntQueueCapacity, wakeup: slowPathWakeup),
                translations: translations, activity: activity))
        }
        wires.append(RunningWire(names: names, snapshot: snapshot, wireIndex: wireIndex, upperIndex: upperIndex,
                                 wireFanout: wireGroup?.id, upperFanout: upperGroup?.id, classifiedPort: classifiedPort))
    }

    /// One RX ring for IPv6 frames on `index`; the first member of a
    /// fanout group learns the kernel-chosen id the others then join.
    private func openReceive(index: Int32, group: inout FanoutGroup?) throws(PacketRingError) -> PacketRXRing {
        let ring = try PacketRXRing(configuration: PacketRXConfiguration(
            interfaceIndex: index, etherType: 0x86DD, geometry: configuration.rxGeometry, fanout: group,
            receivesOffloads: configuration.ringOffloads))
        if let current = group, current.uniqueID {
            let id: UInt16
            do { id = try ring.fanoutGroupID() } catch { throw .system(error) }
            group = FanoutGroup(id: id, mode: current.mode, defragment: current.defragment, rollover: current.rollover)
        }
        return ring
    }

    private func startThreads(snapshots: [WireSnapshot]) throws(EngineError) {
        let cpus = (try? WorkerThread.availableCPUs()) ?? 1
        let pin = configuration.pinWorkers
        let stop = stopSignal
        let logger = self.logger
        for worker in workers {
            let cpu = Int32(worker.id % max(cpus, 1))
            do {
                threads.append(try WorkerThread.start(name: "hl-worker-\(worker.id)") {
                    if pin {
                        do { try WorkerThread.pinCurrentThread(toCPU: cpu) } catch {
                            logger.warning("cannot pin worker", metadata: ["worker": "\(worker.id)", "error": "\(error)"])
                        }
                    }
                    worker.run(until: stop)
                })
            } catch {
                throw .thread("\(error)")
            }
        }
        var reinjectors: [Int: (upper: RawPacketSocket, wire: RawPacketSocket)] = [:]
        var kernelSockets: [Int: KernelRoutedSocket] = [:]
        for (number, wire) in wires.enumerated() {
            do {
                reinjectors[number] = (try RawPacketSocket(interfaceIndex: wire.upperIndex),
                                       try RawPacketSocket(interfaceIndex: wire.wireIndex))
                // Bridge mode: the host's IPv6 lives on the kernel side.
                // Classifier steering: on the wire, and signalling leaves
                // there directly, beside the engine.
                kernelSockets[number] = try KernelRoutedSocket(
                    device: configuration.steering == .bridge ? wire.names.kernelSide : wire.names.wire)
            } catch {
                throw .ring(wire.names.wire, "\(error)")
            }
        }
        let routeChanges: RouteChangeMonitor
        do { routeChanges = try RouteChangeMonitor() } catch { throw .hostConfiguration("\(error)") }
        let wireAddresses = snapshots.map { snapshot in
            snapshot.addresses.compactMap { address in address.prefix.split(separator: "/").first.flatMap { IPv6Address(String($0)) } }
        }
        let localAddresses = wireAddresses.flatMap { $0 }
        var database = SecurityAssociationDatabase()
        if let manual = configuration.manualKeying {
            database = try ManualKeyingFile.database(manual, path: configuration.manualKeyingPath,
                                                     localAddresses: Set(localAddresses))
            logger.info("security associations loaded", metadata: [
                "file": "\(configuration.manualKeyingPath)", "count": "\(database.count)",
                "outbound": "\(database.associations.filter { $0.direction == .outbound }.count)",
            ])
        }
        let mobility = MobilityController(hostCache: hostCache, securityAssociations: database,
                                          localAddresses: localAddresses, parameters: configuration.mobilityParameters,
                                          seed: UInt64(truncatingIfNeeded: SystemMonotonicClock().now.nanoseconds) ^ UInt64(getpid()),
                                          publishingTo: securityAssociations,
                                          handshake: configuration.anonymousHandshake)
        slowPathStatistics = mobility.publishedStatistics
        for (wire, addresses) in wireAddresses.enumerated() {
            for address in addresses { mobility.noteLocalAddress(address, wire: wire) }
        }
        let bridged = configuration.steering == .bridge
        // Identifiers a wire lost are kept on its kernel side: in bridge
        // mode that is where the host's addresses are anyway; with the
        // classifier the wire stays as the network made it.
        let watcher = configuration.manualKeying == nil && configuration.anonymousHandshake == nil ? nil
            : LocalAddressWatcher(devices: wires.map { bridged ? $0.names.kernelSide : $0.names.wire },
                                  keepingOn: wires.map(\.names.kernelSide), logger: logger)
        var steering: PeerSteering?
        if !bridged {
            try PeerSteering.installRule(journal: journal)
            let fixedPeers = database.associations.filter { $0.direction == .outbound }.map(\.destination)
            var steeredWires: [PeerSteering.SteeredWire] = []
            for wire in wires {
                guard let port = wire.classifiedPort else { continue }
                do {
                    steeredWires.append(PeerSteering.SteeredWire(
                        names: wire.names, wireIndex: wire.wireIndex,
                        kernelSideIndex: try NetworkNamespace.interfaceIndex(named: wire.names.kernelSide),
                        classifier: port.classifier))
                } catch {
                    throw .ring(wire.names.wire, "\(error)")
                }
            }
            steering = PeerSteering(
                wires: steeredWires,
                fixedPeers: Set(fixedPeers), logger: logger)
            steering?.update(peers: [])
            // Next hops not resolved yet: a connection opened right after
            // start-up should already go through the engine.
            var attempts = 0
            while let pending = steering?.unresolved, !pending.isEmpty, attempts < 100 {
                usleep(10_000)
                attempts += 1
                steering?.refreshRoutes()
            }
        }
        // The anonymous handshake starts on a connection's first SYN to a
        // new peer; with the classifier that SYN leaves without the
        // workers, so the slow path taps it on the wire.
        var conversationTaps: [Int: RawPacketSocket] = [:]
        if !bridged, configuration.anonymousHandshake != nil {
            for (number, wire) in wires.enumerated() {
                guard let port = wire.classifiedPort else { continue }
                do {
                    conversationTaps[number] = try RawPacketSocket(
                        interfaceIndex: wire.wireIndex, etherType: PacketRXConfiguration.everyEtherType,
                        socketFilterDescriptor: port.classifier.conversationTapDescriptor)
                } catch {
                    throw .ring(wire.names.wire, "conversation tap: \(error)")
                }
            }
        }
        let slowPath = SlowPath(queues: workers.map(\.punt), reinjectors: reinjectors, kernelSockets: kernelSockets,
                                carriers: bridged ? WireCarrierMirror(
                                    wires: wires.map(\.names),
                                    routes: snapshots.map { $0.routes.filter { !$0.isKernelManaged && !$0.isMultipath } },
                                    logger: logger) : nil,
                                steering: steering, conversationTaps: conversationTaps,
                                routeChanges: routeChanges, wakeup: slowPathWakeup, mobility: mobility,
                                addresses: watcher, hostCache: hostCache, translations: translations,
                                activity: activity, logger: logger)
        self.slowPath = slowPath
        do {
            threads.append(try WorkerThread.start(name: "hl-slowpath") { slowPath.run(until: stop) })
        } catch {
            throw .thread("\(error)")
        }
    }

    private func startControlThread() {
        guard let control else { return }
        let stop = stopSignal
        do {
            threads.append(try WorkerThread.start(name: "hl-control") { [self] in
                while !stop.isRaised {
                    do {
                        guard let connection = try control.accept(timeoutMilliseconds: 100) else { continue }
                        let request = try connection.readRequestLine()
                        try connection.write(Array(respond(to: request).utf8))
                    } catch {
                        logger.debug("control request failed", metadata: ["error": "\(error)"])
                    }
                }
            })
        } catch {
            logger.warning("control socket thread did not start", metadata: ["error": "\(error)"])
        }
    }

    /// Stops the threads, closes the rings and puts the host back. Safe to
    /// call more than once.
    public func stop() {
        guard !stopped else { return }
        stopped = true
        stopSignal.raise()
        for thread in threads { thread.join() }
        threads = []
        let summary = EngineStatus(engine: self).totals
        logger.info("engine stopping", metadata: [
            "inbound-forwarded": "\(summary[.inboundForwarded])",
            "outbound-forwarded": "\(summary[.outboundForwarded])", "drops": "\(summary.drops)",
        ])
        // The host first: closing a ring socket waits for an RCU grace
        // period each, which on a loaded machine takes a while.
        let failures = journal.rollBack()
        if failures.isEmpty {
            logger.info("host configuration restored")
        } else {
            logger.error("host configuration only partly restored", metadata: ["failures": "\(failures)"])
        }
        workers = []
        control = nil
        slowPath = nil
    }

    /// Why the engine cannot go on (an interface it uses is gone or was
    /// replaced), or nil. Cheap: if_nametoindex per interface.
    public func healthProblem() -> String? {
        for wire in wires {
            for (name, index) in [(wire.names.wire, wire.wireIndex), (wire.names.engineSide, wire.upperIndex)] {
                let current = try? NetworkNamespace.interfaceIndex(named: name)
                if current != index { return "interface \(name) disappeared" }
            }
        }
        return nil
    }

    var runningWires: [RunningWire] { wires }
    var slowPathCounters: WorkerCounters? { slowPath?.counters }

    /// The text or JSON answer to one control request: `ports`, `stats`,
    /// `cache` or `sa`, optionally followed by `json`.
    func respond(to request: String) -> String {
        let words = request.split(separator: " ").map(String.init)
        let json = words.contains("json")
        let status = EngineStatus(engine: self)
        switch words.first ?? "" {
        case "ports": return json ? status.portsJSON() : status.portsText()
        case "stats": return json ? status.statsJSON() : status.statsText()
        case "cache": return json ? status.cacheJSON() : status.cacheText()
        case "sa":
            let database = securityAssociations.read { $0 }
            return json ? EngineStatus.securityAssociationsJSON(database) : EngineStatus.securityAssociationsText(database)
        default: return JSONText.object([("error", JSONText.quoted("unknown request '\(request)'"))]) + "\n"
        }
    }
}
