import HomelessWire
import Testing
@testable import HomelessSecurity

@Suite struct SetkeyParserTests {
    static let mobile = IPv6Address("2001:db8:1::10")!
    static let correspondent = IPv6Address("2001:db8:2::20")!

    static let sample = """
        # Manual AH keys between the mobile host and its correspondent.
        flush;
        spdflush;

        add 2001:db8:1::10 2001:db8:2::20 ah 0x1000 -m transport
            -A hmac-sha256 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;
        add -6 2001:db8:2::20 2001:db8:1::10 ah 4097 -r 128 -u 7
            -A hmac-sha1 "twenty-byte-key-1234";   # text key
        spdadd 2001:db8:1::/48 2001:db8:2::20[any] udp -P out ipsec ah/transport//require;
        spdadd 2001:db8:2::20 2001:db8:1::10[5000] any -P in ipsec ah/transport//unique:7;
        spdadd ::/0 ::/0 icmp6 -P in none;
        spdadd ::/0 2001:db8:1::10 58 -P out discard;
        """

    @Test func parsesTheSupportedSubset() throws {
        let configuration = try ManualKeyingConfiguration(parsing: Self.sample)
        #expect(configuration.associations.count == 2)
        let first = configuration.associations[0]
        #expect(first.source == Self.mobile)
        #expect(first.destination == Self.correspondent)
        #expect(first.spi == 0x1000)
        #expect(first.algorithm == .hmacSHA256_128)
        #expect(first.key == Array(0..<32))
        #expect(first.replayWindowSize == nil)
        #expect(first.line == 5)
        let second = configuration.associations[1]
        #expect(second.spi == 4097)
        #expect(second.algorithm == .hmacSHA1_96)
        #expect(second.key == Array("twenty-byte-key-1234".utf8))
        #expect(second.replayWindowSize == 128)
        #expect(second.requestID == 7)
        #expect(second.line == 7)

        #expect(configuration.policies.count == 4)
        let out = configuration.policies[0]
        #expect(out.direction == .outbound)
        #expect(out.source == PolicyAddressRange(address: IPv6Address("2001:db8:1::")!, prefixLength: 48))
        #expect(out.destination.port == nil)
        #expect(out.upperLayerProtocol == 17)
        #expect(out.action == .protect(.require))
        #expect(configuration.policies[1].action == .protect(.unique(requestID: 7)))
        #expect(configuration.policies[1].destination.port == 5000)
        #expect(configuration.policies[2].action == .bypass)
        #expect(configuration.policies[2].upperLayerProtocol == 58)
        #expect(configuration.policies[3].action == .discard)
        #expect(configuration.policies[3].line == 12)
    }

    @Test func policiesMatchInFileOrder() throws {
        let policies = try ManualKeyingConfiguration(parsing: Self.sample).policies
        let outbound = policies.firstMatch(direction: .outbound, source: IPv6Address("2001:db8:1:0:ffff::1")!,
                                           destination: Self.correspondent, upperLayerProtocol: 17, destinationPort: 53)
        #expect(outbound?.line == 9)
        #expect(policies.firstMatch(direction: .outbound, source: IPv6Address("2001:db8:9::1")!,
                                    destination: Self.correspondent, upperLayerProtocol: 17) == nil)
        let inbound = policies.firstMatch(direction: .inbound, source: Self.correspondent, destination: Self.mobile,
                                          upperLayerProtocol: 6, destinationPort: 5000)
        #expect(inbound?.line == 10)
        let wrongPort = policies.firstMatch(direction: .inbound, source: Self.correspondent, destination: Self.mobile,
                                            upperLayerProtocol: 6, destinationPort: 5001)
        #expect(wrongPort == nil)
        #expect(PolicyAddressRange(address: .unspecified, prefixLength: 0).contains(Self.mobile))
        #expect(!PolicyAddressRange(address: Self.mobile, prefixLength: 127).contains(IPv6Address("2001:db8:1::12")!))
        #expect(PolicyAddressRange(address: Self.mobile, prefixLength: 127).contains(IPv6Address("2001:db8:1::11")!))
    }

    @Test func directionsFollowTheLocalAddresses() throws {
        let configuration = try ManualKeyingConfiguration(parsing: Self.sample)
        let onMobile = try configuration.securityAssociations { $0 == Self.mobile }
        #expect(onMobile.map(\.direction) == [.outbound, .inbound])
        #expect(onMobile.map(\.spi) == [0x1000, 4097])
        #expect(onMobile[1].replayWindow.size == 128)
        #expect(onMobile.allSatisfy { $0.associationClass == .generic && $0.manualLine != nil })
        let elsewhere = try configuration.securityAssociations { _ in false }
        #expect(elsewhere.isEmpty)
        let loopback = try configuration.securityAssociations { _ in true }
        #expect(loopback.count == 4)
    }

    @Test func manualSAsInteroperate() throws {
        let configuration = try ManualKeyingConfiguration(parsing: Self.sample)
        var mobile = SecurityAssociationDatabase()
        try mobile.loadManual(configuration) { $0 == Self.mobile }
        var correspondent = SecurityAssociationDatabase()
        try correspondent.loadManual(configuration) { $0 == Self.correspondent }
        let plain = PacketBuilder.packet(source: Self.mobile, destination: Self.correspondent)
        var buffer = plain + [UInt8](repeating: 0, count: 32)
        let length = try buffer.withUnsafeMutableBytes {
            try mobile.protectOutbound($0, packetLength: plain.count, insertingAt: 40, entry: nil, destination: Self.correspondent)
        }
        let result = buffer[0..<length].withUnsafeBytes { correspondent.verifyInbound($0) }
        #expect(result.verdict == .ok)
        #expect(result.spi == 0x1000)
    }

    @Test func reloadingReplacesOnlyManualSAs() throws {
        var database = SecurityAssociationDatabase()
        let anonymous = try SecurityAssociation(
            spi: 0x9000, direction: .inbound, algorithm: .hmacSHA256_128, key: [UInt8](repeating: 1, count: 32),
            source: Self.correspondent, destination: Self.mobile, associationClass: .anonymous)
        try database.add(anonymous)
        try database.loadManual(try ManualKeyingConfiguration(parsing: Self.sample)) { $0 == Self.mobile }
        #expect(database.count == 3)
        try database.loadManual(ManualKeyingConfiguration()) { $0 == Self.mobile }
        #expect(database.count == 1)
        #expect(database.inbound(spi: 0x9000)?.associationClass == .anonymous)
        // A manual SA clashing with the anonymous SA's SPI: nothing changes.
        let clash = "add 2001:db8:2::20 2001:db8:1::10 ah 0x9000 -A hmac-sha1 0x\(String(repeating: "ab", count: 20));"
        #expect(throws: SetkeyError([SetkeyDiagnostic(line: 1, column: 1, message: "inbound SPI 0x9000 is already in use")])) {
            try database.loadManual(try ManualKeyingConfiguration(parsing: clash)) { $0 == Self.mobile }
        }
        #expect(database.count == 1)
    }

    @Test func flushForgetsEarlierStatements() throws {
        let text = """
            add 2001:db8:1::10 2001:db8:2::20 ah 0x1000 -A hmac-sha1 0x\(String(repeating: "11", count: 20));
            spdadd ::/0 ::/0 any -P in none;
            flush ah;
            spdflush;
            add 2001:db8:1::10 2001:db8:2::20 ah 0x2000 -A hmac-sha1 0x\(String(repeating: "22", count: 20));
            """
        let configuration = try ManualKeyingConfiguration(parsing: text)
        #expect(configuration.associations.map(\.spi) == [0x2000])
        #expect(configuration.policies.isEmpty)
    }

    /// Every malformed statement is reported with its line and column, and
    /// the valid statements around them are not loaded either.
    @Test func malformedStatementsAreAllReportedAndNothingLoads() throws {
        let good = "add 2001:db8:1::10 2001:db8:2::20 ah 0x1000 -A hmac-sha256 0x\(String(repeating: "00", count: 32));"
        let text = """
            \(good)
            add 2001:db8:1::10 2001:db8:2::20 esp 0x1001 -E aes-cbc 0x00;
            add 2001:db8:1::10 2001:db8:2::20 ah 0x1002 -A hmac-sha256 0x0011;
            add 2001:db8:1::10 192.0.2.1 ah 0x1003 -A hmac-sha1 0x\(String(repeating: "00", count: 20));
            add 2001:db8:1::10 2001:db8:2::20 ah 12 -A hmac-sha1 0x\(String(repeating: "00", count: 20));
            add 2001:db8:1::10 2001:db8:2::20 ah 0x1004 -A hmac-md5 0x\(String(repeating: "00", count: 16));
            add 2001:db8:1::10 2001:db8:2::20 ah 0x1005 -m tunnel -A hmac-sha1 0x\(String(repeating: "00", count: 20));
            add 2001:db8:1::10 2001:db8:2::20 ah 0x1006 -r 8 -A hmac-sha1 0x\(String(repeating: "00", count: 20));
            add 2001:db8:1::10 2001:db8:2::20 ah 0x1007;
            spdadd ::/0 ::/0 any -P fwd none;
            spdadd ::/0 ::/0 any -P in ipsec esp/transport//require;
            spdadd ::/200 ::/0 any -P in none;
            deleteall;
            bogus things;
            add 2001:db8:1::10 2001:db8:2::20 ah 0x1008 -A hmac-sha1 0xZZ\(String(repeating: "00", count: 19));
            \(good)
            add 2001:db8:1::10
            """
        do {
            _ = try ManualKeyingConfiguration(parsing: text)
            Issue.record("a file with errors must not load")
        } catch {
            let lines = error.diagnostics.map(\.line)
            #expect(lines == Array(2...15) + [17], "\(error)")
            let byLine = Dictionary(error.diagnostics.map { ($0.line, $0) }, uniquingKeysWith: { first, _ in first })
            #expect(byLine[2]?.column == 35, "column of 'esp'")
            #expect(byLine[2]?.message.contains("only ah") == true)
            #expect(byLine[3]?.message.contains("256-bit key") == true)
            #expect(byLine[4]?.message.contains("IPv4") == true)
            #expect(byLine[5]?.message.contains("reserved") == true)
            #expect(byLine[6]?.message.contains("hmac-md5") == true)
            #expect(byLine[7]?.message.contains("tunnel") == true)
            #expect(byLine[8]?.message.contains("replay window") == true)
            #expect(byLine[9]?.message.contains("-A") == true)
            #expect(byLine[10]?.message.contains("fwd") == true)
            #expect(byLine[11]?.message.contains("esp") == true)
            #expect(byLine[12]?.message.contains("prefix length") == true)
            #expect(byLine[13]?.message.contains("not supported") == true)
            #expect(byLine[14]?.message.contains("unknown command") == true)
            #expect(byLine[15]?.message.contains("hex digit") == true)
            #expect(byLine[17]?.message.contains("not terminated") == true)
        }
        // The same file without its bad lines loads.
        let cleaned = try ManualKeyingConfiguration(parsing: good + "\n" + good.replacingOccurrences("0x1000", "0x1009"))
        #expect(cleaned.associations.count == 2)
    }

    @Test func unterminatedQuoteAndMissingPieces() {
        #expect(throws: SetkeyError([SetkeyDiagnostic(line: 2, column: 37, message: "unterminated quoted string")])) {
            _ = try ManualKeyingConfiguration(parsing: "# comment ; \"not a string\n add ::1 ::2 ah 0x1000 -A hmac-sha1 \"open;\n")
        }
        do {
            _ = try ManualKeyingConfiguration(parsing: "add ::1 ::2 ah;")
            Issue.record("missing SPI must fail")
        } catch {
            #expect(error.diagnostics.count == 1)
            #expect(error.diagnostics.first?.message == "expected an SPI before ';'")
            #expect(error.diagnostics.first?.line == 1)
        }
    }

    @Test func emptyAndCommentOnlyFilesAreEmptyConfigurations() throws {
        #expect(try ManualKeyingConfiguration(parsing: "") == ManualKeyingConfiguration())
        #expect(try ManualKeyingConfiguration(parsing: "# nothing\n\n;;\n") == ManualKeyingConfiguration())
    }
}

extension String {
    fileprivate func replacingOccurrences(_ target: String, _ replacement: String) -> String {
        split(separator: target, omittingEmptySubsequences: false).joined(separator: replacement)
    }
}
