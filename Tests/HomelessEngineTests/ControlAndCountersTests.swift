import Foundation
import HomelessSystem
import Logging
import Synchronization
import Testing
@testable import HomelessEngine
import HomelessWire

@Suite struct ControlAndCountersTests {
    @Test func dropReasonsCoverTheParserAndTheEngine() {
        let names = DropReason.all.map(\.name)
        #expect(names.count == WireError.Reason.allCases.count + DropReason.Engine.allCases.count)
        #expect(Set(names).count == names.count)
        #expect(DropReason(.badVersion).name == "bad-version")
        #expect(DropReason(.puntQueueFull).name == "punt-queue-full")
        for reason in WireError.Reason.allCases { #expect(DropReason(reason).name == reason.rawValue) }
    }

    @Test func countersAddUpPerReason() {
        let counters = WorkerCounters()
        counters.add(.inboundPackets)
        counters.add(.inboundBytes, 1500)
        counters.add(.inboundBytes, 60)
        counters.drop(DropReason(.truncated))
        counters.drop(DropReason(.truncated))
        counters.drop(DropReason(.transmitRingFull))
        #expect(counters[.inboundPackets] == 1)
        #expect(counters[.inboundBytes] == 1560)
        #expect(counters[DropReason(.truncated)] == 2)
        #expect(counters[DropReason(.transmitRingFull)] == 1)
        #expect(counters[DropReason(.badPadding)] == 0)
        #expect(counters.totalDrops == 3)
        var totals = CounterTotals()
        totals.add(counters)
        totals.add(counters)
        #expect(totals[.inboundBytes] == 3120)
        #expect(totals.drops == 6)
    }

    @Test func jsonStringsAreEscaped() throws {
        let text = JSONText.object([("a\"b", JSONText.quoted("line\n\t\u{01}\\")), ("n", JSONText.number(42))])
        let decoded = try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any]
        #expect(decoded?["a\"b"] as? String == "line\n\t\u{01}\\")
        #expect(decoded?["n"] as? Int == 42)
    }

    @Test func controlSocketRoundTrip() throws {
        let name = "homeless-test/\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let listener = try ControlSocket.listen(name: name)
        // A second listener on the same abstract name is refused.
        #expect(throws: SystemError.self) { _ = try ControlSocket.listen(name: name) }
        let server = Thread {
            guard let connection = try? listener.accept(timeoutMilliseconds: 5000),
                  let request = try? connection.readRequestLine() else { return }
            try? connection.write(Array("you said: \(request)\n".utf8) + [UInt8](repeating: 0x41, count: 100_000))
        }
        server.start()
        let response = try ControlSocket.request(name: name, "stats json")
        #expect(response.count == "you said: stats json\n".utf8.count + 100_000)
        #expect(String(decoding: response.prefix(21), as: UTF8.self) == "you said: stats json\n")
    }

    @Test func aNameInUseIsRefusedAtOnceUnlessADeadRunWasJustRemoved() throws {
        let engineName = "test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let holder = Mutex<ControlListener?>(try ControlSocket.listen(name: EngineConfiguration.controlSocketName(engineName)))
        // No dead run: a second engine of the same name is refused at once.
        #expect {
            _ = try Engine.listenForControl(engineName, afterDeadRun: false)
        } throws: { error in
            if case .controlSocketInUse(engineName) = error as? EngineError { true } else { false }
        }
        // After a dead run, the name is taken over once its last holder
        // lets go (here after 300 ms, inside the two seconds allowed).
        let release = Thread {
            usleep(300_000)
            holder.withLock { $0 = nil }
        }
        release.start()
        let listener = try Engine.listenForControl(engineName, afterDeadRun: true)
        #expect(holder.withLock { $0 == nil })
        #expect(listener.name == EngineConfiguration.controlSocketName(engineName))
    }

    @Test func requestWithoutServerIsRefused() {
        #expect {
            _ = try ControlSocket.request(name: "homeless-test/nobody-\(getpid())", "ports")
        } throws: { error in
            (error as? SystemError)?.errno == ECONNREFUSED
        }
    }

    @Test func journalUndoesNewestFirstAndGoesOnAfterAFailure() {
        struct Refused: Error {}
        let journal = HostChangeJournal(logger: Logger(label: "test", factory: { _ in SwiftLogNoOpLogHandler() }))
        var undone: [String] = []
        journal.record("first") { undone.append("first") }
        journal.record("second") { throw Refused() }
        journal.record("third") { undone.append("third") }
        #expect(journal.changes == ["first", "second", "third"])
        let failures = journal.rollBack()
        #expect(undone == ["third", "first"])
        #expect(failures.count == 1)
        #expect(journal.isEmpty)
        #expect(journal.rollBack().isEmpty)
    }

    @Test func validationRejectsBadConfigurationsBeforeTouchingTheHost() {
        #expect(throws: EngineError.noWire) { _ = try Engine.validate(EngineConfiguration(wires: [])) }
        let wire = EngineConfiguration.defaultWire("eth9", index: 0)
        #expect(wire.kernelSide == "hl0" && wire.engineSide == "hl0p")
        #expect(throws: EngineError.invalidOption("--workers must be between 1 and 64")) {
            _ = try Engine.validate(EngineConfiguration(wires: [wire], workersPerWire: 0))
        }
        #expect(throws: EngineError.duplicateWire("eth9")) {
            _ = try Engine.validate(EngineConfiguration(wires: [wire, EngineConfiguration.defaultWire("eth9", index: 1)]))
        }
    }

    @Test(.enabled(if: geteuid() == 0, "needs root"))
    func missingInterfaceIsReportedByName() {
        let wire = EngineConfiguration.defaultWire("nosuch-if9", index: 7)
        #expect(throws: EngineError.noSuchInterface("nosuch-if9")) {
            _ = try Engine.validate(EngineConfiguration(wires: [wire]))
        }
    }
}

@Suite struct DropReasonIndexTests {
    @Test func engineReasonsTakeTheSlotsAfterTheParserReasons() {
        for (offset, reason) in DropReason.Engine.allCases.enumerated() {
            #expect(DropReason(reason).index == DropReason.wireReasonCount + offset)
            #expect(DropReason(reason).name == reason.rawValue)
        }
    }
}
