import HomelessSystem
import Synchronization
import Testing

/// Worker threads running the ring loop on a two-worker wire port.
@Suite(.enabled(if: runningAsRoot, "wire ports need root"))
struct WorkerLoopTests {
    typealias F = ClassifierFrames

    @Test func workersEchoEveryEngineFrameAndStopOnRequest() throws {
        let namespace = try VethNamespace()
        let port = try namespace.inside {
            try WirePort(configuration: WirePortConfiguration(interfaceName: "v1", workers: 2))
        }
        let foreign = F.address(0x99)
        try port.classifier.addLocator(try #require(LocatorAddress(bytes: foreign)), to: .foreign)
        let (sender, echoes) = try namespace.inside {
            let v0 = try NetworkNamespace.interfaceIndex(named: "v0")
            return (try RawPacketSocket(interfaceIndex: v0),
                    try PacketRXRing(configuration: PacketRXConfiguration(interfaceIndex: v0, etherType: 0x86dd)))
        }

        let stop = StopSignal()
        let results = Mutex<[WorkerLoopCounters]>([])
        let threads = try port.takeWorkerRings().enumerated().map { index, rings in
            try WorkerThread.start(name: "hl-test-w\(index)") {
                // Echo: swap the MAC addresses and send the frame back out.
                let counters = try? rings.run(until: stop, idleTimeoutMilliseconds: 5) { frame, transmit in
                    guard frame.bytes.count >= 14, let slot = transmit.reserveSlot() else { return }
                    guard frame.bytes.count <= slot.buffer.count else {
                        transmit.abandon(slot)
                        return
                    }
                    slot.buffer.copyMemory(from: frame.bytes)
                    for offset in 0..<6 {
                        slot.buffer[offset] = frame.bytes[6 + offset]
                        slot.buffer[6 + offset] = frame.bytes[offset]
                    }
                    transmit.submit(slot, length: frame.bytes.count)
                }
                results.withLock { $0.append(counters ?? WorkerLoopCounters()) }
            }
        }

        let flows = 64
        var expected: Set<[UInt8]> = []
        for flow in 0..<flows {
            let frame = F.ethernet(destination: [0x02, 0, 0, 0, 0, 0x01], source: [0x02, 0, 0, 0, 0, 0x02], payload: F.ipv6(
                source: foreign, destination: F.address(1), nextHeader: F.udp,
                payload: F.udpDatagram(sourcePort: UInt16(30000 + flow), destinationPort: 7)))
            var echoed = frame
            echoed.replaceSubrange(0..<12, with: frame[6..<12] + frame[0..<6])
            expected.insert(echoed)
            try sender.send(frame)
            // Plain traffic the workers must never see.
            try sender.send(F.ethernet(destination: [0x02, 0, 0, 0, 0, 0x01], payload: F.ipv6(
                source: F.address(0x42), destination: F.address(1), nextHeader: F.udp,
                payload: F.udpDatagram(sourcePort: UInt16(30000 + flow), destinationPort: 7))))
        }
        let received = try receiveFrames(from: echoes, count: flows)
        stop.raise()
        for thread in threads { thread.join() }

        #expect(Set(received) == expected)
        let counters = results.withLock { $0 }
        #expect(counters.count == 2)
        #expect(counters.reduce(0) { $0 + $1.frames } == UInt64(flows))
        #expect(counters.allSatisfy { $0.frames > 0 })
        try port.close()
    }

    @Test func threadsCanBePinnedAndCounted() throws {
        let cpus = try WorkerThread.availableCPUs()
        #expect(cpus >= 1)
        let pinned = Mutex<Bool?>(nil)
        let thread = try WorkerThread.start(name: "hl-test-pin") {
            let ok = (try? WorkerThread.pinCurrentThread(toCPU: 0)) != nil
            pinned.withLock { $0 = ok }
        }
        thread.join()
        thread.join()
        #expect(pinned.withLock { $0 } == true)
        #expect(throws: SyscallError(step: .threadAffinity, errno: 22)) {
            try WorkerThread.pinCurrentThread(toCPU: -1)
        }
    }
}
