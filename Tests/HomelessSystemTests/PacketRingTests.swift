import Glibc
import HomelessSystem
import Testing

/// AF_PACKET rings on a veth pair inside a namespace created for the test.
@Suite(.enabled(if: runningAsRoot, "AF_PACKET rings and network namespaces need root"))
struct PacketRingTests {
    /// Both layouts: per-frame hand-off (TPACKET_V2, the default; here with
    /// 2 KiB slots, so that all 1000 frames fit before the test reads) and
    /// blocks (TPACKET_V3).
    @Test(arguments: [RXRingGeometry(blockSize: 1 << 20, blockCount: 2, frameSize: 2048, retireTimeoutMilliseconds: 1,
                                     layout: .frames),
                      RXRingGeometry.smallFrameBlocks])
    func txRingFramesArriveIntactAndInOrderOnTheRXRing(geometry: RXRingGeometry) throws {
        let namespace = try VethNamespace()
        let (rx, tx) = try namespace.inside {
            let rx = try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"),
                etherType: experimentalEtherType, geometry: geometry))
            let tx = try PacketTXRing(configuration: PacketTXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0"),
                geometry: TXRingGeometry(blockSize: 65536, frameSize: 2048, frameCount: 256)))
            return (rx, tx)
        }
        // More frames than TX slots, so slots are reused after the kernel
        // hands them back; sizes from the Ethernet minimum to the MTU.
        let sent = (0..<1000).map { sequencedFrame(UInt32($0), size: 60 + ($0 * 37) % 1455) }
        for frame in sent {
            while !frame.withUnsafeBytes({ tx.enqueue($0) }) {
                try tx.flush()
                _ = try tx.waitForSpace(timeoutMilliseconds: 100)
            }
        }
        while case .wouldBlock = try tx.flush() { _ = try tx.waitForSpace(timeoutMilliseconds: 100) }

        // One block out at a time: a second one is refused until the first is back.
        #expect(try rx.waitForBlock(timeoutMilliseconds: 1000))
        guard var first = rx.nextBlock() else {
            Issue.record("no block after waitForBlock reported one")
            return
        }
        var secondRefused = true
        if let second = rx.nextBlock() {
            secondRefused = false
            rx.release(second)
        }
        #expect(secondRefused)
        var firstFrames: [[UInt8]] = []
        first.forEachFrame { firstFrames.append(Array($0.bytes)) }
        #expect(first.packetCount == firstFrames.count)
        rx.release(first)

        let received = firstFrames + (try receiveFrames(from: rx, count: sent.count - firstFrames.count))
        #expect(received.count == sent.count)
        #expect(received == sent)
        #expect(tx.wrongFormatFrames == 0)
        let statistics = try rx.statistics()
        #expect(statistics.packets == UInt64(sent.count))
        #expect(statistics.drops == 0)
        #expect(rx.malformedFrames == 0)
    }

    /// The latency difference between the layouts: a V3 block that is not
    /// full waits for its retire timeout (here 2 s), a V2 frame is handed
    /// over as soon as it is written.
    @Test func aLoneFrameIsHandedOverAtOnceOnlyByThePerFrameLayout() throws {
        let namespace = try VethNamespace()
        let slowBlocks = RXRingGeometry(blockSize: 1 << 20, blockCount: 2, frameSize: 2048,
                                        retireTimeoutMilliseconds: 2000)
        let (frames, blocks, sender) = try namespace.inside {
            let index = try NetworkNamespace.interfaceIndex(named: "v1")
            return (try PacketRXRing(configuration: PacketRXConfiguration(interfaceIndex: index,
                                                                          etherType: experimentalEtherType)),
                    try PacketRXRing(configuration: PacketRXConfiguration(interfaceIndex: index,
                                                                          etherType: experimentalEtherType,
                                                                          geometry: slowBlocks)),
                    try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")))
        }
        let lone = sequencedFrame(7, size: 100)
        try sender.send(lone)
        #expect(try frames.waitForBlock(timeoutMilliseconds: 1000))
        guard var batch = frames.nextBlock() else {
            Issue.record("the per-frame ring did not hand the frame over")
            return
        }
        var received: [[UInt8]] = []
        batch.forEachFrame { received.append(Array($0.bytes)) }
        let retired = batch.retiredByTimeout
        frames.release(batch)
        #expect(received == [lone])
        #expect(!retired)
        // The block ring holds the same frame in a block it has not retired.
        #expect(!(try blocks.waitForBlock(timeoutMilliseconds: 200)))
        #expect(try receiveFrames(from: blocks, count: 1, timeout: .seconds(4)) == [lone])
    }

    /// With PACKET_VNET_HDR on both rings a 30 KB TCP super-frame (GSO,
    /// partial checksum) crosses the veth whole: the TX slot's
    /// virtio_net_hdr reaches the RX ring's frame unchanged.
    @Test func aSuperFrameCrossesWholeWithItsOffloadMetadata() throws {
        let namespace = try VethNamespace()
        let (rx, tx) = try offloadRings(in: namespace)
        #expect(rx.receivesOffloads && tx.sendsOffloads)
        let superFrame = tcpOverIPv6(payloadLength: 30_000)
        let offload = PacketOffload(flags: PacketOffload.needsChecksumFlag, segmentationType: PacketOffload.tcpIPv6,
                                    headerLength: 74, segmentSize: 1400, checksumStart: 54, checksumOffset: 16)
        let plain = tcpOverIPv6(payloadLength: 100)
        guard let slot = tx.reserveSlot() else {
            Issue.record("no TX slot")
            return
        }
        superFrame.withUnsafeBytes { slot.buffer.copyMemory(from: $0) }
        let submitted = tx.submit(slot, length: superFrame.count, offload: offload)
        #expect(submitted)
        #expect(plain.withUnsafeBytes { tx.enqueue($0) })
        try tx.flush()

        var received: [([UInt8], PacketOffload)] = []
        let deadline = ContinuousClock.now + .seconds(3)
        while received.count < 2, ContinuousClock.now < deadline {
            _ = try rx.waitForBlock(timeoutMilliseconds: 50)
            while var batch = rx.nextBlock() {
                batch.forEachFrame { received.append((Array($0.bytes), $0.offload)) }
                rx.release(batch)
            }
        }
        #expect(received.count == 2)
        guard received.count == 2 else { return }
        #expect(received[0].0 == superFrame)
        #expect(received[0].1.isSuperFrame && received[0].1.needsChecksum)
        #expect(received[0].1.segmentSize == 1400)
        #expect(received[0].1.checksumStart == 54 && received[0].1.checksumOffset == 16)
        #expect(received[1].0 == plain)
        #expect(!received[1].1.isSuperFrame && !received[1].1.needsChecksum)
    }

    /// The standard RX ring has 2 KiB slots: a 60 KB super-frame reaches
    /// user space whole through the copy path (PACKET_COPY_THRESH and one
    /// recv()) with its virtio_net_hdr, and the small frames around the
    /// super-frames keep their order.
    @Test func superFramesLongerThanASlotArriveWholeAndInOrder() throws {
        let namespace = try VethNamespace()
        let (rx, tx) = try offloadRings(in: namespace)
        #expect(rx.geometry.frameSize == 2048 && rx.geometry.copiesLongFrames)
        let offload = PacketOffload(flags: PacketOffload.needsChecksumFlag, segmentationType: PacketOffload.tcpIPv6,
                                    headerLength: 74, segmentSize: 1400, checksumStart: 54, checksumOffset: 16)
        // small, super, small, small, super, ... : 3 super-frames of
        // different lengths between 7 small frames of different lengths.
        var sent: [([UInt8], Bool)] = []
        for round in 0..<3 {
            sent.append((tcpOverIPv6(payloadLength: 100 + round), false))
            sent.append((tcpOverIPv6(payloadLength: 60_000 - round * 1000), true))
            sent.append((tcpOverIPv6(payloadLength: 1400 - round), false))
        }
        sent.append((tcpOverIPv6(payloadLength: 7), false))
        for (frame, isSuper) in sent {
            guard let slot = tx.reserveSlot() else {
                Issue.record("no TX slot")
                return
            }
            frame.withUnsafeBytes { slot.buffer.copyMemory(from: $0) }
            let submitted = tx.submit(slot, length: frame.count, offload: isSuper ? offload : .none)
            #expect(submitted)
        }
        try tx.flush()

        var received: [([UInt8], PacketOffload)] = []
        let deadline = ContinuousClock.now + .seconds(3)
        while received.count < sent.count, ContinuousClock.now < deadline {
            _ = try rx.waitForBlock(timeoutMilliseconds: 50)
            while var batch = rx.nextBlock() {
                batch.forEachFrame { received.append((Array($0.bytes), $0.offload)) }
                rx.release(batch)
            }
        }
        #expect(received.count == sent.count)
        guard received.count == sent.count else { return }
        for ((frame, isSuper), (got, gotOffload)) in zip(sent, received) {
            #expect(got == frame)
            #expect(gotOffload.isSuperFrame == isSuper)
            if isSuper {
                #expect(gotOffload.segmentSize == 1400 && gotOffload.needsChecksum)
                #expect(gotOffload.checksumStart == 54 && gotOffload.checksumOffset == 16)
            }
        }
        #expect(rx.copiedFrames == 3)
        #expect(rx.lostCopies == 0)
    }

    /// Small slots make a deep ring: 4096 small frames sent while nobody
    /// reads the ring are all held, none dropped.
    @Test func theStandardRingHolds4096SmallFrames() throws {
        let namespace = try VethNamespace()
        let (rx, sender) = try namespace.inside {
            (try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"),
                etherType: experimentalEtherType, receivesOffloads: true)),
             try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")))
        }
        #expect(rx.geometry.frameCount >= 4096)
        let sent = (0..<4096).map { sequencedFrame(UInt32($0), size: 126) }
        for (index, frame) in sent.enumerated() {
            try sender.send(frame)
            // Let the receiving side's backlog (netdev_max_backlog) drain
            // into the ring; the ring itself is not read until the end.
            if index % 256 == 255 { usleep(2000) }
        }
        let statistics = try rx.statistics()
        #expect(statistics.drops == 0)
        let received = try receiveFrames(from: rx, count: sent.count)
        #expect(received == sent)
    }

    /// The kernel makes whole blocks of slots (40 requested, 64 made) and
    /// sends them in ring order: the ring must wrap where the kernel does,
    /// or every frame after the first lap waits forever.
    @Test func aTXRingOfPartBlocksKeepsSendingAfterItWraps() throws {
        let namespace = try VethNamespace()
        let geometry = TXRingGeometry(blockSize: 65536, frameSize: 2048, frameCount: 40)
        #expect(geometry.slotCount == 64)
        let (rx, tx) = try namespace.inside {
            (try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"), etherType: experimentalEtherType)),
             try PacketTXRing(configuration: PacketTXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0"), geometry: geometry)))
        }
        let sent = (0..<200).map { sequencedFrame(UInt32($0), size: 100) }
        var received: [[UInt8]] = []
        for frame in sent {
            while !frame.withUnsafeBytes({ tx.enqueue($0) }) {
                try tx.flush()
                _ = try tx.waitForSpace(timeoutMilliseconds: 100)
            }
            if tx.pendingFrames == 16 {
                try tx.flush()
                received += try receiveFrames(from: rx, count: 16, timeout: .seconds(2))
            }
        }
        try tx.flush()
        received += try receiveFrames(from: rx, count: sent.count - received.count, timeout: .seconds(2))
        #expect(received == sent)
    }

    @Test func aFrameTheDeviceRefusesDoesNotStopTheOthers() throws {
        let namespace = try VethNamespace()
        let (rx, tx) = try namespace.inside {
            (try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"), etherType: experimentalEtherType)),
             try PacketTXRing(configuration: PacketTXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0"),
                geometry: TXRingGeometry(blockSize: 16384, frameSize: 4096, frameCount: 16))))
        }
        // 1600 bytes exceed the 1500-byte MTU (plus Ethernet header): the
        // device refuses it, and the frame behind it must still go out.
        let frames = [sequencedFrame(1, size: 100), sequencedFrame(2, size: 1600), sequencedFrame(3, size: 100)]
        for frame in frames { #expect(frame.withUnsafeBytes { tx.enqueue($0) }) }
        var flushed = false
        if case .done = try tx.flush() { flushed = true }
        #expect(flushed)
        #expect(try receiveFrames(from: rx, count: 2) == [frames[0], frames[2]])
        #expect(tx.pendingFrames == 0)
        // Every slot, the refused one included, is free again.
        let deadline = ContinuousClock.now + .seconds(2)
        while !tx.isDrained, ContinuousClock.now < deadline { _ = try tx.waitForSpace(timeoutMilliseconds: 10) }
        #expect(tx.isDrained)
    }

    @Test func overrunningTheRingCountsDrops() throws {
        let namespace = try VethNamespace()
        // Two one-page blocks hold a handful of 1000-byte frames.
        let tiny = RXRingGeometry(blockSize: 4096, blockCount: 2, frameSize: 2048, retireTimeoutMilliseconds: 1)
        let (rx, sender) = try namespace.inside {
            (try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"),
                etherType: experimentalEtherType, geometry: tiny)),
             try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")))
        }
        let sent = (0..<200).map { sequencedFrame(UInt32($0), size: 1000) }
        for frame in sent { try sender.send(frame) }

        let received = try receiveFrames(from: rx, count: sent.count, timeout: .milliseconds(500))
        let statistics = try rx.statistics()
        #expect(statistics.packets == UInt64(sent.count))
        #expect(statistics.drops > 0)
        #expect(statistics.freezeQueueCount > 0)
        #expect(statistics.delivered == UInt64(received.count))
        // What did get in is intact and in order: a subsequence of `sent`.
        var cursor = sent.startIndex
        for frame in received {
            guard let match = sent[cursor...].firstIndex(of: frame) else {
                Issue.record("received a frame that was not sent, or out of order")
                break
            }
            cursor = match + 1
        }
        // The ring recovers: once drained, new frames are received again.
        try sender.send(sequencedFrame(9999, size: 100))
        #expect(try receiveFrames(from: rx, count: 1) == [sequencedFrame(9999, size: 100)])
    }

    @Test func fanoutSpreadsFlowsAndKeepsEachFlowOnOneMember() throws {
        let namespace = try VethNamespace()
        let group = FanoutGroup(id: UInt16(truncatingIfNeeded: getpid()), mode: .hash)
        let (members, sender) = try namespace.inside {
            let index = try NetworkNamespace.interfaceIndex(named: "v1")
            let members = try (0..<2).map { _ in
                try PacketRXRing(configuration: PacketRXConfiguration(
                    interfaceIndex: index, etherType: 0x86dd, fanout: group))
            }
            return (members, try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")))
        }
        let flows = 32
        let perFlow = 8
        for round in 0..<perFlow {
            for flow in 0..<flows { try sender.send(udpOverIPv6(flow: UInt8(flow), sequence: UInt8(round))) }
        }
        var seen: [[UInt8]] = []
        var memberOfFlow: [UInt8: Int] = [:]
        var consistent = true
        for (memberIndex, ring) in members.enumerated() {
            let frames = try receiveFrames(from: ring, count: flows * perFlow, timeout: .milliseconds(400))
            for frame in frames {
                let flow = frame[14 + 23]  // last byte of the source address
                if let previous = memberOfFlow.updateValue(memberIndex, forKey: flow), previous != memberIndex {
                    consistent = false
                }
            }
            seen += frames
        }
        #expect(seen.count == flows * perFlow)
        #expect(consistent)
        #expect(Set(memberOfFlow.values).count == 2)
    }

    /// A fanout group registers its own packet hook: without
    /// PACKET_FANOUT_FLAG_IGNORE_OUTGOING its members would receive every
    /// frame the host sends on the interface, although each set
    /// PACKET_IGNORE_OUTGOING (the kernel's own signalling on a wire under
    /// classifier steering came back as `not-for-host` drops).
    @Test func fanoutMembersIgnoreOutgoingFrames() throws {
        let namespace = try VethNamespace(ipv6: true)
        let group = FanoutGroup(id: UInt16(truncatingIfNeeded: getpid() &+ 7), mode: .hash)
        let (members, receiver) = try namespace.inside {
            let members = try (0..<2).map { _ in
                // Every EtherType, as a wire port binds: only such taps see
                // outgoing frames at all.
                try PacketRXRing(configuration: PacketRXConfiguration(
                    interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0"), fanout: group))
            }
            let receiver = try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"), etherType: 0x86dd))
            return (members, receiver)
        }
        // The host's own stack sends (a packet socket's frames bypass the
        // taps), unicast (multicast would also loop back in as received).
        _ = try namespace.exec(["ip", "addr", "add", "2001:db8:77::1/64", "dev", "v0", "nodad"])
        // A neighbour that is not local (both ends share the namespace).
        _ = try namespace.exec(["ip", "neigh", "add", "2001:db8:77::9", "lladdr", "02:00:00:00:00:09", "dev", "v0",
                                "nud", "permanent"])
        _ = try namespace.exec(["python3", "-c", """
            import socket
            s = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
            s.bind(("2001:db8:77::1", 0))
            for _ in range(16): s.sendto(b"x", ("2001:db8:77::9", 9))
            """])
        // Only the datagrams count: both stacks also send MLD and ND.
        func datagrams(_ frames: [[UInt8]]) -> Int {
            frames.filter { $0.count >= 58 && $0[20] == 17 && $0[56] == 0 && $0[57] == 9 }.count
        }
        // They left: the other end has them all; the members saw none.
        let arrived = datagrams(try receiveFrames(from: receiver, count: 1000, timeout: .milliseconds(400)))
        #expect(arrived == 16, "\(arrived) datagrams arrived")
        for member in members {
            let seen = datagrams(try receiveFrames(from: member, count: 1000, timeout: .milliseconds(100)))
            #expect(seen == 0, "a member saw \(seen) outgoing datagrams")
        }
    }

    @Test func missingInterfaceIsATypedError() throws {
        let namespace = try VethNamespace()
        #expect(throws: SyscallError(step: .interfaceIndex, errno: 19)) {
            try namespace.inside { try NetworkNamespace.interfaceIndex(named: "nosuch0") }
        }
        #expect(throws: PacketRingError.system(SyscallError(step: .bind, errno: 19))) {
            try namespace.inside {
                try PacketRXRing(configuration: PacketRXConfiguration(interfaceIndex: 99999))
            }
        }
    }
}

/// Standard IPv6 rings with PACKET_VNET_HDR: RX on v1, TX on v0.
func offloadRings(in namespace: VethNamespace) throws -> (PacketRXRing, PacketTXRing) {
    try namespace.inside {
        (try PacketRXRing(configuration: PacketRXConfiguration(
            interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v1"), etherType: 0x86dd,
            receivesOffloads: true)),
         try PacketTXRing(configuration: PacketTXConfiguration(
            interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0"), sendsOffloads: true)))
    }
}

/// An IPv6/UDP frame from 2001:db8::<flow> to 2001:db8::ffff, so each flow
/// hashes on its own 5-tuple.
func udpOverIPv6(flow: UInt8, sequence: UInt8) -> [UInt8] {
    let payload: [UInt8] = [flow, sequence, 0x68, 0x6c]
    var packet: [UInt8] = [0x60, 0, 0, 0, 0, UInt8(8 + payload.count), 17, 64]
    packet += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [flow]
    packet += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 10) + [0xff, 0xff]
    packet += [0x30, 0x39, 0x00, 0x35, 0, UInt8(8 + payload.count), 0, 0] + payload
    return ethernetFrame(etherType: 0x86dd, payload: packet)
}

/// A TCP/IPv6 frame (ACK, no options) with `payloadLength` bytes of
/// payload between two documentation addresses.
func tcpOverIPv6(payloadLength: Int) -> [UInt8] {
    var ipv6: [UInt8] = [0x60, 0, 0, 0, UInt8((20 + payloadLength) >> 8), UInt8((20 + payloadLength) & 0xFF), 6, 64]
    ipv6 += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    ipv6 += [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]
    let tcp: [UInt8] = [0x9c, 0x40, 0x14, 0x51, 0, 0, 3, 0xe8, 0, 0, 0, 5, 0x50, 0x10, 0x02, 0, 0, 0, 0, 0]
    let payload = (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0) }
    return ethernetFrame(etherType: 0x86dd, payload: ipv6 + tcp + payload)
}
