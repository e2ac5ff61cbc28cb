import Testing
@testable import HomelessWire

@Suite struct RoutingHeaderTests {
    // Draft-era route optimisation: Type 0, Hdr Ext Len 2, Segments Left 1, reserved, home address.
    let type0 = hex("06 02 00 01 00000000 20010db8000100000000000000000005")

    @Test func parsesType0() {
        let value = expectSuccess(type0) { RoutingHeader(try RoutingHeaderView(checking: $0, at: 0)) }
        #expect(value == RoutingHeader(nextHeader: .tcp, routingType: 0, segmentsLeft: 1, addresses: [address("2001:db8:1::5")]))
        let final = expectSuccess(type0) { try RoutingHeaderView(checking: $0, at: 0).finalDestination }
        #expect(final == address("2001:db8:1::5"))
    }

    @Test func type2MustCarryExactlyOneAddress() {
        var bytes = type0
        bytes[2] = 2
        #expect(expectSuccess(bytes) { try RoutingHeaderView(checking: $0, at: 0).addressCount } == 1)
        let long = [UInt8(6), 4, 2, 1, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 32)
        expectError(.badLength, at: 1, long) { try RoutingHeaderView(checking: $0, at: 0) }
    }

    @Test func checksAddressListRules() {
        let odd = [UInt8(6), 1, 0, 0, 0, 0, 0, 0] + [UInt8](repeating: 0, count: 8)
        expectError(.badLength, at: 1, odd) { try RoutingHeaderView(checking: $0, at: 0) }
        var tooMany = type0
        tooMany[3] = 2
        expectError(.badValue, at: 3, tooMany) { try RoutingHeaderView(checking: $0, at: 0) }
        for cut in 0..<8 { expectError(.truncated, at: 0, Array(type0.prefix(cut))) { try RoutingHeaderView(checking: $0, at: 0) } }
        for cut in 8..<24 { expectError(.lengthOverrun, at: 1, Array(type0.prefix(cut))) { try RoutingHeaderView(checking: $0, at: 0) } }
    }

    @Test func unknownTypesDecodeOpaquely() {
        let srh = hex("11 01 04 00 01020304 05060708 090a0b0c")
        let value = expectSuccess(srh) { RoutingHeader(try RoutingHeaderView(checking: $0, at: 0)) }
        #expect(value?.routingType == 4)
        #expect(value?.addresses == [])
        #expect(value?.typeSpecificData == hex("01020304 05060708 090a0b0c"))
        if let value {
            #expect(emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) } == srh)
        }
    }

    @Test func emitsAndRoundTrips() {
        let values = [
            RoutingHeader(nextHeader: .tcp, routingType: 0, segmentsLeft: 1, addresses: [address("2001:db8:1::5")]),
            RoutingHeader.type2(nextHeader: .udp, homeAddress: address("2001:db8:1::9")),
            RoutingHeader(nextHeader: .icmpv6, routingType: 0, segmentsLeft: 2,
                          addresses: [address("2001:db8::a"), address("2001:db8::b"), address("2001:db8::c")], reserved: 7),
        ]
        for value in values {
            let bytes = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
            #expect(bytes.count == 8 + 16 * value.addresses.count)
            #expect(expectSuccess(bytes) { RoutingHeader(try RoutingHeaderView(checking: $0, at: 0)) } == value)
        }
        #expect(emittedIgnoringJunk(length: 24) { values[0].emit(into: $0) } == type0)
    }
}

@Suite struct FragmentHeaderTests {
    // Next header UDP, offset 19 (152 bytes), M set, identification 0xabcdef01.
    let fragment = hex("11 00 0099 abcdef01")

    @Test func parsesFields() {
        let value = expectSuccess(fragment) { FragmentHeader(try FragmentHeaderView(checking: $0, at: 0)) }
        #expect(value == FragmentHeader(nextHeader: .udp, fragmentOffset: 19, moreFragments: true, identification: 0xABCD_EF01))
        #expect(expectSuccess(fragment) { try FragmentHeaderView(checking: $0, at: 0).isFirstFragment } == false)
        let atomic = hex("3a 00 0000 00000001")
        #expect(expectSuccess(atomic) { try FragmentHeaderView(checking: $0, at: 0).isAtomic } == true)
    }

    @Test func everyTruncationIsReported() {
        for cut in 0..<8 { expectError(.truncated, at: 0, Array(fragment.prefix(cut))) { try FragmentHeaderView(checking: $0, at: 0) } }
    }

    @Test func emitsAndRoundTrips() {
        var rng = SeededGenerator(seed: 44)
        for _ in 0..<100 {
            let value = FragmentHeader(nextHeader: IPProtocol(UInt8.random(in: 0...255, using: &rng)),
                                       fragmentOffset: UInt16.random(in: 0...0x1FFF, using: &rng),
                                       moreFragments: Bool.random(using: &rng), identification: UInt32.random(in: 0...UInt32.max, using: &rng))
            let bytes = emittedIgnoringJunk(length: value.bufferLength) { value.emit(into: $0) }
            #expect(expectSuccess(bytes) { FragmentHeader(try FragmentHeaderView(checking: $0, at: 0)) } == value)
        }
        let golden = FragmentHeader(nextHeader: .udp, fragmentOffset: 19, moreFragments: true, identification: 0xABCD_EF01)
        #expect(emittedIgnoringJunk(length: 8) { golden.emit(into: $0) } == fragment)
    }
}
