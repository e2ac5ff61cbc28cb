import Testing
import HomelessCore
import HomelessWire

@Suite struct MobilityInitiationTests {
    typealias F = MobilityFixture

    func classify(_ bytes: [UInt8], hasEntry: Bool = false) throws -> OutboundInitiation {
        let packet = try F.parse(bytes)
        let flags = bytes.withUnsafeBytes { OutboundInitiation.tcpFlags(of: packet, in: $0) }
        return OutboundInitiation.classify(packet, tcpFlags: flags, hasEntry: hasEntry)
    }

    @Test func anOpeningSynCreatesTheEntryWithTheConnectionAddressesAsULIDs() throws {
        let syn = F.packet(source: F.linkA, destination: F.peer, nextHeader: .tcp, payload: F.tcp(flags: TCPHeaderView.flagSYN))
        #expect(try classify(syn) == .createEntry(local: F.linkA, peer: F.peer))
    }

    @Test func respondingOrContinuingTCPNeverCreates() throws {
        for flags in [TCPHeaderView.flagSYN | TCPHeaderView.flagACK, TCPHeaderView.flagACK, TCPHeaderView.flagRST,
                      TCPHeaderView.flagSYN | TCPHeaderView.flagRST] {
            let segment = F.packet(source: F.linkA, destination: F.peer, nextHeader: .tcp, payload: F.tcp(flags: flags))
            #expect(try classify(segment) == .none(.tcpNotOpening))
        }
    }

    @Test func theFirstUDPDatagramToAPeerWithoutEntryCreates() throws {
        let datagram = F.packet(source: F.linkA, destination: F.peer, nextHeader: .udp,
                                payload: [0x13, 0x88, 0x13, 0x89, 0x00, 0x0A, 0x00, 0x00, 0xAB, 0xCD])
        #expect(try classify(datagram) == .createEntry(local: F.linkA, peer: F.peer))
        #expect(try classify(datagram, hasEntry: true) == .none(.entryExists))
    }

    @Test func controlTrafficAndMulticastBypassTheHostCache() throws {
        let echo = F.packet(source: F.linkA, destination: F.peer, nextHeader: .icmpv6, payload: [128, 0, 0, 0, 0, 1, 0, 1])
        #expect(try classify(echo) == .none(.controlProtocol))
        let multicast = F.packet(source: F.linkA, destination: F.address("ff02::1"), nextHeader: .udp,
                                 payload: [0, 1, 0, 2, 0, 8, 0, 0])
        #expect(try classify(multicast) == .none(.notUnicast))
        let noNext = F.packet(source: F.linkA, destination: F.peer, nextHeader: .noNextHeader, payload: [])
        #expect(try classify(noNext) == .none(.unclassifiable))
    }
}
