#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An open file descriptor that closes itself. Every call retries on EINTR,
/// so a signal arriving mid-read is never mistaken for an error.
public final class FileDescriptor {
    public let rawValue: Int32
    /// What the descriptor refers to, used in error messages.
    public let subject: String
    private let ownsDescriptor: Bool

    /// Opens `path` read-only (close-on-exec).
    public init(openingForReading path: String) throws(SystemError) {
        var descriptor: Int32
        repeat {
            descriptor = open(path, O_RDONLY | O_CLOEXEC)
        } while descriptor < 0 && errno == EINTR
        guard descriptor >= 0 else { throw SystemError("open", path, errno: errno) }
        rawValue = descriptor
        subject = path
        ownsDescriptor = true
    }

    /// Wraps a descriptor this object does not own (e.g. standard input); it is not closed.
    public init(borrowing descriptor: Int32, subject: String) {
        rawValue = descriptor
        self.subject = subject
        ownsDescriptor = false
    }

    deinit {
        // A read-only descriptor has nothing to flush; close's result carries no information worth reporting.
        if ownsDescriptor { _ = close(rawValue) }
    }

    /// The file's kind and size from fstat(2).
    public func status() throws(SystemError) -> FileStatus {
        var status = stat()
        var result: Int32
        repeat {
            result = fstat(rawValue, &status)
        } while result < 0 && errno == EINTR
        guard result == 0 else { throw SystemError("fstat", subject, errno: errno) }
        return FileStatus(mode: UInt32(status.st_mode), size: Int64(status.st_size))
    }

    /// Reads up to `buffer.count` bytes; returns 0 at end of file.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> Int {
        guard let base = buffer.baseAddress, buffer.count > 0 else { return 0 }
        var count: Int
        repeat {
            count = systemRead(rawValue, base, buffer.count)
        } while count < 0 && errno == EINTR
        guard count >= 0 else { throw SystemError("read", subject, errno: errno) }
        return count
    }

    /// Writes all of `buffer`, continuing after partial writes.
    public func writeAll(_ buffer: UnsafeRawBufferPointer) throws(SystemError) {
        guard let base = buffer.baseAddress else { return }
        var written = 0
        while written < buffer.count {
            let count = systemWrite(rawValue, base + written, buffer.count - written)
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("write", subject, errno: errno)
            }
            written += count
        }
    }
}

/// The parts of `struct stat` the file reader needs.
public struct FileStatus: Sendable, Equatable {
    public var mode: UInt32
    public var size: Int64

    public var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    public var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
}

/// read(2), named so the method `FileDescriptor.read` does not shadow it.
private func systemRead(_ descriptor: Int32, _ buffer: UnsafeMutableRawPointer, _ count: Int) -> Int {
    read(descriptor, buffer, count)
}

/// write(2), named so the method `FileDescriptor.writeAll` reads clearly.
private func systemWrite(_ descriptor: Int32, _ buffer: UnsafeRawPointer, _ count: Int) -> Int {
    write(descriptor, buffer, count)
}
