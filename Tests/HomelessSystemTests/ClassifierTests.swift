import Glibc
import HomelessSystem
import Testing

@Suite struct LocatorAddressTests {
    @Test func bytesMapToBigEndianHalves() throws {
        let address = try #require(LocatorAddress(bytes: ClassifierFrames.address(0x99)))
        #expect(address.high == 0x2001_0db8_0001_0000)
        #expect(address.low == 0x99)
        #expect(LocatorAddress(bytes: [UInt8](repeating: 0, count: 15)) == nil)
    }

    @Test func verdictsKnowTheirSide() {
        #expect(ClassifierVerdict.allCases.filter(\.isEngine) ==
                [.engineForeignLocator, .engineMobilityOption, .engineHandshake, .engineMobilityHeader])
    }
}

/// The classifier loaded into the kernel, on a veth pair in a namespace of
/// the test's own.
@Suite(.enabled(if: runningAsRoot, "loading BPF programs and tc filters needs root"))
struct ClassifierTests {
    typealias F = ClassifierFrames
    static let foreign = F.address(0x99)
    static let stranger = F.address(0x42)
    static let local = F.address(1)

    struct Case {
        let name: String
        let frame: [UInt8]
        let engine: Bool
    }

    static func cases(to destinationMAC: [UInt8]) -> [Case] {
        let solicitedNode: [UInt8] = [0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0, 0, 1]
        func frame(_ ip: [UInt8]) -> [UInt8] { F.ethernet(destination: destinationMAC, payload: ip) }
        let neighborSolicitation = F.ipv6(
            source: foreign, destination: solicitedNode, nextHeader: F.icmpv6,
            payload: F.icmpv6Message(type: 135, body: [0, 0, 0, 0] + local, source: foreign, destination: solicitedNode),
            hopLimit: 255)
        let routerAdvertisement = F.ipv6(
            source: [0xfe, 0x80] + [UInt8](repeating: 0, count: 13) + [9], destination: F.allNodes,
            nextHeader: F.icmpv6, payload: F.icmpv6Message(
                type: 134, body: [64, 0, 0x07, 0x08, 0, 0, 0, 0, 0, 0, 0, 0], source: foreign,
                destination: F.allNodes), hopLimit: 255)
        let bindingUpdate = F.destinationOptionsHeader(next: F.noNextHeader, optionType: 198,
                                                       optionData: F.bindingUpdateData)
        return [
            Case(name: "NS from a foreign locator", frame: frame(neighborSolicitation), engine: false),
            Case(name: "RA", frame: frame(routerAdvertisement), engine: false),
            Case(name: "DHCPv6 from a foreign locator",
                 frame: frame(F.ipv6(source: foreign, destination: local, nextHeader: F.udp,
                                     payload: F.udpDatagram(sourcePort: 546, destinationPort: 547))),
                 engine: false),
            Case(name: "Destination Options with a Binding Update",
                 frame: frame(F.ipv6(source: stranger, destination: local, nextHeader: F.destinationOptions,
                                     payload: bindingUpdate)),
                 engine: true),
            Case(name: "AH then Destination Options with a Home Address option",
                 frame: frame(F.ipv6(source: stranger, destination: local, nextHeader: F.authenticationHeader,
                                     payload: F.authenticationHeader(next: F.destinationOptions)
                                         + F.destinationOptionsHeader(next: F.udp, optionType: 201, optionData: foreign)
                                         + F.udpDatagram(destinationPort: 9))),
                 engine: true),
            Case(name: "Destination Options with an unrelated option",
                 frame: frame(F.ipv6(source: stranger, destination: local, nextHeader: F.destinationOptions,
                                     payload: F.destinationOptionsHeader(next: F.noNextHeader, optionType: 0x1e,
                                                                         optionData: [1, 2, 3]))),
                 engine: false),
            Case(name: "AH alone from a stranger",
                 frame: frame(F.ipv6(source: stranger, destination: local, nextHeader: F.authenticationHeader,
                                     payload: F.authenticationHeader(next: F.udp) + F.udpDatagram(destinationPort: 9))),
                 engine: false),
            Case(name: "UDP from a foreign locator",
                 frame: frame(F.ipv6(source: foreign, destination: local, nextHeader: F.udp,
                                     payload: F.udpDatagram(destinationPort: 5001))),
                 engine: true),
            Case(name: "plain UDP",
                 frame: frame(F.ipv6(source: stranger, destination: local, nextHeader: F.udp,
                                     payload: F.udpDatagram(destinationPort: 5001))),
                 engine: false),
            Case(name: "handshake (Next Header 253)",
                 frame: frame(F.ipv6(source: stranger, destination: local, nextHeader: 253,
                                     payload: [1, 0, 0, 0, 0, 0, 0, 0])),
                 engine: true),
            Case(name: "not IPv6",
                 frame: F.ethernet(destination: destinationMAC, etherType: experimentalEtherType, payload: [1, 2, 3]),
                 engine: false),
        ]
    }

    func macAddress(_ namespace: VethNamespace, _ interface: String) throws -> [UInt8] {
        let text = try namespace.exec(["cat", "/sys/class/net/\(interface)/address"])
        return text.split(separator: ":").compactMap { UInt8($0.trimmingCharacters(in: .whitespacesAndNewlines), radix: 16) }
    }

    @Test func socketFilterAdmitsExactlyTheEngineFrames() throws {
        let namespace = try VethNamespace()
        let classifier = try WirePortClassifier()
        try classifier.addLocator(try #require(LocatorAddress(bytes: Self.foreign)), to: .foreign, owner: 7)
        #expect(try classifier.owner(of: try #require(LocatorAddress(bytes: Self.foreign)), in: .foreign) == 7)
        let (ring, sender) = try namespace.inside {
            (try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"),
                socketFilterDescriptor: classifier.socketFilterDescriptor)),
             try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")))
        }
        let cases = Self.cases(to: try macAddress(namespace, "v1"))
        for item in cases { try sender.send(item.frame) }
        let expected = cases.filter(\.engine)
        let received = try receiveFrames(from: ring, count: expected.count)
        // Wait a little longer: a wrongly admitted frame would arrive late.
        let late = try receiveFrames(from: ring, count: 1, timeout: .milliseconds(200))
        #expect(received == expected.map(\.frame))
        #expect(late.isEmpty)
        for item in cases where item.engine != received.contains(item.frame) {
            Issue.record("\(item.name): expected \(item.engine ? "engine" : "kernel")")
        }
        let counts = try classifier.verdictCounts()
        #expect(counts[.socketFilter, .engineMobilityOption] == 2)
        #expect(counts[.socketFilter, .engineForeignLocator] == 1)
        #expect(counts[.socketFilter, .engineHandshake] == 1)
        #expect(counts[.socketFilter, .kernelNeighborDiscovery] >= 2)
        #expect(counts[.socketFilter, .kernelDHCPv6] == 1)
        #expect(counts[.socketFilter, .kernelNotIPv6] >= 1)

        // Once the slow path removes the locator, its traffic is the kernel's again.
        #expect(try classifier.removeLocator(try #require(LocatorAddress(bytes: Self.foreign)), from: .foreign))
        #expect(try !classifier.removeLocator(try #require(LocatorAddress(bytes: Self.foreign)), from: .foreign))
        try sender.send(cases[7].frame)
        #expect(try receiveFrames(from: ring, count: 1, timeout: .milliseconds(300)).isEmpty)
        #expect(try ring.statistics().drops == 0)
    }

    /// `hl_conversation_tap` keeps exactly the host's outgoing TCP SYNs to
    /// destinations outside the foreign-locator map and the first UDP
    /// datagram to each such destination (one a second): not those to a
    /// known peer, not a second datagram right after the first, not a SYN
    /// coming in.
    @Test func conversationTapKeepsOutgoingConversationStartsToUnknownPeers() throws {
        let namespace = try VethNamespace(ipv6: true)
        let classifier = try WirePortClassifier()
        let known: [UInt8] = [0x20, 0x01, 0x0d, 0xb8, 0, 0x77] + [UInt8](repeating: 0, count: 9) + [6]
        try classifier.addLocator(try #require(LocatorAddress(bytes: known)), to: .foreign)
        _ = try namespace.exec(["ip", "addr", "add", "2001:db8:77::1/64", "dev", "v0", "nodad"])
        for peer in ["2001:db8:77::5", "2001:db8:77::6"] {
            _ = try namespace.exec(["ip", "neigh", "add", peer, "lladdr", "02:00:00:00:00:05", "dev", "v0",
                                    "nud", "permanent"])
        }
        let (tap, sender) = try namespace.inside {
            (try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0"),
                                 etherType: PacketRXConfiguration.everyEtherType,
                                 socketFilterDescriptor: classifier.conversationTapDescriptor),
             try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1")))
        }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 2048, alignment: 8)
        defer { buffer.deallocate() }
        // A SYN coming in from the link (to v0's MAC) is not ours to tap.
        let incomingSyn = ClassifierFrames.ethernet(
            destination: try macAddress(namespace, "v0"),
            payload: ClassifierFrames.ipv6(source: Self.stranger, destination: Self.local, nextHeader: 6,
                                           payload: [0, 80, 0, 80, 0, 0, 0, 1, 0, 0, 0, 0, 0x50, 0x02, 0xff, 0xff,
                                                     0, 0, 0, 0]))
        try sender.send(incomingSyn)
        _ = try namespace.exec(["python3", "-c", """
            import socket
            for peer in ("2001:db8:77::5", "2001:db8:77::6"):
                s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
                s.setblocking(False)
                try: s.connect((peer, 80))
                except BlockingIOError: pass
            u = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            u.sendto(b"x" * 600, ("2001:db8:77::5", 53))
            u.sendto(b"y", ("2001:db8:77::5", 53))
            u.sendto(b"z", ("2001:db8:77::6", 53))
            """])
        usleep(200_000)
        var tapped: [[UInt8]] = []
        while case .done(let length) = try tap.receive(into: buffer) { tapped.append(Array(buffer[0..<length])) }
        #expect(tapped.count == 2, "\(tapped.count) frames tapped")
        let unknownPeer = [0x20, 0x01, 0x0d, 0xb8, 0, 0x77] + [UInt8](repeating: 0, count: 9) + [5]
        if tapped.count == 2 {
            #expect(Array(tapped[0][38..<54]) == unknownPeer)
            #expect(tapped[0][20] == 6 && tapped[0][14 + 40 + 13] & 0x12 == 0x02, "a SYN")
            #expect(Array(tapped[1][38..<54]) == unknownPeer)
            #expect(tapped[1][20] == 17, "the first datagram")
            #expect(tapped[1].count == 128, "cut after HL_CONVERSATION_TAP_SNAP octets")
        }
        // A second later the same destination's next datagram is tapped again.
        usleep(1_100_000)
        _ = try namespace.exec(["python3", "-c", """
            import socket
            socket.socket(socket.AF_INET6, socket.SOCK_DGRAM).sendto(b"w", ("2001:db8:77::5", 53))
            """])
        usleep(200_000)
        var later = 0
        while case .done = try tap.receive(into: buffer) { later += 1 }
        #expect(later == 1)
    }

    @Test func mobilityHeaderIsTheEnginesOnlyWhenEnabled() throws {
        let namespace = try VethNamespace()
        let classifier = try WirePortClassifier()
        let (ring, sender) = try namespace.inside {
            (try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"),
                socketFilterDescriptor: classifier.socketFilterDescriptor)),
             try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")))
        }
        // RFC 6275 6.1.7 Binding Update: Payload Proto 59, Header Len 1, MH Type 5.
        let bindingUpdate = ClassifierFrames.ethernet(
            destination: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            payload: ClassifierFrames.ipv6(source: Self.stranger, destination: Self.local, nextHeader: 135,
                                           payload: [59, 1, 5, 0, 0, 0, 0, 1, 0x80, 0, 0, 0x96, 0, 0, 0, 0]))
        try sender.send(bindingUpdate)
        #expect(try receiveFrames(from: ring, count: 1, timeout: .milliseconds(300)).isEmpty)
        try classifier.setConfiguration(ClassifierConfiguration(mobilityHeader: true))
        #expect(try classifier.configuration().mobilityHeader)
        try sender.send(bindingUpdate)
        #expect(try receiveFrames(from: ring, count: 1) == [bindingUpdate])
        #expect(try classifier.verdictCounts()[.socketFilter, .engineMobilityHeader] == 1)
    }

    @Test func vlanTaggedFramesAreClassifiedByTheirIPv6Content() throws {
        let namespace = try VethNamespace()
        let classifier = try WirePortClassifier()
        let (ring, sender) = try namespace.inside {
            (try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"),
                socketFilterDescriptor: classifier.socketFilterDescriptor)),
             try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")))
        }
        let broadcast: [UInt8] = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff]
        let bindingUpdate = ClassifierFrames.ipv6(
            source: Self.stranger, destination: Self.local, nextHeader: ClassifierFrames.destinationOptions,
            payload: ClassifierFrames.destinationOptionsHeader(next: ClassifierFrames.noNextHeader, optionType: 198,
                                                               optionData: ClassifierFrames.bindingUpdateData))
        let plain = ClassifierFrames.ipv6(source: Self.stranger, destination: Self.local, nextHeader: ClassifierFrames.udp,
                                          payload: ClassifierFrames.udpDatagram(destinationPort: 9))
        // 802.1Q tag: TPID 0x8100, PCP 5, VLAN 42, then the IPv6 EtherType.
        let tag: [UInt8] = [0xa0, 42, 0x86, 0xdd]
        try sender.send(ClassifierFrames.ethernet(destination: broadcast, etherType: 0x8100, payload: tag + plain))
        try sender.send(ClassifierFrames.ethernet(destination: broadcast, etherType: 0x8100, payload: tag + bindingUpdate))
        var tags: [UInt16?] = []
        var frames: [[UInt8]] = []
        let deadline = ContinuousClock.now + .seconds(2)
        while frames.isEmpty, ContinuousClock.now < deadline {
            _ = try ring.waitForBlock(timeoutMilliseconds: 50)
            while var block = ring.nextBlock() {
                block.forEachFrame { frame in
                    frames.append(Array(frame.bytes))
                    tags.append(frame.vlanTag)
                }
                ring.release(block)
            }
        }
        // The kernel takes the tag off before the hooks run; the frame is
        // classified by what follows it, and the tag is reported beside it.
        #expect(frames == [ClassifierFrames.ethernet(destination: broadcast, payload: bindingUpdate)])
        #expect(tags == [0xa02a])
        #expect(try receiveFrames(from: ring, count: 1, timeout: .milliseconds(200)).isEmpty)
    }

    @Test func requiringALocalDestinationLeavesOtherDestinationsAlone() throws {
        let namespace = try VethNamespace()
        let classifier = try WirePortClassifier()
        try classifier.setConfiguration(ClassifierConfiguration(requireLocalDestination: true))
        #expect(try classifier.configuration() == ClassifierConfiguration(handshakeNextHeader: 253,
                                                                            requireLocalDestination: true))
        let (ring, sender) = try namespace.inside {
            (try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"),
                socketFilterDescriptor: classifier.socketFilterDescriptor)),
             try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")))
        }
        let handshake = ClassifierFrames.ethernet(
            destination: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff],
            payload: ClassifierFrames.ipv6(source: Self.stranger, destination: Self.local, nextHeader: 253,
                                           payload: [9, 0, 0, 0, 0, 0, 0, 0]))
        try sender.send(handshake)
        #expect(try receiveFrames(from: ring, count: 1, timeout: .milliseconds(300)).isEmpty)
        try classifier.addLocator(try #require(LocatorAddress(bytes: Self.local)), to: .local)
        try sender.send(handshake)
        #expect(try receiveFrames(from: ring, count: 1) == [handshake])
        #expect(try classifier.verdictCounts()[.socketFilter, .kernelNotOwned] >= 1)
    }

    @Test func ingressFilterTakesEngineTrafficAwayFromTheKernel() throws {
        let namespace = try VethNamespace(ipv6: true)
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "v1", "nodad"])
        let v0MAC = try macAddress(namespace, "v0")
        let v1MAC = try macAddress(namespace, "v1")
        let v0Text = v0MAC.map { String($0, radix: 16) }.joined(separator: ":")
        try namespace.exec(["ip", "-6", "neigh", "replace", "2001:db8:1::99", "lladdr", v0Text, "dev", "v1", "nud", "permanent"])
        try namespace.exec(["ip", "-6", "neigh", "replace", "2001:db8:1::42", "lladdr", v0Text, "dev", "v1", "nud", "permanent"])

        let classifier = try WirePortClassifier()
        try classifier.addLocator(try #require(LocatorAddress(bytes: Self.foreign)), to: .foreign)
        let (v1Index, engineRing, replies, sender) = try namespace.inside {
            let v1 = try NetworkNamespace.interfaceIndex(named: "v1")
            let v0 = try NetworkNamespace.interfaceIndex(named: "v0")
            return (v1,
                    try PacketRXRing(configuration: PacketRXConfiguration(
                        interfaceIndex: v1, socketFilterDescriptor: classifier.socketFilterDescriptor)),
                    try PacketRXRing(configuration: PacketRXConfiguration(interfaceIndex: v0, etherType: 0x86dd)),
                    try RawPacketSocket(interfaceIndex: v0))
        }
        func echoRequest(from source: [UInt8], identifier: UInt8) -> [UInt8] {
            let destination = Self.local
            return ClassifierFrames.ethernet(
                destination: v1MAC, source: v0MAC,
                payload: ClassifierFrames.ipv6(
                    source: source, destination: destination, nextHeader: ClassifierFrames.icmpv6,
                    payload: ClassifierFrames.icmpv6Message(type: 128, body: [0, identifier, 0, 1, 0x68, 0x6c],
                                                            source: source, destination: destination)))
        }
        func echoReplies() throws -> [UInt8] {
            // ICMPv6 type at 14 + 40; identifier's low byte at 14 + 40 + 5.
            try receiveFrames(from: replies, count: 2, timeout: .milliseconds(500))
                .filter { $0.count > 59 && $0[20] == 58 && $0[54] == 129 }
                .map { $0[59] }
        }

        let attachment = try namespace.inside { try classifier.attachIngress(interfaceIndex: v1Index) }
        #expect(attachment.createdQdisc)
        let shown = try namespace.exec(["tc", "filter", "show", "dev", "v1", "ingress"])
        #expect(shown.contains("hl_classify_tc"))

        try sender.send(echoRequest(from: Self.foreign, identifier: 1))
        try sender.send(echoRequest(from: Self.stranger, identifier: 2))
        // The kernel answers only the stranger; the engine's ring got the other.
        #expect(try echoReplies() == [2])
        #expect(try receiveFrames(from: engineRing, count: 1) == [echoRequest(from: Self.foreign, identifier: 1)])
        let counts = try classifier.verdictCounts()
        #expect(counts[.tcIngress, .engineForeignLocator] == 1)
        #expect(counts[.tcIngress, .kernelNotOwned] >= 1)

        try namespace.inside { try attachment.detach() }
        #expect(try namespace.exec(["tc", "filter", "show", "dev", "v1", "ingress"]).isEmpty)
        #expect(!(try namespace.exec(["tc", "qdisc", "show", "dev", "v1"]).contains("clsact")))
        // Without the filter the kernel answers the foreign locator too.
        try sender.send(echoRequest(from: Self.foreign, identifier: 3))
        #expect(try echoReplies() == [3])
    }

    @Test func leftoverOfACrashedRunIsRemovedAndNothingElse() throws {
        let namespace = try VethNamespace()
        try namespace.exec(["tc", "qdisc", "add", "dev", "v1", "clsact"])
        // Someone else's filter on the same hook must survive.
        try namespace.exec(["tc", "filter", "add", "dev", "v1", "ingress", "pref", "7", "protocol", "all",
                            "u32", "match", "u32", "0", "0", "classid", "1:1"])
        let index = try namespace.interfaceIndex("v1")
        do {
            // A run that never detaches: its filter outlives the process state.
            let crashed = try WirePortClassifier()
            let attachment = try namespace.inside { try crashed.attachIngress(interfaceIndex: index) }
            #expect(!attachment.createdQdisc)
        }
        #expect(try namespace.inside { try IngressAttachment.isPresent(interfaceIndex: index) })
        #expect(try namespace.inside { try IngressAttachment.removeLeftover(interfaceIndex: index) })
        #expect(try !namespace.inside { try IngressAttachment.isPresent(interfaceIndex: index) })
        #expect(try !namespace.inside { try IngressAttachment.removeLeftover(interfaceIndex: index) })

        // A restart attaches again over the leftover, then detaches cleanly,
        // leaving the pre-existing qdisc and filter as they were.
        let crashed = try WirePortClassifier()
        _ = try namespace.inside { try crashed.attachIngress(interfaceIndex: index) }
        let restarted = try WirePortClassifier()
        let attachment = try namespace.inside { try restarted.attachIngress(interfaceIndex: index) }
        try namespace.inside { try attachment.detach() }
        let remaining = try namespace.exec(["tc", "filter", "show", "dev", "v1", "ingress"])
        #expect(!remaining.contains("hl_classify"))
        #expect(remaining.contains("u32"))
        #expect(try namespace.exec(["tc", "qdisc", "show", "dev", "v1"]).contains("clsact"))
    }
}
