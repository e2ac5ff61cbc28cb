import Testing
import HomelessCore
import HomelessEngine
import HomelessSecurity
import HomelessWire

/// The AH-protected Binding Update / Acknowledgement packets and the
/// ICMPv6 address-unreachable error, parsed back with the walker and
/// verified with the peer's SA.
@Suite struct TranslationSignallingTests {
    static func address(_ text: String) -> IPv6Address {
        guard let value = IPv6Address(text) else { fatalError("bad test address \(text)") }
        return value
    }

    let mobile = address("2001:db8:a::10")
    let mobileB = address("2001:db8:b::10")
    let peer = address("2001:db8:c::20")
    static let key = [UInt8](0..<32)

    func associations(algorithm: AuthenticationAlgorithm = .hmacSHA256_128) throws -> (SecurityAssociation, SecurityAssociation) {
        let key = Array(Self.key.prefix(algorithm.keyLength))
        let outbound = try SecurityAssociation(spi: 0x1001, direction: .outbound, algorithm: algorithm, key: key,
                                               source: mobile, destination: peer)
        let inbound = try SecurityAssociation(spi: 0x1001, direction: .inbound, algorithm: algorithm, key: key,
                                              source: mobile, destination: peer)
        return (outbound, inbound)
    }

    func rawParse(_ bytes: [UInt8]) throws -> ParsedPacket {
        try bytes.withUnsafeBytes { try ParsedPacket.parse($0, configuration: .init(linkLayer: .rawIPv6)) }
    }

    var initialSpec: BindingUpdateSpec {
        BindingUpdateSpec(source: mobile, destination: peer, homeAddress: mobile, announcesHomelessSupport: true,
                          withdrawals: [], registrations: [mobile, mobileB], lifetime: 600, firstSequence: 42)
    }

    @Test(arguments: [AuthenticationAlgorithm.hmacSHA256_128, .hmacSHA1_96])
    func theStandaloneInitialBindingUpdateParsesAndVerifies(algorithm: AuthenticationAlgorithm) throws {
        var (outbound, inbound) = try associations(algorithm: algorithm)
        let bytes = try MobilitySignallingPacket.standaloneBindingUpdate(initialSpec, association: &outbound)
        let packet = try rawParse(bytes)
        #expect(packet.source == mobile && packet.destination == peer)
        #expect(packet.authenticationHeaderOffset == 40, "AH right after the IPv6 header")
        #expect(packet.destinationOptionsOffset == 40 + algorithm.headerLength)
        #expect(packet.upperLayerProtocol == .noNextHeader, "standalone: no data to lose (2.2.4)")
        #expect(packet.homeAddress == mobile, "Home Address = source (3.2.1)")
        #expect(packet.mobilityOptions.bindingUpdate != nil)
        let decoded = try bytes.withUnsafeBytes { raw in
            try DestinationOptionsHeader(OptionsHeaderView(checking: raw, at: packet.destinationOptionsOffset ?? 0))
        }
        #expect(decoded == BindingUpdateBuilder.destinationOptions(for: initialSpec, nextHeader: .noNextHeader))
        let kinds = try bytes.withUnsafeBytes { raw in
            var walker = PacketWalker(raw, configuration: .init(linkLayer: .rawIPv6))
            var kinds: [HeaderKind] = []
            while let header = try walker.next() { kinds.append(header.kind) }
            return kinds
        }
        #expect(kinds == [.ipv6, .authentication, .destinationOptions, .noNextHeader])
        #expect(bytes.withUnsafeBytes { inbound.verify($0) }.verdict == .ok)
        #expect(outbound.lastSentSequenceNumber == 1)

        var tampered = bytes
        tampered[tampered.count - 1] ^= 0x01
        var fresh = try associations(algorithm: algorithm).1
        #expect(tampered.withUnsafeBytes { fresh.verify($0) }.verdict == .badICV)
    }

    @Test func thePeersCacheAcceptsItAndTheAcknowledgementPacketVerifies() throws {
        var (outbound, inbound) = try associations()
        let bytes = try MobilitySignallingPacket.standaloneBindingUpdate(initialSpec, association: &outbound)
        #expect(bytes.withUnsafeBytes { inbound.verify($0) }.verdict == .ok)
        // The peer's side: decode the BU from the packet and apply it.
        let packet = try rawParse(bytes)
        let view = try bytes.withUnsafeBytes { raw in
            try DestinationOptionsHeader(OptionsHeaderView(checking: raw, at: packet.destinationOptionsOffset ?? 0))
        }
        let updates = view.options.compactMap { if case .bindingUpdate(let update) = $0 { return update } else { return nil } }
        let clock = ManualClock()
        let cache = HostCache(clock: clock, random: SplitMix64(seed: 1))
        let entry = try cache.createForeignEntry(for: mobile, trust: .trusted).id
        let outcome = try cache.applyBindingUpdates(updates, to: entry, matchedBy: .homeAddressOption,
                                                    packetSource: packet.source, homeAddress: packet.homeAddress)
        #expect(cache.entry(entry)?.liveAddresses == [mobile, mobileB])

        var (peerOutbound, mobileInbound) = (
            try SecurityAssociation(spi: 0x2002, direction: .outbound, algorithm: .hmacSHA256_128, key: Self.key, source: peer, destination: mobile),
            try SecurityAssociation(spi: 0x2002, direction: .inbound, algorithm: .hmacSHA256_128, key: Self.key, source: peer, destination: mobile))
        let ackBytes = try #require(try MobilitySignallingPacket.bindingAcknowledgement(
            outcome.acknowledgements, source: peer, destination: mobile, association: &peerOutbound))
        let ackPacket = try rawParse(ackBytes)
        #expect(ackPacket.mobilityOptions.bindingAcknowledgement != nil)
        #expect(ackPacket.upperLayerProtocol == .noNextHeader)
        #expect(ackBytes.withUnsafeBytes { mobileInbound.verify($0) }.verdict == .ok)
        let ack = try ackBytes.withUnsafeBytes { raw in
            try ackPacket.bindingAcknowledgement(in: raw).map { try BindingAcknowledgement($0) }
        }
        #expect(ack?.sequence == 42 && ack?.status == 0 && ack?.lifetime == 600)
        #expect(try MobilitySignallingPacket.bindingAcknowledgement([], source: peer, destination: mobile,
                                                                    association: &peerOutbound) == nil)
    }

    @Test func bindingUpdatesRideOnADataPacket() throws {
        var (outbound, inbound) = try associations()
        let spec = BindingUpdateSpec(source: mobile, destination: peer, homeAddress: nil, announcesHomelessSupport: false,
                                     withdrawals: [], registrations: [mobileB], lifetime: 600, firstSequence: 7)
        var tcp = [UInt8](repeating: 0, count: 20) + Array("data".utf8)
        tcp[12] = 5 << 4; tcp[13] = 0x18
        var packet = [UInt8](repeating: 0, count: 40 + tcp.count)
        packet.withUnsafeMutableBytes { raw in
            IPv6Header(payloadLength: UInt16(tcp.count), nextHeader: .tcp, source: mobile, destination: peer).emit(into: raw)
        }
        packet.replaceSubrange(40..., with: tcp)
        packet.withUnsafeMutableBytes { TCPHeaderView.fillChecksum(in: $0, at: 40, end: $0.count, source: mobile, destination: peer) }
        let originalLength = packet.count
        packet += [UInt8](repeating: 0, count: 256)
        let length = try packet.withUnsafeMutableBytes { raw in
            try MobilitySignallingPacket.piggyback(spec, onto: raw, packetLength: originalLength, association: &outbound)
        }
        let sent = Array(packet.prefix(length))
        let parsed = try rawParse(sent)
        #expect(parsed.authenticationHeaderOffset == 40)
        #expect(parsed.mobilityOptions.bindingUpdate != nil && parsed.homeAddress == nil)
        #expect(parsed.upperLayerProtocol == .tcp)
        let segment = try #require(parsed.upperLayerOffset)
        let checksummed = Array(sent[segment...])
        #expect(checksummed.count == tcp.count)
        #expect(Array(checksummed[20...]) == Array("data".utf8), "the segment moved intact")
        #expect(sent.withUnsafeBytes { raw in
            InternetChecksum.verifyUpperLayer(source: mobile, destination: peer, nextHeader: .tcp,
                                              message: UnsafeRawBufferPointer(rebasing: raw[segment...]))
        })
        #expect(sent.withUnsafeBytes { inbound.verify($0) }.verdict == .ok)

        var withHome = spec
        withHome.homeAddress = mobileB
        #expect(throws: MobilitySignallingError.cannotPiggyback) {
            try packet.withUnsafeMutableBytes { raw in
                try MobilitySignallingPacket.piggyback(withHome, onto: raw, packetLength: originalLength, association: &outbound)
            }
        }
    }

    @Test func tooSmallBuffersAndUnencodableSpecsAreReported() throws {
        var (outbound, _) = try associations()
        let options = BindingUpdateBuilder.destinationOptions(for: initialSpec, nextHeader: .noNextHeader)
        var small = [UInt8](repeating: 0, count: 60)
        let needed = MobilitySignallingPacket.length(of: options, association: outbound)
        #expect(throws: MobilitySignallingError.bufferTooSmall(needed: needed)) {
            try small.withUnsafeMutableBytes { raw in
                try MobilitySignallingPacket.emit(options: options, source: mobile, destination: peer, association: &outbound, into: raw)
            }
        }
        #expect(outbound.lastSentSequenceNumber == 0, "nothing sent, counter unchanged")
    }

    @Test func addressUnreachableQuotesAsMuchAsFitsIn1280() throws {
        var invoking = [UInt8](repeating: 0x33, count: 1500)
        invoking.withUnsafeMutableBytes { raw in
            IPv6Header(payloadLength: 1460, nextHeader: .udp, source: mobile, destination: peer).emit(into: raw)
        }
        let error = try #require(invoking.withUnsafeBytes { AddressUnreachableMessage.build(invoking: $0) })
        #expect(error.count == 1280)
        let packet = try rawParse(error)
        #expect(packet.source == peer && packet.destination == mobile && packet.upperLayerProtocol == .icmpv6)
        let icmp = try error.withUnsafeBytes { try ICMPv6View(checking: $0, at: 40) }
        #expect(icmp.type == 1 && icmp.code == 3)
        #expect(icmp.verifyChecksum(source: peer, destination: mobile))
        #expect(Array(error[48...]) == Array(invoking.prefix(1232)))

        let short = Array(invoking.prefix(40)) + [1, 2, 3, 4, 5, 6, 7, 8]
        var shortCopy = short
        shortCopy[4] = 0; shortCopy[5] = 8
        let small = try #require(shortCopy.withUnsafeBytes { AddressUnreachableMessage.build(invoking: $0) })
        #expect(small.count == 40 + 8 + 48)

        // Never an error about an error (RFC 4443 2.4 e), nor about garbage.
        var icmpError = [UInt8](repeating: 0, count: 48)
        icmpError.withUnsafeMutableBytes { raw in
            IPv6Header(payloadLength: 8, nextHeader: .icmpv6, source: mobile, destination: peer).emit(into: raw)
        }
        icmpError[40] = 1
        #expect(icmpError.withUnsafeBytes { AddressUnreachableMessage.build(invoking: $0) } == nil)
        #expect([UInt8](repeating: 0x60, count: 30).withUnsafeBytes { AddressUnreachableMessage.build(invoking: $0) } == nil)
    }

    /// Header octets per data packet: the steady Homeless path against
    /// standard Mobile IPv6 route optimisation (docs/MOBILITY.md).
    @Test func headerOverheadAgainstRouteOptimisation() throws {
        let routing = RoutingHeader.type2(nextHeader: .tcp, homeAddress: mobile)
        let homeAddressOption = DestinationOptionsHeader(nextHeader: .tcp, options: [.homeAddress(mobile)])
        #expect(routing.bufferLength == 24)
        #expect(homeAddressOption.bufferLength == 24)
        // Homeless steady path: 40; route optimisation: 40 + 24 + 24 = 88
        // (the draft's "40+28+24" predates RFC 6275's 24-octet Type 2 header).
        #expect(40 + routing.bufferLength + homeAddressOption.bufferLength == 88)

        let (outbound, _) = try associations()
        let initial = BindingUpdateBuilder.destinationOptions(for: initialSpec, nextHeader: .noNextHeader)
        #expect(MobilitySignallingPacket.length(of: initial, association: outbound) == 40 + 32 + initial.bufferLength)
        #expect(initial.bufferLength == 56)
        let oneNewAddress = BindingUpdateSpec(source: mobile, destination: peer, homeAddress: nil, announcesHomelessSupport: false,
                                              withdrawals: [], registrations: [mobileB], lifetime: 600, firstSequence: 1)
        #expect(BindingUpdateBuilder.destinationOptions(for: oneNewAddress, nextHeader: .tcp).bufferLength == 32)
        let handover = BindingUpdateSpec(source: mobileB, destination: peer, homeAddress: mobile, announcesHomelessSupport: false,
                                         withdrawals: [mobile], registrations: [mobileB], lifetime: 600, firstSequence: 1)
        #expect(BindingUpdateBuilder.destinationOptions(for: handover, nextHeader: .noNextHeader).bufferLength == 72)
        let ack = DestinationOptionsHeader(nextHeader: .noNextHeader, options: [
            .bindingAcknowledgement(BindingAcknowledgement(status: 0, sequence: 1, lifetime: 600, refresh: 600)),
        ])
        #expect(ack.bufferLength == 16)
    }
}
