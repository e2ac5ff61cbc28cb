import Foundation
import HomelessWire
import Testing
@testable import HomelessSecurity

/// One packet of Tests/Fixtures/ah/vectors.json (made by make_vectors.py with scapy).
struct AHVector: Decodable, CustomTestStringConvertible {
    let name: String
    let note: String
    let algorithm: String
    let key: String
    let spi: UInt32
    let sequenceNumber: UInt32
    let icv: String
    let ahOffset: Int
    let packet: String
    let icvInput: String
    let uncoveredOffsets: [Int]?

    enum CodingKeys: String, CodingKey {
        case name, note, algorithm, key, spi, icv, packet
        case sequenceNumber = "sequence_number"
        case ahOffset = "ah_offset"
        case icvInput = "icv_input"
        case uncoveredOffsets = "uncovered_offsets"
    }

    var testDescription: String { name }
    var packetBytes: [UInt8] { hexBytes(packet) }
    var keyBytes: [UInt8] { hexBytes(key) }

    var authenticationAlgorithm: AuthenticationAlgorithm {
        algorithm == "hmac-sha1" ? .hmacSHA1_96 : .hmacSHA256_128
    }

    func inboundAssociation(window: ReplayWindow = ReplayWindow(size: 64)!) throws -> SecurityAssociation {
        try SecurityAssociation(
            spi: spi, direction: .inbound, algorithm: authenticationAlgorithm, key: keyBytes,
            source: IPv6Address("2001:db8:1::10")!, destination: IPv6Address("2001:db8:2::20")!, replayWindow: window)
    }
}

private struct VectorFile: Decodable {
    let vectors: [AHVector]
}

enum Fixtures {
    static let directory = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures").appendingPathComponent("ah")

    static let vectors: [AHVector] = {
        let url = directory.appendingPathComponent("vectors.json")
        guard let data = try? Data(contentsOf: url),
            let file = try? JSONDecoder().decode(VectorFile.self, from: data)
        else { return [] }
        return file.vectors
    }()
}

func hexBytes(_ text: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = text.startIndex
    while index < text.endIndex, let next = text.index(index, offsetBy: 2, limitedBy: text.endIndex) {
        bytes.append(UInt8(text[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

func hexString(_ bytes: some Sequence<UInt8>) -> String {
    bytes.map { String(format: "%02x", $0) }.joined()
}

/// Builds IPv6 test packets by hand (the tests check the security code, not a packet builder).
enum PacketBuilder {
    static let source = IPv6Address("2001:db8:1::10")!
    static let destination = IPv6Address("2001:db8:2::20")!

    /// IPv6 header + `headers` (each a complete extension header whose first
    /// byte is patched to chain) + UDP with `payload`.
    static func packet(
        source: IPv6Address = source, destination: IPv6Address = destination,
        headers: [(type: UInt8, bytes: [UInt8])] = [], payload: [UInt8] = Array("payload".utf8),
        trafficClass: UInt8 = 0x2E, flowLabel: UInt32 = 0x12345, hopLimit: UInt8 = 64
    ) -> [UInt8] {
        let udpLength = 8 + payload.count
        var udp: [UInt8] = [0x0F, 0xA0, 0x13, 0x88, UInt8(udpLength >> 8), UInt8(udpLength & 0xFF), 0, 0]
        udp += payload
        var chain: [UInt8] = []
        let types = headers.map(\.type) + [17]
        for (index, header) in headers.enumerated() {
            var bytes = header.bytes
            bytes[0] = types[index + 1]
            chain += bytes
        }
        let payloadLength = chain.count + udp.count
        var packet: [UInt8] = [
            0x60 | trafficClass >> 4, (trafficClass & 0x0F) << 4 | UInt8(flowLabel >> 16 & 0x0F),
            UInt8(flowLabel >> 8 & 0xFF), UInt8(flowLabel & 0xFF),
            UInt8(payloadLength >> 8), UInt8(payloadLength & 0xFF), types[0], hopLimit,
        ]
        packet += source.bytes + destination.bytes + chain + udp
        return packet
    }

    /// A Destination Options (or Hop-by-Hop) header with one option, padded to 8n.
    static func optionsHeader(optionType: UInt8, data: [UInt8]) -> [UInt8] {
        var bytes: [UInt8] = [0, 0, optionType, UInt8(data.count)] + data
        let padding = (8 - bytes.count % 8) % 8
        if padding == 1 {
            bytes.append(0)
        } else if padding > 1 {
            bytes += [1, UInt8(padding - 2)] + [UInt8](repeating: 0, count: padding - 2)
        }
        bytes[1] = UInt8(bytes.count / 8 - 1)
        return bytes
    }

    /// A type 0 or 2 Routing header with `addresses` and `segmentsLeft`.
    static func routingHeader(type: UInt8, segmentsLeft: UInt8, addresses: [IPv6Address]) -> [UInt8] {
        [0, UInt8(addresses.count * 2), type, segmentsLeft, 0, 0, 0, 0] + addresses.flatMap(\.bytes)
    }
}

extension SecurityAssociation {
    /// Protects `packet` with AH at the transport position; returns the new packet.
    mutating func protect(_ packet: [UInt8], insertingAt offset: Int? = nil) throws -> [UInt8] {
        var buffer = packet + [UInt8](repeating: 0, count: 64)
        let insertion = try offset ?? packet.withUnsafeBytes { try AHPlacement.transportInsertionOffset(in: $0) }
        let length = try buffer.withUnsafeMutableBytes {
            try protect($0, packetLength: packet.count, insertingAt: insertion)
        }
        return Array(buffer[0..<length])
    }

    mutating func verify(_ packet: [UInt8]) -> AHVerification {
        packet.withUnsafeBytes { verify($0) }
    }
}
