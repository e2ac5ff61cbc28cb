#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A failed system call: which call, on what, and the `errno` it returned.
public struct SystemError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The system call that failed, e.g. "open".
    public var call: String
    /// What the call was about (a path, "stdin"), for the message.
    public var subject: String
    public var errno: Int32

    public init(_ call: String, _ subject: String, errno: Int32) {
        self.call = call
        self.subject = subject
        self.errno = errno
    }

    /// The C library's text for `errno`, e.g. "No such file or directory".
    public var message: String {
        guard let text = strerror(errno) else { return "errno \(errno)" }
        return String(cString: text)
    }

    public var description: String { "\(subject): \(message)" }
}
