import Foundation
import Testing
@testable import HomelessWire

/// Vectors built by scapy (Tests/Fixtures/wire/make_golden.py, output
/// committed as golden.json). Each vector lists the header chain scapy
/// dissected and field values scapy set or computed; every listed field is
/// checked here, every checksum verified, and every header this module can
/// emit is re-emitted and compared with scapy's bytes.
struct GoldenVector: Sendable, CustomTestStringConvertible {
    var name: String
    var origin: String
    var link: String
    var bytes: [UInt8]
    var headers: [(String, Int, Int)]
    var expect: [String: ExpectedValue]

    var testDescription: String { name }

    enum ExpectedValue: Sendable, Equatable {
        case number(Int)
        case text(String)
    }

    static func load() -> [GoldenVector] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Fixtures/wire/golden.json")
        guard let data = try? Data(contentsOf: url),
              let root = try? JSONSerialization.jsonObject(with: data) as? [String: Any],
              let vectors = root["vectors"] as? [[String: Any]] else { return [] }
        return vectors.compactMap { entry in
            guard let name = entry["name"] as? String, let hexText = entry["hex"] as? String,
                  let link = entry["link"] as? String, let headers = entry["headers"] as? [[Any]] else { return nil }
            var expect: [String: ExpectedValue] = [:]
            for (key, value) in entry["expect"] as? [String: Any] ?? [:] {
                if let number = value as? Int { expect[key] = .number(number) }
                else if let text = value as? String { expect[key] = .text(text) }
            }
            return GoldenVector(name: name, origin: entry["origin"] as? String ?? "", link: link, bytes: hex(hexText),
                                headers: headers.compactMap { row in
                                    guard row.count == 3, let kind = row[0] as? String, let offset = row[1] as? Int,
                                          let length = row[2] as? Int else { return nil }
                                    return (kind, offset, length)
                                },
                                expect: expect)
        }
    }
}

@Suite struct GoldenVectorTests {
    static let vectors = GoldenVector.load()

    @Test func fixtureIsPresent() {
        #expect(Self.vectors.count >= 18)
        #expect(Set(Self.vectors.map(\.name)).count == Self.vectors.count)
    }

    @Test(arguments: GoldenVectorTests.vectors)
    func vectorMatches(_ vector: GoldenVector) throws {
        let config = PacketWalkerConfiguration(linkLayer: vector.link == "ethernet" ? .ethernet : .rawIPv6)
        // Header chain.
        let records = try walk(vector.bytes, configuration: config).get()
        #expect(records.map { "\($0.kind)@\($0.offset)+\($0.length)" } == vector.headers.map { "\($0.0)@\($0.1)+\($0.2)" })

        let packet = try #require(expectSuccess(vector.bytes) { try ParsedPacket.parse($0, configuration: config) })
        var checked = Set<String>()
        func number(_ key: String) -> Int? {
            checked.insert(key)
            if case .number(let value) = vector.expect[key] { return value }
            return nil
        }
        func text(_ key: String) -> String? {
            checked.insert(key)
            if case .text(let value) = vector.expect[key] { return value }
            return nil
        }
        func addressValue(_ key: String) -> IPv6Address? { text(key).flatMap(IPv6Address.init) }

        // Link and IPv6 header.
        if let vlan = number("vlan") { #expect(packet.vlanTag?.identifier == UInt16(vlan)) }
        if let priority = number("vlanPriority") { #expect(packet.vlanTag?.priority == UInt8(priority)) }
        if let mac = text("ethernetSource") { #expect(packet.ethernetSource?.description == mac) }
        if let mac = text("ethernetDestination") { #expect(packet.ethernetDestination?.description == mac) }
        if let source = addressValue("source") { #expect(packet.source == source) }
        if let destination = addressValue("destination") { #expect(packet.destination == destination) }
        if let hopLimit = number("hopLimit") { #expect(Int(packet.hopLimit) == hopLimit) }
        if let trafficClass = number("trafficClass") { #expect(Int(packet.trafficClass) == trafficClass) }
        if let flowLabel = number("flowLabel") { #expect(Int(packet.flowLabel) == flowLabel) }
        if let upper = number("upperProtocol") { #expect(Int(packet.upperLayerProtocol.rawValue) == upper) }
        if let end = number("packetEnd") { #expect(packet.packetEnd == end) }
        if let source = addressValue("pseudoHeaderSource") { #expect(packet.pseudoHeaderSource == source) }
        if let destination = addressValue("pseudoHeaderDestination") { #expect(packet.pseudoHeaderDestination == destination) }

        vector.bytes.withUnsafeBytes { raw in
            checkUpperLayer(raw, packet, number: number)
            checkMobility(raw, packet, number: number, text: text, addressValue: addressValue)
            checkExtensionHeaders(raw, packet, records: records, number: number, text: text, addressValue: addressValue)
            checkReemission(raw, records: records, vector: vector)
        }
        if let count = number("unrecognizedOptionCount") { #expect(packet.unrecognizedOptionCount == count) }
        if let type = number("actionableOptionType") { #expect(packet.firstActionableOption.map { Int($0.type) } == type) }
        if let offset = number("actionableOptionOffset") { #expect(packet.firstActionableOption?.optionOffset == offset) }
        if let action = number("actionableOptionAction") { #expect(packet.firstActionableOption.map { Int($0.action.rawValue) } == action) }
        if let nonInitial = number("nonInitialFragment") { #expect(packet.isNonInitialFragment == (nonInitial != 0)) }

        let unchecked = Set(vector.expect.keys).subtracting(checked)
        #expect(unchecked.isEmpty, "expectations not checked: \(unchecked.sorted())")
    }

    func checkUpperLayer(_ raw: UnsafeRawBufferPointer, _ packet: ParsedPacket, number: (String) -> Int?) {
        guard let offset = packet.upperLayerOffset else { return }
        let fragmented = packet.fragmentHeaderOffset != nil
        switch packet.upperLayerProtocol {
        case .udp:
            guard let udp = try? UDPHeaderView(checking: raw, at: offset, limit: packet.packetEnd, checksDatagramLength: !fragmented) else {
                if !fragmented { Issue.record("UDP header does not parse") }
                return
            }
            if let port = number("sourcePort") { #expect(Int(udp.sourcePort) == port) }
            if let port = number("destinationPort") { #expect(Int(udp.destinationPort) == port) }
            if let checksum = number("checksum") {
                #expect(Int(udp.checksum) == checksum)
                #expect(udp.verifyChecksum(source: packet.pseudoHeaderSource, destination: packet.pseudoHeaderDestination))
            }
        case .tcp:
            guard let tcp = try? TCPHeaderView(checking: raw, at: offset, limit: packet.packetEnd) else {
                Issue.record("TCP header does not parse"); return
            }
            if let port = number("sourcePort") { #expect(Int(tcp.sourcePort) == port) }
            if let port = number("destinationPort") { #expect(Int(tcp.destinationPort) == port) }
            if let value = number("tcpDataOffset") { #expect(Int(tcp.dataOffset) == value) }
            if let value = number("tcpSequence") { #expect(Int(tcp.sequenceNumber) == value) }
            if let value = number("tcpAcknowledgment") { #expect(Int(tcp.acknowledgmentNumber) == value) }
            if let value = number("tcpFlags") { #expect(Int(tcp.flags) == value) }
            if let value = number("tcpWindow") { #expect(Int(tcp.window) == value) }
            if let checksum = number("checksum") {
                #expect(Int(tcp.checksum) == checksum)
                #expect(tcp.verifyChecksum(source: packet.pseudoHeaderSource, destination: packet.pseudoHeaderDestination))
            }
        case .icmpv6:
            guard let icmp = try? ICMPv6View(checking: raw, at: offset, limit: packet.packetEnd) else {
                Issue.record("ICMPv6 header does not parse"); return
            }
            if let type = number("icmpType") { #expect(Int(icmp.type) == type) }
            if let code = number("icmpCode") { #expect(Int(icmp.code) == code) }
            if let identifier = number("icmpIdentifier") { #expect(icmp.identifier.map(Int.init) == identifier) }
            if let sequence = number("icmpSequence") { #expect(icmp.sequence.map(Int.init) == sequence) }
            if let pointer = number("icmpPointer") { #expect(icmp.pointer.map(Int.init) == pointer) }
            if let length = number("invokingLength") { #expect(icmp.messageLength - 8 == length) }
            if let checksum = number("checksum") {
                #expect(Int(icmp.checksum) == checksum)
                #expect(icmp.verifyChecksum(source: packet.pseudoHeaderSource, destination: packet.pseudoHeaderDestination))
            }
            // The value type re-emits the same message (checksum recomputed).
            let message = ICMPv6Message(icmp)
            let bytes = emittedIgnoringJunk(length: message.bufferLength) {
                message.emit(into: $0, source: packet.pseudoHeaderSource, destination: packet.pseudoHeaderDestination)
            }
            #expect(bytes == Array(raw[offset..<packet.packetEnd]))
        default:
            break
        }
    }

    func checkMobility(_ raw: UnsafeRawBufferPointer, _ packet: ParsedPacket, number: (String) -> Int?, text: (String) -> String?,
                       addressValue: (String) -> IPv6Address?) {
        if let home = addressValue("homeAddress") { #expect(packet.homeAddress == home) }
        if let offset = number("homeAddressOptionOffset") { #expect(packet.mobilityOptions.homeAddress == offset) }
        if let offset = number("bindingAcknowledgementOptionOffset") { #expect(packet.mobilityOptions.bindingAcknowledgement == offset) }
        guard let header = packet.mobilityOptions.headerOffset,
              let view = try? OptionsHeaderView(checking: raw, at: header, limit: packet.packetEnd),
              let value = try? DestinationOptionsHeader(view) else { return }
        if let length = number("destinationOptionsLength") { #expect(view.length == length) }
        for option in value.options {
            switch option {
            case .bindingUpdate(let update):
                if let flags = number("buFlags") { #expect(Int(update.flags.rawValue) == flags) }
                if let prefix = number("buPrefixLength") { #expect(Int(update.prefixLength) == prefix) }
                if let sequence = number("buSequence") { #expect(Int(update.sequence) == sequence) }
                if let lifetime = number("buLifetime") { #expect(Int(update.lifetime) == lifetime) }
                checkSubOptions(update.subOptions, source: packet.source, number: number, addressValue: addressValue)
            case .bindingAcknowledgement(let acknowledgement):
                if let status = number("baStatus") { #expect(Int(acknowledgement.status) == status) }
                if let sequence = number("baSequence") { #expect(Int(acknowledgement.sequence) == sequence) }
                if let lifetime = number("baLifetime") { #expect(Int(acknowledgement.lifetime) == lifetime) }
                if let refresh = number("baRefresh") { #expect(Int(acknowledgement.refresh) == refresh) }
            case .bindingRequest(let request):
                checkSubOptions(request.subOptions, source: packet.source, number: number, addressValue: addressValue)
            case .homeAddress, .other:
                break
            }
        }
    }

    func checkSubOptions(_ subOptions: [MobilitySubOption], source: IPv6Address, number: (String) -> Int?,
                         addressValue: (String) -> IPv6Address?) {
        var careOf = source
        for subOption in subOptions {
            switch subOption {
            case .uniqueIdentifier(let identifier):
                if let expected = number("uniqueIdentifier") { #expect(Int(identifier) == expected) }
            case .alternateCareOfAddress(let address):
                careOf = address
                if let expected = addressValue("alternateCareOfAddress") { #expect(address == expected) }
            case .alternatePrefixes(let prefixes):
                if let count = number("alternatePrefixCount") { #expect(prefixes.prefixes.count == count) }
                if let code = number("alternatePrefixLengthCode") { #expect(Int(prefixes.prefixLengthCode) == code) }
                for index in prefixes.prefixes.indices {
                    if let expected = addressValue("alternatePrefix\(index)") {
                        #expect(prefixes.address(at: index, suffixFrom: careOf) == expected)
                    }
                }
            case .homelessSupport, .unknown:
                break
            }
        }
    }

    func checkExtensionHeaders(_ raw: UnsafeRawBufferPointer, _ packet: ParsedPacket, records: [HeaderRecord],
                               number: (String) -> Int?, text: (String) -> String?, addressValue: (String) -> IPv6Address?) {
        if let offset = packet.authenticationHeaderOffset, let ah = try? AuthenticationHeaderView(checking: raw, at: offset) {
            if let spi = number("ahSPI") { #expect(Int(ah.securityParametersIndex) == spi) }
            if let sequence = number("ahSequence") { #expect(Int(ah.sequenceNumber) == sequence) }
            if let length = number("ahPayloadLength") { #expect(Int(ah.payloadLength) == length) }
            if let length = number("ahICVLength") { #expect(ah.integrityCheckValueLength == length) }
            if let icv = text("ahICV") { #expect(hexString(Array(raw[ah.integrityCheckValueRange])) == icv) }
        }
        if let offset = packet.routingHeaderOffset, let routing = try? RoutingHeaderView(checking: raw, at: offset) {
            if let type = number("routingType") { #expect(Int(routing.routingType) == type) }
            if let left = number("segmentsLeft") { #expect(Int(routing.segmentsLeft) == left) }
            if let first = addressValue("routingAddress0") { #expect(routing.address(0) == first) }
        }
        if let offset = packet.fragmentHeaderOffset, let fragment = try? FragmentHeaderView(checking: raw, at: offset) {
            if let value = number("fragmentOffset") { #expect(Int(fragment.fragmentOffset) == value) }
            if let value = number("moreFragments") { #expect(fragment.moreFragments == (value != 0)) }
            if let value = number("fragmentIdentification") { #expect(Int(fragment.identification) == value) }
        }
        if let offset = packet.encapsulatingSecurityPayloadOffset, let esp = try? EncapsulatingSecurityPayloadView(checking: raw, at: offset) {
            if let spi = number("espSPI") { #expect(Int(esp.securityParametersIndex) == spi) }
        }
    }

    /// Every header with a value type is re-emitted byte for byte.
    func checkReemission(_ raw: UnsafeRawBufferPointer, records: [HeaderRecord], vector: GoldenVector) {
        for record in records {
            let original = Array(raw[record.range])
            var again: [UInt8]?
            switch record.kind {
            case .ethernet:
                if let value = try? EthernetHeader(EthernetFrameView(checking: raw, at: record.offset)) {
                    again = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
                }
            case .ipv6:
                if let value = try? IPv6Header(IPv6HeaderView(checking: raw, at: record.offset)) {
                    again = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
                }
            case .destinationOptions:
                if let view = try? OptionsHeaderView(checking: raw, at: record.offset), let value = try? DestinationOptionsHeader(view) {
                    again = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
                }
            case .routing:
                if let value = try? RoutingHeader(RoutingHeaderView(checking: raw, at: record.offset)) {
                    again = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
                }
            case .fragment:
                if let value = try? FragmentHeader(FragmentHeaderView(checking: raw, at: record.offset)) {
                    again = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
                }
            case .authentication:
                if let value = try? AuthenticationHeader(AuthenticationHeaderView(checking: raw, at: record.offset)) {
                    again = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
                }
            case .udp:
                if let value = try? UDPHeader(UDPHeaderView(checking: raw, at: record.offset, checksDatagramLength: false)) {
                    again = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
                }
            default:
                continue
            }
            #expect(again == original, "\(vector.name): \(record.kind) at \(record.offset) re-emits differently")
        }
    }
}
