import HomelessSystem
import Testing

/// A wire port with two workers: fanout, socket filter and tc ingress together.
@Suite(.enabled(if: runningAsRoot, "wire ports need root"))
struct WirePortTests {
    typealias F = ClassifierFrames

    @Test func twoWorkersShareTheEngineTrafficAndClosingCleansUp() throws {
        let namespace = try VethNamespace()
        let port = try namespace.inside {
            try WirePort(configuration: WirePortConfiguration(interfaceName: "v1", workers: 2))
        }
        #expect(port.fanoutGroupID != nil)
        #expect(!port.removedLeftover)
        #expect(port.isTakingFromKernel)
        #expect(try namespace.exec(["tc", "filter", "show", "dev", "v1", "ingress"]).contains("hl_classify_tc"))
        let workers = port.takeWorkerRings()
        #expect(workers.count == 2)
        #expect(port.takeWorkerRings().isEmpty)

        let foreign = F.address(0x99)
        try port.classifier.addLocator(try #require(LocatorAddress(bytes: foreign)), to: .foreign)
        let sender = try namespace.inside { try RawPacketSocket(interfaceIndex: try NetworkNamespace.interfaceIndex(named: "v0")) }
        let flows = 32
        var engineFrames: Set<[UInt8]> = []
        for flow in 0..<flows {
            let engine = F.ethernet(destination: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], payload: F.ipv6(
                source: foreign, destination: F.address(1), nextHeader: F.udp,
                payload: F.udpDatagram(sourcePort: UInt16(20000 + flow), destinationPort: 5001)))
            let plain = F.ethernet(destination: [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], payload: F.ipv6(
                source: F.address(0x42), destination: F.address(1), nextHeader: F.udp,
                payload: F.udpDatagram(sourcePort: UInt16(20000 + flow), destinationPort: 5001)))
            engineFrames.insert(engine)
            try sender.send(engine)
            try sender.send(plain)
        }
        var perWorker: [Int] = []
        var received: [[UInt8]] = []
        for worker in workers {
            let frames = try receiveFrames(from: worker.receive, count: flows, timeout: .milliseconds(400))
            perWorker.append(frames.count)
            received += frames
        }
        #expect(received.count == flows)
        #expect(Set(received) == engineFrames)
        #expect(perWorker.allSatisfy { $0 > 0 })
        let counts = try port.classifier.verdictCounts()
        // With fanout the filter runs once, on the member the frame is steered to.
        #expect(counts[.socketFilter, .engineForeignLocator] == UInt64(flows))
        #expect(counts[.tcIngress, .engineForeignLocator] == UInt64(flows))

        try port.close()
        #expect(!port.isTakingFromKernel)
        #expect(try namespace.exec(["tc", "filter", "show", "dev", "v1", "ingress"]).isEmpty)
        #expect(!(try namespace.exec(["tc", "qdisc", "show", "dev", "v1"]).contains("clsact")))
    }

    @Test func releasingThePortDetachesAndAReopenFindsNoLeftover() throws {
        let namespace = try VethNamespace()
        do {
            let port = try namespace.inside { try WirePort(configuration: WirePortConfiguration(interfaceName: "v1")) }
            #expect(port.fanoutGroupID == nil)
            #expect(port.isTakingFromKernel)
        }
        #expect(try namespace.exec(["tc", "filter", "show", "dev", "v1", "ingress"]).isEmpty)
        let reopened = try namespace.inside { try WirePort(configuration: WirePortConfiguration(interfaceName: "v1")) }
        #expect(!reopened.removedLeftover)
        try reopened.close()
    }

    @Test func unknownInterfaceIsReported() throws {
        let namespace = try VethNamespace()
        #expect(throws: PacketRingError.system(SyscallError(step: .interfaceIndex, errno: 19))) {
            try namespace.inside { try WirePort(configuration: WirePortConfiguration(interfaceName: "nosuch0")) }
        }
    }
}
