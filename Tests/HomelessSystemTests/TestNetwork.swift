import Foundation
import HomelessSystem
import Synchronization
import Testing

/// Whether the tests that need CAP_NET_ADMIN (namespaces, AF_PACKET) can run.
let runningAsRoot = geteuid() == 0

/// Runs a command and returns its standard output; fails the test on a
/// non-zero exit.
@discardableResult
func run(_ arguments: [String], allowFailure: Bool = false) throws -> String {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let data = output.fileHandleForReading.readDataToEndOfFile()
    let errorData = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    if process.terminationStatus != 0 && !allowFailure {
        throw CommandFailed(command: arguments.joined(separator: " "),
                            status: process.terminationStatus,
                            stderr: String(decoding: errorData, as: UTF8.self))
    }
    return String(decoding: data, as: UTF8.self)
}

struct CommandFailed: Error, CustomStringConvertible {
    let command: String
    let status: Int32
    let stderr: String
    var description: String { "`\(command)` exited \(status): \(stderr)" }
}

/// A network namespace holding one veth pair `v0` <-> `v1`, both up, removed
/// (with the pair) when the value is released. IPv6 is off by default so
/// the kernel adds no MLD/ND/RS noise to what the rings see.
final class VethNamespace {
    private static let counter = Mutex(0)
    let name: String
    var path: String { "/run/netns/\(name)" }

    init(ipv6: Bool = false) throws {
        let serial = VethNamespace.counter.withLock { value in
            value += 1
            return value
        }
        name = "hl-t\(getpid())-\(serial)"
        try run(["ip", "netns", "add", name])
        do {
            let flag = ipv6 ? "0" : "1"
            try exec(["sysctl", "-qw", "net.ipv6.conf.default.disable_ipv6=\(flag)",
                      "net.ipv6.conf.all.disable_ipv6=\(flag)", "net.ipv6.conf.default.accept_dad=0"])
            try exec(["ip", "link", "add", "v0", "type", "veth", "peer", "name", "v1"])
            try exec(["ip", "link", "set", "v0", "up"])
            try exec(["ip", "link", "set", "v1", "up"])
            try exec(["ip", "link", "set", "lo", "up"])
        } catch {
            _ = try? run(["ip", "netns", "delete", name], allowFailure: true)
            throw error
        }
    }

    deinit { _ = try? run(["ip", "netns", "delete", name], allowFailure: true) }

    @discardableResult
    func exec(_ command: [String], allowFailure: Bool = false) throws -> String {
        try run(["ip", "netns", "exec", name] + command, allowFailure: allowFailure)
    }

    /// Runs `body` with the calling thread inside the namespace.
    func inside<T>(_ body: () throws -> T) throws -> T {
        try NetworkNamespace.withEntered(path: path) { () throws -> T in try body() }
    }

    func interfaceIndex(_ name: String) throws -> Int32 {
        try inside { try NetworkNamespace.interfaceIndex(named: name) }
    }
}

/// Collects frames from the ring until `count` arrived or `timeout` passed.
func receiveFrames(from ring: PacketRXRing, count: Int, timeout: Duration = .seconds(3)) throws -> [[UInt8]] {
    var frames: [[UInt8]] = []
    let deadline = ContinuousClock.now + timeout
    while frames.count < count, ContinuousClock.now < deadline {
        _ = try ring.waitForBlock(timeoutMilliseconds: 50)
        while var block = ring.nextBlock() {
            block.forEachFrame { frame in frames.append(Array(frame.bytes)) }
            ring.release(block)
        }
    }
    return frames
}

/// An Ethernet frame: broadcast destination, a fixed source, `etherType`,
/// then `payload`.
func ethernetFrame(etherType: UInt16, payload: [UInt8]) -> [UInt8] {
    [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01,
     UInt8(etherType >> 8), UInt8(etherType & 0xff)] + payload
}

/// IEEE 802 "local experimental" EtherType: nothing in the kernel handles it.
let experimentalEtherType: UInt16 = 0x88b5

/// A test frame carrying `sequence` and a pattern derived from it, `size`
/// bytes long in total.
func sequencedFrame(_ sequence: UInt32, size: Int) -> [UInt8] {
    var payload = withUnsafeBytes(of: sequence.bigEndian) { Array($0) }
    while payload.count < size - 14 { payload.append(UInt8(truncatingIfNeeded: Int(sequence) &+ payload.count)) }
    return ethernetFrame(etherType: experimentalEtherType, payload: payload)
}
