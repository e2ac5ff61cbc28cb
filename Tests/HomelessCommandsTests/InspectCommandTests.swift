import ArgumentParser
import Foundation
import HomelessCommands
import Testing

/// `homeless inspect` end to end, in-process: arguments, exit status, what
/// goes to standard output and what to standard error.
@Suite struct InspectCommandTests {
    struct Run {
        var status: Int32
        var output: String
        var errors: String
    }

    static func inspect(path: String, json: Bool = false, sizeLimit: Int? = nil) -> Run {
        var output = CapturedText()
        var errors = CapturedText()
        var options = Inspector.Options(format: json ? .json : .text)
        if let sizeLimit { options.sizeLimit = sizeLimit }
        let status = Inspector.run(path: path, options: options, output: &output, errors: &errors)
        return Run(status: status, output: output.text, errors: errors.text)
    }

    static func inspect(bytes: [UInt8], json: Bool = false) -> Run {
        var output = CapturedText()
        var errors = CapturedText()
        let status = Inspector.run(bytes: bytes, name: "test.pcap", options: .init(format: json ? .json : .text),
                                   output: &output, errors: &errors)
        return Run(status: status, output: output.text, errors: errors.text)
    }

    /// A temporary file holding `bytes`, removed when the test ends.
    final class TemporaryFile {
        let path: String
        init(_ bytes: [UInt8], name: String = "capture") throws {
            path = NSTemporaryDirectory() + "homeless-inspect-\(UUID().uuidString)-\(name)"
            guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else {
                throw CocoaError(.fileWriteUnknown)
            }
        }
        deinit { try? FileManager.default.removeItem(atPath: path) }
    }

    /// One line, starting "error: ", nothing on standard output, status 1.
    func expectFileError(_ run: Run, mentioning fragment: String, sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(run.status == 1, sourceLocation: sourceLocation)
        #expect(run.output.isEmpty, sourceLocation: sourceLocation)
        #expect(run.errors.hasPrefix("error: "), sourceLocation: sourceLocation)
        #expect(run.errors.hasSuffix("\n"), sourceLocation: sourceLocation)
        #expect(run.errors.filter { $0 == "\n" }.count == 1, "one line: \(run.errors)", sourceLocation: sourceLocation)
        #expect(run.errors.contains(fragment), "\(run.errors) lacks \(fragment)", sourceLocation: sourceLocation)
    }

    // MARK: File errors

    @Test func missingFile() {
        let run = Self.inspect(path: "/nonexistent/homeless/capture.pcap")
        expectFileError(run, mentioning: "/nonexistent/homeless/capture.pcap: No such file or directory")
    }

    @Test func directory() {
        expectFileError(Self.inspect(path: NSTemporaryDirectory()), mentioning: "is a directory")
    }

    @Test func emptyFile() throws {
        let file = try TemporaryFile([])
        expectFileError(Self.inspect(path: file.path), mentioning: "empty file")
    }

    @Test func notACapture() throws {
        let file = try TemporaryFile(Array("#!/bin/sh\necho this is not a capture\n".utf8))
        expectFileError(Self.inspect(path: file.path), mentioning: "not a pcap or pcapng capture (magic number 0x23212f62)")
    }

    @Test func truncatedFileHeader() throws {
        let file = try TemporaryFile([0xD4, 0xC3, 0xB2, 0xA1, 2, 0, 4, 0, 0, 0])
        expectFileError(Self.inspect(path: file.path), mentioning: "truncated capture: file header at offset 0 needs 24 bytes, 10 present")
    }

    @Test func fileOverTheSizeLimit() throws {
        let file = try TemporaryFile(CaptureBytesBuilder.pcap(order: .littleEndian, records: []))
        expectFileError(Self.inspect(path: file.path, sizeLimit: 16), mentioning: "file is too large (24 bytes; the limit is 16 bytes)")
    }

    @Test func everyPrefixOfAValidFileFailsCleanly() throws {
        let path = fixturesDirectory + "/homeless.pcapng"
        let bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        for length in 0..<bytes.count {
            let run = Self.inspect(bytes: Array(bytes.prefix(length)), json: true)
            // A cut on a block boundary is a shorter valid file; anywhere else
            // the packets before the cut print and one error line follows.
            if run.status != 0 {
                #expect(run.errors.hasPrefix("error: test.pcap: "))
                #expect(run.errors.filter { $0 == "\n" }.count == 1)
            }
            for line in run.output.split(separator: "\n") {
                #expect(line.hasPrefix("{\"index\":") && line.hasSuffix("}"))
            }
        }
    }

    @Test func corruptingAnyByteNeverTraps() throws {
        // Each byte of the capture in turn replaced by values that break
        // lengths, versions and types: every run ends with packets printed
        // and at most one file error, never a crash.
        let path = fixturesDirectory + "/homeless.pcap"
        let bytes = try #require(FileManager.default.contents(atPath: path)).map { $0 }
        for index in bytes.indices {
            for value: UInt8 in [0x00, 0xFF, bytes[index] ^ 0x80] {
                var corrupted = bytes
                corrupted[index] = value
                let run = Self.inspect(bytes: corrupted, json: index % 2 == 0)
                #expect(run.status == 0 || run.errors.hasPrefix("error: test.pcap: "))
            }
        }
    }

    @Test func packetsBeforeABrokenRecordStillPrint() throws {
        let frame = TestPackets.ethernet(TestPackets.ipv6(nextHeader: 59, payload: []))
        let bytes = CaptureBytesBuilder.pcap(order: .bigEndian, records: [
            (seconds: 1, fraction: 0, data: frame, original: nil),
            (seconds: 2, fraction: 0, data: frame, original: nil),
        ])
        let run = Self.inspect(bytes: Array(bytes.dropLast(3)), json: true)
        #expect(run.status == 1)
        #expect(run.output.split(separator: "\n").count == 1)
        #expect(run.errors == "error: test.pcap: truncated capture: packet data at offset \(24 + 16 + frame.count + 16) needs \(frame.count) bytes, \(frame.count - 3) present\n")
    }

    // MARK: Malformed packets are not file errors

    @Test func malformedPacketIsReportedPerPacket() throws {
        let run = Self.inspect(path: fixturesDirectory + "/homeless.pcap")
        #expect(run.status == 0)
        #expect(run.errors.isEmpty)
        #expect(run.output.contains("  error: length-overrun at offset 57\n"))
        #expect(run.output.contains("  error: bad-version at offset 14\n"))
        #expect(run.output.contains("  error: truncated at offset 54\n"))
    }

    // MARK: Text output

    @Test func textOutputShowsTheDecodedChain() throws {
        let run = Self.inspect(path: fixturesDirectory + "/homeless.pcap")
        let lines = run.output.split(separator: "\n").map(String.init)
        // Every packet starts with "#N " at the left margin, details are indented.
        let summaries = lines.filter { !$0.hasPrefix(" ") }
        #expect(summaries.count == 15)
        for (index, line) in summaries.enumerated() {
            #expect(line.hasPrefix("#\(index + 1) 17000000"))
        }
        let text = run.output
        #expect(text.contains("#1 1700000000.250000 74 bytes ethernet 02:00:00:00:00:01 > 02:00:00:00:00:02 type 0x86dd\n"))
        #expect(text.contains("  ipv6 2001:db8:2::200 > 2001:db8:9::9 next-header 6 payload-length 20 hop-limit 64 traffic-class 40 flow-label 74565\n"))
        #expect(text.contains("  tcp @54 length 20: src_port=49152 dst_port=80 sequence=1000 acknowledgement=0 flags=syn window=8192"))
        #expect(text.contains("  ah @54 length 24 next-header 60 spi 0x00001001 (4097) sequence 7 icv a0a1a2a3a4a5a6a7a8a9aaab\n"))
        #expect(text.contains("    option 198 binding-update @80 length 48 action discard-icmp-unicast: acknowledge=yes home_registration=yes"))
        #expect(text.contains("      sub-option 129 alternate-prefixes @111 length 17: prefix_length_code=1 prefix_bytes=8 prefixes=[20010db8000a0000,20010db8000b0000] addresses=[2001:db8:a::300,2001:db8:b::300]\n"))
        #expect(text.contains("    option 201 home-address @132 length 16 action discard-icmp-unicast: home_address=2001:db8:1::100\n"))
        #expect(text.contains("vlan 42 priority 5 type 0x86dd\n"))
        #expect(text.contains("#13 1700000012.250000 62 of 74 bytes"))
    }

    // MARK: Argument parsing and help

    @Test func subcommandParses() throws {
        let command = try HomelessCommand.parseAsRoot(["inspect", "capture.pcap", "--json"])
        let inspect = try #require(command as? InspectCommand)
        #expect(inspect.capture == "capture.pcap")
        #expect(inspect.json)
        #expect(!inspect.lenient)
        #expect(throws: (any Error).self) { try HomelessCommand.parseAsRoot(["inspect"]) }
        #expect(throws: (any Error).self) { try HomelessCommand.parseAsRoot(["inspect", "a", "b"]) }
    }

    @Test func helpExplainsUsage() {
        let root = HomelessCommand.helpMessage()
        #expect(root.contains("inspect"))
        #expect(root.contains("Decode the packets of a pcap or pcapng capture."))
        let inspect = HomelessCommand.helpMessage(for: InspectCommand.self)
        #expect(inspect.contains("homeless inspect <capture>"))
        #expect(inspect.contains("--json"))
        #expect(inspect.contains("exit status 1"))
    }

    @Test func failingRunExitsWithStatusOne() throws {
        let command = try #require(try HomelessCommand.parseAsRoot(["inspect", "/nonexistent/capture.pcap"]) as? InspectCommand)
        do {
            try command.run()
            Issue.record("run() should fail")
        } catch {
            #expect(HomelessCommand.exitCode(for: error) == ExitCode(1))
        }
        _ = command
    }
}
