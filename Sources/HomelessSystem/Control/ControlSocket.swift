#if canImport(Glibc)
import Glibc
#endif

/// A control endpoint: a Unix stream socket in the ABSTRACT namespace
/// (unix(7): `sun_path[0] == 0`). Abstract names belong to the network
/// namespace the socket was created in, leave no file behind when the
/// process dies, and cannot be squatted by a stale file, which is what an
/// engine that may crash needs. A name such as `homeless/default` is shown
/// as `@homeless/default` by `ss -x`.
///
/// The protocol on top is one request line from the client, one response
/// (any length) from the server, then the server closes the connection.
public enum ControlSocket {
    /// The longest abstract name sockaddr_un can carry (108 bytes minus the
    /// leading zero).
    public static let maximumNameLength = 107

    /// Fills a sockaddr_un for the abstract `name`; returns its length.
    private static func withAddress<R>(
        _ name: String, _ body: (UnsafePointer<sockaddr>, socklen_t) -> R
    ) throws(SystemError) -> R {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= maximumNameLength else {
            throw SystemError("control socket name", "@\(name)", errno: ENAMETOOLONG)
        }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path[0] = 0
            for (offset, byte) in bytes.enumerated() { path[offset + 1] = byte }
        }
        // The name is exactly the bytes given: no terminating zero is counted.
        let length = socklen_t(MemoryLayout<sa_family_t>.size + 1 + bytes.count)
        return withUnsafePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }

    /// Creates, binds and listens on the abstract `name`. EADDRINUSE means
    /// another live process (in this network namespace) holds the name.
    public static func listen(name: String, backlog: Int32 = 16) throws(SystemError) -> ControlListener {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket(AF_UNIX)", "@\(name)", errno: errno) }
        let bound = try withAddress(name) { address, length in bind(fd, address, length) == 0 ? 0 : errno }
        if bound != 0 {
            close(fd)
            throw SystemError("bind", "@\(name)", errno: bound)
        }
        guard Glibc.listen(fd, backlog) == 0 else {
            let code = errno
            close(fd)
            throw SystemError("listen", "@\(name)", errno: code)
        }
        return ControlListener(descriptor: fd, name: name)
    }

    /// Connects to `name`, sends `request` (a newline is added), and reads
    /// the whole response until the server closes. ECONNREFUSED means no
    /// engine of that name runs in this network namespace.
    public static func request(
        name: String, _ request: String, timeoutMilliseconds: Int32 = 5000
    ) throws(SystemError) -> [UInt8] {
        let fd = socket(AF_UNIX, Int32(SOCK_STREAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
        guard fd >= 0 else { throw SystemError("socket(AF_UNIX)", "@\(name)", errno: errno) }
        defer { close(fd) }
        setTimeouts(fd, milliseconds: timeoutMilliseconds)
        let connected = try withAddress(name) { address, length in connect(fd, address, length) == 0 ? 0 : errno }
        guard connected == 0 else { throw SystemError("connect", "@\(name)", errno: connected) }
        try writeAll(fd, Array((request + "\n").utf8), subject: "@\(name)")
        return try readAll(fd, limit: 64 << 20, subject: "@\(name)")
    }

    static func setTimeouts(_ fd: Int32, milliseconds: Int32) {
        var value = timeval(tv_sec: Int(milliseconds / 1000), tv_usec: Int(milliseconds % 1000) * 1000)
        _ = setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
        _ = setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &value, socklen_t(MemoryLayout<timeval>.size))
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], subject: String) throws(SystemError) {
        var sent = 0
        while sent < bytes.count {
            let result = bytes.withUnsafeBytes { buffer in
                send(fd, buffer.baseAddress! + sent, buffer.count - sent, Int32(MSG_NOSIGNAL))
            }
            if result < 0 {
                if errno == EINTR { continue }
                throw SystemError("send", subject, errno: errno)
            }
            sent += result
        }
    }

    static func readAll(_ fd: Int32, limit: Int, subject: String) throws(SystemError) -> [UInt8] {
        var result: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while result.count < limit {
            let count = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("recv", subject, errno: errno)
            }
            if count == 0 { break }
            result.append(contentsOf: chunk[0..<count])
        }
        return result
    }
}

/// A listening control socket. `accept(timeoutMilliseconds:)` lets the
/// serving thread notice a stop request between clients.
public final class ControlListener: @unchecked Sendable {
    public let descriptor: Int32
    public let name: String

    init(descriptor: Int32, name: String) {
        self.descriptor = descriptor
        self.name = name
    }

    deinit { close(descriptor) }

    /// Waits up to `timeoutMilliseconds` for a client; nil on timeout.
    public func accept(timeoutMilliseconds: Int32) throws(SystemError) -> ControlConnection? {
        var entry = pollfd(fd: descriptor, events: Int16(POLLIN), revents: 0)
        let ready = poll(&entry, 1, timeoutMilliseconds)
        if ready < 0 {
            if errno == EINTR { return nil }
            throw SystemError("poll", "@\(name)", errno: errno)
        }
        guard ready > 0 else { return nil }
        let fd = Glibc.accept(descriptor, nil, nil)
        if fd >= 0 { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        if fd < 0 {
            if errno == EINTR || errno == EAGAIN || errno == ECONNABORTED { return nil }
            throw SystemError("accept", "@\(name)", errno: errno)
        }
        ControlSocket.setTimeouts(fd, milliseconds: 2000)
        return ControlConnection(descriptor: fd, subject: "@\(name)")
    }
}

/// One client of a control socket: read its request line, write the
/// response, close.
public final class ControlConnection {
    public let descriptor: Int32
    let subject: String

    init(descriptor: Int32, subject: String) {
        self.descriptor = descriptor
        self.subject = subject
    }

    deinit { close(descriptor) }

    /// Reads up to the first newline (at most `limit` bytes).
    public func readRequestLine(limit: Int = 4096) throws(SystemError) -> String {
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count < limit {
            let count = recv(descriptor, &byte, 1, 0)
            if count < 0 {
                if errno == EINTR { continue }
                throw SystemError("recv", subject, errno: errno)
            }
            if count == 0 || byte == UInt8(ascii: "\n") { break }
            line.append(byte)
        }
        return String(decoding: line, as: UTF8.self)
    }

    public func write(_ response: [UInt8]) throws(SystemError) {
        try ControlSocket.writeAll(descriptor, response, subject: subject)
    }
}
