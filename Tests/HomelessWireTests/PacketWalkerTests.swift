import Testing
@testable import HomelessWire

/// Frames assembled from the emitters, so the walker is checked against
/// independently known offsets.
enum Frames {
    static let mac = EthernetHeader(destination: EthernetAddress(2, 0, 0, 0, 0, 0x0B), source: EthernetAddress(2, 0, 0, 0, 0, 0x0A),
                                    vlanTag: VLANTag(priority: 3, identifier: 100), etherType: .ipv6)

    static func bytes<T>(_ value: T, _ length: Int, _ emit: (T, UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
        emitted(length: length) { emit(value, $0) }
    }

    static func tcp(payload: Int = 10) -> [UInt8] {
        hex("c000 0016 00000001 00000000 5002 2000 0000 0000") + [UInt8](repeating: 0x61, count: payload)
    }

    /// IPv6 / HBH(RouterAlert) / DestOpt(unknown 0x1E) / Routing0 / Fragment(atomic) / AH(SHA1) / DestOpt(HAO, BU) / TCP
    static func everyHeader(ethernet: Bool = true) -> (bytes: [UInt8], records: [(HeaderKind, Int, Int)]) {
        let hbh = optionsHeader(next: .destinationOptions, options: hex("0502 0000 0100"))
        let dest1 = optionsHeader(next: .routing, options: hex("1e02 abcd 0100"))
        let routing = RoutingHeader(nextHeader: .fragment, routingType: 0, segmentsLeft: 1, addresses: [address("2001:db8:1::5")])
        let fragment = FragmentHeader(nextHeader: .authentication, fragmentOffset: 0, moreFragments: false, identification: 9)
        let ah = AuthenticationHeader(nextHeader: .destinationOptions, securityParametersIndex: 0x1001, sequenceNumber: 1,
                                      integrityCheckValue: [UInt8](repeating: 0x11, count: 12))
        let dest2 = DestinationOptionsHeader(nextHeader: .tcp, options: [
            .homeAddress(address("2001:db8:1::5")),
            .bindingUpdate(BindingUpdate(flags: [.acknowledge, .homeRegistration], sequence: 5, lifetime: 600,
                                         subOptions: [.uniqueIdentifier(1), .homelessSupport]))])
        let payload = hbh + dest1 + bytes(routing, routing.bufferLength) { $0.emit(into: $1) }
            + bytes(fragment, 8) { $0.emit(into: $1) } + bytes(ah, ah.bufferLength) { $0.emit(into: $1) }
            + bytes(dest2, dest2.bufferLength) { $0.emit(into: $1) } + tcp()
        let ip = ipv6Packet(nextHeader: .hopByHop, payload: payload, source: address("2001:db8:2::100"), destination: address("2001:db8:3::7"))
        let link = ethernet ? bytes(mac, 18) { $0.emit(into: $1) } : []
        let base = link.count
        var records: [(HeaderKind, Int, Int)] = ethernet ? [(.ethernet, 0, 18)] : []
        var offset = base + 40
        records.append((.ipv6, base, 40))
        for (kind, length) in [(HeaderKind.hopByHop, 8), (.destinationOptions, 8), (.routing, 24), (.fragment, 8),
                               (.authentication, 24), (.destinationOptions, dest2.bufferLength), (.tcp, 20)] {
            records.append((kind, offset, length))
            offset += length
        }
        return (link + ip, records)
    }
}

@Suite struct PacketWalkerTests {
    @Test func walksEveryHeaderKind() throws {
        for ethernet in [true, false] {
            let (frame, expected) = Frames.everyHeader(ethernet: ethernet)
            let config = PacketWalkerConfiguration(linkLayer: ethernet ? .ethernet : .rawIPv6)
            let records = try walk(frame, configuration: config).get()
            #expect(records.map(\.kind) == expected.map(\.0))
            #expect(records.map(\.offset) == expected.map(\.1))
            #expect(records.map(\.length) == expected.map(\.2))
            #expect(records.last?.protocolNumber == .tcp)
            #expect(records.first(where: { $0.kind == .ipv6 })?.nextHeader == .hopByHop)
            #expect(records.first(where: { $0.kind == .authentication })?.nextHeader == .destinationOptions)
        }
    }

    @Test func summaryLocatesEverything() throws {
        let (frame, expected) = Frames.everyHeader()
        let packet = try #require(expectSuccess(frame) { try ParsedPacket.parse($0) })
        let offsets = Dictionary(expected.map { ($0.0, $0.1) }, uniquingKeysWith: { first, _ in first })
        #expect(packet.linkHeaderLength == 18)
        #expect(packet.vlanTag?.identifier == 100)
        #expect(packet.vlanTag?.priority == 3)
        #expect(packet.ethernetSource == EthernetAddress(2, 0, 0, 0, 0, 0x0A))
        #expect(packet.ipv6Offset == 18)
        #expect(packet.source == address("2001:db8:2::100"))
        #expect(packet.destination == address("2001:db8:3::7"))
        #expect(packet.packetEnd == frame.count)
        #expect(packet.extensionHeaderCount == 6)
        #expect(packet.hopByHopOffset == offsets[.hopByHop])
        #expect(packet.routingHeaderOffset == offsets[.routing])
        #expect(packet.fragmentHeaderOffset == offsets[.fragment])
        #expect(packet.authenticationHeaderOffset == offsets[.authentication])
        #expect(packet.destinationOptionsOffset == offsets[.destinationOptions])
        #expect(packet.destinationOptionsCount == 2)
        let mobilityHeader = try #require(expected.last(where: { $0.0 == .destinationOptions })?.1)
        #expect(packet.mobilityOptions.headerOffset == mobilityHeader)
        #expect(packet.mobilityOptions.homeAddress == mobilityHeader + 6)
        #expect(packet.mobilityOptions.bindingUpdate.map { ($0 - mobilityHeader) % 4 } == 2)
        #expect(packet.mobilityOptions.count == 2)
        #expect(packet.homeAddress == address("2001:db8:1::5"))
        #expect(packet.pseudoHeaderSource == address("2001:db8:1::5"))
        #expect(packet.routingFinalDestination == address("2001:db8:1::5"))
        #expect(packet.pseudoHeaderDestination == address("2001:db8:1::5"))
        #expect(packet.upperLayerProtocol == .tcp)
        #expect(packet.upperLayerOffset == offsets[.tcp])
        #expect(packet.upperLayerHeaderLength == 20)
        #expect(packet.upperLayerLength == 30)
        // 0x1E in the first Destination Options header is unrecognized with action 00 (skip).
        #expect(packet.unrecognizedOptionCount == 1)
        #expect(packet.firstActionableOption == nil)
    }

    @Test func bindingUpdateViewFromSummary() throws {
        let (frame, _) = Frames.everyHeader()
        let sequence = expectSuccess(frame) { raw -> UInt16 in
            let packet = try ParsedPacket.parse(raw)
            guard let header = packet.mobilityOptions.headerOffset, let bu = packet.mobilityOptions.bindingUpdate else { return 0 }
            let record = OptionRecord(type: raw[bu], offset: bu, dataOffset: bu + 2, dataLength: Int(raw[bu + 1]))
            let view = try BindingUpdateOptionView(checking: raw, record: record, headerOffset: header)
            return try BindingUpdate(view).sequence
        }
        #expect(sequence == 5)
    }

    @Test func hopByHopMustComeFirst() {
        let hbh = optionsHeader(next: .noNextHeader, options: hex("0104 00000000"))
        let dest = optionsHeader(next: .hopByHop, options: hex("0104 00000000"))
        let packet = ipv6Packet(nextHeader: .destinationOptions, payload: dest + hbh)
        // Reported at the Next Header field that named Hop-by-Hop (for ICMP Parameter Problem code 1).
        #expect(walk(packet, configuration: rawIPv6).failureValue == WireError(.hopByHopNotFirst, at: 40))
        #expect(withBytes(packet) { try ParsedPacket.parse($0, configuration: rawIPv6) }.failureValue == WireError(.hopByHopNotFirst, at: 40))
    }

    @Test func chainLengthIsLimited() {
        func chain(_ count: Int) -> [UInt8] {
            var payload: [UInt8] = []
            for index in 0..<count {
                payload += optionsHeader(next: index == count - 1 ? .noNextHeader : .destinationOptions, options: hex("0104 00000000"))
            }
            return ipv6Packet(nextHeader: .destinationOptions, payload: payload)
        }
        #expect(walk(chain(8), configuration: rawIPv6).successValue?.count == 10)
        #expect(walk(chain(9), configuration: rawIPv6).failureValue == WireError(.chainTooLong, at: 40 + 8 * 8))
        let strict = PacketWalkerConfiguration(linkLayer: .rawIPv6, maximumExtensionHeaders: 2)
        #expect(walk(chain(3), configuration: strict).failureValue == WireError(.chainTooLong, at: 56))
        #expect(walk(chain(2), configuration: strict).successValue?.last?.kind == .noNextHeader)
    }

    @Test func unsupportedEtherTypeIsReported() {
        var frame = Frames.bytes(EthernetHeader(destination: .broadcast, source: .broadcast, etherType: .ipv4), 14) { $0.emit(into: $1) }
        frame += [UInt8](repeating: 0x45, count: 20)
        #expect(walk(frame).failureValue == WireError(.unsupportedEtherType, at: 12))
        var tagged = Frames.bytes(EthernetHeader(destination: .broadcast, source: .broadcast, vlanTag: VLANTag(identifier: 1),
                                                 etherType: .arp), 18) { $0.emit(into: $1) }
        tagged += [UInt8](repeating: 0, count: 28)
        #expect(walk(tagged).failureValue == WireError(.unsupportedEtherType, at: 16))
    }

    @Test func unrecognizedOptionsAreReportedNotRejected() throws {
        // Destination options: 0x1E (skip), 0x5E (discard), 0x9E (discard + ICMP).
        let dest = optionsHeader(next: .noNextHeader, options: hex("1e00 5e00 9e02 abcd 0104 00000000"))
        let packet = ipv6Packet(nextHeader: .destinationOptions, payload: dest)
        let summary = try #require(expectSuccess(packet) { try ParsedPacket.parse($0, configuration: rawIPv6) })
        #expect(summary.unrecognizedOptionCount == 3)
        #expect(summary.firstActionableOption == UnrecognizedOption(type: 0x5E, optionOffset: 44, headerKind: .destinationOptions))
        #expect(summary.firstActionableOption?.action == .discard)
        // Router Alert in Hop-by-Hop is recognized; a BU code point inside Hop-by-Hop is not a BU.
        let hbh = optionsHeader(next: .noNextHeader, options: hex("0502 0000 c600"))
        let second = try #require(expectSuccess(ipv6Packet(nextHeader: .hopByHop, payload: hbh)) {
            try ParsedPacket.parse($0, configuration: rawIPv6)
        })
        #expect(second.unrecognizedOptionCount == 1)
        #expect(second.firstActionableOption == UnrecognizedOption(type: 0xC6, optionOffset: 46, headerKind: .hopByHop))
        #expect(second.firstActionableOption?.action == .discardAndSendParameterProblemUnlessMulticast)
        #expect(second.mobilityOptions.count == 0)
    }

    @Test func paddingAndAlignmentFollowConfiguration() {
        // HAO at offset 2 (misaligned) followed by an over-long PadN.
        let dest = hex("3b 03 c9 10 20010db8000100000000000000000005 0106 000000000000 0102 0000")
        let packet = ipv6Packet(nextHeader: .destinationOptions, payload: dest)
        #expect(walk(packet, configuration: rawIPv6).failureValue == WireError(.misaligned, at: 42))
        var lax = rawIPv6
        lax.checksAlignment = false
        #expect(walk(packet, configuration: lax).failureValue == WireError(.badPadding, at: 60))
        lax.checksPadding = false
        #expect(walk(packet, configuration: lax).successValue?.map(\.kind) == [.ipv6, .destinationOptions, .noNextHeader])
    }

    @Test func walkStopsAtESPAndNoNextHeaderAndLaterFragments() throws {
        let esp = ipv6Packet(nextHeader: .encapsulatingSecurityPayload, payload: hex("00002002 00000001") + [UInt8](repeating: 9, count: 16))
        let espRecords = try walk(esp, configuration: rawIPv6).get()
        #expect(espRecords.map(\.kind) == [.ipv6, .encapsulatingSecurityPayload])
        #expect(espRecords.last?.length == 24)
        expectError(.truncated, at: 40, ipv6Packet(nextHeader: .encapsulatingSecurityPayload, payload: hex("00002002 000000"))) {
            try ParsedPacket.parse($0, configuration: rawIPv6)
        }
        let later = ipv6Packet(nextHeader: .fragment, payload: hex("06 00 0099 abcdef01") + [UInt8](repeating: 1, count: 16))
        let laterRecords = try walk(later, configuration: rawIPv6).get()
        #expect(laterRecords.map(\.kind) == [.ipv6, .fragment, .payload])
        #expect(laterRecords.last?.protocolNumber == .tcp)
        let summary = try #require(expectSuccess(later) { try ParsedPacket.parse($0, configuration: rawIPv6) })
        #expect(summary.isNonInitialFragment)
        #expect(summary.upperLayerOffset == nil)
        #expect(summary.upperLayerProtocol == .tcp)
        let unknown = ipv6Packet(nextHeader: IPProtocol(253), payload: [1, 2, 3])
        let unknownRecords = try walk(unknown, configuration: rawIPv6).get()
        #expect(unknownRecords.last?.kind == .payload)
        #expect(unknownRecords.last?.length == 3)
        #expect(unknownRecords.last?.protocolNumber == MobileIPv6CodePoints.draftEra.anonymousAuthenticationNextHeader)
    }

    @Test func walkerEndsAfterAnError() {
        let bytes = ipv6Packet(nextHeader: .tcp, payload: [1, 2, 3])
        let outcome = bytes.withUnsafeBytes { raw -> (WireError?, HeaderRecord?) in
            var walker = PacketWalker(raw, configuration: rawIPv6)
            _ = try? walker.next()
            var failure: WireError?
            do throws(WireError) { _ = try walker.next() } catch { failure = error }
            return (failure, try? walker.next())
        }
        #expect(outcome.0 == WireError(.truncated, at: 40))
        #expect(outcome.1 == nil)
    }

    /// Cutting the packet (and its Payload Length) inside any header gives
    /// a length error located inside that header; never a trap.
    @Test func everyTruncationPointIsReportedInsideTheCutHeader() throws {
        let (frame, expected) = Frames.everyHeader(ethernet: false)
        for cut in 40..<(frame.count - 10) {
            var packet = Array(frame.prefix(cut))
            let payload = cut - 40
            packet[4] = UInt8(payload >> 8); packet[5] = UInt8(payload & 0xFF)
            guard let header = expected.last(where: { $0.1 <= cut }) else { continue }
            let result = withBytes(packet) { try ParsedPacket.parse($0, configuration: rawIPv6) }
            if header.1 == cut {
                // The cut falls exactly between headers: the next one is missing entirely.
                #expect(result.failureValue == WireError(.truncated, at: cut), "cut at \(cut)")
                continue
            }
            let error = try #require(result.failureValue, "cut at \(cut) inside \(header.0) parsed")
            #expect([.truncated, .lengthOverrun].contains(error.reason), "cut at \(cut): \(error)")
            #expect(error.offset >= header.1 && error.offset < header.1 + header.2, "cut at \(cut): \(error) outside \(header)")
        }
        // And cutting the buffer without fixing Payload Length is caught by the IPv6 header.
        for cut in 40..<frame.count {
            expectError(.lengthOverrun, at: 4, Array(frame.prefix(cut))) { try ParsedPacket.parse($0, configuration: rawIPv6) }
        }
        for cut in 0..<40 {
            expectError(.truncated, at: 0, Array(frame.prefix(cut))) { try ParsedPacket.parse($0, configuration: rawIPv6) }
        }
    }

    /// Hostile input: random bytes and random mutations of a valid frame
    /// parse or fail with an in-range offset; nothing traps.
    @Test func randomInputNeverTraps() {
        var rng = SeededGenerator(seed: 0xF022)
        let (frame, _) = Frames.everyHeader()
        var failures = 0
        for iteration in 0..<20_000 {
            var bytes: [UInt8]
            if iteration % 2 == 0 {
                bytes = rng.bytes(Int.random(in: 0...200, using: &rng))
                if bytes.count > 14 && Bool.random(using: &rng) { bytes[12] = 0x86; bytes[13] = 0xDD; bytes[14] = 0x60 }
            } else {
                bytes = frame
                for _ in 0..<Int.random(in: 1...4, using: &rng) {
                    bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                }
                if Bool.random(using: &rng) { bytes = Array(bytes.prefix(Int.random(in: 0...bytes.count, using: &rng))) }
            }
            let config = PacketWalkerConfiguration(linkLayer: iteration % 3 == 0 ? .rawIPv6 : .ethernet)
            if case .failure(let error) = withBytes(bytes, { try ParsedPacket.parse($0, configuration: config) }) {
                failures += 1
                #expect(error.offset >= 0 && error.offset <= bytes.count)
            }
        }
        #expect(failures > 1000)
    }
}

@Suite struct ParsedPacketViewTests {
    /// IPv6 / DestOpt(HAO) / AH / DestOpt(BA, BU, BR) / No Next Header: each
    /// option's view is built against its own header.
    @Test func optionViewsUseTheirOwnHeader() throws {
        let first = DestinationOptionsHeader(nextHeader: .authentication, options: [.homeAddress(address("2001:db8:1::5"))])
        let ah = AuthenticationHeader(nextHeader: .destinationOptions, securityParametersIndex: 7, sequenceNumber: 9,
                                      integrityCheckValue: [UInt8](repeating: 0xAA, count: 12))
        let second = DestinationOptionsHeader(nextHeader: .noNextHeader, options: [
            .bindingAcknowledgement(BindingAcknowledgement(status: 0, sequence: 2, lifetime: 3, refresh: 4)),
            .bindingUpdate(BindingUpdate(flags: [.acknowledge], sequence: 0x0102, lifetime: 60, subOptions: [.uniqueIdentifier(5)])),
            .bindingRequest(BindingRequest()),
        ])
        let payload = emitted(length: first.bufferLength) { first.emit(into: $0) } + emitted(length: ah.bufferLength) { ah.emit(into: $0) }
            + emitted(length: second.bufferLength) { second.emit(into: $0) }
        let packet = ipv6Packet(nextHeader: .destinationOptions, payload: payload)
        let secondOffset = 40 + first.bufferLength + ah.bufferLength
        let found = expectSuccess(packet) { raw -> [String] in
            let parsed = try ParsedPacket.parse(raw, configuration: rawIPv6)
            #expect(parsed.mobilityOptions.headerOffset == 40)
            #expect(parsed.mobilityOptions.homeAddressHeader == 40)
            #expect(parsed.mobilityOptions.bindingUpdateHeader == secondOffset)
            #expect(parsed.mobilityOptions.count == 4)
            return [
                parsed.homeAddressOption(in: raw).map { "\($0.homeAddress)" } ?? "-",
                parsed.bindingUpdate(in: raw).map { "bu \($0.sequence) \($0.lifetime)" } ?? "-",
                parsed.bindingAcknowledgement(in: raw).map { "ba \($0.sequence) \($0.refresh)" } ?? "-",
                parsed.bindingRequest(in: raw).map { "br \($0.record.dataLength)" } ?? "-",
                ParsedPacket.optionRecord(at: raw.count - 1, in: raw) == nil ? "edge ok" : "edge bad",
            ]
        }
        #expect(found == ["2001:db8:1::5", "bu 258 60", "ba 2 4", "br 0", "edge ok"])
        // No options: every accessor is nil.
        let plain = ipv6Packet(nextHeader: .noNextHeader, payload: [])
        let none = expectSuccess(plain) { raw -> Bool in
            let parsed = try ParsedPacket.parse(raw, configuration: rawIPv6)
            return parsed.bindingUpdate(in: raw) == nil && parsed.homeAddressOption(in: raw) == nil
                && parsed.bindingAcknowledgement(in: raw) == nil && parsed.bindingRequest(in: raw) == nil
        }
        #expect(none == true)
    }
}
