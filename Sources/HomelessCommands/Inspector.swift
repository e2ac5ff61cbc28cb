import HomelessEngine
import HomelessSystem
import HomelessWire

/// The work behind `homeless inspect`, separate from argument parsing so
/// that tests run it in-process against any output streams.
public enum Inspector {
    public enum Format: Sendable {
        /// Human-readable lines (the default).
        case text
        /// One JSON object per packet per line.
        case json
    }

    public struct Options: Sendable {
        public var format: Format
        /// Turns off the padding (RFC 4942 2.1.9.5) and alignment checks.
        public var lenient: Bool
        /// Captures larger than this are refused.
        public var sizeLimit: Int

        public init(format: Format = .text, lenient: Bool = false, sizeLimit: Int = WholeFileReader.defaultLimit) {
            self.format = format
            self.lenient = lenient
            self.sizeLimit = sizeLimit
        }
    }

    /// Exit status for success.
    public static let success: Int32 = 0
    /// Exit status when the file cannot be read or is not a valid capture.
    public static let failure: Int32 = 1

    /// Reads the capture at `path` and writes one dissection per packet to
    /// `output`. File problems go to `errors` as one `error: ...` line and
    /// make the result `failure`; packets read before a framing error are
    /// still printed.
    public static func run<Output: TextOutputStream, Errors: TextOutputStream>(
        path: String, options: Options = Options(), output: inout Output, errors: inout Errors
    ) -> Int32 {
        let bytes: [UInt8]
        do {
            bytes = try WholeFileReader.read(path: path, limit: options.sizeLimit)
        } catch {
            errors.write("error: \(error)\n")
            return failure
        }
        return run(bytes: bytes, name: path == "-" ? "standard input" : path, options: options,
                   output: &output, errors: &errors)
    }

    /// As `run(path:...)` for a capture already in memory; `name` labels error messages.
    public static func run<Output: TextOutputStream, Errors: TextOutputStream>(
        bytes: [UInt8], name: String, options: Options = Options(), output: inout Output, errors: inout Errors
    ) -> Int32 {
        var configuration = PacketWalkerConfiguration()
        if options.lenient {
            configuration.checksPadding = false
            configuration.checksAlignment = false
        }
        let dissector = PacketDissector(configuration: configuration)
        do {
            var reader = try CaptureReader(bytes: bytes)
            var index = 0
            while let packet = try reader.next() {
                index += 1
                let dissection = dissector.dissect(packet, index: index)
                // One write per packet: the output stream may lock per write.
                var line = options.format == .json ? dissection.jsonValue.json : dissection.text
                line += "\n"
                output.write(line)
            }
        } catch {
            errors.write("error: \(name): \(error)\n")
            return failure
        }
        return success
    }
}
