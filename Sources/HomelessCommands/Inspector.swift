import HomelessEngine
import HomelessSecurity
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
        /// `--sa FILE`: a `setkey(8)`-syntax file whose SAs verify each
        /// packet's AH (read by `run(path:...)`).
        public var securityAssociationsPath: String?
        /// SAs already loaded; when set, each packet gets an AH verdict.
        public var securityAssociations: AHCaptureVerifier?

        public init(format: Format = .text, lenient: Bool = false, sizeLimit: Int = WholeFileReader.defaultLimit,
                    securityAssociationsPath: String? = nil, securityAssociations: AHCaptureVerifier? = nil) {
            self.format = format
            self.lenient = lenient
            self.sizeLimit = sizeLimit
            self.securityAssociationsPath = securityAssociationsPath
            self.securityAssociations = securityAssociations
        }
    }

    /// SA files are small; a larger one is a mistake (a capture passed as --sa).
    static let securityAssociationsSizeLimit = 1 << 20

    /// Loads the `--sa` file. Problems go to `errors`, one line each, as
    /// `error: FILE:LINE:COLUMN: message`; the result is nil then.
    public static func loadSecurityAssociations<Errors: TextOutputStream>(
        path: String, errors: inout Errors
    ) -> AHCaptureVerifier? {
        let bytes: [UInt8]
        do {
            bytes = try WholeFileReader.read(path: path, limit: securityAssociationsSizeLimit)
        } catch {
            errors.write("error: \(path): \(error)\n")
            return nil
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            errors.write("error: \(path): not a text file (invalid UTF-8)\n")
            return nil
        }
        do {
            return try AHCaptureVerifier(parsing: text)
        } catch {
            for diagnostic in error.diagnostics {
                errors.write("error: \(path):\(diagnostic.line):\(diagnostic.column): \(diagnostic.message)\n")
            }
            return nil
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
        var options = options
        if let saPath = options.securityAssociationsPath, options.securityAssociations == nil {
            guard let loaded = loadSecurityAssociations(path: saPath, errors: &errors) else { return failure }
            options.securityAssociations = loaded
        }
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
        var verifier = options.securityAssociations
        do {
            var reader = try CaptureReader(bytes: bytes)
            var index = 0
            while let packet = try reader.next() {
                index += 1
                var dissection = dissector.dissect(packet, index: index)
                if verifier != nil {
                    dissection.ahVerification = verify(packet, networkOffset: dissection.networkOffset, with: &verifier)
                }
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

    /// The AH verdict of one packet, in capture order so that the replay
    /// windows run as they would at the receiver.
    private static func verify(_ packet: CapturedPacket, networkOffset: Int?,
                               with verifier: inout AHCaptureVerifier?) -> AHVerification {
        guard let networkOffset, networkOffset <= packet.data.count, verifier != nil else {
            return AHVerification(verdict: .malformed, error: AHPacketError(.notIPv6, at: 0))
        }
        return packet.data.withUnsafeBytes { bytes in
            let ipv6 = UnsafeRawBufferPointer(rebasing: bytes[networkOffset...])
            return verifier?.verify(ipv6) ?? AHVerification(verdict: .malformed)
        }
    }
}
