import Foundation
import HomelessEngine
import HomelessSystem
import HomelessWire
import Testing

/// `ForwardingWorker.handle(_:direction:)` on real rings: a veth pair in a
/// network namespace of the test's own, the worker's wire TX ring on one
/// end and its upper-port TX ring on the other, and a capture ring on each
/// end to see what really left.
@Suite(.enabled(if: geteuid() == 0, "AF_PACKET rings and network namespaces need root"))
struct ForwardingWorkerTests {
    static let wireAddress = EthernetAddress(0x02, 0x02, 0x02, 0x02, 0x02, 0x02)
    static let host = TranslationTests.address("2001:db8:1::100")
    static let peer = TranslationTests.address("2001:db8:9::9")
    static let record = TranslationRecord(
        localIdentifier: TranslationTests.address("2001:db8:a::10"),
        peerIdentifier: TranslationTests.address("2001:db8:c::20"),
        localLocator: TranslationTests.address("2001:db8:b::10"),
        peerLocator: TranslationTests.address("2001:db8:d::4:20"))

    /// The worker, and capture rings behind its two TX rings.
    final class Lab {
        let worker: ForwardingWorker
        let punt = PuntQueue(capacity: 8)
        /// What the worker sent out of the wire / up to the host's kernel.
        let sentToWire: PacketRXRing
        let sentUp: PacketRXRing

        let translations = TranslationTable(capacity: 4)

        /// `offloads`: every ring carries a virtio_net_hdr (PACKET_VNET_HDR)
        /// and the capture rings hold 64 KiB super-frames.
        init(offloads: Bool = false) throws {
            let translations = self.translations
            translations.publish(ForwardingWorkerTests.record)
            let opened = try NetworkNamespace.withNew { () throws -> (LaneRings, PacketRXRing, PacketRXRing) in
                let ip = SystemCommand("ip")
                _ = try SystemCommand("sysctl").check(["-qw", "net.ipv6.conf.default.disable_ipv6=1"])
                _ = try ip.check(["link", "add", "fw-wire", "type", "veth", "peer", "name", "fw-router"])
                _ = try ip.check(["link", "add", "fw-upper", "type", "veth", "peer", "name", "fw-kernel"])
                for device in ["fw-wire", "fw-router", "fw-upper", "fw-kernel"] {
                    _ = try ip.check(["link", "set", device, "up"])
                }
                func index(_ name: String) throws -> Int32 { try NetworkNamespace.interfaceIndex(named: name) }
                let small = RXRingGeometry(blockSize: 64 * 1024, blockCount: 4, frameSize: 2048, retireTimeoutMilliseconds: 1)
                func receive(_ name: String) throws -> PacketRXRing {
                    try PacketRXRing(configuration: PacketRXConfiguration(interfaceIndex: try index(name), etherType: 0x86DD,
                                                                          geometry: offloads ? .standard : small,
                                                                          receivesOffloads: offloads))
                }
                func transmit(_ name: String) throws -> PacketTXRing {
                    try PacketTXRing(configuration: PacketTXConfiguration(interfaceIndex: try index(name),
                                                                          sendsOffloads: offloads))
                }
                let lane = LaneRings(wireReceive: try receive("lo"), wireTransmit: try transmit("fw-wire"),
                                     upperReceive: try receive("lo"), upperTransmit: try transmit("fw-upper"))
                return (lane, try receive("fw-router"), try receive("fw-kernel"))
            }
            sentToWire = opened.1
            sentUp = opened.2
            worker = ForwardingWorker(id: 0, wireIndex: 0, rings: opened.0, wireAddress: ForwardingWorkerTests.wireAddress,
                                      mtu: 1500, policy: WorkerPolicy(), punt: punt, translations: translations)
        }

        func handle(_ frame: [UInt8], direction: FrameDirection, status: UInt32 = 0, offload: PacketOffload = .none) {
            frame.withUnsafeBytes { bytes in
                worker.handle(RXFrame(bytes: bytes, wireLength: bytes.count, status: status, offload: offload),
                              direction: direction)
            }
            worker.flushTransmitRings()
        }

        /// The frames and their offload metadata that `ring` receives.
        func framesWithOffload(on ring: PacketRXRing, count: Int = 1,
                               timeout: Duration = .seconds(2)) throws -> [([UInt8], PacketOffload)] {
            var frames: [([UInt8], PacketOffload)] = []
            let deadline = ContinuousClock.now + timeout
            while frames.count < count, ContinuousClock.now < deadline {
                _ = try ring.waitForBlock(timeoutMilliseconds: 20)
                while var block = ring.nextBlock() {
                    block.forEachFrame { frame in frames.append((Array(frame.bytes), frame.offload)) }
                    ring.release(block)
                }
            }
            return frames
        }

        /// The frames `ring` receives within `timeout` (stops early at `count`).
        func frames(on ring: PacketRXRing, count: Int = 1, timeout: Duration = .seconds(2)) throws -> [[UInt8]] {
            var frames: [[UInt8]] = []
            let deadline = ContinuousClock.now + timeout
            while frames.count < count, ContinuousClock.now < deadline {
                _ = try ring.waitForBlock(timeoutMilliseconds: 20)
                while var block = ring.nextBlock() {
                    block.forEachFrame { frame in frames.append(Array(frame.bytes)) }
                    ring.release(block)
                }
            }
            return frames
        }
    }

    static func udpFrame(source: IPv6Address, destination: IPv6Address, destinationMAC: EthernetAddress,
                         ports: (source: UInt16, destination: UInt16) = (5000, 5001)) -> [UInt8] {
        var upper = TranslationTests.udp(payload: Array(0..<64))
        upper[0...3] = [UInt8(ports.source >> 8), UInt8(ports.source & 0xFF),
                        UInt8(ports.destination >> 8), UInt8(ports.destination & 0xFF)]
        var frame = TranslationTests.frame(source: source, destination: destination, protocol: .udp, upper: upper)
        frame.withUnsafeMutableBytes { destinationMAC.write(to: $0, at: 0) }
        return frame
    }

    static func addresses(_ frame: [UInt8]) -> (source: IPv6Address, destination: IPv6Address) {
        frame.withUnsafeBytes { (IPv6Address(bytes: $0, at: 22), IPv6Address(bytes: $0, at: 38)) }
    }

    @Test func outboundFramesLeaveOnTheWireUnchanged() throws {
        let lab = try Lab()
        let frame = Self.udpFrame(source: Self.host, destination: Self.peer, destinationMAC: .broadcast)
        lab.handle(frame, direction: .outbound)
        #expect(try lab.frames(on: lab.sentToWire) == [frame])
        #expect(lab.worker.counters[.outboundForwarded] == 1)
        #expect(lab.worker.counters[.translated] == 0)
        #expect(try lab.frames(on: lab.sentUp, timeout: .milliseconds(50)).isEmpty)
    }

    @Test func translatedPeersGoOutWithLocatorsAndComeInWithIdentifiers() throws {
        let lab = try Lab()
        let record = Self.record
        lab.handle(Self.udpFrame(source: record.localIdentifier, destination: record.peerIdentifier,
                                 destinationMAC: .broadcast), direction: .outbound)
        let out = try #require(try lab.frames(on: lab.sentToWire).first)
        #expect(Self.addresses(out).source == record.localLocator)
        #expect(Self.addresses(out).destination == record.peerLocator)
        #expect(try TranslationTests.checksumIsExact(out, protocol: .udp))

        // The reply of the same conversation (ports swapped).
        lab.handle(Self.udpFrame(source: record.peerLocator, destination: record.localLocator,
                                 destinationMAC: Self.wireAddress, ports: (5001, 5000)), direction: .inbound)
        let up = try #require(try lab.frames(on: lab.sentUp).first)
        #expect(Self.addresses(up).source == record.peerIdentifier)
        #expect(Self.addresses(up).destination == record.localIdentifier)
        #expect(try TranslationTests.checksumIsExact(up, protocol: .udp))
        #expect(lab.worker.counters[.translated] == 2)
        #expect(lab.worker.counters[.inboundForwarded] == 1)
    }

    static func tcpFrame(source: IPv6Address, destination: IPv6Address, destinationMAC: EthernetAddress,
                         ports: (source: UInt16, destination: UInt16), flags: UInt8) -> [UInt8] {
        var upper = TranslationTests.tcp(payload: [])
        upper[0...3] = [UInt8(ports.source >> 8), UInt8(ports.source & 0xFF),
                        UInt8(ports.destination >> 8), UInt8(ports.destination & 0xFF)]
        upper[13] = flags
        var frame = TranslationTests.frame(source: source, destination: destination, protocol: .tcp, upper: upper)
        frame.withUnsafeMutableBytes { destinationMAC.write(to: $0, at: 0) }
        return frame
    }

    /// After a move the wire addresses of a new conversation (opened by a
    /// kernel from the new address itself) equal those of the translated
    /// old one; only the old one's packets are rewritten to the ULIDs.
    @Test func conversationsTheKernelsOpenedBetweenTheLocatorsAreNotTranslated() throws {
        let lab = try Lab()
        let record = Self.record
        let syn: UInt8 = 0x02, ack: UInt8 = 0x10
        // The old conversation, sent under the identifiers (marked).
        lab.handle(Self.tcpFrame(source: record.localIdentifier, destination: record.peerIdentifier,
                                 destinationMAC: .broadcast, ports: (40000, 5201), flags: ack), direction: .outbound)
        _ = try lab.frames(on: lab.sentToWire)
        // The peer's kernel opens a new conversation to our locator: its
        // SYN and what follows pass with the wire's addresses.
        for flags in [syn, ack] {
            let fresh = Self.tcpFrame(source: record.peerLocator, destination: record.localLocator,
                                      destinationMAC: Self.wireAddress, ports: (5201, 40001), flags: flags)
            lab.handle(fresh, direction: .inbound)
            let up = try #require(try lab.frames(on: lab.sentUp).first)
            #expect(Self.addresses(up) == Self.addresses(fresh))
        }
        // Our kernel opens one from our locator: the replies pass too.
        lab.handle(Self.udpFrame(source: record.localLocator, destination: record.peerIdentifier,
                                 destinationMAC: .broadcast, ports: (40002, 53)), direction: .outbound)
        let native = try #require(try lab.frames(on: lab.sentToWire).first)
        #expect(Self.addresses(native).source == record.localLocator)
        let reply = Self.udpFrame(source: record.peerLocator, destination: record.localLocator,
                                  destinationMAC: Self.wireAddress, ports: (53, 40002))
        lab.handle(reply, direction: .inbound)
        #expect(Self.addresses(try #require(try lab.frames(on: lab.sentUp).first)) == Self.addresses(reply))
        #expect(lab.worker.counters[.newFlowsNotTranslated] == 3)
        // The old conversation's packets are still rewritten, and so is an
        // unmarked flow that is not a new TCP connection (a conversation
        // idle since before the record existed).
        for (ports, flags) in [((UInt16(5201), UInt16(40000)), ack), ((UInt16(5201), UInt16(40009)), ack)] {
            lab.handle(Self.tcpFrame(source: record.peerLocator, destination: record.localLocator,
                                     destinationMAC: Self.wireAddress, ports: ports, flags: flags), direction: .inbound)
            let old = try #require(try lab.frames(on: lab.sentUp).first)
            #expect(Self.addresses(old).source == record.peerIdentifier)
            #expect(Self.addresses(old).destination == record.localIdentifier)
            #expect(try TranslationTests.checksumIsExact(old, protocol: .tcp))
        }
        #expect(lab.worker.counters[.newFlowsNotTranslated] == 3)
    }

    /// Draft 2.2: every address of the peer's entry expired. The frame is
    /// not sent; a copy goes to the slow path (outbound, not a note),
    /// which answers the sender with ICMPv6 address unreachable.
    @Test func framesToAnUnreachablePeerArePuntedForAnAnswerNotSent() throws {
        let lab = try Lab()
        var record = Self.record
        record.isPeerUnreachable = true
        lab.translations.publish(record)
        let frame = Self.udpFrame(source: record.localIdentifier, destination: record.peerIdentifier, destinationMAC: .broadcast)
        lab.handle(frame, direction: .outbound)
        #expect(try lab.frames(on: lab.sentToWire, timeout: .milliseconds(50)).isEmpty)
        #expect(lab.worker.counters[DropReason(.peerUnreachable)] == 1)
        var punted: (bytes: [UInt8], tag: UInt32)?
        #expect(lab.punt.pop { bytes, tag in punted = (Array(bytes), tag) })
        #expect(punted?.bytes == frame)
        // Outbound (bit 0), not a note (bit 1 clear), wire 0.
        #expect(punted?.tag == FrameDirection.outbound.rawValue)
        // Reachable again: sent, translated.
        record.isPeerUnreachable = false
        lab.translations.publish(record)
        lab.handle(frame, direction: .outbound)
        #expect(try lab.frames(on: lab.sentToWire).count == 1)
    }

    /// Binding Updates wait for a data packet (2.2.1): a small frame to
    /// the peer goes to the slow path (which sends it with them), a
    /// full-size one leaves as usual.
    @Test func smallFramesCarryOfferedBindingUpdatesBigOnesDoNot() throws {
        let lab = try Lab()
        var record = Self.record
        record.isPiggybackPending = true
        lab.translations.publish(record)
        let small = Self.udpFrame(source: record.localIdentifier, destination: record.peerIdentifier, destinationMAC: .broadcast)
        lab.handle(small, direction: .outbound)
        #expect(try lab.frames(on: lab.sentToWire, timeout: .milliseconds(50)).isEmpty)
        #expect(lab.worker.counters[.punted] == 1)
        var punted: [UInt8]?
        while lab.punt.pop({ bytes, tag in if tag & 2 == 0 { punted = Array(bytes) } }) {}
        #expect(punted == small)
        var big = TranslationTests.frame(source: record.localIdentifier, destination: record.peerIdentifier, protocol: .udp,
                                         upper: TranslationTests.udp(payload: [UInt8](repeating: 7, count: 1400)))
        big.withUnsafeMutableBytes { EthernetAddress.broadcast.write(to: $0, at: 0) }
        lab.handle(big, direction: .outbound)
        let out = try #require(try lab.frames(on: lab.sentToWire).first)
        #expect(Self.addresses(out).source == record.localLocator)
        #expect(lab.worker.counters[.punted] == 1)
    }

    @Test func inboundFramesForAnotherStationAreDropped() throws {
        let lab = try Lab()
        let frame = Self.udpFrame(source: Self.peer, destination: Self.host,
                                  destinationMAC: EthernetAddress(0x02, 0, 0, 0, 0, 0x77))
        lab.handle(frame, direction: .inbound)
        #expect(lab.worker.counters[DropReason(.notForHost)] == 1)
        #expect(lab.worker.counters[.inboundForwarded] == 0)
        #expect(try lab.frames(on: lab.sentUp, timeout: .milliseconds(100)).isEmpty)
    }

    @Test func aSynIsForwardedAndNotedForTheSlowPath() throws {
        let lab = try Lab()
        var segment = TranslationTests.tcp(payload: [])
        segment[13] = 0x02
        let syn = TranslationTests.frame(source: Self.host, destination: Self.peer, protocol: .tcp, upper: segment)
        lab.handle(syn, direction: .outbound)
        #expect(try lab.frames(on: lab.sentToWire) == [syn])
        var noted: [UInt8] = []
        var tag: UInt32 = 0
        #expect(lab.punt.pop { bytes, frameTag in noted = Array(bytes); tag = frameTag })
        #expect(noted == syn)
        #expect(tag & 0b11 == 0b11, "a note (bit 1) of an outbound frame (bit 0)")
        #expect(lab.worker.counters[.outboundForwarded] == 1)
    }

    @Test func aPendingChecksumIsCompletedInTheCopy() throws {
        let lab = try Lab()
        let frame = Self.udpFrame(source: Self.host, destination: Self.peer, destinationMAC: .broadcast)
        var partial = frame
        partial[54 + 6] = 0x12
        partial[54 + 7] = 0x34
        lab.handle(partial, direction: .outbound, status: RXFrame.checksumNotReadyStatus)
        #expect(try lab.frames(on: lab.sentToWire) == [frame])
        #expect(lab.worker.counters[.checksumsCompleted] == 1)
    }

    /// A TCP super-frame of the translated peer with `payloadLength` bytes.
    static func tcpSuperFrame(payloadLength: Int, flags: UInt8) -> [UInt8] {
        var upper = TranslationTests.tcp(payload: (0..<payloadLength).map { UInt8(truncatingIfNeeded: $0 * 7) })
        upper[13] = flags
        return TranslationTests.frame(source: record.localIdentifier, destination: record.peerIdentifier,
                                      protocol: .tcp, upper: upper)
    }

    /// A TX ring without offload metadata cannot take a super-frame: the
    /// worker cuts it into MTU-size segments the way TSO would (RFC 9293
    /// 3.7), each translated with a complete checksum.
    @Test func aSuperFrameIsCutIntoExactSegmentsWhereTheRingTakesNoOffloads() throws {
        let lab = try Lab()
        let fin: UInt8 = 0x01, psh: UInt8 = 0x08, ack: UInt8 = 0x10, cwr: UInt8 = 0x80
        let frame = Self.tcpSuperFrame(payloadLength: 5000, flags: fin | psh | ack | cwr)
        lab.handle(frame, direction: .outbound, status: RXFrame.checksumNotReadyStatus)
        let segments = try lab.frames(on: lab.sentToWire, count: 4)
        // 1514 - 14 - 40 - 20 = 1440 payload bytes per segment.
        #expect(segments.map(\.count) == [1514, 1514, 1514, 74 + 5000 - 3 * 1440])
        #expect(lab.worker.counters[.superFramesSegmented] == 1)
        #expect(lab.worker.counters[.segmentsCut] == 4)
        var payload: [UInt8] = []
        for (index, segment) in segments.enumerated() {
            #expect(Self.addresses(segment).source == Self.record.localLocator)
            #expect(Self.addresses(segment).destination == Self.record.peerLocator)
            #expect(try TranslationTests.checksumIsExact(segment, protocol: .tcp))
            let sequence = UInt32(segment[58]) << 24 | UInt32(segment[59]) << 16 | UInt32(segment[60]) << 8 | UInt32(segment[61])
            #expect(sequence == 0x1200_0034 &+ UInt32(index * 1440))
            let flags = segment[54 + 13]
            #expect(flags & ack != 0)
            #expect((flags & (fin | psh) != 0) == (index == 3))
            #expect((flags & cwr != 0) == (index == 0))
            payload += segment[74...]
        }
        #expect(payload == Array(frame[74...]))
    }

    /// With offload metadata on the rings the same super-frame leaves in
    /// one slot, translated, its partial checksum updated as a partial one
    /// and its virtio_net_hdr passed on: completing it as the kernel does
    /// gives the exact checksum.
    @Test func aSuperFrameLeavesWholeWithItsOffloadMetadata() throws {
        let lab = try Lab(offloads: true)
        var frame = Self.tcpSuperFrame(payloadLength: 30_000, flags: 0x18)
        let pseudo = InternetChecksum.fold(InternetChecksum.pseudoHeaderSum(
            source: Self.record.localIdentifier, destination: Self.record.peerIdentifier,
            upperLayerLength: UInt32(frame.count - 54), nextHeader: .tcp))
        frame[70] = UInt8(pseudo >> 8)
        frame[71] = UInt8(pseudo & 0xFF)
        let offload = PacketOffload(flags: PacketOffload.needsChecksumFlag, segmentationType: PacketOffload.tcpIPv6,
                                    headerLength: 74, segmentSize: 1440, checksumStart: 54, checksumOffset: 16)
        lab.handle(frame, direction: .outbound, status: RXFrame.checksumNotReadyStatus, offload: offload)
        let sent = try lab.framesWithOffload(on: lab.sentToWire)
        #expect(sent.count == 1)
        guard let first = sent.first else { return }
        var out = first.0
        let carried = first.1
        #expect(out.count == frame.count)
        #expect(carried.isSuperFrame && carried.needsChecksum && carried.segmentSize == 1440)
        #expect(carried.checksumStart == 54 && carried.checksumOffset == 16)
        #expect(Self.addresses(out).source == Self.record.localLocator)
        #expect(Self.addresses(out).destination == Self.record.peerLocator)
        PartialChecksumTests.completeLikeTheKernel(&out, start: 54, field: 70)
        #expect(try TranslationTests.checksumIsExact(out, protocol: .tcp))
        #expect(lab.worker.counters[.superFramesPassed] == 1)
        #expect(lab.worker.counters[.partialChecksumsPassed] == 1)
        #expect(lab.worker.counters[.checksumsCompleted] == 0)
        #expect(lab.worker.counters[.superFramesSegmented] == 0)
    }
}
