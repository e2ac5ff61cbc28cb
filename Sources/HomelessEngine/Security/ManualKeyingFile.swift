#if canImport(Glibc)
import Glibc
#endif
import HomelessSecurity
import HomelessWire

/// A `setkey(8)`-syntax file of manually keyed SAs (`homeless run --sa`).
/// The file is read and parsed completely before the engine changes the
/// host, so a bad file is reported (with its line and column) and nothing
/// starts; the SAs that apply to this host are picked once its addresses
/// are known (`ManualKeyingConfiguration.securityAssociations(isLocal:)`).
public enum ManualKeyingFile {
    /// Files larger than this are refused (a key file is a few kilobytes).
    public static let maximumSize = 1 << 20

    /// Reads and parses `path`. Errors name the file and every bad line.
    public static func load(path: String) throws(EngineError) -> ManualKeyingConfiguration {
        let text = try read(path: path)
        do {
            return try ManualKeyingConfiguration(parsing: text)
        } catch {
            let lines = error.diagnostics.map { "\(path): \($0.description)" }
            throw .invalidOption(lines.joined(separator: "\n"))
        }
    }

    /// The SA database for a host whose local addresses are `localAddresses`:
    /// the file's SAs with a local destination become inbound, those with a
    /// local source outbound; SAs between other hosts are left out (one file
    /// can serve every host of a lab).
    public static func database(_ configuration: ManualKeyingConfiguration, path: String,
                                localAddresses: Set<IPv6Address>) throws(EngineError) -> SecurityAssociationDatabase {
        var database = SecurityAssociationDatabase()
        do {
            try database.loadManual(configuration, isLocal: { localAddresses.contains($0) })
        } catch {
            throw .invalidOption(error.diagnostics.map { "\(path): \($0.description)" }.joined(separator: "\n"))
        }
        return database
    }

    static func read(path: String) throws(EngineError) -> String {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw .invalidOption("cannot open SA file \(path): \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { Glibc.read(descriptor, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw .invalidOption("cannot read SA file \(path): \(String(cString: strerror(errno)))")
            }
            if count == 0 { break }
            bytes.append(contentsOf: chunk[0..<count])
            guard bytes.count <= maximumSize else {
                throw .invalidOption("SA file \(path) is larger than \(maximumSize) bytes")
            }
        }
        guard let text = String(validating: bytes, as: UTF8.self) else {
            throw .invalidOption("SA file \(path) is not UTF-8 text")
        }
        return text
    }
}
