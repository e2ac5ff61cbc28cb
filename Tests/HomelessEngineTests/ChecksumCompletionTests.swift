import Testing
@testable import HomelessEngine
import HomelessWire

/// A frame handed over with checksum offload pending carries a partial
/// checksum; the worker computes the real one. Expected values from scapy.
@Suite struct ChecksumCompletionTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }

    static let udp = bytes("02000000000202000000000186dd600000000010114020010db8000a0000000000000000001020010db8000c000000000000000000209c40138900103e9f686f6d656c657373")
    static let tcp = bytes("02000000000202000000000186dd600000000032064020010db8000a0000000000000000001020010db8000c000000000000000000209c401451000003e800000005501802008e690000787878787878787878787878787878787878787878787878787878787878")

    func completed(_ original: [UInt8], checksumAt field: Int, garbage: UInt16) throws -> [UInt8] {
        var frame = original
        frame[field] = UInt8(garbage >> 8)
        frame[field + 1] = UInt8(garbage & 0xFF)
        let packet = try frame.withUnsafeBytes { try ParsedPacket.parse($0) }
        frame.withUnsafeMutableBytes { ForwardingWorker.completeChecksum(in: $0, of: packet) }
        return frame
    }

    @Test func udpChecksumIsCompleted() throws {
        let field = 14 + 40 + 6
        #expect(try completed(Self.udp, checksumAt: field, garbage: 0xDEAD) == Self.udp)
        #expect(try completed(Self.udp, checksumAt: field, garbage: 0) == Self.udp)
    }

    @Test func tcpChecksumIsCompleted() throws {
        let field = 14 + 40 + 16
        #expect(try completed(Self.tcp, checksumAt: field, garbage: 0x1234) == Self.tcp)
        #expect(Self.tcp[field] == 0x8E && Self.tcp[field + 1] == 0x69)
    }

    @Test func otherProtocolsAreLeftAlone() throws {
        // Same frame announced as protocol 59 (No Next Header): no checksum field.
        var frame = Self.udp
        frame[14 + 6] = 59
        let packet = try frame.withUnsafeBytes { try ParsedPacket.parse($0) }
        let before = frame
        frame.withUnsafeMutableBytes { ForwardingWorker.completeChecksum(in: $0, of: packet) }
        #expect(frame == before)
    }
}
