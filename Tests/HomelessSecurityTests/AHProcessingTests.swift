import HomelessCore
import HomelessWire
import Testing
@testable import HomelessSecurity

/// Outbound AH insertion and every inbound rejection path.
@Suite struct AHProcessingTests {
    static let key256 = [UInt8](0..<32)
    static let key160 = [UInt8](100..<120)

    static func pair(_ algorithm: AuthenticationAlgorithm = .hmacSHA256_128, spi: UInt32 = 0x4000,
                     window: ReplayWindow = ReplayWindow(size: 64)!) throws -> (SecurityAssociation, SecurityAssociation) {
        let key = algorithm == .hmacSHA256_128 ? key256 : key160
        let outbound = try SecurityAssociation(
            spi: spi, direction: .outbound, algorithm: algorithm, key: key,
            source: PacketBuilder.source, destination: PacketBuilder.destination)
        let inbound = try SecurityAssociation(
            spi: spi, direction: .inbound, algorithm: algorithm, key: key,
            source: PacketBuilder.source, destination: PacketBuilder.destination, replayWindow: window)
        return (outbound, inbound)
    }

    // MARK: Outbound

    @Test(arguments: AuthenticationAlgorithm.allCases)
    func insertedHeaderHasTheAlgorithmsLayout(_ algorithm: AuthenticationAlgorithm) throws {
        var (outbound, inbound) = try Self.pair(algorithm)
        // A payload longer than AH: the move up overlaps itself.
        let plain = PacketBuilder.packet(payload: (0..<200).map { UInt8(truncatingIfNeeded: $0 * 7) })
        let packet = try outbound.protect(plain)
        #expect(packet.count == plain.count + algorithm.headerLength)
        #expect(packet[6] == 51, "IPv6 Next Header now names AH")
        #expect(packet[40] == 17, "AH Next Header names UDP")
        #expect(packet[41] == (algorithm == .hmacSHA256_128 ? 6 : 4))
        #expect(Int(packet[4]) << 8 | Int(packet[5]) == packet.count - 40)
        #expect(Array(packet[44..<48]) == [0, 0, 0x40, 0])
        #expect(Array(packet[48..<52]) == [0, 0, 0, 1], "the first packet carries sequence number 1")
        if algorithm == .hmacSHA256_128 {
            #expect(Array(packet[68..<72]) == [0, 0, 0, 0], "padding is zero")
        }
        #expect(Array(packet[(40 + algorithm.headerLength)...]) == Array(plain[40...]))
        #expect(inbound.verify(packet).verdict == .ok)
        let icv = try packet.withUnsafeBytes { try inbound.expectedICV(for: $0) }
        #expect(icv == Array(packet[52..<(52 + algorithm.icvLength)]))
    }

    @Test func sequenceNumbersCountUpFromOne() throws {
        var (outbound, inbound) = try Self.pair()
        for expected in UInt32(1)...5 {
            let packet = try outbound.protect(PacketBuilder.packet())
            let result = inbound.verify(packet)
            #expect(result.verdict == .ok)
            #expect(result.sequenceNumber == expected)
        }
        #expect(outbound.lastSentSequenceNumber == 5)
    }

    @Test func transportPlacementKeepsFinalDestinationOptionsAfterAH() throws {
        let destinationOptions = PacketBuilder.optionsHeader(optionType: 0xC9, data: [UInt8](repeating: 7, count: 16))
        let hopByHop = PacketBuilder.optionsHeader(optionType: 0x3E, data: [1, 2, 3])
        let routing = PacketBuilder.routingHeader(type: 2, segmentsLeft: 1, addresses: [PacketBuilder.source])
        let plain = PacketBuilder.packet(headers: [(0, hopByHop), (43, routing), (60, destinationOptions)])
        let offset = try plain.withUnsafeBytes { try AHPlacement.transportInsertionOffset(in: $0) }
        #expect(offset == 40 + hopByHop.count + routing.count)
        var (outbound, inbound) = try Self.pair()
        let packet = try outbound.protect(plain)
        #expect(packet[40 + hopByHop.count] == 51, "the Routing header's Next Header names AH")
        #expect(packet[offset] == 60, "AH's Next Header names the Destination Options header")
        #expect(inbound.verify(packet).verdict == .ok)
    }

    @Test func insertionOffsetMustBeAHeaderBoundary() throws {
        var (outbound, _) = try Self.pair()
        let plain = PacketBuilder.packet()
        #expect(throws: AHProtectError.packet(AHPacketError(.badInsertionPoint, at: 41))) {
            _ = try outbound.protect(plain, insertingAt: 41)
        }
        #expect(outbound.lastSentSequenceNumber == 0, "a refused packet uses no sequence number")
        var buffer = plain
        #expect(throws: AHProtectError.packet(AHPacketError(.noRoom, at: 4))) {
            _ = try buffer.withUnsafeMutableBytes { try outbound.protect($0, packetLength: plain.count, insertingAt: 40) }
        }
    }

    @Test func senderNeverWraps() throws {
        var (outbound, inbound) = try Self.pair()
        outbound.lastSentSequenceNumber = SecurityAssociation.defaultRekeyThreshold - 1
        #expect(!outbound.needsRekey)
        _ = try outbound.protect(PacketBuilder.packet())
        #expect(outbound.needsRekey)
        outbound.lastSentSequenceNumber = .max - 1
        let last = try outbound.protect(PacketBuilder.packet())
        #expect(inbound.verify(last).sequenceNumber == .max)
        #expect(outbound.isExhausted)
        #expect(throws: AHProtectError.sequenceNumberExhausted) { _ = try outbound.protect(PacketBuilder.packet()) }
        #expect(outbound.lastSentSequenceNumber == .max)
    }

    @Test func inboundSANeverSends() throws {
        var (_, inbound) = try Self.pair()
        #expect(throws: AHProtectError.notOutbound) { _ = try inbound.protect(PacketBuilder.packet()) }
    }

    @Test func keyLengthAndSPIAreChecked() {
        #expect(throws: SecurityAssociationError.badKeyLength(algorithm: .hmacSHA256_128, expected: 32, actual: 20)) {
            _ = try SecurityAssociation(
                spi: 0x1000, direction: .inbound, algorithm: .hmacSHA256_128, key: Self.key160,
                source: PacketBuilder.source, destination: PacketBuilder.destination)
        }
        #expect(throws: SecurityAssociationError.reservedSPI(255)) {
            _ = try SecurityAssociation(
                spi: 255, direction: .inbound, algorithm: .hmacSHA1_96, key: Self.key160,
                source: PacketBuilder.source, destination: PacketBuilder.destination)
        }
    }

    // MARK: Inbound rejections

    @Test func unknownSPI() throws {
        var (outbound, _) = try Self.pair(spi: 0x5000)
        let (_, other) = try Self.pair(spi: 0x6000)
        var database = try SecurityAssociationDatabase([other])
        let packet = try outbound.protect(PacketBuilder.packet())
        let result = packet.withUnsafeBytes { database.verifyInbound($0) }
        #expect(result.verdict == .unknownSPI)
        #expect(result.spi == 0x5000)
    }

    @Test func packetWithoutAH() throws {
        var (_, inbound) = try Self.pair()
        let result = inbound.verify(PacketBuilder.packet())
        #expect(result.verdict == .noAH)
        #expect(result.error?.reason == .noAuthenticationHeader)
    }

    @Test func truncatedAH() throws {
        var (outbound, inbound) = try Self.pair()
        let packet = try outbound.protect(PacketBuilder.packet(payload: []))
        // Cut inside the ICV and make the IPv6 Payload Length agree, so only AH is short.
        for cut in [44, 52, 60, 70] {
            var short = Array(packet[0..<cut])
            short[4] = 0
            short[5] = UInt8(cut - 40)
            let result = inbound.verify(short)
            #expect(result.verdict == .malformed, "cut at \(cut)")
            #expect(result.error?.reason == .truncated)
        }
        var short = Array(packet[0..<44])
        short[5] = 4
        #expect(inbound.verify(short).description == "malformed (truncated at offset 40)")
        // The IPv6 Payload Length claims more than the buffer holds.
        let result = inbound.verify(Array(packet.dropLast()))
        #expect(result.verdict == .malformed)
        #expect(result.error == AHPacketError(.truncated, at: 4))
    }

    @Test func wrongPayloadLength() throws {
        var (outbound, inbound) = try Self.pair()
        let packet = try outbound.protect(PacketBuilder.packet())
        // 5: 28 octets, not a multiple of 8 (IPv6); 4: the SHA1-96 length, not this SA's.
        for value: UInt8 in [0, 5, 4, 8] {
            var changed = packet
            changed[41] = value
            let result = inbound.verify(changed)
            #expect(result.verdict == .malformed, "Payload Len \(value)")
            #expect(result.error?.offset == 41)
        }
        #expect(inbound.replayWindow.highest == 0)
    }

    @Test func replayedPacketIsRejected() throws {
        var (outbound, inbound) = try Self.pair()
        let packet = try outbound.protect(PacketBuilder.packet())
        #expect(inbound.verify(packet).verdict == .ok)
        let again = inbound.verify(packet)
        #expect(again.verdict == .replay)
        #expect(again.replayCheck == .duplicate)
        #expect(again.description == "replay (duplicate) spi=0x4000 seq=1")
    }

    @Test func belowWindowIsRejectedBeforeTheICV() throws {
        var (outbound, inbound) = try Self.pair(window: ReplayWindow(size: 32)!)
        var packets: [[UInt8]] = []
        for _ in 0..<40 { packets.append(try outbound.protect(PacketBuilder.packet())) }
        #expect(inbound.verify(packets[39]).verdict == .ok)  // sequence 40
        var old = packets[7]  // sequence 8 = 40 - 32: just outside
        let result = inbound.verify(old)
        #expect(result.verdict == .replay)
        #expect(result.replayCheck == .belowWindow)
        // Rejected before the ICV: a corrupt ICV gives the same verdict.
        old[60] ^= 0xFF
        #expect(inbound.verify(old).verdict == .replay)
        #expect(inbound.verify(packets[8]).verdict == .ok)  // sequence 9: inside
    }

    @Test func forgedHighSequenceNumberDoesNotMoveTheWindow() throws {
        var (outbound, inbound) = try Self.pair()
        var packets: [[UInt8]] = []
        for _ in 0..<3 { packets.append(try outbound.protect(PacketBuilder.packet())) }
        #expect(inbound.verify(packets[0]).verdict == .ok)
        var forged = packets[1]
        forged[48] = 0x7F  // sequence number 0x7F000002, ICV now wrong
        #expect(inbound.verify(forged).verdict == .badICV)
        #expect(inbound.replayWindow.highest == 1)
        #expect(inbound.verify(packets[1]).verdict == .ok)
        #expect(inbound.verify(packets[2]).verdict == .ok)
    }

    @Test func badICVDoesNotConsumeTheSequenceNumber() throws {
        var (outbound, inbound) = try Self.pair(.hmacSHA1_96)
        let packet = try outbound.protect(PacketBuilder.packet())
        var corrupt = packet
        corrupt[corrupt.count - 1] ^= 0x80
        #expect(inbound.verify(corrupt).verdict == .badICV)
        #expect(inbound.verify(packet).verdict == .ok)
    }

    @Test func wrongKeyFails() throws {
        var (outbound, _) = try Self.pair()
        var other = try SecurityAssociation(
            spi: 0x4000, direction: .inbound, algorithm: .hmacSHA256_128, key: Self.key256.reversed(),
            source: PacketBuilder.source, destination: PacketBuilder.destination)
        #expect(other.verify(try outbound.protect(PacketBuilder.packet())).verdict == .badICV)
    }

    @Test func malformedChains() throws {
        var (outbound, inbound) = try Self.pair()
        let protected = try outbound.protect(PacketBuilder.packet())
        var notIPv6 = protected
        notIPv6[0] = 0x45
        #expect(inbound.verify(notIPv6).error?.reason == .notIPv6)
        #expect(inbound.verify(Array(protected[0..<39])).error?.reason == .truncated)

        let fragment: [UInt8] = [0, 0, 0, 1, 0, 0, 0, 9]
        let fragmented = PacketBuilder.packet(headers: [(44, fragment), (51, [0, 6] + [UInt8](repeating: 0, count: 30))])
        #expect(inbound.verify(fragmented).error?.reason == .fragmented)

        let hopByHop = PacketBuilder.optionsHeader(optionType: 0x3E, data: [1])
        let late = PacketBuilder.packet(headers: [(60, hopByHop), (0, hopByHop)])
        #expect(inbound.verify(late).error?.reason == .hopByHopNotFirst)

        // Option length running past its header.
        var badOption = PacketBuilder.optionsHeader(optionType: 0x3E, data: [1, 2])
        badOption[3] = 200
        let plain = PacketBuilder.packet(headers: [(60, badOption)])
        var buffer = plain + [UInt8](repeating: 0, count: 64)
        let result = buffer.withUnsafeMutableBytes { bytes in
            Result { try outbound.protect(bytes, packetLength: plain.count, insertingAt: 48) }
        }
        guard case .failure(let error as AHProtectError) = result else {
            Issue.record("protecting over a malformed option must fail")
            return
        }
        #expect(error == .packet(AHPacketError(.malformedOption, at: 43)))
    }

    @Test func unpredictableRoutingHeaders() throws {
        var (outbound, inbound) = try Self.pair()
        let home = PacketBuilder.source
        // Type 2 with two addresses, Segments Left beyond the count, and a type 3 in transit.
        let cases: [[UInt8]] = [
            PacketBuilder.routingHeader(type: 2, segmentsLeft: 1, addresses: [home, home]),
            PacketBuilder.routingHeader(type: 0, segmentsLeft: 3, addresses: [home, home]),
            PacketBuilder.routingHeader(type: 3, segmentsLeft: 1, addresses: [home]),
        ]
        for routing in cases {
            let plain = PacketBuilder.packet(headers: [(43, routing)])
            #expect(throws: AHProtectError.self) { _ = try outbound.protect(plain) }
        }
        // With Segments Left 0 any type is covered as sent.
        let arrived = PacketBuilder.packet(headers: [(43, PacketBuilder.routingHeader(type: 3, segmentsLeft: 0, addresses: [home]))])
        #expect(inbound.verify(try outbound.protect(arrived)).verdict == .ok)
    }

    /// Draft 3.3.1: anonymous SAs vouch only for Binding Updates/Acks and the handshake.
    @Test func anonymousSAsAuthenticateOnlyBindings() {
        #expect(SecurityAssociationClass.anonymous.mayAuthenticate(.bindingUpdate))
        #expect(SecurityAssociationClass.anonymous.mayAuthenticate(.bindingAcknowledgement))
        #expect(SecurityAssociationClass.anonymous.mayAuthenticate(.handshake))
        #expect(!SecurityAssociationClass.anonymous.mayAuthenticate(.other))
        #expect(SecurityAssociationClass.generic.mayAuthenticate(.other))
    }

    @Test func verdictSpellings() {
        #expect(AHVerdict.allCases.map(\.rawValue) == ["ok", "bad-icv", "unknown-spi", "replay", "no-ah", "malformed"])
    }
}

/// Hostile input never traps: random corruption, truncation and length
/// fields of every scapy packet go through the inbound path.
@Suite struct AHRobustnessTests {
    @Test func randomCorruptionNeverTraps() throws {
        var generator = SplitMix(seed: 4302)
        var verdicts: [AHVerdict: Int] = [:]
        for vector in Fixtures.vectors {
            let original = vector.packetBytes
            var database = try SecurityAssociationDatabase([try vector.inboundAssociation()])
            for _ in 0..<400 {
                var packet = original
                for _ in 0..<Int(generator.next() % 4 + 1) {
                    let position = Int(generator.next() % UInt64(min(packet.count, 120)))
                    packet[position] = UInt8(truncatingIfNeeded: generator.next())
                }
                if generator.next() % 3 == 0 { packet.removeLast(Int(generator.next() % UInt64(packet.count))) }
                let verdict = packet.withUnsafeBytes { database.verifyInbound($0) }.verdict
                verdicts[verdict, default: 0] += 1
            }
            // Empty and tiny buffers.
            for length in 0..<48 {
                let verdict = Array(original.prefix(length)).withUnsafeBytes { database.verifyInbound($0) }.verdict
                #expect(verdict == .malformed || verdict == .noAH)
            }
        }
        #expect(verdicts[.malformed, default: 0] > 0)
        #expect(verdicts[.badICV, default: 0] > 0)
    }
}

/// Draft 3.3.1: what an anonymous SA may vouch for, read from the packet.
@Suite struct ProtectedContentTests {
    static func classify(_ headers: [(type: UInt8, bytes: [UInt8])]) throws -> ProtectedContent {
        var (outbound, inbound) = try AHProcessingTests.pair()
        let packet = try outbound.protect(PacketBuilder.packet(headers: headers), insertingAt: 40)
        let result = inbound.verify(packet)
        #expect(result.verdict == .ok)
        return packet.withUnsafeBytes {
            ProtectedContent.classify($0, payloadOffset: result.payloadOffset, nextHeader: result.nextHeader)
        }
    }

    @Test func bindingOptionsAfterAH() throws {
        let bindingUpdate = PacketBuilder.optionsHeader(optionType: 198, data: [0x80, 0, 0, 1, 0, 0, 2, 88])
        #expect(try Self.classify([(60, bindingUpdate)]) == .bindingUpdate)
        let bindingAck = PacketBuilder.optionsHeader(optionType: 7, data: [UInt8](repeating: 0, count: 11))
        #expect(try Self.classify([(60, bindingAck)]) == .bindingAcknowledgement)
        let homeAddress = PacketBuilder.optionsHeader(optionType: 201, data: [UInt8](repeating: 1, count: 16))
        #expect(try Self.classify([(60, homeAddress)]) == .other)
        #expect(try Self.classify([]) == .other)
        #expect(try Self.classify([(253, [17, 0, 1, 2, 3, 4, 5, 6])]) == .handshake)
        #expect(try Self.classify([(135, [59, 0, 5, 0, 0, 0, 0, 0])]) == .bindingUpdate)
    }
}
