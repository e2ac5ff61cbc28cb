#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Why a whole file could not be read into memory.
public enum FileReadError: Error, Equatable, Sendable, CustomStringConvertible {
    case system(SystemError)
    /// The file is larger than the caller's limit.
    case tooLarge(subject: String, size: Int64, limit: Int)
    case isDirectory(subject: String)

    public var description: String {
        switch self {
        case .system(let error):
            return error.description
        case .tooLarge(let subject, let size, let limit):
            let sizeText = size >= 0 ? "\(size) bytes" : "more than \(limit) bytes"
            return "\(subject): file is too large (\(sizeText); the limit is \(limit) bytes)"
        case .isDirectory(let subject):
            return "\(subject): is a directory"
        }
    }
}

/// Reads a file completely into memory, refusing anything over a size limit
/// so that a huge or endless input (a device, a pipe that never closes)
/// cannot exhaust memory.
public enum WholeFileReader {
    /// The default limit: 1 GiB.
    public static let defaultLimit = 1 << 30

    /// Reads `path` ("-" reads standard input) completely.
    public static func read(path: String, limit: Int = defaultLimit) throws(FileReadError) -> [UInt8] {
        let descriptor: FileDescriptor
        if path == "-" {
            descriptor = FileDescriptor(borrowing: STDIN_FILENO, subject: "standard input")
        } else {
            do {
                descriptor = try FileDescriptor(openingForReading: path)
            } catch {
                throw .system(error)
            }
        }
        return try read(descriptor, limit: limit)
    }

    /// Reads `descriptor` from its current position to end of file.
    public static func read(_ descriptor: FileDescriptor, limit: Int = defaultLimit) throws(FileReadError) -> [UInt8] {
        let status: FileStatus
        do {
            status = try descriptor.status()
        } catch {
            throw .system(error)
        }
        if status.isDirectory { throw .isDirectory(subject: descriptor.subject) }
        if status.isRegularFile && status.size > Int64(limit) {
            throw .tooLarge(subject: descriptor.subject, size: status.size, limit: limit)
        }
        // The size of a regular file is only a hint (it can change while we
        // read); pipes and devices report none. Grow as needed, up to the limit.
        let hint = status.isRegularFile ? Int(status.size) : 0
        var bytes = [UInt8](repeating: 0, count: max(hint, 64 * 1024) + 1)
        var filled = 0
        while true {
            if filled == bytes.count {
                guard bytes.count <= limit else {
                    throw .tooLarge(subject: descriptor.subject, size: -1, limit: limit)
                }
                let grown = min(bytes.count * 2, limit + 1)
                bytes.append(contentsOf: repeatElement(0, count: grown - bytes.count))
            }
            let result = bytes.withUnsafeMutableBytes { buffer in
                Result { () throws(SystemError) -> Int in
                    try descriptor.read(into: UnsafeMutableRawBufferPointer(rebasing: buffer[filled...]))
                }
            }
            let count: Int
            switch result {
            case .success(let value): count = value
            case .failure(let error): throw .system(error)
            }
            if count == 0 { break }
            filled += count
        }
        guard filled <= limit else { throw .tooLarge(subject: descriptor.subject, size: Int64(filled), limit: limit) }
        bytes.removeSubrange(filled...)
        return bytes
    }
}
