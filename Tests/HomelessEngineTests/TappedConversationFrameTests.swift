@testable import HomelessEngine
import HomelessWire
import Testing

/// The slow path cuts a tapped frame's lengths to what the tap captured,
/// so that the parser takes it.
struct TappedConversationFrameTests {
    /// Ethernet + IPv6 (2001:db8:1::1 -> 2001:db8:2::2) + UDP 5000 -> 53
    /// with `payload` octets of data.
    static func udpFrame(payload: Int) -> [UInt8] {
        let length = 8 + payload
        let high = UInt8(length >> 8), low = UInt8(length & 0xff)
        var frame: [UInt8] = [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x86, 0xdd]
        frame += [0x60, 0, 0, 0, high, low, 17, 64]
        for subnet: UInt8 in [1, 2] {
            frame += [0x20, 0x01, 0x0d, 0xb8, 0, subnet]
            frame += [UInt8](repeating: 0, count: 9)
            frame.append(subnet)
        }
        frame += [0x13, 0x88, 0, 53, high, low, 0, 0]
        frame += [UInt8](repeating: 0xab, count: payload)
        return frame
    }

    /// Copies `frame` into a junk-filled buffer of 2048 octets, keeps its
    /// first `captured`, clips, and returns the clipped bytes.
    static func clip(_ frame: [UInt8], captured: Int) -> [UInt8] {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer { buffer.deallocate() }
        for index in 0..<buffer.count { buffer[index] = 0x5a }
        for (index, byte) in frame.prefix(captured).enumerated() { buffer[index] = byte }
        let length = TappedConversationFrame.clipLengths(buffer, captured: min(captured, frame.count))
        return Array(buffer[0..<length])
    }

    /// The frame parsed, or nil when the parser refuses it.
    static func parsed(_ frame: [UInt8]) -> ParsedPacket? {
        frame.withUnsafeBytes { bytes in try? ParsedPacket.parse(bytes) }
    }

    @Test func aCutDatagramParsesWithItsAddresses() throws {
        let whole = Self.udpFrame(payload: 600)
        #expect(Self.parsed(Array(whole.prefix(128))) == nil, "the parser refuses the cut frame as it is")
        let clipped = Self.clip(whole, captured: 128)
        #expect(clipped.count == 128)
        #expect(clipped[18] == 0 && clipped[19] == 74, "payload length = 128 - 54")
        #expect(clipped[58] == 0 && clipped[59] == 74, "UDP length likewise")
        let packet = try #require(Self.parsed(clipped))
        #expect(packet.upperLayerProtocol == .udp)
        #expect(packet.source == IPv6Address(high: 0x2001_0db8_0001_0000, low: 1))
        #expect(packet.destination == IPv6Address(high: 0x2001_0db8_0002_0000, low: 2))
        #expect(Array(clipped[54..<58]) == [0x13, 0x88, 0, 53], "the ports are untouched")
    }

    @Test func framesCapturedWholeOrNotIPv6AreLeftAlone() {
        let small = Self.udpFrame(payload: 20)
        #expect(Self.clip(small, captured: small.count) == small)
        var arp = Self.udpFrame(payload: 600)
        arp[12] = 0x08; arp[13] = 0x06
        #expect(Self.clip(arp, captured: 128) == Array(arp.prefix(128)))
        var notVersion6 = Self.udpFrame(payload: 600)
        notVersion6[14] = 0x45
        #expect(Self.clip(notVersion6, captured: 128) == Array(notVersion6.prefix(128)))
    }

    @Test func capturesShorterThanTheHeadersAreLeftAlone() {
        let frame = Self.udpFrame(payload: 600)
        for captured in [0, 13, 14, 53] {
            #expect(Self.clip(frame, captured: captured) == Array(frame.prefix(captured)), "captured \(captured)")
        }
        // Headers complete but no room for the UDP header: only the IPv6
        // payload length is cut.
        let clipped = Self.clip(frame, captured: 58)
        #expect(clipped[18] == 0 && clipped[19] == 4)
        #expect(clipped[58...].isEmpty)
        #expect(TappedConversationFrame.clipLengths(UnsafeMutableRawBufferPointer(start: nil, count: 0), captured: -5) == 0)
    }
}
