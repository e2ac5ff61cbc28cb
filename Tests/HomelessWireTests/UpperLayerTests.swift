import Testing
@testable import HomelessWire

let testSource = address("2001:db8:2::100")
let testDestination = address("2001:db8:3::7")

@Suite struct ICMPv6Tests {
    @Test func echoRequestRoundTripsWithChecksum() {
        let message = ICMPv6Message(.echoRequest(identifier: 0x4242, sequence: 7, data: Array("ping-data".utf8)))
        let bytes = emittedIgnoringJunk(length: message.bufferLength) { message.emit(into: $0, source: testSource, destination: testDestination) }
        // Golden: the ICMPv6 part of vector eth-ipv6-icmpv6-echo-request (scapy), checksum 0x1243.
        #expect(bytes == hex("8000 1243 4242 0007") + Array("ping-data".utf8))
        let parsed = expectSuccess(bytes) { raw -> (ICMPv6Message, Bool, UInt16?, UInt16?) in
            let view = try ICMPv6View(checking: raw, at: 0)
            return (ICMPv6Message(view), view.verifyChecksum(source: testSource, destination: testDestination), view.identifier, view.sequence)
        }
        #expect(parsed?.0.body == message.body)
        #expect(parsed?.0.checksum == 0x1243)
        #expect(parsed?.1 == true)
        #expect(parsed?.2 == 0x4242)
        #expect(parsed?.3 == 7)
    }

    @Test func parameterProblemCarriesPointer() {
        let invoking = [UInt8](repeating: 0x60, count: 48)
        let message = ICMPv6Message(.parameterProblem(code: ICMPv6View.codeUnrecognizedOption, pointer: 42, invokingPacket: invoking))
        let bytes = emittedIgnoringJunk(length: message.bufferLength) { message.emit(into: $0, source: testSource, destination: testDestination) }
        #expect(Array(bytes.prefix(2)) == [4, 2])
        #expect(Array(bytes[4..<8]) == [0, 0, 0, 42])
        let parsed = expectSuccess(bytes) { raw -> (ICMPv6Message, UInt32?, Bool) in
            let view = try ICMPv6View(checking: raw, at: 0)
            return (ICMPv6Message(view), view.pointer, view.verifyChecksum(source: testSource, destination: testDestination))
        }
        #expect(parsed?.0.body == message.body)
        #expect(parsed?.1 == 42)
        #expect(parsed?.2 == true)
        #expect(!(bytes.withUnsafeBytes { raw in
            (try? ICMPv6View(checking: raw, at: 0))?.verifyChecksum(source: testSource, destination: address("2001:db8:3::8")) ?? true
        }))
    }

    @Test func otherTypesDecodeGenerically() {
        let message = ICMPv6Message(.other(type: 135, code: 0, body: hex("00000000 fe800000000000000000000000000001")))
        let bytes = emittedIgnoringJunk(length: message.bufferLength) { message.emit(into: $0, source: testSource, destination: testDestination) }
        let parsed = expectSuccess(bytes) { ICMPv6Message(try ICMPv6View(checking: $0, at: 0)) }
        #expect(parsed?.body == message.body)
        #expect(parsed?.type == 135)
        #expect(expectSuccess(bytes) { try ICMPv6View(checking: $0, at: 0).identifier } == .some(nil))
    }

    @Test func lengthChecks() {
        let echo = hex("8000 1243 4242 0007")
        for cut in 0..<4 { expectError(.truncated, at: 0, Array(echo.prefix(cut))) { try ICMPv6View(checking: $0, at: 0) } }
        // Echo and error messages need their 8-byte header.
        for cut in 4..<8 { expectError(.truncated, at: 0, Array(echo.prefix(cut))) { try ICMPv6View(checking: $0, at: 0) } }
        // An unknown type needs only 4 bytes.
        #expect(expectSuccess(hex("c8 00 0000")) { try ICMPv6View(checking: $0, at: 0).type } == 200)
    }
}

@Suite struct UDPTests {
    @Test func parsesAndVerifies() throws {
        var datagram = hex("14e9 14e9 0029 0000") + [UInt8](repeating: 0x78, count: 33)
        datagram.withUnsafeMutableBytes {
            UDPHeader.fillChecksum(in: $0, at: 0, source: address("2001:db8:1::1"), destination: address("2001:db8:2::100"))
        }
        // Golden: eth-ipv6-udp (scapy) has checksum 31180 = 0x79cc.
        #expect(Array(datagram[6..<8]) == [0x79, 0xCC])
        let parsed = expectSuccess(datagram) { raw -> (UDPHeader, Bool, Int) in
            let view = try UDPHeaderView(checking: raw, at: 0)
            return (UDPHeader(view), view.verifyChecksum(source: address("2001:db8:1::1"), destination: address("2001:db8:2::100")),
                    view.checksumOffset)
        }
        #expect(parsed?.0 == UDPHeader(sourcePort: 5353, destinationPort: 5353, length: 41, checksum: 0x79CC))
        #expect(parsed?.1 == true)
        #expect(parsed?.2 == 6)
    }

    @Test func zeroChecksumIsInvalidOverIPv6() {
        let datagram = hex("0001 0002 0008 0000")
        #expect(expectSuccess(datagram) { try UDPHeaderView(checking: $0, at: 0).verifyChecksum(source: testSource, destination: testDestination) } == false)
    }

    @Test func lengthChecks() {
        let datagram = hex("0001 0002 000a 0000 abcd")
        for cut in 0..<8 { expectError(.truncated, at: 0, Array(datagram.prefix(cut))) { try UDPHeaderView(checking: $0, at: 0) } }
        for cut in 8..<10 { expectError(.lengthOverrun, at: 4, Array(datagram.prefix(cut))) { try UDPHeaderView(checking: $0, at: 0) } }
        expectError(.badLength, at: 4, hex("0001 0002 0007 0000")) { try UDPHeaderView(checking: $0, at: 0) }
    }

    @Test func emitsAndRoundTrips() {
        let header = UDPHeader(sourcePort: 7000, destinationPort: 53, length: 16, checksum: 0xD311)
        let bytes = emittedIgnoringJunk(length: header.bufferLength) { header.emit(into: $0) }
        #expect(bytes == hex("1b58 0035 0010 d311"))
        #expect(expectSuccess(bytes + [UInt8](repeating: 0, count: 8)) { UDPHeader(try UDPHeaderView(checking: $0, at: 0)) } == header)
    }
}

@Suite struct TCPTests {
    // From golden vector eth-vlan-ipv6-tcp (scapy): options MSS 1440, NOP, WScale 7.
    let segment = hex("01bb c738 01020304 0a0b0c0d 7018 01f6 64db 0000 020405a0 010303 07") + Array("GET / HTTP/1.0\r\n\r\n".utf8)

    @Test func parsesAndVerifies() {
        let fields = expectSuccess(segment) { raw -> [Int] in
            let view = try TCPHeaderView(checking: raw, at: 0)
            return [Int(view.sourcePort), Int(view.destinationPort), Int(view.sequenceNumber), Int(view.acknowledgmentNumber),
                    Int(view.dataOffset), view.headerLength, Int(view.flags), Int(view.window), Int(view.checksum),
                    view.checksumOffset, view.payloadOffset,
                    view.verifyChecksum(source: address("2001:db8:3::7"), destination: address("2001:db8:1::5")) ? 1 : 0]
        }
        #expect(fields == [443, 51000, 0x0102_0304, 0x0A0B_0C0D, 7, 28, 0x18, 502, 0x64DB, 16, 28, 1])
    }

    @Test func fillChecksumMatchesScapy() {
        var copy = segment
        copy[16] = 0; copy[17] = 0
        copy.withUnsafeMutableBytes {
            TCPHeaderView.fillChecksum(in: $0, at: 0, end: $0.count, source: address("2001:db8:3::7"), destination: address("2001:db8:1::5"))
        }
        #expect(copy == segment)
    }

    @Test func lengthChecks() {
        for cut in 0..<20 { expectError(.truncated, at: 0, Array(segment.prefix(cut))) { try TCPHeaderView(checking: $0, at: 0) } }
        for cut in 20..<28 { expectError(.lengthOverrun, at: 12, Array(segment.prefix(cut))) { try TCPHeaderView(checking: $0, at: 0) } }
        var small = segment
        small[12] = 0x40
        expectError(.badLength, at: 12, small) { try TCPHeaderView(checking: $0, at: 0) }
    }
}
