import Foundation
import HomelessWire
import Testing
@testable import HomelessSecurity

/// Packets protected by this implementation verify in scapy
/// (Tests/Fixtures/ah/verify.py); skipped when python3 with scapy is missing.
@Suite struct ScapyInteropTests {
    /// An interpreter that can import scapy's IPsec layer, if any.
    static let python: String? = {
        for candidate in ["python3", "/usr/bin/python3"] {
            if (try? run(["/usr/bin/env", candidate, "-c", "import scapy.layers.ipsec"]).status) == 0 { return candidate }
        }
        return nil
    }()

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: arguments[0])
        process.arguments = Array(arguments.dropFirst())
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    struct Item: Encodable {
        let name: String
        let algorithm: String
        let key: String
        let spi: UInt32
        let packet: String
    }

    @Test(.enabled(if: python != nil, "python3 with scapy is not available"))
    func enginePacketsVerifyInScapy() throws {
        let python = try #require(Self.python)
        let home = IPv6Address("2001:db8:4::40")!
        let layouts: [(String, [UInt8])] = [
            ("udp", PacketBuilder.packet()),
            ("hop-by-hop-chg", PacketBuilder.packet(headers: [
                (0, PacketBuilder.optionsHeader(optionType: 0x3E, data: [9, 8, 7, 6, 5])),
            ])),
            ("destopt-before-routing", PacketBuilder.packet(headers: [
                (60, PacketBuilder.optionsHeader(optionType: 0x3E, data: [1, 2, 3])),
                (43, PacketBuilder.routingHeader(type: 2, segmentsLeft: 1, addresses: [home])),
            ])),
            ("routing-type2-destopt-after", PacketBuilder.packet(headers: [
                (43, PacketBuilder.routingHeader(type: 2, segmentsLeft: 1, addresses: [home])),
                (60, PacketBuilder.optionsHeader(optionType: 0xC9, data: home.bytes)),
            ])),
            ("routing-type0", PacketBuilder.packet(headers: [
                (43, PacketBuilder.routingHeader(type: 0, segmentsLeft: 2, addresses: [PacketBuilder.source, home])),
            ])),
            ("large", PacketBuilder.packet(payload: [UInt8](repeating: 0x5A, count: 1300))),
        ]
        var items: [Item] = []
        for algorithm in AuthenticationAlgorithm.allCases {
            let key = algorithm == .hmacSHA256_128 ? AHProcessingTests.key256 : AHProcessingTests.key160
            var (outbound, inbound) = try AHProcessingTests.pair(algorithm, spi: 0x7000)
            for (name, plain) in layouts {
                let packet = try outbound.protect(plain)
                #expect(inbound.verify(packet).verdict == .ok, "own verify of \(name)")
                items.append(Item(name: "\(algorithm.setkeyName)-\(name)", algorithm: algorithm.setkeyName,
                                  key: hexString(key), spi: 0x7000, packet: hexString(packet)))
            }
        }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("homeless-ah-\(getpid()).json")
        try JSONEncoder().encode(items).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let script = Fixtures.directory.appendingPathComponent("verify.py").path
        let (status, output) = try Self.run(["/usr/bin/env", python, script, file.path])
        #expect(status == 0, "scapy rejected engine packets:\n\(output)")
        #expect(output.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count == items.count, "\(output)")
    }

    /// The checker itself rejects a corrupted packet (so a pass above means something).
    @Test(.enabled(if: python != nil, "python3 with scapy is not available"))
    func scapyCheckerRejectsCorruption() throws {
        let python = try #require(Self.python)
        var (outbound, _) = try AHProcessingTests.pair()
        var packet = try outbound.protect(PacketBuilder.packet())
        packet[packet.count - 1] ^= 1
        let item = Item(name: "corrupt", algorithm: "hmac-sha256", key: hexString(AHProcessingTests.key256),
                        spi: 0x4000, packet: hexString(packet))
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("homeless-ah-bad-\(getpid()).json")
        try JSONEncoder().encode([item]).write(to: file)
        defer { try? FileManager.default.removeItem(at: file) }
        let (status, output) = try Self.run(["/usr/bin/env", python, Fixtures.directory.appendingPathComponent("verify.py").path, file.path])
        #expect(status == 1)
        #expect(output.hasPrefix("FAIL corrupt"))
    }
}
