import Foundation
import Testing

/// Runs Tests/Integration/host-mode.sh (the lab-based host-mode tests:
/// ping6, UDP and iperf3 through two engines, counters, drops and punts,
/// restoration of the host, ring overrun, CLI errors) against the
/// `homeless` binary built next to this test bundle. Needs root.
@Suite(.serialized) struct HostModeIntegrationTests {
    static var isRoot: Bool { geteuid() == 0 }

    /// The package root, from this file's path (Tests/HomelessEngineTests/...).
    static var packageRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// `homeless` lives in the same build products directory as the tests.
    static var homelessBinary: URL? {
        var directory = URL(fileURLWithPath: CommandLine.arguments[0]).resolvingSymlinksInPath()
        for _ in 0..<5 {
            directory = directory.deletingLastPathComponent()
            let candidate = directory.appendingPathComponent("homeless")
            if FileManager.default.isExecutableFile(atPath: candidate.path) { return candidate }
        }
        return nil
    }

    /// Runs one lab script; a run with a failed check is run once more
    /// (with its own lab id) and the second run decides. The lab's checks
    /// time real kernel TCP across moves on two shared cores, and a rare
    /// timing miss must not hide behind a red run: the first run's failures
    /// are printed, and a failure that repeats fails the test.
    static func runLabScript(_ name: String, labID: String, arguments: [String] = [],
                             extraEnvironment: [String: String] = [:]) throws -> (text: String, status: Int32) {
        let first = try runLabScriptOnce(name, labID: labID, arguments: arguments, extraEnvironment: extraEnvironment)
        let failures = first.text.split(separator: "\n").filter { $0.hasPrefix("FAIL") }.map { "first run: " + $0 }
        guard first.status != 0 || !failures.isEmpty else { return first }
        print("lab \(name) \(arguments.joined(separator: " ")): first run failed (status \(first.status)), "
              + "running it once more:\n" + failures.joined(separator: "\n"))
        let second = try runLabScriptOnce(name, labID: labID + "r", arguments: arguments,
                                          extraEnvironment: extraEnvironment)
        return (failures.joined(separator: "\n") + "\nsecond run:\n" + second.text,
                second.status)
    }

    /// Runs one lab script with the built binary; its output, exit status.
    static func runLabScriptOnce(_ name: String, labID: String, arguments: [String] = [],
                                 extraEnvironment: [String: String] = [:]) throws -> (text: String, status: Int32) {
        let binary = try #require(homelessBinary, "the homeless executable was not built next to the tests")
        let process = Process()
        // The script starts with no signal blocked, whatever the test
        // thread's mask is (children inherit it): its clean-up stops
        // background jobs with SIGINT/SIGTERM, which a blocked mask would
        // turn into a wait without end.
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = ["-c", unblockSignalsAndRunBash,
                             packageRoot.appendingPathComponent("Tests/Integration/\(name)").path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["HOMELESS"] = binary.path
        environment["LAB_ID"] = labID
        environment.merge(extraEnvironment) { _, new in new }
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (text, process.terminationStatus)
    }

    /// Python (already a test dependency): empties the signal mask, then
    /// becomes `bash SCRIPT ARGUMENTS...`.
    static let unblockSignalsAndRunBash = [
        "import os, signal, sys",
        "signal.pthread_sigmask(signal.SIG_SETMASK, set())",
        "os.execv('/bin/bash', ['bash'] + sys.argv[1:])",
    ].joined(separator: "\n")

    static func expectAllPassed(_ text: String, status: Int32) {
        let failures = text.split(separator: "\n").filter { $0.hasPrefix("FAIL") }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(text)")
        // 77 would mean a tool is missing: that is a failure here, not a skip.
        #expect(status == 0, "\(text)")
        #expect(text.contains(" passed, 0 failed"))
    }

    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(3)))
    func hostModeInTheLab() throws {
        let (text, status) = try Self.runLabScript("host-mode.sh", labID: "hmt\(getpid() % 100000)")
        Self.expectAllPassed(text, status: status)
    }

    /// Tests/Integration/mobility.sh: an iperf3 TCP transfer mn -> cn
    /// survives each handover case of the lab: (a) mn renumbered, (b) mn
    /// moving from link A to link B, (c) cn renumbered, (d) both, one after
    /// the other, (e) multi-homed mn losing link A; and (s) cn a plain
    /// Standard Host whose Parameter Problem stops mn's Binding Updates;
    /// (u) a UDP-only conversation (no TCP) renumbered; (m) as (b) onto a
    /// path with a 1280-octet hop: the router's Packet Too Big quotes the
    /// locators, mn's engine translates it back and mn's kernel lowers the
    /// path MTU for cn's ULID. Binding Updates under
    /// manual AH SAs (verified by tshark and scapy), ULID translation, the
    /// outage and header size as seen on the router.
    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(2)),
          arguments: ["a", "b", "c", "d", "e", "m", "s", "u"])
    func transferSurvivesHandover(_ handoverCase: String) throws {
        let (text, status) = try Self.runLabScript("mobility.sh", labID: "mb\(handoverCase)\(getpid() % 100000)",
                                                   arguments: [handoverCase])
        Self.expectAllPassed(text, status: status)
    }

    /// The handover cases with `--steering classifier` on both engines:
    /// the kernel keeps the wires and their addresses (the moves happen on
    /// the wires), the BPF classifier takes the peer's traffic and the
    /// signalling from the kernel, and the peers' addresses are routed
    /// through the upper ports. Checks the classifier's verdict counters
    /// and the peer routes besides everything the bridge cases check; in
    /// (b) and (e) the kernel sees link A go down itself and the engine
    /// moves cn's route to link B's kernel side.
    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(2)),
          arguments: ["a", "b", "c", "d", "e", "s", "u"])
    func transferSurvivesHandoverWithClassifierSteering(_ handoverCase: String) throws {
        let (text, status) = try Self.runLabScript("mobility.sh", labID: "mk\(handoverCase)\(getpid() % 100000)",
                                                   arguments: [handoverCase],
                                                   extraEnvironment: ["STEERING": "classifier"])
        Self.expectAllPassed(text, status: status)
        #expect(text.contains("steering classifier"))
    }

    /// Classifier steering with the anonymous handshake: mn's slow path
    /// taps the SYN (u: the first datagram) to cn on the wire
    /// (`hl_conversation_tap`) and starts the handshake; the transfer then
    /// survives mn's renumbering (a, u) and cn's (c). In (c) and (u) mn's
    /// socket, which cached its route before cn became a peer, must move
    /// to the new peer route so that mn's engine translates (checked on
    /// link C).
    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(2)),
          arguments: ["a", "c", "u"])
    func transferSurvivesRenumberingWithClassifierSteeringAndTheHandshake(_ handoverCase: String) throws {
        let (text, status) = try Self.runLabScript("mobility.sh", labID: "mkh\(handoverCase)\(getpid() % 100000)",
                                                   arguments: [handoverCase],
                                                   extraEnvironment: ["STEERING": "classifier", "KEYING": "handshake"])
        Self.expectAllPassed(text, status: status)
        #expect(text.contains(handoverCase == "u" ? "tapped the first datagram" : "tapped the SYN"))
    }

    /// Tests/Integration/classifier-steering.sh: `homeless run --steering
    /// classifier`. The wire keeps its addresses and routes; the tc ingress
    /// program, the steering rule and the peer route are in place; traffic
    /// to a plain host never enters the engine and Neighbour Discovery stays
    /// with the kernel; ping6, UDP and iperf3 to the peer pass through both
    /// engines; SIGTERM restores the host exactly, and a SIGKILLed run's
    /// filter, qdisc, rule, table and veth pair are removed by the next run.
    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(2)))
    func classifierSteeringInTheLab() throws {
        let (text, status) = try Self.runLabScript("classifier-steering.sh", labID: "cs\(getpid() % 100000)")
        Self.expectAllPassed(text, status: status)
    }

    /// The same transfer and renumbering with the engines making their own
    /// AH keys: the anonymous-authentication handshake (draft 2.4.3, A.2)
    /// runs when mn opens the connection, then the Initial Binding Update
    /// and the Binding Updates of the move travel under its SAs.
    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(2)))
    func transferSurvivesRenumberingWithTheAnonymousHandshake() throws {
        let (text, status) = try Self.runLabScript("mobility.sh", labID: "mbh\(getpid() % 100000)", arguments: ["a"],
                                                   extraEnvironment: ["KEYING": "handshake"])
        Self.expectAllPassed(text, status: status)
        #expect(text.contains("handshake-ms"))
    }

    /// Tests/Integration/expiry.sh: Host Cache lifetimes in the engine. A
    /// peer's short Binding Update lifetime is refreshed; when the peer's
    /// engine stops refreshing, its address expires, the host gets ICMPv6
    /// address unreachable (draft 2.2), and the entry is removed after
    /// MAXIMUM-EXPIRED-LIFETIME (2.1.4). An activity-related lifetime
    /// stays live while traffic flows and expires when it stops (2.1.3).
    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(2)))
    func hostCacheLifetimesRunInTheEngine() throws {
        let (text, status) = try Self.runLabScript("expiry.sh", labID: "ex\(getpid() % 100000)")
        Self.expectAllPassed(text, status: status)
    }

    /// Tests/Integration/hijack.sh: a hostile host ev with a valid SA of
    /// its own with cn (a distinct manual key; or, with the anonymous
    /// handshake, one its engine made) sends AH-valid Binding Updates
    /// naming mn's address while mn's iperf3 transfer to cn runs: cn
    /// refuses and counts them, its entry for mn stays as it was, and the
    /// transfer completes without a stall (draft 2.4.2, 3.3.1, 5.3).
    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(2)),
          arguments: ["manual", "handshake"])
    func aPeerWithItsOwnSACannotHijackAnotherPeersEntry(_ keying: String) throws {
        let (text, status) = try Self.runLabScript("hijack.sh", labID: "hj\(keying.prefix(1))\(getpid() % 100000)",
                                                   extraEnvironment: ["KEYING": keying])
        Self.expectAllPassed(text, status: status)
    }

    /// Tests/Integration/bad-input.sh: crafted frames (malformed options,
    /// signalling without valid AH, a Home Address option alone, sequence
    /// and lifetime edge cases, Alternate Prefixes of every length, Routing
    /// headers, fragments, forged ICMPv6 errors, bad handshake messages) and
    /// floods against live engines: each dropped under its exact counter,
    /// the engines alive, an iperf3 transfer through them unharmed, and
    /// memory bounded (docs/SECURITY.md, "Bad-input suite").
    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(4)))
    func badInputIsCountedAndHarmless() throws {
        let (text, status) = try Self.runLabScript("bad-input.sh", labID: "bad\(getpid() % 100000)")
        Self.expectAllPassed(text, status: status)
    }
}
