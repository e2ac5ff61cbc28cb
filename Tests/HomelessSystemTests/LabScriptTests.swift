import Foundation
import Testing

/// scripts/lab.sh builds the three-node lab, routes mn -> rt -> cn, and
/// tears down without leaving namespaces behind.
@Suite(.enabled(if: runningAsRoot, "the lab creates network namespaces and needs root"))
struct LabScriptTests {
    /// scripts/lab.sh relative to this source file.
    static let script = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("scripts/lab.sh").path

    @discardableResult
    func lab(_ arguments: [String], id: String, allowFailure: Bool = false) throws -> String {
        try run(["env", "LAB_ID=\(id)", Self.script] + arguments, allowFailure: allowFailure)
    }

    func namespaces(of id: String) throws -> [String] {
        try run(["ip", "netns", "list"]).split(separator: "\n")
            .compactMap { $0.split(separator: " ").first.map(String.init) }
            .filter { $0.hasPrefix("hl-\(id)-") }
    }

    @Test func upRoutesMobileNodeToCorrespondentAndDownRemovesEverything() throws {
        let id = "lab\(getpid())"
        defer { _ = try? lab(["down"], id: id, allowFailure: true) }
        try lab(["up"], id: id)
        #expect(try namespaces(of: id).sorted() == ["hl-\(id)-cn", "hl-\(id)-mn", "hl-\(id)-rt"])
        // Echo through rt over link A, then over link B once A is down (handover).
        try lab(["check"], id: id)
        try lab(["exec", "mn", "ip", "link", "set", "lnk-a", "down"], id: id)
        try lab(["check"], id: id)
        let routes = try lab(["exec", "rt", "sysctl", "-n", "net.ipv6.conf.all.forwarding"], id: id)
        #expect(routes.trimmingCharacters(in: .whitespacesAndNewlines) == "1")
        // up again rebuilds from scratch (link A is back).
        try lab(["up"], id: id)
        let links = try lab(["exec", "mn", "ip", "-brief", "link", "show", "lnk-a"], id: id)
        #expect(links.contains("UP"))
        try lab(["down"], id: id)
        try lab(["down"], id: id)
        #expect(try namespaces(of: id).isEmpty)
    }

    @Test func execRefusesUnknownNodes() throws {
        #expect(throws: CommandFailed.self) { try lab(["exec", "xx", "true"], id: "lab\(getpid())x") }
    }
}
