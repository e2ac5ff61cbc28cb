import CHomeless

/// Runs work inside another network namespace. setns(CLONE_NEWNET) changes
/// only the calling thread, and sockets keep the namespace they were created
/// in, so a synchronous body can open an interface's sockets in the
/// namespace and use them afterwards from anywhere.
public enum NetworkNamespace {
    /// Enters the namespace at `path` (for example a file under
    /// /run/netns/), runs `body`, and returns to the caller's namespace.
    /// `body` must not suspend: it runs on this thread only.
    public static func withEntered<Result, Failure: Error>(
        path: String, _ body: () throws(Failure) -> Result
    ) throws -> Result {
        let target = try path.withCString { (cPath) throws(SyscallError) in
            try retryingInterrupts(.openNamespace) { hl_open_readonly(cPath) }
        }
        defer { _ = hl_close(target) }
        return try withEntered(descriptor: target, body)
    }

    /// Enters the namespace an open descriptor refers to (see
    /// `openCurrent()`), runs `body`, and returns to the caller's namespace.
    public static func withEntered<Result, Failure: Error>(
        descriptor target: Int32, _ body: () throws(Failure) -> Result
    ) throws -> Result {
        let original = try openCurrent()
        defer { _ = hl_close(original) }
        _ = try retryingInterrupts(.enterNamespace) { hl_setns_net(target) }
        defer {
            // Returning to the namespace the thread came from cannot fail
            // for a descriptor we opened ourselves; if it did, the thread
            // would silently stay inside, so stop rather than continue.
            if hl_setns_net(original) != 0 { fatalError("setns back to the original network namespace failed") }
        }
        return try body()
    }

    /// Moves the calling thread into a new, empty network namespace (only
    /// a loopback interface, down), runs `body`, and returns the thread to
    /// the caller's namespace. Sockets `body` opens stay in the new
    /// namespace, which lives as long as they (or its interfaces' other
    /// users) do; programs it spawns start in it. `body` must not suspend.
    public static func withNew<Result, Failure: Error>(_ body: () throws(Failure) -> Result) throws -> Result {
        let original = try openCurrent()
        defer { _ = hl_close(original) }
        _ = try retryingInterrupts(.enterNamespace) { hl_unshare_net() }
        defer {
            if hl_setns_net(original) != 0 { fatalError("setns back to the original network namespace failed") }
        }
        return try body()
    }

    /// A descriptor of the calling thread's network namespace (the caller
    /// closes it), to come back to it later from any thread.
    public static func openCurrent() throws(SyscallError) -> Int32 {
        try retryingInterrupts(.openNamespace) { hl_open_current_netns() }
    }

    /// The index of the named interface in the calling thread's namespace.
    public static func interfaceIndex(named name: String) throws(SyscallError) -> Int32 {
        let index = name.withCString { hl_if_nametoindex($0) }
        guard index > 0 else { throw SyscallError(step: .interfaceIndex, errno: -index) }
        return index
    }
}
