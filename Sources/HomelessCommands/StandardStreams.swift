import HomelessSystem

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Standard output through the standard library's buffered `print`: one
/// packet is many small writes, so buffering matters for large captures.
struct StandardOutputStream: TextOutputStream {
    mutating func write(_ string: String) {
        print(string, terminator: "")
    }
}

/// Standard error, written straight to descriptor 2 so messages appear at once.
struct StandardErrorStream: TextOutputStream {
    private let descriptor = FileDescriptor(borrowing: STDERR_FILENO, subject: "standard error")

    mutating func write(_ string: String) {
        var text = string
        text.withUTF8 { bytes in
            // Nothing sensible remains to be done when standard error itself fails.
            try? descriptor.writeAll(UnsafeRawBufferPointer(bytes))
        }
    }
}
