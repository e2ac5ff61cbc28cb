import Foundation
import HomelessCommands
import Testing

/// Runs `homeless inspect --json` on the captures written by
/// Tests/Fixtures/captures/make_captures.py and compares every packet, field
/// for field, with what scapy decoded from the same bytes (expected.json).
@Suite struct InspectFixtureTests {
    static let expected: TestJSON = {
        let path = fixturesDirectory + "/expected.json"
        guard let data = FileManager.default.contents(atPath: path),
              let text = String(data: data, encoding: .utf8),
              let json = try? TestJSON(parsing: text) else { return .null }
        return json
    }()

    @Test(arguments: ["homeless.pcap", "homeless.pcapng", "raw-ipv6.pcap"])
    func matchesScapy(file: String) throws {
        guard case .array(let packets)? = Self.expected[file] else {
            Issue.record("expected.json has no entry for \(file)")
            return
        }
        var output = CapturedText()
        var errors = CapturedText()
        let status = Inspector.run(path: fixturesDirectory + "/" + file, options: .init(format: .json),
                                   output: &output, errors: &errors)
        #expect(status == 0)
        #expect(errors.text.isEmpty)
        let lines = output.lines
        #expect(lines.count == packets.count)
        for (line, expected) in zip(lines, packets) {
            let actual = try TestJSON(parsing: line)
            actual.expectContains(expected, path: "\(file)#\(expected["index"]?.description ?? "?")")
        }
    }

    @Test func fixturesCoverEveryDecodedKind() throws {
        // The comparison above is only as good as the fixtures: make sure
        // they exercise what the command claims to decode.
        guard case .array(let packets)? = Self.expected["homeless.pcap"] else {
            Issue.record("expected.json missing")
            return
        }
        let text = packets.map(\.description).joined()
        for needle in ["\"binding-update\"", "\"binding-acknowledgement\"", "\"binding-request\"", "\"home-address\"",
                       "\"homeless-support\"", "\"alternate-care-of-address\"", "\"alternate-prefixes\"",
                       "\"type\":\"ah\"", "\"vlan\":42", "\"protocol\":\"tcp\"", "\"protocol\":\"udp\"",
                       "\"protocol\":\"icmpv6\"", "\"type\":\"routing\"", "\"type\":\"fragment\"",
                       "\"type\":\"hop-by-hop\"", "\"reason\":\"truncated\"", "\"reason\":\"length-overrun\""] {
            #expect(text.contains(needle), "fixtures lack \(needle)")
        }
    }

    @Test func everyLineIsOneJSONObjectWithTheDocumentedMembers() throws {
        var output = CapturedText()
        var errors = CapturedText()
        _ = Inspector.run(path: fixturesDirectory + "/homeless.pcap", options: .init(format: .json),
                          output: &output, errors: &errors)
        for line in output.lines {
            guard case .object(let members) = try TestJSON(parsing: line) else {
                Issue.record("not an object: \(line)")
                continue
            }
            #expect(Set(members.keys) == ["index", "time", "length", "captured", "link", "link_type", "interface",
                                          "ethernet", "ipv6", "headers", "upper", "error"])
        }
    }
}
