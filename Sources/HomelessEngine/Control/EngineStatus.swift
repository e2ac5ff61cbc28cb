import HomelessCore
import HomelessSecurity
import HomelessSystem

/// Counter values summed over workers (read, never written, here).
public struct CounterTotals: Sendable {
    public var values: [UInt64] = Array(repeating: 0, count: WorkerCounters.Counter.allCases.count)
    public var dropsByReason: [UInt64] = Array(repeating: 0, count: DropReason.count)

    public subscript(counter: WorkerCounters.Counter) -> UInt64 { values[counter.rawValue] }
    public var drops: UInt64 { dropsByReason.reduce(0, &+) }

    mutating func add(_ counters: WorkerCounters) {
        for counter in WorkerCounters.Counter.allCases { values[counter.rawValue] &+= counters[counter] }
        for reason in DropReason.all { dropsByReason[reason.index] &+= counters[reason] }
    }
}

/// What `homeless show` reports, read from a running engine on the control
/// thread: counters with relaxed loads, ring statistics with
/// PACKET_STATISTICS (the RX rings accumulate them across reads).
struct EngineStatus {
    let engine: Engine

    var totals: CounterTotals {
        var totals = CounterTotals()
        for worker in engine.workers { totals.add(worker.counters) }
        return totals
    }

    // MARK: ports

    func portsJSON() -> String {
        let configuration = engine.configuration
        let rx = configuration.rxGeometry
        let tx = configuration.txGeometry
        let ports = engine.runningWires.map { wire in
            JSONText.object([
                ("wire", JSONText.quoted(wire.names.wire)),
                ("wire-index", JSONText.number(wire.wireIndex)),
                ("mac", JSONText.quoted(wire.snapshot.link.macAddress)),
                ("mtu", JSONText.number(wire.snapshot.link.mtu)),
                ("kernel-side", JSONText.quoted(wire.names.kernelSide)),
                ("engine-side", JSONText.quoted(wire.names.engineSide)),
                ("engine-side-index", JSONText.number(wire.upperIndex)),
                ("workers", JSONText.number(configuration.workersPerWire)),
                ("wire-fanout-group", wire.wireFanout.map { JSONText.number($0) } ?? "null"),
                ("upper-fanout-group", wire.upperFanout.map { JSONText.number($0) } ?? "null"),
                ("steering", JSONText.quoted(configuration.steering.rawValue)),
                ("moved-addresses", JSONText.array(configuration.steering == .bridge
                    ? wire.snapshot.addresses.map { JSONText.quoted($0.prefix) } : [])),
                ("tc-ingress-attached", JSONText.bool(wire.classifiedPort?.isTakingFromKernel ?? false)),
            ])
        }
        return JSONText.object([
            ("name", JSONText.quoted(configuration.name)),
            ("ports", JSONText.array(ports)),
            ("rx-ring", JSONText.object([
                ("version", JSONText.quoted(rx.layout == .frames ? "TPACKET_V2" : "TPACKET_V3")),
                ("block-size", JSONText.number(rx.blockSize)), ("block-count", JSONText.number(rx.blockCount)),
                ("frame-size", JSONText.number(rx.frameSize)),
                ("retire-timeout-ms", rx.layout == .blocks ? JSONText.number(rx.retireTimeoutMilliseconds) : "null"),
                ("offload-metadata", JSONText.bool(configuration.ringOffloads)),
            ])),
            ("tx-ring", JSONText.object([
                ("version", JSONText.quoted("TPACKET_V2")),
                ("frame-size", JSONText.number(tx.frameSize)), ("frame-count", JSONText.number(tx.frameCount)),
                ("qdisc-bypass", JSONText.bool(true)),
                ("offload-metadata", JSONText.bool(configuration.ringOffloads)),
            ])),
            ("super-frames", JSONText.bool(configuration.carriesSuperFrames)),
        ]) + "\n"
    }

    func portsText() -> String {
        let configuration = engine.configuration
        let rx = configuration.rxGeometry
        let tx = configuration.txGeometry
        var text = "engine \(configuration.name)\n"
        for wire in engine.runningWires {
            text += "wire \(wire.names.wire) (index \(wire.wireIndex), \(wire.snapshot.link.macAddress), mtu \(wire.snapshot.link.mtu))"
            text += " <-> upper port \(wire.names.engineSide) (index \(wire.upperIndex)); host side \(wire.names.kernelSide)\n"
            text += "  workers \(configuration.workersPerWire)"
            if let group = wire.wireFanout { text += ", fanout groups \(group)/\(wire.upperFanout.map(String.init) ?? "-")" }
            switch configuration.steering {
            case .bridge:
                text += "\n  steering bridge: all IPv6 through the engine; moved addresses: \(wire.snapshot.addresses.map(\.prefix).joined(separator: " "))\n"
            case .classifier:
                let attached = wire.classifiedPort?.isTakingFromKernel ?? false
                text += "\n  steering classifier: the kernel keeps \(wire.names.wire); socket filter on its rings, tc ingress \(attached ? "attached" : "not attached")\n"
            }
        }
        let offloads = configuration.ringOffloads
            ? (configuration.carriesSuperFrames ? "offload metadata, super-frames whole" : "offload metadata")
            : "no offload metadata"
        switch rx.layout {
        case .frames:
            text += "rx rings: TPACKET_V2, \(rx.frameCount) frames x \(rx.frameSize) B in \(rx.blockCount) blocks of \(rx.blockSize) B, \(offloads)\n"
        case .blocks:
            text += "rx rings: TPACKET_V3, \(rx.blockCount) blocks x \(rx.blockSize) B, frames \(rx.frameSize) B, retire \(rx.retireTimeoutMilliseconds) ms, \(offloads)\n"
        }
        text += "tx rings: TPACKET_V2, \(tx.frameCount) frames x \(tx.frameSize) B, qdisc bypass\n"
        return text
    }

    // MARK: stats

    struct RingReport {
        var worker: Int
        var interface: String
        var statistics: PacketRingStatistics?
        var malformed: UInt64
    }

    func ringReports() -> [RingReport] {
        var reports: [RingReport] = []
        for worker in engine.workers {
            guard worker.wireIndex < engine.runningWires.count else { continue }
            let names = engine.runningWires[worker.wireIndex].names
            for (ring, interface) in [(worker.rings.wireReceive, names.wire), (worker.rings.upperReceive, names.engineSide)] {
                reports.append(RingReport(worker: worker.id, interface: interface,
                                          statistics: try? ring.statistics(), malformed: ring.malformedFrames))
            }
        }
        return reports
    }

    static func countersJSON(_ totals: CounterTotals) -> String {
        var members = WorkerCounters.Counter.allCases.map { ($0.name, JSONText.number(totals[$0])) }
        members.append(("drops", JSONText.number(totals.drops)))
        members.append(("drops-by-reason", JSONText.object(DropReason.all.map {
            ($0.name, JSONText.number(totals.dropsByReason[$0.index]))
        })))
        return JSONText.object(members)
    }

    func statsJSON() -> String {
        let workers = engine.workers.map { worker in
            var totals = CounterTotals()
            totals.add(worker.counters)
            return JSONText.object([
                ("worker", JSONText.number(worker.id)),
                ("wire", JSONText.quoted(engine.runningWires[safe: worker.wireIndex]?.names.wire ?? "?")),
                ("punt-queue-depth", JSONText.number(worker.punt.count)),
                ("counters", Self.countersJSON(totals)),
            ])
        }
        let rings = ringReports().map { report in
            JSONText.object([
                ("worker", JSONText.number(report.worker)),
                ("interface", JSONText.quoted(report.interface)),
                ("packets", JSONText.number(report.statistics?.packets ?? 0)),
                ("drops", JSONText.number(report.statistics?.drops ?? 0)),
                ("freezes", JSONText.number(report.statistics?.freezeQueueCount ?? 0)),
                ("malformed-frames", JSONText.number(report.malformed)),
            ])
        }
        var slow = CounterTotals()
        if let counters = engine.slowPathCounters { slow.add(counters) }
        return JSONText.object([
            ("name", JSONText.quoted(engine.configuration.name)),
            ("uptime-seconds", JSONText.number(uptimeSeconds)),
            ("totals", Self.countersJSON(totals)),
            ("workers", JSONText.array(workers)),
            ("rings", JSONText.array(rings)),
            ("slow-path", JSONText.object([
                ("reinjected", JSONText.number(slow[.puntedReinjected])),
                ("failed", JSONText.number(slow.drops)),
                ("signalling-consumed", JSONText.number(slow[.signallingConsumed])),
                ("signalling-sent", JSONText.number(slow[.signallingSent])),
                ("conversations-tapped", JSONText.number(slow[.conversationsTapped])),
                ("signalling-rejected", JSONText.number(slow.dropsByReason[DropReason(.signallingRejected).index])),
            ])),
            ("mobility", JSONText.object((engine.slowPathStatistics?.mobility() ?? []).map {
                ($0.name, JSONText.number($0.value))
            })),
            ("handshake", engine.slowPathStatistics?.handshake().map { counters in
                JSONText.object(counters.map { ($0.name, JSONText.number($0.value)) })
            } ?? "null"),
            ("classifier", JSONText.array(classifierReports().map { report in
                JSONText.object([("wire", JSONText.quoted(report.wire))] + ClassifierHook.allCases.map { hook in
                    (hook.name, JSONText.object(ClassifierVerdict.allCases.map { verdict in
                        (verdict.name, JSONText.number(report.counts[hook, verdict]))
                    }))
                })
            })),
        ]) + "\n"
    }

    /// Classifier steering: per wire, the classifier's verdict counters
    /// (both hooks, summed over CPUs).
    func classifierReports() -> [(wire: String, counts: ClassifierVerdictCounts)] {
        engine.runningWires.compactMap { wire in
            guard let port = wire.classifiedPort, let counts = try? port.classifier.verdictCounts() else { return nil }
            return (wire.names.wire, counts)
        }
    }

    var uptimeSeconds: UInt64 {
        let now = SystemMonotonicClock().now.nanoseconds
        return now >= engine.startedAt.nanoseconds ? (now - engine.startedAt.nanoseconds) / 1_000_000_000 : 0
    }

    func statsText() -> String {
        func block(_ totals: CounterTotals, indent: String) -> String {
            var text = "\(indent)inbound  \(totals[.inboundPackets]) packets \(totals[.inboundBytes]) bytes, forwarded \(totals[.inboundForwarded])\n"
            text += "\(indent)outbound \(totals[.outboundPackets]) packets \(totals[.outboundBytes]) bytes, forwarded \(totals[.outboundForwarded])\n"
            text += "\(indent)punted \(totals[.punted]), blocks \(totals[.blocks]), idle waits \(totals[.idleWaits]), transmit busy \(totals[.transmitBusy])\n"
            text += "\(indent)translated \(totals[.translated]), new flows not translated \(totals[.newFlowsNotTranslated])\n"
            text += "\(indent)drops \(totals.drops)"
            let nonZero = DropReason.all.filter { totals.dropsByReason[$0.index] > 0 }
            if !nonZero.isEmpty {
                text += ": " + nonZero.map { "\($0.name) \(totals.dropsByReason[$0.index])" }.joined(separator: ", ")
            }
            return text + "\n"
        }
        var text = "engine \(engine.configuration.name), up \(uptimeSeconds) s\n"
        text += "total\n" + block(totals, indent: "  ")
        for worker in engine.workers {
            var totals = CounterTotals()
            totals.add(worker.counters)
            let wire = engine.runningWires[safe: worker.wireIndex]?.names.wire ?? "?"
            text += "worker \(worker.id) (\(wire)), punt queue \(worker.punt.count)\n" + block(totals, indent: "  ")
        }
        for report in ringReports() {
            let statistics = report.statistics ?? PacketRingStatistics()
            text += "ring worker \(report.worker) \(report.interface): \(statistics.packets) packets, \(statistics.drops) drops, \(statistics.freezeQueueCount) freezes\n"
        }
        var slow = CounterTotals()
        if let counters = engine.slowPathCounters { slow.add(counters) }
        text += "slow path: re-injected \(slow[.puntedReinjected]), signalling consumed \(slow[.signallingConsumed])"
        text += ", sent \(slow[.signallingSent]), rejected \(slow.dropsByReason[DropReason(.signallingRejected).index])"
        if engine.configuration.steering == .classifier {
            text += ", conversations tapped \(slow[.conversationsTapped])"
        }
        text += "\n"
        func line(_ label: String, _ counters: SlowPathStatisticsAccess.Counters) -> String {
            let nonZero = counters.filter { $0.value > 0 }
            return "\(label): " + (nonZero.isEmpty ? "nothing yet" : nonZero.map { "\($0.name) \($0.value)" }.joined(separator: ", ")) + "\n"
        }
        for report in classifierReports() {
            for hook in ClassifierHook.allCases {
                let nonZero = ClassifierVerdict.allCases.filter { report.counts[hook, $0] > 0 }
                text += "classifier \(report.wire) \(hook.name): "
                text += nonZero.isEmpty ? "nothing yet\n"
                    : nonZero.map { "\($0.name) \(report.counts[hook, $0])" }.joined(separator: ", ") + "\n"
            }
        }
        if let statistics = engine.slowPathStatistics {
            text += line("mobility", statistics.mobility())
            if let handshake = statistics.handshake() { text += line("handshake", handshake) }
        }
        return text
    }

    // MARK: cache

    struct CacheReport {
        var entryCount: Int
        var foreignAddressCount: Int
        var localAddressCount: Int
        var entries: [HostCacheEntry]
    }

    func cacheReport() -> CacheReport {
        engine.hostCache.read { cache in
            CacheReport(entryCount: cache.entryCount, foreignAddressCount: cache.foreignAddressCount,
                        localAddressCount: cache.localAddressCount,
                        entries: cache.entryIDs.compactMap { cache.entry($0) })
        }
    }

    func cacheJSON() -> String {
        let report = cacheReport()
        let entries = report.entries.map { entry in
            JSONText.object([
                ("id", JSONText.quoted("\(entry.id)")),
                ("kind", JSONText.quoted("\(entry.kind)")),
                ("trust", JSONText.quoted("\(entry.trust)")),
                ("capability", JSONText.quoted("\(entry.capability)")),
                ("live-addresses", JSONText.array(entry.liveAddresses.map { JSONText.quoted("\($0)") })),
                ("expired-addresses", JSONText.array(entry.expiredAddresses.map { JSONText.quoted("\($0)") })),
                ("preferred-destination", entry.preferredDestination.map { JSONText.quoted("\($0)") } ?? "null"),
            ])
        }
        return JSONText.object([
            ("entry-count", JSONText.number(report.entryCount)),
            ("foreign-addresses", JSONText.number(report.foreignAddressCount)),
            ("local-addresses", JSONText.number(report.localAddressCount)),
            ("entries", JSONText.array(entries)),
        ]) + "\n"
    }

    func cacheText() -> String {
        let report = cacheReport()
        var text = "Host Cache: \(report.entryCount) entries, \(report.foreignAddressCount) foreign addresses, \(report.localAddressCount) local addresses\n"
        for entry in report.entries {
            text += "entry \(entry.id) \(entry.kind) trust \(entry.trust) capability \(entry.capability)"
            if let destination = entry.preferredDestination { text += " preferred \(destination)" }
            text += "\n  live: \(entry.liveAddresses.map { "\($0)" }.joined(separator: " "))"
            if !entry.expiredAddresses.isEmpty {
                text += "\n  expired: \(entry.expiredAddresses.map { "\($0)" }.joined(separator: " "))"
            }
            text += "\n"
        }
        return text
    }
}

extension EngineStatus {
    // MARK: sa

    /// The SPI as setkey writes it (`0x2001`).
    static func spiText(_ spi: UInt32) -> String { "0x" + String(spi, radix: 16) }

    /// One member list per SA: the same facts in both renderings. There are
    /// no per-SA packet counters (the verification path stays free of extra
    /// work); `homeless show stats` counts rejected signalling.
    static func securityAssociationsJSON(_ database: SecurityAssociationDatabase) -> String {
        let associations = database.associations.map { association in
            var members: [(String, String)] = [
                ("spi", JSONText.quoted(spiText(association.spi))),
                ("direction", JSONText.quoted(association.direction.rawValue)),
                ("algorithm", JSONText.quoted(association.algorithm.setkeyName)),
                ("class", JSONText.quoted(association.associationClass.rawValue)),
                ("source", JSONText.quoted("\(association.source)")),
                ("destination", JSONText.quoted("\(association.destination)")),
                ("host-cache-entry", association.hostCacheEntry.map { JSONText.quoted("\($0)") } ?? "null"),
            ]
            switch association.direction {
            case .inbound:
                members.append(("replay-window", JSONText.object([
                    ("size", JSONText.number(association.replayWindow.size)),
                    ("highest-accepted", JSONText.number(association.replayWindow.highest)),
                ])))
            case .outbound:
                members.append(("last-sent-sequence", JSONText.number(association.lastSentSequenceNumber)))
                members.append(("next-sequence", association.isExhausted
                    ? "null" : JSONText.number(association.lastSentSequenceNumber + 1)))
                members.append(("needs-rekey", JSONText.bool(association.needsRekey)))
            }
            if let line = association.manualLine { members.append(("manual-line", JSONText.number(line))) }
            return JSONText.object(members)
        }
        return JSONText.object([
            ("count", JSONText.number(database.count)),
            ("associations", JSONText.array(associations)),
        ]) + "\n"
    }

    static func securityAssociationsText(_ database: SecurityAssociationDatabase) -> String {
        var text = "security associations: \(database.count)\n"
        for association in database.associations {
            text += "SA \(spiText(association.spi)) \(association.direction.rawValue) \(association.algorithm.setkeyName)"
            text += " class \(association.associationClass.rawValue)\n"
            text += "  \(association.source) -> \(association.destination)"
            text += ", Host Cache entry \(association.hostCacheEntry.map { "\($0)" } ?? "none")\n"
            switch association.direction {
            case .inbound:
                let window = association.replayWindow
                text += window.isEnabled
                    ? "  replay window \(window.size), highest accepted \(window.highest)\n"
                    : "  replay window disabled, highest accepted \(window.highest)\n"
            case .outbound:
                text += association.isExhausted
                    ? "  sequence exhausted (sent \(association.lastSentSequenceNumber))"
                    : "  next sequence \(association.lastSentSequenceNumber + 1)"
                text += association.needsRekey ? ", needs rekey\n" : "\n"
            }
        }
        return text
    }
}

extension Array {
    subscript(safe index: Int) -> Element? { indices.contains(index) ? self[index] : nil }
}
