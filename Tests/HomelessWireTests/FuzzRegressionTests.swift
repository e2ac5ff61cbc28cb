import Testing
@testable import HomelessWire

/// Inputs found by the FuzzFrameParser libFuzzer target (Fuzz/), kept as unit
/// tests so the fix stays in place without a fuzzing toolchain. The raw
/// inputs are in Fuzz/Regressions/FrameParser/.
@Suite struct FuzzRegressionTests {
    /// Fuzz/Regressions/FrameParser/udp-first-fragment-datagram-past-payload:
    /// a raw IPv6 packet (Payload Length 32) with a first-fragment Fragment
    /// header and a UDP header whose Length (32) runs 8 bytes past the IPv6
    /// payload into bytes that follow it in the buffer. The walker checks
    /// only the 8 header bytes in a first fragment (Length describes the
    /// reassembled datagram), and `UDPHeaderView.datagram` used to bound the
    /// datagram by the buffer instead of the payload, so it returned (and
    /// `verifyChecksum` summed) trailing bytes that are not part of the packet.
    @Test func udpDatagramInFirstFragmentStopsAtThePayloadEnd() {
        let packet = hex("""
            6000 0000 0020 2c40 2001 0db8 0002 0000 0000 0000 0000 0200
            2001 0db8 0009 0000 0000 0000 0000 0009
            1100 0001 abcd ef01
            0009 0000 0020 2c40
            2001 0db8 0002 0000 0000 0000 0000 0200
            """) + [UInt8](repeating: 0x46, count: 24)
        let result = expectSuccess(packet) { raw -> (ParsedPacket, Int?, Int, Bool) in
            let parsed = try ParsedPacket.parse(raw, configuration: .init(linkLayer: .rawIPv6))
            let view = try UDPHeaderView(checking: raw, at: 48, limit: parsed.packetEnd, checksDatagramLength: false)
            return (parsed, view.datagram?.count, view.end,
                    view.verifyChecksum(source: parsed.source, destination: parsed.pseudoHeaderDestination))
        }
        guard let (parsed, datagramCount, end, checksumVerified) = result else { return }
        #expect(parsed.packetEnd == 72)
        #expect(parsed.isFragment)
        #expect(parsed.upperLayerOffset == 48)
        #expect(end == 72)
        // Length 32 from offset 48 would end at 80, past the payload end 72.
        #expect(datagramCount == nil)
        #expect(checksumVerified == false)
    }

    /// The same view over a datagram that fits the payload still yields it.
    @Test func udpDatagramWithinThePayloadIsReturned() {
        let bytes = hex("0009 0000 000c 0000 0102 0304") + [0xEE, 0xEE]
        let count = expectSuccess(bytes) { raw in
            try UDPHeaderView(checking: raw, at: 0, limit: 12, checksDatagramLength: false).datagram?.count
        }
        #expect(count == 12)
    }
}
