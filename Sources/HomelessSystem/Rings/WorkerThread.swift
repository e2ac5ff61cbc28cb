#if canImport(Glibc)
import Glibc
#endif
import CHomeless
import Synchronization

/// A fast-path worker: a plain POSIX thread, so it never shares the Swift
/// concurrency pool with the slow path and can be pinned to a CPU.
public final class WorkerThread: Sendable {
    private let thread: pthread_t
    private let joined = Mutex(false)

    private final class Start: Sendable {
        let name: String
        let body: @Sendable () -> Void
        init(name: String, body: @escaping @Sendable () -> Void) {
            self.name = name
            self.body = body
        }
    }

    private init(thread: pthread_t) { self.thread = thread }

    /// Starts `body` on a new thread named `name` (15 characters are kept).
    public static func start(name: String, _ body: @escaping @Sendable () -> Void) throws(SyscallError) -> WorkerThread {
        let context = Unmanaged.passRetained(Start(name: name, body: body)).toOpaque()
        var thread = pthread_t()
        let result = pthread_create(&thread, nil, { raw in
            guard let raw else { return nil }
            let start = Unmanaged<Start>.fromOpaque(raw).takeRetainedValue()
            _ = start.name.withCString { hl_thread_set_name($0) }
            start.body()
            return nil
        }, context)
        guard result == 0 else {
            Unmanaged<Start>.fromOpaque(context).release()
            throw SyscallError(step: .threadCreate, errno: result)
        }
        return WorkerThread(thread: thread)
    }

    /// Waits for the thread to finish (once; later calls return at once).
    public func join() {
        joined.withLock { done in
            guard !done else { return }
            done = true
            _ = pthread_join(thread, nil)
        }
    }

    /// Pins the calling thread to `cpu` (call it first thing in the body).
    public static func pinCurrentThread(toCPU cpu: Int32) throws(SyscallError) {
        _ = try retryingInterrupts(.threadAffinity) { hl_thread_pin_to_cpu(cpu) }
    }

    /// CPUs this process may run on (one worker each is the usual choice).
    public static func availableCPUs() throws(SyscallError) -> Int {
        Int(try retryingInterrupts(.threadAffinity) { hl_thread_available_cpus() })
    }
}

/// Tells workers to finish their loop; checked once per block or idle poll.
public final class StopSignal: Sendable {
    private let raised = Atomic<Bool>(false)

    public init() {}

    public func raise() { raised.store(true, ordering: .releasing) }

    public var isRaised: Bool { raised.load(ordering: .acquiring) }
}
