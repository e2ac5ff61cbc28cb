import Testing
@testable import HomelessWire

@Suite struct EthernetTests {
    // Hand-assembled: dst 02:00:00:00:00:0b, src 02:00:00:00:00:0a, 802.1Q PCP 5 VID 42, IPv6.
    let tagged = hex("02000000000b 02000000000a 8100 a02a 86dd")
    let untagged = hex("02000000000b 02000000000a 86dd")

    @Test func parsesTaggedHeader() throws {
        let view = expectSuccess(tagged) { try EthernetFrameView(checking: $0) }
        let header = expectSuccess(tagged) { EthernetHeader(try EthernetFrameView(checking: $0)) }
        #expect(view?.headerLength == 18)
        #expect(view?.payloadOffset == 18)
        #expect(header?.destination == EthernetAddress(2, 0, 0, 0, 0, 0x0B))
        #expect(header?.source == EthernetAddress(2, 0, 0, 0, 0, 0x0A))
        #expect(header?.vlanTag == VLANTag(priority: 5, dropEligible: false, identifier: 42))
        #expect(header?.etherType == .ipv6)
        #expect(header?.source.description == "02:00:00:00:00:0a")
    }

    @Test func parsesUntaggedHeader() {
        let header = expectSuccess(untagged) { EthernetHeader(try EthernetFrameView(checking: $0)) }
        #expect(header?.vlanTag == nil)
        #expect(header?.etherType == .ipv6)
        #expect(header?.bufferLength == 14)
    }

    @Test func everyTruncationIsReported() {
        for length in 0..<14 {
            expectError(.truncated, at: 0, Array(tagged.prefix(length))) { try EthernetFrameView(checking: $0) }
        }
        for length in 14..<18 {
            expectError(.truncated, at: 14, Array(tagged.prefix(length))) { try EthernetFrameView(checking: $0) }
        }
    }

    @Test func viewAtOffset() {
        let bytes = [UInt8](repeating: 0xEE, count: 3) + untagged
        let view = expectSuccess(bytes) { try EthernetFrameView(checking: $0, at: 3) }
        #expect(view?.payloadOffset == 17)
        expectError(.truncated, at: 3, Array(bytes.prefix(16))) { try EthernetFrameView(checking: $0, at: 3) }
    }

    @Test func emitsIndependentlyOfJunkAndRoundTrips() {
        for header in [
            EthernetHeader(destination: .broadcast, source: EthernetAddress(rawValue: 0x0200_0000_0001), etherType: .ipv6),
            EthernetHeader(destination: EthernetAddress(2, 0, 0, 0, 0, 0x0B), source: EthernetAddress(2, 0, 0, 0, 0, 0x0A),
                           vlanTag: VLANTag(priority: 5, identifier: 42), etherType: .ipv6),
            EthernetHeader(destination: EthernetAddress(rawValue: 1), source: EthernetAddress(rawValue: 2),
                           vlanTag: VLANTag(priority: 7, dropEligible: true, identifier: 4095), etherType: EthernetType(0x1234)),
        ] {
            let bytes = emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) }
            let parsed = expectSuccess(bytes) { EthernetHeader(try EthernetFrameView(checking: $0)) }
            #expect(parsed == header)
        }
        let bytes = emittedIgnoringJunk(length: 18) {
            EthernetHeader(destination: EthernetAddress(2, 0, 0, 0, 0, 0x0B), source: EthernetAddress(2, 0, 0, 0, 0, 0x0A),
                           vlanTag: VLANTag(priority: 5, identifier: 42), etherType: .ipv6).emit(into: $0)
        }
        #expect(bytes == tagged)
    }

    @Test func tagControlFieldPacksBits() {
        let tag = VLANTag(priority: 6, dropEligible: true, identifier: 0xABC)
        #expect(tag.controlField == 0xDABC)
        #expect(VLANTag(controlField: 0xDABC) == tag)
    }
}
