import ArgumentParser
import HomelessCore
import HomelessEngine
import HomelessSecurity
import HomelessSystem
import Logging

#if canImport(Glibc)
import Glibc
#endif

/// `homeless run --wire IF ...`: runs the engine in host mode until SIGINT
/// or SIGTERM, then puts the host's configuration back.
public struct RunCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run the engine in host mode on one or more wire interfaces.",
        discussion: """
            For each wire interface, host mode creates an upper port: a veth \
            pair whose kernel side (hl0, hl1, ... by default) takes over the \
            wire's MAC address and its IPv6 configuration (global addresses \
            and the routes through it), while IPv6 is disabled on the wire \
            itself. The engine's workers bridge every IPv6 frame between the \
            wire and the engine side (hl0p, ...), so the host's IPv6 traffic, \
            Neighbour Discovery included, passes through the engine. IPv4 and \
            ARP on the wire are not touched.

            The engine runs until SIGINT or SIGTERM; it then stops its \
            workers, deletes the veth pair and restores the wire's IPv6 \
            configuration exactly (addresses in order with their flags, \
            routes with every attribute, allmulticast). A start-up that fails \
            undoes whatever it had done; a bad option or a missing interface \
            is reported before anything is changed.

            With --sa FILE the engine loads manually keyed AH security \
            associations in setkey(8) syntax (`add SRC DST ah SPI -A \
            hmac-sha256 0xKEY;`). An SA whose destination is one of the \
            host's addresses is inbound, one whose source is, outbound; \
            others are ignored, so one file can serve both ends. With SAs \
            the engine runs Homeless Mobile IPv6 toward the peers they \
            cover: a TCP connection opened to such a peer gets a Host Cache \
            entry and, after the first reply, an AH-protected Initial \
            Binding Update; received Binding Updates are verified and \
            acknowledged; when the host's addresses change the peers are \
            told, and packets are translated between the addresses the \
            connection started with (its ULIDs) and the current locators. \
            A file that does not parse is reported with line and column, \
            and nothing is started.

            With --anonymous-handshake, a peer without an SA in the file is \
            first offered the anonymous-authentication handshake (IPv6 Next \
            Header 253): a peer running Homeless answers, both ends derive AH \
            keys, and mobility runs as with manual keys; any other peer \
            ignores it (or answers with an ICMPv6 error) and stays a plain \
            peer. New peer addresses get traffic only after they answered a \
            probe (return routability).

            With --steering classifier the kernel keeps the wire instead: \
            its addresses, routes and Neighbour Discovery stay where they \
            are, and the engine's BPF classifier (a socket filter on the \
            engine's rings and a tc clsact ingress program) takes from the \
            kernel only the engine's traffic: Mobile IPv6 signalling, the \
            handshake, and frames from the addresses of peers in the Host \
            Cache. The kernel's packets to those peers are routed through \
            the upper port (IPv6 rule preference 18508, table 18508, one /128 \
            route per peer address, with the next hop the host's own routes \
            use); all other traffic never touches the engine. The peers of \
            --sa are steered from the start; with --anonymous-handshake the \
            engine taps the wire for TCP SYNs and first UDP datagrams to new \
            peers and offers them the handshake. On exit the rule, the \
            table, the tc filter (and the clsact qdisc if the engine \
            created it) are removed.

            With several --wire interfaces the host is multi-homed: the \
            addresses of every wire are announced to peers, and a wire that \
            loses carrier has its addresses withdrawn and (with the bridge) \
            its routes taken from the kernel until it returns, so \
            connections move to the other wires; with the classifier the \
            peers' routes follow the kernel's own routes.

            A control socket @homeless/NAME (abstract, per network namespace) \
            answers `homeless show`. Needs root, iproute2 and ethtool.

            Exit status: 0 after SIGINT/SIGTERM/SIGHUP and a clean restore; \
            64 for a bad option; 2 when start-up fails (the host is left as \
            it was); 3 when an interface disappears while running.

            Examples:
              homeless run --wire eth0
              homeless run --wire eth0 --workers 2 --log-level debug
              homeless run --wire lnk-a --name mn --upper-name up0
              homeless run --wire eth0 --sa /etc/homeless/sa.conf
              homeless run --wire eth0 --wire wlan0 --anonymous-handshake
              homeless run --wire eth0 --sa /etc/homeless/sa.conf --steering classifier
            """
    )

    @Option(name: .long, help: ArgumentHelp("Wire interface to put the engine on (repeat for several).", valueName: "interface"))
    public var wire: [String] = []

    @Option(name: .long, help: ArgumentHelp(
        "How the wire's IPv6 is divided: 'bridge' (all of it through the engine; the host's addresses move to the upper port) or 'classifier' (the kernel keeps the wire; a BPF classifier takes only the engine's traffic, peers are routed through the upper port).",
        valueName: "bridge|classifier"))
    public var steering = "bridge"

    @Option(name: .long, help: ArgumentHelp("Worker threads per wire (default: one per available CPU).", valueName: "n"))
    public var workers: Int?

    @Option(name: .long, help: ArgumentHelp("Engine instance name; the control socket is @homeless/NAME.", valueName: "name"))
    public var name = "default"

    @Option(name: .long, help: ArgumentHelp(
        "Kernel-side interface name of the upper port, one per --wire in order (default hl0, hl1, ...; the engine side adds 'p').",
        valueName: "name"))
    public var upperName: [String] = []

    @Option(name: .long, help: ArgumentHelp("Empty polls before a worker sleeps in poll(); 0 sleeps at once.", valueName: "n"))
    public var busyPoll = 2000

    @Option(name: .long, help: ArgumentHelp(
        "RX ring layout: 'frames' (TPACKET_V2: each frame handed over and the worker woken the moment it arrives) or 'blocks' (TPACKET_V3: frames packed into blocks handed over when full or after 1 ms; denser for small frames, but a lone frame waits up to 1 ms per ring).",
        valueName: "frames|blocks"))
    public var rxRing = RXRingGeometry.standard.layout.rawValue

    @Option(name: .long, help: ArgumentHelp(
        "RX ring blocks per ring; each worker has two RX rings. With 'frames' a block holds block-size / frame-size frames (default 128 blocks of 64 KiB, 32 frames each: 4096 frames, 8 MiB per ring); raise it for sustained small-frame rates on a busy machine (docs/PERFORMANCE.md).",
        valueName: "n"))
    public var rxBlocks: UInt32 = RXRingGeometry.standard.blockCount

    @Option(name: .long, help: ArgumentHelp("RX ring block size in bytes (a multiple of the page size).", valueName: "bytes"))
    public var rxBlockSize: UInt32 = RXRingGeometry.standard.blockSize

    @Option(name: .long, help: ArgumentHelp(
        "RX frame slot size in bytes (a multiple of 16, at most --rx-block-size). With 'frames' a frame longer than its slot (a 64 KiB super-frame in the default 2048-byte slot) is written truncated and read whole from the socket's receive queue (PACKET_COPY_THRESH); 65792 holds a super-frame in the slot itself (with --rx-block-size 1048576). With 'blocks', blocks smaller than 65792 bytes make the engine turn segmentation and receive offloads off (every frame then crosses at MTU size).",
        valueName: "bytes"))
    public var rxFrameSize: UInt32 = RXRingGeometry.standard.frameSize

    @Option(name: .long, help: ArgumentHelp("TX ring frames per ring (TPACKET_V2).", valueName: "n"))
    public var txFrames: UInt32 = TXRingGeometry.standard.frameCount

    @Option(name: .long, help: ArgumentHelp(
        "TX frame slot size in bytes (a multiple of 16; 65792 holds a 64 KiB super-frame). TX blocks are 1 MiB, or one slot when larger.",
        valueName: "bytes"))
    public var txFrameSize: UInt32 = TXRingGeometry.standard.frameSize

    @Flag(name: .long, help: ArgumentHelp(
        "No offload metadata on the rings (no PACKET_VNET_HDR): the upper port's checksum and segmentation offloads and the wire's receive offloads are turned off, the engine completes pending checksums and cuts super-frames itself."))
    public var noRingOffloads = false

    @Option(name: .long, help: ArgumentHelp(
        "Manually keyed AH security associations in setkey(8) syntax (enables mobility toward the peers they cover).",
        valueName: "file"))
    public var sa: String?

    @Flag(name: .long, help: ArgumentHelp(
        "Run the anonymous-authentication handshake (IPv6 Next Header 253) with peers that have no --sa entry, so two engines make AH keys for their Binding Updates themselves (docs/HANDSHAKE.md)."))
    public var anonymousHandshake = false

    @Option(name: .long, help: ArgumentHelp(
        "Lifetime our Binding Updates request, in seconds; bindings are refreshed at 80 % of the granted lifetime (draft 2.1.3, 3.2).",
        valueName: "seconds"))
    public var bindingLifetime: UInt32 = MobilityParameters().requestedLifetime

    @Option(name: .long, help: ArgumentHelp(
        "DEFAULT-LIFETIME (draft 3.2): a peer address not learned from a Binding Update expires after this many seconds without traffic.",
        valueName: "seconds"))
    public var defaultLifetime: UInt64 = HostCacheParameters().defaultLifetime

    @Option(name: .long, help: ArgumentHelp(
        "MAXIMUM-EXPIRED-LIFETIME (draft 3.2): an expired peer address is kept this many seconds, then removed; a peer whose addresses have all expired is answered with ICMPv6 address unreachable meanwhile.",
        valueName: "seconds"))
    public var maxExpiredLifetime: UInt64 = HostCacheParameters().maximumExpiredLifetime

    @Option(name: .long, help: ArgumentHelp(
        "Most peers the engine keeps state for: bounds the Host Cache entries (with up to 4 addresses each) and the workers' translation table. Their tables are reserved for this many peers at start but only the pages of peers present are resident (docs/PERFORMANCE.md); lookups cost the same at any size. Between 1 and \(RunCommand.maximumPeersLimit).",
        valueName: "n"))
    public var maxPeers: Int = TranslationTable.defaultCapacity

    /// Upper bound of `--max-peers`: the size tested and measured (10^6 peers).
    static let maximumPeersLimit = 1 << 20

    @Option(name: .long, help: ArgumentHelp(
        "How long a Binding Update for a new address waits for a small data packet to ride on (draft 2.1.2, 2.2.1) before it is sent on its own, in milliseconds.",
        valueName: "ms"))
    public var piggybackWait: UInt64 = MobilityParameters().piggybackWaitMilliseconds

    @Flag(name: .long, help: "Do not pin worker threads to CPUs.")
    public var noPin = false

    @Option(name: .long, help: ArgumentHelp("Log level: trace, debug, info, notice, warning, error, critical.", valueName: "level"))
    public var logLevel = "info"

    @Option(name: .long, help: ArgumentHelp(
        "Longest Binding Update lifetime granted to an untrusted peer (one known only through the anonymous handshake), in seconds; infinity is clamped too (draft 5.2). Default: DEFAULT-LIFETIME.",
        valueName: "seconds"))
    public var untrustedLifetimeCap: UInt64?

    @Option(name: .long, help: ArgumentHelp(
        "Most addresses one untrusted peer's Host Cache entry may hold (draft 5.2); further Binding Update addresses are refused with status 131.",
        valueName: "n"))
    public var maxAddressesPerPeer: Int = HostCacheParameters().maximumAddressesPerUntrustedEntry

    @Option(name: .long, help: ArgumentHelp(
        "Base puzzle difficulty (leading zero bits, RFC 7401 4.1.2) the anonymous handshake's responder asks for; under a flood of message 1s it rises in steps of 2 up to 20 and falls back when the flood ends (docs/HANDSHAKE.md).",
        valueName: "bits"))
    public var puzzleBits: UInt8 = HandshakeResponderConfiguration().difficulty

    public init() {}

    public func validate() throws {
        guard !wire.isEmpty else { throw ValidationError("no wire interface given: use --wire IF") }
        guard Logger.Level(rawValue: logLevel) != nil else {
            throw ValidationError("unknown log level '\(logLevel)' (trace, debug, info, notice, warning, error, critical)")
        }
        guard WireSteering(rawValue: steering) != nil else {
            throw ValidationError("unknown --steering '\(steering)' (bridge or classifier)")
        }
        if let workers, !(1...64).contains(workers) { throw ValidationError("--workers must be between 1 and 64") }
        guard busyPoll >= 0 else { throw ValidationError("--busy-poll must not be negative") }
        guard RXRingLayout(rawValue: rxRing) != nil else {
            throw ValidationError("unknown --rx-ring '\(rxRing)' (frames or blocks)")
        }
        do {
            try ringGeometries().rx.validate()
            try ringGeometries().tx.validate()
        } catch {
            throw ValidationError("ring geometry refused: \(error)")
        }
        guard upperName.count <= wire.count else { throw ValidationError("more --upper-name than --wire options") }
        // The Binding Update's Lifetime field is 32 bits; all ones means infinity.
        guard (4...86_400 * 365).contains(bindingLifetime) else {
            throw ValidationError("--binding-lifetime must be between 4 and 31536000 seconds")
        }
        guard (1...86_400 * 365).contains(defaultLifetime) else {
            throw ValidationError("--default-lifetime must be between 1 and 31536000 seconds")
        }
        guard (1...Self.maximumPeersLimit).contains(maxPeers) else {
            throw ValidationError("--max-peers must be between 1 and \(Self.maximumPeersLimit)")
        }
        guard piggybackWait <= 60_000 else { throw ValidationError("--piggyback-wait must be at most 60000 ms") }
        guard (1...86_400 * 365).contains(maxExpiredLifetime) else {
            throw ValidationError("--max-expired-lifetime must be between 1 and 31536000 seconds")
        }
        try validateCachePolicy()
    }

    /// The draft 5.2 policy and puzzle options.
    func validateCachePolicy() throws {
        if let untrustedLifetimeCap, !(1...86_400 * 365).contains(untrustedLifetimeCap) {
            throw ValidationError("--untrusted-lifetime-cap must be between 1 and 31536000 seconds")
        }
        guard (1...1024).contains(maxAddressesPerPeer) else {
            throw ValidationError("--max-addresses-per-peer must be between 1 and 1024")
        }
        // Initiators give up on more than 20 bits (HandshakeInitiatorConfiguration).
        guard puzzleBits <= HandshakeInitiatorConfiguration().maximumDifficulty else {
            throw ValidationError("--puzzle-bits must be between 0 and \(HandshakeInitiatorConfiguration().maximumDifficulty)")
        }
    }

    /// `configuration` with the draft 5.2 cache policy and the handshake
    /// puzzle options applied.
    func withCachePolicy(_ configuration: EngineConfiguration) -> EngineConfiguration {
        var configuration = configuration
        configuration.hostCacheParameters.untrustedLifetimeCap = untrustedLifetimeCap
        configuration.hostCacheParameters.maximumAddressesPerUntrustedEntry = maxAddressesPerPeer
        configuration.anonymousHandshake?.responder.difficulty = puzzleBits
        return configuration
    }

    /// The ring layouts the options describe (validated in `validate()`).
    func ringGeometries() -> (rx: RXRingGeometry, tx: TXRingGeometry) {
        var rx = RXRingGeometry.standard
        rx.layout = RXRingLayout(rawValue: rxRing) ?? .frames
        rx.blockCount = rxBlocks
        rx.blockSize = rxBlockSize
        rx.frameSize = rxFrameSize
        var tx = TXRingGeometry.standard
        tx.frameCount = txFrames
        tx.frameSize = txFrameSize
        // Blocks of at least 1 MiB (an allocation order the kernel finds
        // easily), rounded up to whole pages for a larger slot.
        tx.blockSize = max(1 << 20, (txFrameSize + 4095) / 4096 * 4096)
        return (rx, tx)
    }

    func engineConfiguration() throws(EngineError) -> EngineConfiguration {
        let wires = wire.enumerated().map { index, name in
            if index < upperName.count {
                HostModeWire(wire: name, kernelSide: upperName[index], engineSide: upperName[index] + "p")
            } else {
                EngineConfiguration.defaultWire(name, index: index)
            }
        }
        let cpus = (try? WorkerThread.availableCPUs()) ?? 1
        let (rx, tx) = ringGeometries()
        return withCachePolicy(EngineConfiguration(
            name: name, wires: wires, workersPerWire: workers ?? max(1, cpus), pinWorkers: !noPin,
            rxGeometry: rx, txGeometry: tx, ringOffloads: !noRingOffloads,
            policy: WorkerPolicy(busyPollIterations: busyPoll),
            manualKeying: try sa.map { (path) throws(EngineError) in try ManualKeyingFile.load(path: path) },
            manualKeyingPath: sa ?? "",
            anonymousHandshake: anonymousHandshake ? AnonymousHandshakeConfiguration() : nil,
            hostCacheParameters: HostCacheParameters(defaultLifetime: defaultLifetime,
                                                     maximumExpiredLifetime: maxExpiredLifetime,
                                                     maximumPeers: maxPeers),
            mobilityParameters: MobilityParameters(requestedLifetime: bindingLifetime, piggybackWaitMilliseconds: piggybackWait),
            steering: WireSteering(rawValue: steering) ?? .bridge))
    }

    public func run() throws {
        let level = Logger.Level(rawValue: logLevel) ?? .info
        LoggingSystem.bootstrap { label in
            var handler = StreamLogHandler.standardError(label: label)
            handler.logLevel = level
            return handler
        }
        let logger = Logger(label: "homeless.engine")

        // SIGINT/SIGTERM/SIGHUP are blocked in every thread (threads inherit
        // the mask) and taken synchronously with sigwait() below, so a
        // signal can never interrupt set-up halfway or land in a worker.
        // A shell starts background jobs with SIGINT ignored, and an
        // ignored signal is discarded before sigwait() could take it: put
        // the default disposition back first.
        var signals = sigset_t()
        sigemptyset(&signals)
        for signal in [SIGINT, SIGTERM, SIGHUP] {
            Glibc.signal(signal, SIG_DFL)
            sigaddset(&signals, signal)
        }
        // The mask is the calling thread's: put it back when `run` returns,
        // so a caller that goes on (a test calling `run` on a pool thread)
        // does not hand the blocked signals to the processes it spawns.
        var previousMask = sigset_t()
        pthread_sigmask(SIG_BLOCK, &signals, &previousMask)
        defer { pthread_sigmask(SIG_SETMASK, &previousMask, nil) }
        Glibc.signal(SIGPIPE, SIG_IGN)

        let configuration: EngineConfiguration
        do {
            configuration = try engineConfiguration()
        } catch {
            var errors = StandardErrorStream()
            print("homeless run: \(error)", to: &errors)
            throw ExitCode(64)
        }
        let engine = Engine(configuration: configuration, logger: logger)
        do {
            try engine.start()
        } catch {
            var errors = StandardErrorStream()
            print("homeless run: \(error)", to: &errors)
            throw ExitCode(2)
        }
        // Wait for a signal; once a second, check the interfaces are still
        // there (a wire that disappears ends the run, cleaning up what is left).
        var timeout = timespec(tv_sec: 1, tv_nsec: 0)
        while true {
            let received = sigtimedwait(&signals, nil, &timeout)
            if received > 0 {
                logger.info("signal received, shutting down", metadata: ["signal": "\(received)"])
                break
            }
            if let problem = engine.healthProblem() {
                logger.error("shutting down", metadata: ["reason": "\(problem)"])
                engine.stop()
                throw ExitCode(3)
            }
        }
        engine.stop()
    }
}
