import Testing
@testable import HomelessEngine
import HomelessCore
import HomelessWire

/// Binding Updates riding on data packets (draft 2.1.2, 2.2.1): the
/// offer, the packet the slow path builds from a data frame a worker
/// handed over, and the receiving engine taking the updates off again.
@Suite struct PiggybackTests {
    typealias Node = MobilityControllerTests.Node
    static let kernelMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x01], routerMAC: [UInt8] = [0x02, 0, 0, 0, 0, 0x09]

    static func udpFrame(from source: IPv6Address, to destination: IPv6Address) -> [UInt8] {
        var frame = TranslationTests.frame(source: source, destination: destination, protocol: .udp,
                                           upper: TranslationTests.udp(payload: Array(0..<32)))
        frame.replaceSubrange(0..<6, with: routerMAC)
        frame.replaceSubrange(6..<12, with: kernelMAC)
        return frame
    }

    @Test func aNewAddressRidesOnTheNextDataPacketAndTheReceiverDeliversTheDataWithout() throws {
        let mn = try Node(local: MobilityControllerTests.mnOld), cn = try Node(local: MobilityControllerTests.cn)
        _ = try MobilityControllerTests().handshake(mn, cn)
        mn.clock.advance(seconds: 1)
        // mn gains an address and keeps its registered one: an offer, no
        // standalone Binding Update.
        #expect(mn.controller.localAddressAdded(MobilityControllerTests.mnNew, now: mn.now).isEmpty)
        let offered = try #require(mn.controller.translations().first)
        #expect(offered.isPiggybackPending)

        // A worker hands over the next small data packet to cn.
        let data = Self.udpFrame(from: MobilityControllerTests.mnOld, to: MobilityControllerTests.cn)
        let sent = data.withUnsafeBytes {
            mn.controller.outboundFrame($0, wire: 0, records: mn.controller.translations(), now: mn.now)
        }
        #expect(sent.offerTaken)
        let piggybacked = try #require(sent.frames.first)
        #expect(piggybacked.port == .kernelRouted)
        let packet = try TranslationTests.parse(piggybacked.received)
        #expect(packet.authenticationHeaderOffset == 14 + 40)
        #expect(packet.mobilityOptions.bindingUpdateHeader != nil)
        #expect(packet.upperLayerProtocol == .udp)
        #expect(mn.controller.statistics.bindingUpdatesPiggybacked == 1)
        #expect(mn.controller.translations().first?.isPiggybackPending == false)

        // cn verifies AH, registers mn's new address, acknowledges, and
        // passes the datagram up without AH and options, checksum exact.
        let result = piggybacked.received.withUnsafeBytes { cn.controller.handleInbound($0, now: cn.now) }
        #expect(result.drop == nil)
        #expect(!result.consumed)
        #expect(!result.frames.isEmpty, "the Binding Acknowledgement")
        let delivered = try #require(result.reinject)
        // The link header is the received frame's; from the EtherType on
        // the datagram is the one mn's kernel sent.
        #expect(delivered[12...] == data.withUnsafeBytes { bytes in
            var copy = Array(bytes)
            copy.withUnsafeMutableBytes { buffer in
                let parsed = try? ParsedPacket.parse(UnsafeRawBufferPointer(buffer))
                if let parsed { ForwardingWorker.completeChecksum(in: buffer, of: parsed) }
            }
            return copy
        }[12...])
        #expect(try TranslationTests.checksumIsExact(delivered, protocol: .udp))
        #expect(cn.entries().first?.liveAddresses.contains(MobilityControllerTests.mnNew) == true)
        #expect(cn.controller.statistics.piggybackedUpdatesReceived == 1)
    }

    @Test func withoutAnOfferTheFrameLeavesTranslatedAsItIs() throws {
        let mn = try Node(local: MobilityControllerTests.mnOld), cn = try Node(local: MobilityControllerTests.cn)
        _ = try MobilityControllerTests().handshake(mn, cn)
        let data = Self.udpFrame(from: MobilityControllerTests.mnOld, to: MobilityControllerTests.cn)
        let records = mn.controller.translations()
        let sent = data.withUnsafeBytes { mn.controller.outboundFrame($0, wire: 0, records: records, now: mn.now) }
        #expect(sent.frames.count == 1)
        #expect(!sent.offerTaken)
        #expect(sent.frames.first?.port == .wire)
        #expect(try TranslationTests.checksumIsExact(try #require(sent.frames.first?.bytes), protocol: .udp))
        // A frame of no peer is ignored.
        let stranger = Self.udpFrame(from: MobilityControllerTests.mnOld, to: TranslationTests.address("2001:db8:e::1"))
        #expect(stranger.withUnsafeBytes {
            mn.controller.outboundFrame($0, wire: 0, records: records, now: mn.now)
        }.frames.isEmpty)
    }
}
