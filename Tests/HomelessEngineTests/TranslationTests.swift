import Testing
import HomelessEngine
import HomelessWire

/// ULID <-> locator rewriting with incremental checksums (draft 1.4, 2.2.1; RFC 1624).
@Suite struct TranslationTests {
    static func address(_ text: String) -> IPv6Address {
        guard let value = IPv6Address(text) else { fatalError("bad test address \(text)") }
        return value
    }

    let localULID = address("2001:db8:a::10")
    let peerULID = address("2001:db8:c::20")
    let localLocator = address("2001:db8:b::10")
    let peerLocator = address("2001:db8:d::4:20")

    /// An Ethernet + IPv6 frame carrying `upper` (a TCP, UDP or ICMPv6 message
    /// whose checksum field is zero) with its checksum filled in.
    static func frame(source: IPv6Address, destination: IPv6Address, protocol proto: IPProtocol, upper: [UInt8],
                      extensionHeaders: [UInt8] = [], firstNextHeader: IPProtocol? = nil, fillChecksum: Bool = true) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 14 + 40 + extensionHeaders.count + upper.count)
        bytes[12] = 0x86; bytes[13] = 0xDD
        for index in 0..<6 { bytes[index] = 0x02; bytes[6 + index] = 0x04 }
        bytes.withUnsafeMutableBytes { raw in
            IPv6Header(payloadLength: UInt16(extensionHeaders.count + upper.count), nextHeader: firstNextHeader ?? proto,
                       source: source, destination: destination).emit(into: raw, at: 14)
        }
        bytes.replaceSubrange(54..<(54 + extensionHeaders.count), with: extensionHeaders)
        let upperOffset = 54 + extensionHeaders.count
        bytes.replaceSubrange(upperOffset..., with: upper)
        if fillChecksum {
            bytes.withUnsafeMutableBytes { raw in
                let message = UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(raw)[upperOffset...])
                var sum = InternetChecksum.upperLayerChecksum(source: source, destination: destination, nextHeader: proto, message: message)
                if proto == .udp && sum == 0 { sum = 0xFFFF }
                raw.storeBytes(of: sum.bigEndian, toByteOffset: upperOffset + checksumField(proto), as: UInt16.self)
            }
        }
        return bytes
    }

    static func checksumField(_ proto: IPProtocol) -> Int {
        switch proto {
        case .tcp: return 16
        case .udp: return 6
        default: return 2
        }
    }

    static func tcp(payload: [UInt8]) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 20)
        header[0] = 0xC0; header[1] = 0x01; header[2] = 0x14; header[3] = 0x51
        header[4] = 0x12; header[7] = 0x34; header[12] = 5 << 4; header[13] = 0x18; header[14] = 0xFF
        return header + payload
    }

    static func udp(payload: [UInt8]) -> [UInt8] {
        let length = UInt16(8 + payload.count)
        return [0x13, 0x88, 0x13, 0x89, UInt8(length >> 8), UInt8(length & 0xFF), 0, 0] + payload
    }

    static func echo(payload: [UInt8]) -> [UInt8] { [128, 0, 0, 0, 0x12, 0x34, 0x00, 0x01] + payload }

    static func parse(_ bytes: [UInt8]) throws -> ParsedPacket {
        try bytes.withUnsafeBytes { try ParsedPacket.parse($0) }
    }

    /// Translates in place, returning the outcome.
    static func rewrite(_ bytes: inout [UInt8], source: IPv6Address, destination: IPv6Address) throws -> TranslationOutcome {
        let packet = try parse(bytes)
        return bytes.withUnsafeMutableBytes { LocatorTranslation.rewrite($0, packet: packet, source: source, destination: destination) }
    }

    /// The upper-layer message verifies against the packet's own addresses,
    /// and the incremental checksum equals a full recomputation.
    static func checksumIsExact(_ bytes: [UInt8], protocol proto: IPProtocol) throws -> Bool {
        let packet = try parse(bytes)
        guard let upper = packet.upperLayerOffset else { return false }
        return bytes.withUnsafeBytes { raw in
            let message = UnsafeRawBufferPointer(rebasing: raw[upper..<packet.packetEnd])
            let field = upper + checksumField(proto)
            let carried = UInt16(raw[field]) << 8 | UInt16(raw[field + 1])
            var copy = Array(message)
            copy[checksumField(proto)] = 0; copy[checksumField(proto) + 1] = 0
            var full = copy.withUnsafeBytes {
                InternetChecksum.upperLayerChecksum(source: packet.source, destination: packet.destination, nextHeader: proto, message: $0)
            }
            if proto == .udp && full == 0 { full = 0xFFFF }
            return carried == full
                && InternetChecksum.verifyUpperLayer(source: packet.source, destination: packet.destination, nextHeader: proto, message: message)
        }
    }

    @Test(arguments: [IPProtocol.tcp, .udp, .icmpv6])
    func outThenInRestoresTheOriginalAndChecksumsStayExact(proto: IPProtocol) throws {
        let payload = Array("homeless mobile ipv6 keeps the connection".utf8)
        let upper = proto == .tcp ? Self.tcp(payload: payload) : proto == .udp ? Self.udp(payload: payload) : Self.echo(payload: payload)
        let original = Self.frame(source: localULID, destination: peerULID, protocol: proto, upper: upper)
        var bytes = original
        #expect(try Self.rewrite(&bytes, source: localLocator, destination: peerLocator) == .rewritten)
        let onWire = try Self.parse(bytes)
        #expect(onWire.source == localLocator && onWire.destination == peerLocator)
        #expect(onWire.extensionHeaderCount == 0, "no Routing header, no Home Address option on the steady path")
        #expect(try Self.checksumIsExact(bytes, protocol: proto))
        #expect(try Self.rewrite(&bytes, source: localULID, destination: peerULID) == .rewritten)
        #expect(bytes == original)
    }

    @Test func theInboundDirectionMapsThePeersLocatorToItsULID() throws {
        let arriving = Self.frame(source: peerLocator, destination: localLocator, protocol: .tcp, upper: Self.tcp(payload: [1, 2, 3]))
        var bytes = arriving
        let packet = try Self.parse(bytes)
        let outcome = bytes.withUnsafeMutableBytes {
            LocatorTranslation.translateInbound($0, packet: packet, peerIdentifier: peerULID, localIdentifier: localULID)
        }
        #expect(outcome == .rewritten)
        #expect(try Self.parse(bytes).source == peerULID)
        #expect(try Self.checksumIsExact(bytes, protocol: .tcp))
        #expect(try Self.rewrite(&bytes, source: peerULID, destination: localULID) == .unchanged)
    }

    @Test func aUDPChecksumThatBecomesZeroIsSentAs0xFFFF() throws {
        // Choose one payload word so that the translated datagram sums to -0.
        var upper = Self.udp(payload: [0, 0, 9, 9, 9])
        let probe = Self.frame(source: localLocator, destination: peerLocator, protocol: .udp, upper: upper, fillChecksum: false)
        let sum = probe.withUnsafeBytes { raw in
            InternetChecksum.upperLayerChecksum(source: localLocator, destination: peerLocator, nextHeader: .udp,
                                                message: UnsafeRawBufferPointer(rebasing: raw[54...]))
        }
        upper[8] = UInt8(sum >> 8); upper[9] = UInt8(sum & 0xFF)
        let original = Self.frame(source: localULID, destination: peerULID, protocol: .udp, upper: upper)
        var bytes = original
        #expect(try Self.rewrite(&bytes, source: localLocator, destination: peerLocator) == .rewritten)
        #expect(bytes[60] == 0xFF && bytes[61] == 0xFF)
        #expect(try Self.checksumIsExact(bytes, protocol: .udp))
        _ = try Self.rewrite(&bytes, source: localULID, destination: peerULID)
        #expect(bytes == original)
    }

    @Test func aUDPDatagramWithoutChecksumStaysWithout() throws {
        var bytes = Self.frame(source: localULID, destination: peerULID, protocol: .udp, upper: Self.udp(payload: [7, 7]),
                               fillChecksum: false)
        #expect(try Self.rewrite(&bytes, source: localLocator, destination: peerLocator) == .addressesOnly)
        #expect(bytes[60] == 0 && bytes[61] == 0)
        #expect(try Self.parse(bytes).source == localLocator)
    }

    @Test func fragmentsAndESPKeepTheirPayloadAndMobileIPv6PacketsAreRefused() throws {
        // Non-first fragment: Fragment header with offset 8, then opaque data.
        let fragment: [UInt8] = [17, 0, 0x00, 0x08, 0, 0, 0, 1]
        let data = [UInt8](repeating: 0x5A, count: 16)
        var bytes = Self.frame(source: localULID, destination: peerULID, protocol: .udp, upper: data,
                               extensionHeaders: fragment, firstNextHeader: .fragment, fillChecksum: false)
        let dataBefore = Array(bytes[62...])
        #expect(try Self.rewrite(&bytes, source: localLocator, destination: peerLocator) == .addressesOnly)
        #expect(Array(bytes[62...]) == dataBefore)

        // First fragment of a UDP datagram: the checksum covers the whole
        // datagram and the pseudo-header, so the same delta fixes it.
        let first: [UInt8] = [17, 0, 0x00, 0x01, 0, 0, 0, 2]
        var firstBytes = Self.frame(source: localULID, destination: peerULID, protocol: .udp, upper: [0x13, 0x88, 0x13, 0x89, 0, 40, 0xAB, 0xCD, 1, 2, 3, 4, 5, 6, 7, 8],
                                    extensionHeaders: first, firstNextHeader: .fragment, fillChecksum: false)
        let oldChecksum = UInt16(firstBytes[68]) << 8 | UInt16(firstBytes[69])
        #expect(try Self.rewrite(&firstBytes, source: localLocator, destination: peerLocator) == .rewritten)
        let expected = InternetChecksum.update(InternetChecksum.update(oldChecksum, replacing: localULID, with: localLocator),
                                               replacing: peerULID, with: peerLocator)
        #expect(UInt16(firstBytes[68]) << 8 | UInt16(firstBytes[69]) == expected)

        // ESP: SPI, sequence number and ciphertext untouched.
        let esp = [UInt8](repeating: 0xE5, count: 24)
        var espBytes = Self.frame(source: localULID, destination: peerULID, protocol: .encapsulatingSecurityPayload, upper: esp,
                                  fillChecksum: false)
        #expect(try Self.rewrite(&espBytes, source: localLocator, destination: peerLocator) == .addressesOnly)
        #expect(Array(espBytes[54...]) == esp)

        // A Home Address option: the pseudo-header source is the home address.
        let hao: [UInt8] = [6, 2, 1, 2, 0, 0, 201, 16] + IPv6Address.loopback.bytes.map { _ in 0x20 }
        var haoBytes = Self.frame(source: localULID, destination: peerULID, protocol: .tcp, upper: Self.tcp(payload: []),
                                  extensionHeaders: hao, firstNextHeader: .destinationOptions, fillChecksum: false)
        let before = haoBytes
        #expect(try Self.rewrite(&haoBytes, source: localLocator, destination: peerLocator) == .refusedMobileIPv6Headers)
        #expect(haoBytes == before)
    }

    @Test func randomPacketsRoundTripExactly() throws {
        var state: UInt64 = 0x9E37_79B9
        func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        func randomAddress() -> IPv6Address { IPv6Address(high: 0x2001_0db8_0000_0000 | next() >> 32, low: next()) }
        for round in 0..<600 {
            let proto = [IPProtocol.tcp, .udp, .icmpv6][round % 3]
            let payload = (0..<Int(next() % 300)).map { _ in UInt8(truncatingIfNeeded: next()) }
            let upper = proto == .tcp ? Self.tcp(payload: payload) : proto == .udp ? Self.udp(payload: payload) : Self.echo(payload: payload)
            let (ulidSource, ulidDestination) = (randomAddress(), randomAddress())
            let (locatorSource, locatorDestination) = (randomAddress(), round % 5 == 0 ? ulidDestination : randomAddress())
            let original = Self.frame(source: ulidSource, destination: ulidDestination, protocol: proto, upper: upper)
            var bytes = original
            let out = try Self.rewrite(&bytes, source: locatorSource, destination: locatorDestination)
            #expect(out == .rewritten)
            #expect(try Self.checksumIsExact(bytes, protocol: proto), "round \(round) \(proto)")
            _ = try Self.rewrite(&bytes, source: ulidSource, destination: ulidDestination)
            #expect(bytes == original, "round \(round) \(proto)")
        }
    }

    @Test func aPacketTooBigFromARouterReachesTheULIDConnection() throws {
        let router = Self.address("2001:db8:b::1")
        // What we sent: locators on the wire.
        let sent = Self.frame(source: localLocator, destination: peerLocator, protocol: .tcp, upper: Self.tcp(payload: [9, 9, 9]))
        let quoted = Array(sent[14...])
        let upper: [UInt8] = [2, 0, 0, 0, 0, 0, 0x05, 0x00] + quoted
        var bytes = Self.frame(source: router, destination: localLocator, protocol: .icmpv6, upper: upper)
        let packet = try Self.parse(bytes)
        let outcome = bytes.withUnsafeMutableBytes {
            LocatorTranslation.rewriteQuotedPacket($0, packet: packet, quotedSource: localULID, quotedDestination: peerULID)
        }
        #expect(outcome == .rewritten)
        #expect(try Self.rewrite(&bytes, source: router, destination: localULID) == .rewritten)
        #expect(try Self.checksumIsExact(bytes, protocol: .icmpv6))
        let inner = try Array(bytes[(54 + 8)...]).withUnsafeBytes { try ParsedPacket.parse($0, configuration: .init(linkLayer: .rawIPv6)) }
        #expect(inner.source == localULID && inner.destination == peerULID)

        // Informational messages quote nothing.
        var echo = Self.frame(source: peerLocator, destination: localLocator, protocol: .icmpv6, upper: Self.echo(payload: quoted))
        let echoPacket = try Self.parse(echo)
        #expect(echo.withUnsafeMutableBytes {
            LocatorTranslation.rewriteQuotedPacket($0, packet: echoPacket, quotedSource: localULID, quotedDestination: peerULID)
        } == .unchanged)
    }
}
