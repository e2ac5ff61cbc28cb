#if canImport(Glibc)
import Glibc
#endif
import Benchmark
import HomelessEngine
import HomelessSystem
import HomelessWire

// The fast path's cost per forwarded frame: `ForwardingWorker.handle`, the
// function the worker loop runs for every frame of a received block
// (parse, checks, punt or conversation note, translation lookup, copy into
// a TX ring slot, checksum completion or RFC 1624 address rewrite, submit),
// on real TPACKET_V2 TX rings in a private network namespace
// (`ForwardingFixture`). Every benchmark counts mallocs: the target is none
// per forwarded frame. Results: docs/PERFORMANCE.md.
//
// Each measured iteration hands the worker `framesPerIteration` frames,
// laid out one after another as a TPACKET_V3 block holds them; divide the
// per-iteration time by it for nanoseconds per frame. Between iterations,
// outside the measurement, the TX rings are flushed until the kernel has
// given every slot back and the punt queue is emptied, so no iteration
// meets a full ring or queue. The "FlushEvery64" variants flush inside
// the measurement every 64 frames, as the worker flushes after each block:
// their time includes the kernel's transmit (the sendto() and the veth
// transmit to the peer, which drops the frame).
let framesPerIteration = 1_000

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal, .mallocBytesCount]
    Benchmark.defaultConfiguration = .init(metrics: metrics, timeUnits: .nanoseconds, warmupIterations: 3,
                                           scalingFactor: .one, maxDuration: .seconds(2), maxIterations: 2_000)

    // Resident memory of the translation table per peer at 10^6 peers
    // (docs/PERFORMANCE.md): VmRSS before and after filling a table sized
    // for 2^20 peers, writer-side bookkeeping included.
    reportTranslationMemory(peers: 1_000_000)

    let fixture: ForwardingFixture
    // The same worker path with 10^3 and 10^6 peers in the table: the
    // hash index must keep a lookup's cost independent of the peer count.
    var crowded: [Int: ForwardingFixture] = [:]
    do {
        fixture = try ForwardingFixture(puntCapacity: 2 * framesPerIteration)
        for peers in [1_000, 1_000_000] {
            crowded[peers] = try ForwardingFixture(puntCapacity: 2 * framesPerIteration, peers: peers)
        }
    } catch {
        // Without root there is nothing to measure; say so instead of failing.
        var message = "ForwardingPath: skipped: \(error)\n"
        message.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        return
    }
    precondition(fixture.transmitSlots >= framesPerIteration, "TX rings smaller than one iteration")

    let passThrough = ForwardingOutcome(forwarded: 1, translated: 0, checksumsCompleted: 0, drops: 0, notes: 0)
    let translated = ForwardingOutcome(forwarded: 1, translated: 1, checksumsCompleted: 0, drops: 0, notes: 0)
    let noted = ForwardingOutcome(forwarded: 1, translated: 0, checksumsCompleted: 0, drops: 0, notes: 1)
    let completed = ForwardingOutcome(forwarded: 1, translated: 0, checksumsCompleted: 1, drops: 0, notes: 0)
    let host = ForwardedFrames.host, peer = ForwardedFrames.peer, record = ForwardedFrames.translation
    let udp = ForwardedFrames.udp

    let cases: [ForwardingCase] = [
        // (1) Pass-through: a peer without translation, both directions.
        ForwardingCase("UDP126.Outbound", udp(126, .outbound, host, peer), .outbound, expecting: passThrough),
        ForwardingCase("UDP126.Inbound", udp(126, .inbound, peer, host), .inbound, expecting: passThrough),
        ForwardingCase("UDP1414.Outbound", udp(1414, .outbound, host, peer), .outbound, expecting: passThrough),
        ForwardingCase("UDP1414.Inbound", udp(1414, .inbound, peer, host), .inbound, expecting: passThrough),
        // (2) A translated peer: identifiers <-> locators, checksum fixed
        // incrementally (RFC 1624).
        ForwardingCase("Translated.UDP126.Outbound",
                       udp(126, .outbound, record.localIdentifier, record.peerIdentifier), .outbound,
                       expecting: translated),
        ForwardingCase("Translated.UDP126.Inbound",
                       udp(126, .inbound, record.peerLocator, record.localLocator), .inbound, expecting: translated),
        ForwardingCase("Translated.UDP1414.Outbound",
                       udp(1414, .outbound, record.localIdentifier, record.peerIdentifier), .outbound,
                       expecting: translated),
        ForwardingCase("Translated.UDP1414.Inbound",
                       udp(1414, .inbound, record.peerLocator, record.localLocator), .inbound, expecting: translated),
        // (3) A conversation's first segment: forwarded, and a copy noted
        // on the punt queue for the slow path.
        ForwardingCase("TCPSyn.Outbound", ForwardedFrames.tcpOpening(direction: .outbound), .outbound, expecting: noted),
        ForwardingCase("TCPSynAck.Inbound", ForwardedFrames.tcpOpening(direction: .inbound), .inbound, expecting: noted),
        // The host's kernel hands frames to the upper port with checksum
        // offload pending (TP_STATUS_CSUMNOTREADY): the worker computes
        // the whole UDP checksum.
        ForwardingCase("UDP1414.Outbound.ChecksumPartial", udp(1414, .outbound, host, peer), .outbound,
                       status: RXFrame.checksumNotReadyStatus, expecting: completed),
        // The same with the offload metadata the engine's rings carry
        // (virtio_net_hdr NEEDS_CSUM): the checksum stays partial for the
        // kernel to complete, and a translation updates it as a partial one.
        ForwardingCase("UDP1414.Outbound.ChecksumOffloaded", udp(1414, .outbound, host, peer), .outbound,
                       status: RXFrame.checksumNotReadyStatus, offload: ForwardedFrames.udpChecksumOffload,
                       expecting: passThrough),
        ForwardingCase("Translated.UDP1414.Outbound.ChecksumOffloaded",
                       udp(1414, .outbound, record.localIdentifier, record.peerIdentifier), .outbound,
                       status: RXFrame.checksumNotReadyStatus, offload: ForwardedFrames.udpChecksumOffload,
                       expecting: translated),
        ForwardingCase("UDP126.Outbound.FlushEvery64", udp(126, .outbound, host, peer), .outbound,
                       flushEvery: 64, expecting: passThrough),
        ForwardingCase("UDP1414.Outbound.FlushEvery64", udp(1414, .outbound, host, peer), .outbound,
                       flushEvery: 64, expecting: passThrough),
    ]
    // (4) The translated peer among 1, 10^3 and 10^6 peers.
    var scaling: [(ForwardingCase, ForwardingFixture)] = []
    for (peers, table) in [(1, fixture)] + crowded.sorted(by: { $0.key < $1.key }) {
        scaling.append((ForwardingCase("Translated.UDP126.Outbound.Peers\(peers)",
                                       udp(126, .outbound, record.localIdentifier, record.peerIdentifier), .outbound,
                                       expecting: translated), table))
        scaling.append((ForwardingCase("Translated.UDP126.Inbound.Peers\(peers)",
                                       udp(126, .inbound, record.peerLocator, record.localLocator), .inbound,
                                       expecting: translated), table))
    }

    for (forwarding, fixture) in cases.map({ ($0, fixture) }) + scaling {
        let block = ReceivedBlock(frame: forwarding.frame, count: framesPerIteration)
        Benchmark("Forward.\(forwarding.name)") { benchmark in
            guard fixture.settle() else { return benchmark.error("the TX rings did not drain") }
            let worker = fixture.worker
            let direction = forwarding.direction, status = forwarding.status, offload = forwarding.offload
            let flushMask = forwarding.flushEvery.map { $0 - 1 }
            benchmark.startMeasurement()
            for index in 0..<block.count {
                worker.handle(block.frame(index, status: status, offload: offload), direction: direction)
                if let flushMask, index & flushMask == flushMask { worker.flushTransmitRings() }
            }
            benchmark.stopMeasurement()
        } setup: {
            // The frame must take the path the benchmark is named after, in
            // the steady state: the first UDP datagram to a destination is
            // noted for the slow path once (RecentAddressFilter), so one
            // frame goes through before the check.
            let first = block.frame(0, status: forwarding.status, offload: forwarding.offload)
            fixture.worker.handle(first, direction: forwarding.direction)
            precondition(fixture.settle(), "the TX rings did not drain")
            let before = ForwardingOutcome(fixture)
            fixture.worker.handle(first, direction: forwarding.direction)
            let outcome = ForwardingOutcome(fixture) - before
            precondition(outcome == forwarding.expected,
                         "Forward.\(forwarding.name): \(outcome), expected \(forwarding.expected)")
            precondition(fixture.settle(), "the TX rings did not drain")
        }
    }
}

/// One benchmark: a frame, the way it travels, and what it must do.
struct ForwardingCase: Sendable {
    let name: String
    let frame: [UInt8]
    let direction: FrameDirection
    /// tp_status of the received frame.
    let status: UInt32
    /// Its offload metadata (virtio_net_hdr).
    let offload: PacketOffload
    /// Flush the TX rings inside the measurement after this many frames (a
    /// power of two).
    let flushEvery: Int?
    let expected: ForwardingOutcome

    init(_ name: String, _ frame: [UInt8], _ direction: FrameDirection, status: UInt32 = 0,
         offload: PacketOffload = .none, flushEvery: Int? = nil, expecting expected: ForwardingOutcome) {
        self.offload = offload
        precondition(flushEvery.map { $0 > 0 && $0 & ($0 - 1) == 0 } ?? true, "flushEvery must be a power of two")
        self.name = name
        self.frame = frame
        self.direction = direction
        self.status = status
        self.flushEvery = flushEvery
        self.expected = expected
    }
}

/// `count` copies of a frame, spaced as in a TPACKET_V3 block (each after
/// a ring frame header, 16-byte aligned), so the worker reads a fresh
/// frame each time as it does from a ring, not one hot buffer.
final class ReceivedBlock: @unchecked Sendable {
    let count: Int
    let length: Int
    let stride: Int
    private let storage: UnsafeMutableRawPointer
    /// tpacket3_hdr plus the MAC offset alignment the kernel leaves before
    /// a frame (TPACKET_ALIGN(sizeof(tpacket3_hdr)) + sockaddr_ll room).
    static let headerRoom = 80

    init(frame: [UInt8], count: Int) {
        self.count = count
        length = frame.count
        stride = (Self.headerRoom + frame.count + 15) & ~15
        storage = UnsafeMutableRawPointer.allocate(byteCount: stride * count, alignment: 64)
        storage.initializeMemory(as: UInt8.self, repeating: 0, count: stride * count)
        frame.withUnsafeBytes { bytes in
            for index in 0..<count {
                (storage + index * stride + Self.headerRoom).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
            }
        }
    }

    deinit { storage.deallocate() }

    @inline(__always)
    func frame(_ index: Int, status: UInt32, offload: PacketOffload) -> RXFrame {
        RXFrame(bytes: UnsafeRawBufferPointer(start: storage + index * stride + Self.headerRoom, count: length),
                wireLength: length, status: status, offload: offload)
    }
}

/// Prints the resident memory a translation table of `peers` records
/// costs: VmRSS (/proc/self/status) before creating it and after filling it.
func reportTranslationMemory(peers: Int) {
    func residentKiB() -> Int {
        guard let bytes = try? WholeFileReader.read(path: "/proc/self/status") else { return 0 }
        let status = String(decoding: bytes, as: UTF8.self)
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
    let before = residentKiB()
    var capacity = 1
    while capacity < peers { capacity <<= 1 }
    let table = TranslationTable(capacity: capacity)
    let empty = residentKiB()
    table.publish(ForwardedFrames.translation)
    for other in 1..<peers { table.publish(ForwardedFrames.otherPeer(other)) }
    let filled = residentKiB()
    var message = "ForwardingPath: translation table for \(capacity) peers: VmRSS +\(empty - before) KiB empty, "
        + "+\(filled - before) KiB with \(table.count) peers (\((filled - before) * 1024 / peers) bytes per peer)\n"
    message.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
}
