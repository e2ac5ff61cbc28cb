#if canImport(Glibc)
import Glibc
#endif

/// Runs a configuration tool (iproute2's `ip`, `ethtool`) and collects its
/// output. Host-mode set-up changes links, addresses and routes through
/// these tools: their text output is what an administrator compares before
/// and after a run, and replaying a route line they printed reproduces
/// every attribute the kernel reported without a codec per attribute.
public struct SystemCommand: Sendable {
    public struct Outcome: Sendable {
        public var status: Int32
        public var output: String
        public var errorOutput: String
        public var succeeded: Bool { status == 0 }
    }

    public struct Failure: Error, CustomStringConvertible, Sendable {
        public var commandLine: String
        public var status: Int32
        public var errorOutput: String
        public var description: String {
            let detail = errorOutput.split(separator: "\n").first.map(String.init) ?? "exit status \(status)"
            return "`\(commandLine)` failed: \(detail)"
        }
    }

    /// Searched in order for the program (the engine runs as root, where
    /// PATH may be minimal).
    static let searchDirectories = ["/usr/sbin", "/sbin", "/usr/bin", "/bin"]

    public let program: String

    public init(_ program: String) { self.program = program }

    /// The program's absolute path, or nil if it is not installed.
    public var resolvedPath: String? {
        if program.hasPrefix("/") { return access(program, X_OK) == 0 ? program : nil }
        for directory in Self.searchDirectories {
            let candidate = directory + "/" + program
            if access(candidate, X_OK) == 0 { return candidate }
        }
        return nil
    }

    /// Runs the program with `arguments`, waits, and returns its status and
    /// output (stdout and stderr are read to the end).
    public func run(_ arguments: [String]) -> Outcome {
        guard let path = resolvedPath else {
            return Outcome(status: 127, output: "", errorOutput: "\(program): not installed")
        }
        var outputPipe: [Int32] = [0, 0]
        var errorPipe: [Int32] = [0, 0]
        guard makePipe(&outputPipe) else {
            return Outcome(status: 126, output: "", errorOutput: "pipe: errno \(errno)")
        }
        guard makePipe(&errorPipe) else {
            close(outputPipe[0]); close(outputPipe[1])
            return Outcome(status: 126, output: "", errorOutput: "pipe: errno \(errno)")
        }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_adddup2(&actions, outputPipe[1], 1)
        posix_spawn_file_actions_adddup2(&actions, errorPipe[1], 2)
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)

        // The engine blocks SIGINT/SIGTERM in every thread to receive them
        // with sigwait(); the child must get the default mask back.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var emptyMask = sigset_t()
        sigemptyset(&emptyMask)
        posix_spawnattr_setsigmask(&attributes, &emptyMask)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK))

        let argv = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in argv { free(pointer) } }
        var child: pid_t = 0
        let spawned = posix_spawn(&child, path, &actions, &attributes, argv, environ)
        close(outputPipe[1])
        close(errorPipe[1])
        defer { close(outputPipe[0]); close(errorPipe[0]) }
        guard spawned == 0 else {
            return Outcome(status: 126, output: "", errorOutput: "posix_spawn \(path): errno \(spawned)")
        }
        // Both pipes are drained together so a chatty child cannot block
        // on a full stderr pipe while we wait on stdout.
        var output: [UInt8] = []
        var errorOutput: [UInt8] = []
        var open: [Int32] = [outputPipe[0], errorPipe[0]]
        var buffer = [UInt8](repeating: 0, count: 8192)
        while !open.isEmpty {
            var entries = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }
            if poll(&entries, nfds_t(entries.count), -1) < 0 {
                if errno == EINTR { continue }
                break
            }
            for entry in entries where entry.revents != 0 {
                let count = buffer.withUnsafeMutableBytes { read(entry.fd, $0.baseAddress, $0.count) }
                if count > 0 {
                    if entry.fd == outputPipe[0] {
                        output.append(contentsOf: buffer[0..<count])
                    } else {
                        errorOutput.append(contentsOf: buffer[0..<count])
                    }
                } else if count == 0 || errno != EINTR {
                    open.removeAll { $0 == entry.fd }
                }
            }
        }
        var status: Int32 = 0
        while waitpid(child, &status, 0) < 0 && errno == EINTR {}
        // WIFEXITED / WEXITSTATUS, spelled out (the macros are not imported).
        let exitStatus: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Outcome(status: exitStatus, output: String(decoding: output, as: UTF8.self),
                       errorOutput: String(decoding: errorOutput, as: UTF8.self))
    }

    /// pipe() with both ends close-on-exec (the child gets them through
    /// dup2, which clears the flag).
    private func makePipe(_ ends: inout [Int32]) -> Bool {
        guard pipe(&ends) == 0 else { return false }
        _ = fcntl(ends[0], F_SETFD, FD_CLOEXEC)
        _ = fcntl(ends[1], F_SETFD, FD_CLOEXEC)
        return true
    }

    /// Runs and throws unless the program exits with status 0.
    @discardableResult
    public func check(_ arguments: [String]) throws(Failure) -> String {
        let outcome = run(arguments)
        guard outcome.succeeded else {
            throw Failure(commandLine: ([program] + arguments).joined(separator: " "),
                          status: outcome.status, errorOutput: outcome.errorOutput)
        }
        return outcome.output
    }
}
