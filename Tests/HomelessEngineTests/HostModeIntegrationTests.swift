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

    @Test(.enabled(if: isRoot, "needs root for network namespaces"), .timeLimit(.minutes(3)))
    func hostModeInTheLab() throws {
        let binary = try #require(Self.homelessBinary, "the homeless executable was not built next to the tests")
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [Self.packageRoot.appendingPathComponent("Tests/Integration/host-mode.sh").path]
        var environment = ProcessInfo.processInfo.environment
        environment["HOMELESS"] = binary.path
        environment["LAB_ID"] = "hmt\(getpid() % 100000)"
        process.environment = environment
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        try process.run()
        let text = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        let failures = text.split(separator: "\n").filter { $0.hasPrefix("FAIL") }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))\n\(text)")
        // 77 would mean a tool is missing: that is a failure here, not a skip.
        #expect(process.terminationStatus == 0, "\(text)")
        #expect(text.contains(" passed, 0 failed"))
    }
}
