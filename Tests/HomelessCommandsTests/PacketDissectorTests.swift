import Foundation
import HomelessCommands
import HomelessEngine
import HomelessWire
import Testing

/// The dissection model on frames built field by field: link types, partial
/// results before an error, and the JSON writer.
@Suite struct PacketDissectorTests {
    static let address: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 1] + [UInt8](repeating: 0, count: 9) + [0x10]

    func dissect(_ frame: [UInt8], linkType: CaptureLinkType = .ethernet,
                 configuration: PacketWalkerConfiguration = PacketWalkerConfiguration()) -> PacketDissection {
        frame.withUnsafeBytes { PacketDissector(configuration: configuration).dissect(frame: $0, linkType: linkType) }
    }

    func options(_ header: DissectedHeader?) -> [DissectedOption] {
        if case .options(let options)? = header?.details { return options }
        return []
    }

    @Test func linuxCookedHeaderIsStrippedAndOffsetsStayAbsolute() {
        let packet = TestPackets.ipv6(nextHeader: 17, payload: TestPackets.udp(source: 53, destination: 5353))
        var cooked: [UInt8] = [0, 0, 0, 1, 0, 6, 2, 0, 0, 0, 0, 1, 0, 0, 0x86, 0xDD]
        let v1 = dissect(cooked + packet, linkType: .linuxCooked)
        #expect(v1.error == nil)
        #expect(v1.ipv6?.nextHeader == .udp)
        #expect(v1.upper?.offset == 16 + 40)
        #expect(v1.upper?.fields.first == InspectionMember("src_port", .integer(53)))

        let v2 = dissect([0x86, 0xDD] + [UInt8](repeating: 0, count: 18) + packet, linkType: .linuxCooked2)
        #expect(v2.upper?.offset == 20 + 40)

        let loopback = dissect([24, 0, 0, 0] + packet, linkType: .null)
        #expect(loopback.upper?.offset == 4 + 40)
        let darwinLoopback = dissect([0, 0, 0, 30] + packet, linkType: .null)
        #expect(darwinLoopback.upper?.offset == 4 + 40)

        cooked[14] = 0x08; cooked[15] = 0x00  // IPv4
        let ipv4 = dissect(cooked + packet, linkType: .linuxCooked)
        #expect(ipv4.error == DissectionError(reason: "unsupported-ethertype", offset: 14))
        #expect(ipv4.ipv6 == nil)
        #expect(dissect([0, 0], linkType: .linuxCooked).error == DissectionError(reason: "truncated", offset: 0))
    }

    @Test func unsupportedLinkType() {
        let dissection = dissect([1, 2, 3, 4], linkType: CaptureLinkType(rawValue: 105))
        #expect(dissection.error == DissectionError(reason: "unsupported-link-type", offset: 0))
        #expect(dissection.jsonValue[member: "link"] == .string("linktype-105"))
        #expect(dissection.jsonValue[member: "link_type"] == .integer(105))
    }

    @Test func nonIPv6FrameKeepsItsEthernetHeader() {
        let frame = TestPackets.ethernet([UInt8](repeating: 0, count: 28), etherType: 0x0806)
        let dissection = dissect(frame)
        #expect(dissection.ethernet?.etherType == .arp)
        #expect(dissection.ethernet?.source == EthernetAddress(2, 0, 0, 0, 0, 1))
        #expect(dissection.error == DissectionError(reason: "unsupported-ethertype", offset: 12))
        #expect(dissection.text.contains("type 0x0806\n  error: unsupported-ethertype at offset 12"))
    }

    @Test func bindingUpdateWithABrokenSubOptionKeepsWhatDecoded() throws {
        // BU at 2 (4n+2): fixed part, Homeless Support at 12, then an
        // Alternate Care-of Address sub-option one byte short (Len 15).
        var body: [UInt8] = [198, 8 + 2 + 17, 0x80, 0, 0x12, 0x34, 0, 0, 0x02, 0x58]
        body += [128, 0]
        body += [4, 15] + [UInt8](repeating: 0xAB, count: 15)
        body += [0]  // Pad1 to 32 bytes
        let header = [59, UInt8((2 + body.count) / 8 - 1)] + body
        #expect(header.count == 32)
        let dissection = dissect(TestPackets.ethernet(TestPackets.ipv6(nextHeader: 60, payload: header)))
        #expect(dissection.error == DissectionError(reason: "bad-length", offset: 14 + 40 + 15))
        #expect(dissection.headers.count == 1)
        let bindingUpdate = try #require(options(dissection.headers.first).first)
        #expect(bindingUpdate.name == "binding-update")
        #expect(bindingUpdate.fields.contains(InspectionMember("sequence", .integer(0x1234))))
        #expect(bindingUpdate.fields.contains(InspectionMember("lifetime", .integer(600))))
        #expect(bindingUpdate.subOptions?.map(\.name) == ["homeless-support"])
        #expect(bindingUpdate.subOptions?.first?.offset == 14 + 40 + 12)
    }

    @Test func alignmentIsCheckedUnlessLenient() throws {
        // Home Address at 2: its alignment is 8n+6.
        let header: [UInt8] = [59, 2, 201, 16] + Self.address + [1, 2, 0, 0]
        let frame = TestPackets.ethernet(TestPackets.ipv6(nextHeader: 60, payload: header))
        let strict = dissect(frame)
        #expect(strict.error == DissectionError(reason: "misaligned", offset: 14 + 40 + 2))
        var lenientConfiguration = PacketWalkerConfiguration()
        lenientConfiguration.checksAlignment = false
        let lenient = dissect(frame, configuration: lenientConfiguration)
        #expect(lenient.error == nil)
        let homeAddress = try #require(options(lenient.headers.first).first)
        #expect(homeAddress.fields == [InspectionMember("home_address", .string("2001:db8:1::10"))])
        #expect(homeAddress.action == .discardAndSendParameterProblemUnlessMulticast)
    }

    @Test func unknownOptionsShowTheirData() throws {
        // Type 0x3E: action skip, chg set; 3 data bytes; then PadN to 8.
        let header: [UInt8] = [59, 0, 0x3E, 3, 0xDE, 0xAD, 0xBE, 0]
        let dissection = dissect(TestPackets.ipv6(nextHeader: 60, payload: header), linkType: .raw)
        #expect(dissection.error == nil)
        let unknown = try #require(options(dissection.headers.first).first)
        #expect(unknown.name == "unknown")
        #expect(unknown.mayChangeEnRoute)
        #expect(unknown.fields == [InspectionMember("data", .string("deadbe"))])
        let json = unknown.jsonOutput
        #expect(json.contains(#""type":62,"name":"unknown","offset":42,"length":3,"action":"skip","change":true,"fields":{"data":"deadbe"},"sub_options":null"#))
    }

    @Test func encapsulatingSecurityPayloadShowsSPIAndSequence() throws {
        let esp: [UInt8] = [0, 0, 0x10, 0x01, 0, 0, 0, 9] + [UInt8](repeating: 0x55, count: 16)
        let dissection = dissect(TestPackets.ipv6(nextHeader: 50, payload: esp), linkType: .raw)
        #expect(dissection.error == nil)
        let header = try #require(dissection.headers.first)
        #expect(header.kind == .encapsulatingSecurityPayload)
        guard case .encapsulatingSecurityPayload(let spi, let sequence) = header.details else {
            Issue.record("not ESP: \(header.details)")
            return
        }
        #expect(spi == 0x1001 && sequence == 9)
        #expect(dissection.upper == nil)
    }

    @Test func laterFragmentIsAnOpaquePayload() throws {
        let fragment: [UInt8] = [17, 0, 0x00, 0xB9, 0, 0, 0, 7] + [UInt8](repeating: 0, count: 16)  // offset 23, M
        let dissection = dissect(TestPackets.ipv6(nextHeader: 44, payload: fragment), linkType: .raw)
        #expect(dissection.error == nil)
        guard case .fragment(let offset, let more, let identification)? = dissection.headers.first?.details else {
            Issue.record("no fragment header")
            return
        }
        #expect(offset == 23 && more && identification == 7)
        let upper = try #require(dissection.upper)
        #expect(upper.kind == .payload)
        #expect(upper.protocolName == "udp")
        #expect(upper.offset == 48 && upper.length == 16)
    }

    @Test func firstFragmentUDPLengthCoversTheWholeDatagram() throws {
        // Fragment offset 0 with M set; the UDP Length (3000) counts the
        // reassembled datagram, far beyond this packet: not an error.
        let fragment: [UInt8] = [17, 0, 0x00, 0x01, 0, 0, 0, 9]
        let udp: [UInt8] = [0x13, 0x88, 0x13, 0x89, 0x0B, 0xB8, 0, 0] + [UInt8](repeating: 0x55, count: 8)
        let dissection = dissect(TestPackets.ipv6(nextHeader: 44, payload: fragment + udp), linkType: .raw)
        #expect(dissection.error == nil)
        let upper = try #require(dissection.upper)
        #expect(upper.kind == .udp)
        #expect(upper.offset == 48)
    }

    @Test func snapshotCutPacketShowsTheCapturedHeaders() throws {
        // Destination Options (8 bytes) then TCP, captured only up to the
        // first 6 TCP bytes: the options print, then the cut TCP header.
        let header: [UInt8] = [6, 0, 1, 4, 0, 0, 0, 0]
        let tcp = [UInt8](repeating: 0, count: 20)
        let full = TestPackets.ethernet(TestPackets.ipv6(nextHeader: 60, payload: header + tcp))
        let cut = Array(full.prefix(14 + 40 + 8 + 6))
        let record = CaptureBytesBuilder.pcap(order: .littleEndian, records: [(seconds: 0, fraction: 0, data: cut, original: full.count)])
        var reader = try CaptureReader(bytes: record)
        let packet = try #require(try reader.next())
        let dissection = PacketDissector().dissect(packet, index: 1)
        #expect(dissection.ipv6?.payloadLength == 28)
        #expect(dissection.headers.map(\.kind) == [.destinationOptions])
        #expect(dissection.error == DissectionError(reason: "truncated", offset: 62))

        // The same bytes not marked as cut: the payload length overruns.
        let whole = cut.withUnsafeBytes { PacketDissector().dissect(frame: $0, linkType: .ethernet) }
        #expect(whole.error == DissectionError(reason: "length-overrun", offset: 18))
        #expect(whole.ipv6?.payloadLength == 28)
        #expect(whole.headers.isEmpty)
    }

    @Test func randomCorruptionOfEveryFixturePacketNeverTraps() throws {
        // Deterministic pseudo-random mutations (SplitMix64) of each fixture
        // packet, under every link type the dissector strips itself; the
        // output must always render.
        let path = fixturesDirectory + "/homeless.pcap"
        let file = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        var reader = try CaptureReader(bytes: file)
        var frames: [[UInt8]] = []
        while let packet = try reader.next() { frames.append(Array(packet.data)) }
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func random() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        let linkTypes: [CaptureLinkType] = [.ethernet, .raw, .linuxCooked, .linuxCooked2, .null]
        for round in 0..<4000 {
            var frame = frames[round % frames.count]
            for _ in 0..<(1 + Int(random() % 4)) {
                let index = Int(random() % UInt64(frame.count))
                frame[index] = UInt8(truncatingIfNeeded: random())
            }
            if random() % 4 == 0 { frame.removeLast(Int(random() % UInt64(frame.count))) }
            let dissection = dissect(frame, linkType: linkTypes[round % linkTypes.count])
            #expect(!dissection.text.isEmpty)
            #expect(dissection.jsonValue.json.hasPrefix("{\"index\":1,"))
            if let error = dissection.error { #expect(error.offset >= 0 && error.offset <= frame.count) }
        }
    }

    // MARK: JSON writer

    @Test func jsonEscaping() {
        let value = InspectionValue.object([
            InspectionMember("text", .string("quote\" backslash\\ newline\n tab\t bell\u{07} é ∆")),
            InspectionMember("list", .array([.integer(-1), .bool(true), .null])),
            InspectionMember("empty", .object([])),
        ])
        #expect(value.json == #"{"text":"quote\" backslash\\ newline\n tab\t bell\u0007 é ∆","list":[-1,true,null],"empty":{}}"#)
        #expect(InspectionValue.hex([0x00, 0x0F, 0xF0, 0xFF]) == .string("000ff0ff"))
    }
}

extension DissectedOption {
    /// The option as `--json` prints it inside a header.
    var jsonOutput: String {
        let header = DissectedHeader(kind: .destinationOptions, protocolNumber: .destinationOptions, offset: 0, length: 8,
                                     nextHeader: .noNextHeader, details: .options([self]))
        var dissection = PacketDissection(index: 1, timestamp: nil, originalLength: 0, capturedLength: 0,
                                          linkType: .raw, interfaceID: nil)
        dissection.headers = [header]
        return dissection.jsonValue.json
    }
}
