import ArgumentParser
import Foundation
import HomelessCommands
import HomelessEngine
import Testing

/// `homeless inspect --sa FILE CAPTURE`: one AH verdict per packet, in
/// capture order with the anti-replay windows running, checked against the
/// verdicts written by Tests/Fixtures/ah/make_sa_capture.py (packets signed
/// by scapy's independent AH implementation).
@Suite struct InspectSecurityAssociationTests {
    static let ahFixtures: String = {
        var components = fixturesDirectory.split(separator: "/", omittingEmptySubsequences: false)
        components.removeLast()  // captures
        return components.joined(separator: "/") + "/ah"
    }()

    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    static func inspect(sa: String, capture: String = ahFixtures + "/sa-verdicts.pcap", json: Bool) -> Run {
        var output = CapturedText()
        var errors = CapturedText()
        let options = Inspector.Options(format: json ? .json : .text, securityAssociationsPath: sa)
        let status = Inspector.run(path: capture, options: options, output: &output, errors: &errors)
        return Run(status: status, output: output.text, errors: errors.text)
    }

    static func expectedVerdicts() throws -> [TestJSON] {
        let data = try #require(FileManager.default.contents(atPath: ahFixtures + "/sa-verdicts.json"))
        guard case .array(let cases) = try TestJSON(parsing: String(decoding: data, as: UTF8.self)) else {
            Issue.record("sa-verdicts.json is not an array")
            return []
        }
        return cases
    }

    @Test func jsonVerdictsMatchScapyCases() throws {
        let expected = try Self.expectedVerdicts()
        let run = Self.inspect(sa: Self.ahFixtures + "/sa-verdicts.conf", json: true)
        #expect(run.status == 0)
        #expect(run.errors.isEmpty)
        let lines = run.output.split(separator: "\n").map(String.init)
        try #require(lines.count == expected.count)
        for (number, (line, want)) in zip(lines, expected).enumerated() {
            let packet = try TestJSON(parsing: line)
            let label = "packet \(number + 1) (\(want["note"]?.description ?? ""))"
            #expect(packet["ah_verdict"] == want["verdict"], "\(label)")
            if case .number? = want["spi"] {
                #expect(packet["ah_spi"] == want["spi"], "\(label)")
                #expect(packet["ah_sequence"] == want["seq"], "\(label)")
            } else {
                #expect(packet["ah_spi"] == .null, "\(label)")
            }
        }
        // The capture covers every verdict.
        let verdicts = Set(expected.compactMap { if case .string(let text)? = $0["verdict"] { return text } else { return nil } })
        #expect(verdicts == ["ok", "bad-icv", "unknown-spi", "replay", "no-ah", "malformed"])
    }

    @Test func jsonDetailsExplainReplayAndMalformed() throws {
        let run = Self.inspect(sa: Self.ahFixtures + "/sa-verdicts.conf", json: true)
        let packets = try run.output.split(separator: "\n").map { try TestJSON(parsing: String($0)) }
        try #require(packets.count == 12)
        #expect(packets[4]["ah_detail"] == .string("duplicate"))
        #expect(packets[9]["ah_detail"] == .string("below-window"))
        #expect(packets[7]["ah_detail"] == .string("truncated"))
        // Absolute offset: 14 octets of Ethernet + the IPv6 Payload Length field.
        #expect(packets[7]["ah_offset"] == .number(18))
        #expect(packets[0]["ah_detail"] == .null)
        #expect(packets[6]["ah_detail"] == .null)
        #expect(packets[6]["ah_offset"] == .null)
    }

    @Test func textHasOneVerdictLinePerPacket() {
        let run = Self.inspect(sa: Self.ahFixtures + "/sa-verdicts.conf", json: false)
        #expect(run.status == 0)
        let verdictLines = run.output.split(separator: "\n").filter { $0.hasPrefix("  ah-verdict ") }.map(String.init)
        #expect(verdictLines == [
            "  ah-verdict ok spi=0x1000 seq=1",
            "  ah-verdict ok spi=0x1001 seq=1",
            "  ah-verdict bad-icv spi=0x1000 seq=2",
            "  ah-verdict ok spi=0x1000 seq=2",
            "  ah-verdict replay (duplicate) spi=0x1000 seq=1",
            "  ah-verdict unknown-spi spi=0x2222 seq=1",
            "  ah-verdict no-ah",
            "  ah-verdict malformed (truncated at offset 18)",
            "  ah-verdict ok spi=0x1001 seq=100",
            "  ah-verdict replay (below-window) spi=0x1001 seq=50",
            "  ah-verdict ok spi=0x1001 seq=99",
            "  ah-verdict bad-icv spi=0x1001 seq=101",
        ])
    }

    @Test func withoutSAFileThereIsNoVerdict() throws {
        var output = CapturedText()
        var errors = CapturedText()
        let status = Inspector.run(path: Self.ahFixtures + "/sa-verdicts.pcap", options: .init(format: .json),
                                   output: &output, errors: &errors)
        #expect(status == 0)
        for line in output.lines {
            #expect(try TestJSON(parsing: line)["ah_verdict"] == nil)
        }
    }

    @Test func wrongKeyMakesEveryAHPacketBadICV() throws {
        let conf = try String(contentsOfFile: Self.ahFixtures + "/sa-verdicts.conf", encoding: .utf8)
            .replacingOccurrences(of: "0x404142", with: "0x414142")
        let path = try Self.temporaryFile(conf)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = Self.inspect(sa: path, json: true)
        let packets = try run.output.split(separator: "\n").map { try TestJSON(parsing: String($0)) }
        try #require(packets.count == 12)
        #expect(packets[0]["ah_verdict"] == .string("bad-icv"))
        #expect(packets[3]["ah_verdict"] == .string("bad-icv"))
        // Nothing moved the SHA-256 SA's window, so the duplicate is not a replay either.
        #expect(packets[4]["ah_verdict"] == .string("bad-icv"))
        #expect(packets[1]["ah_verdict"] == .string("ok"))
    }

    @Test func nonIPv6FramesAndSnapshotCutsAreMalformed() throws {
        let verifier = try AHCaptureVerifier(parsing: "add 2001:db8::1 2001:db8::2 ah 0x1000 -A hmac-sha1 \"twenty-byte-key-1234\";")
        let arp = TestPackets.ethernet([UInt8](repeating: 0, count: 28), etherType: 0x0806)
        // An AH packet whose capture kept only 50 octets (a snapshot length).
        let ah = TestPackets.ipv6(nextHeader: 51, payload: [17, 4, 0, 0, 0, 0, 0x10, 0, 0, 0, 0, 1] + [UInt8](repeating: 0, count: 20))
        let cut = TestPackets.ethernet(ah)
        let capture = CaptureBytesBuilder.pcap(order: .littleEndian, records: [
            (seconds: 1, fraction: 0, data: arp, original: nil),
            (seconds: 2, fraction: 0, data: Array(cut.prefix(50)), original: cut.count),
        ])
        var output = CapturedText()
        var errors = CapturedText()
        let status = Inspector.run(bytes: capture, name: "cut.pcap",
                                   options: .init(format: .json, securityAssociations: verifier),
                                   output: &output, errors: &errors)
        #expect(status == 0)
        let packets = try output.lines.map { try TestJSON(parsing: $0) }
        try #require(packets.count == 2)
        #expect(packets[0]["ah_verdict"] == .string("malformed"))
        #expect(packets[0]["ah_detail"] == .string("not-ipv6"))
        #expect(packets[1]["ah_verdict"] == .string("malformed"))
        #expect(packets[1]["ah_detail"] == .string("truncated"))
    }

    // MARK: SA file errors

    static func temporaryFile(_ contents: String) throws -> String {
        let path = NSTemporaryDirectory() + "homeless-sa-\(UUID().uuidString).conf"
        try contents.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test(arguments: [
        ("add 2001:db8::1 2001:db8::2 ah 0x1000 -A hmac-sha256 0x0102;\n", ":1:"),
        ("# comment\n\nadd 2001:db8::1 2001:db8::2 esp 0x1000 -E aes-cbc 0x00;\n", ":3:"),
        ("add 2001:db8::1 2001:db8::2 ah 0x1000 -A hmac-sha1 \"twenty-byte-key-1234\";\nadd 2001:db8::1 2001:db8::2 ah 0x1000 -A hmac-sha1 \"twenty-byte-key-1234\";\n", ":2:"),
        ("add 2001:db8::1 2001:db8::2 ah 0x1000 -A hmac-md5 0x00112233445566778899aabbccddeeff;\n", ":1:"),
    ])
    func badSAFileIsOneErrorLineWithLineNumber(contents: String, location: String) throws {
        let path = try Self.temporaryFile(contents)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let run = Self.inspect(sa: path, json: false)
        #expect(run.status == 1)
        #expect(run.output.isEmpty, "no packet is read when the SA file is wrong")
        let lines = run.errors.split(separator: "\n")
        #expect(lines.count == 1)
        #expect(run.errors.hasPrefix("error: \(path)\(location)"), "\(run.errors)")
    }

    @Test func missingSAFileIsAnError() {
        let run = Self.inspect(sa: "/nonexistent/sa.conf", json: false)
        #expect(run.status == 1)
        #expect(run.errors.hasPrefix("error: /nonexistent/sa.conf: "))
        #expect(run.errors.split(separator: "\n").count == 1)
    }

    @Test func commandLineParsesSAOption() throws {
        let command = try InspectCommand.parse(["--sa", "keys.conf", "capture.pcap", "--json"])
        #expect(command.securityAssociations == "keys.conf")
        #expect(command.capture == "capture.pcap")
        #expect(command.json)
    }
}
