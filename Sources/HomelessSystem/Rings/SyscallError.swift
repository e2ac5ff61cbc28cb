#if canImport(Glibc)
import Glibc
#endif
import CHomeless

/// A failed system call: which step of the data path made it, and the errno
/// the kernel returned. Every AF_PACKET, BPF and namespace call of the data
/// path reports failure through this one type.
public struct SyscallError: Error, Hashable, CustomStringConvertible {
    public let step: SyscallStep
    /// The positive errno value (EPERM = 1, ...).
    public let errno: Int32

    public init(step: SyscallStep, errno: Int32) {
        self.step = step
        self.errno = errno
    }

    public var description: String {
        "\(step.rawValue) failed: errno \(errno)\(Self.errnoName(errno).map { " (\($0))" } ?? "")"
    }

    /// Symbolic names of the errno values these calls are documented to
    /// return, so messages read without a lookup table.
    static func errnoName(_ code: Int32) -> String? {
        switch code {
        case 1: "EPERM"
        case 2: "ENOENT"
        case 4: "EINTR"
        case 9: "EBADF"
        case 11: "EAGAIN"
        case 12: "ENOMEM"
        case 13: "EACCES"
        case 16: "EBUSY"
        case 17: "EEXIST"
        case 19: "ENODEV"
        case 22: "EINVAL"
        case 28: "ENOSPC"
        case 93: "EPROTONOSUPPORT"
        case 95: "EOPNOTSUPP"
        case 100: "ENETDOWN"
        case 105: "ENOBUFS"
        default: nil
        }
    }
}

/// The named steps of setting up and driving the data path's sockets.
public enum SyscallStep: String, Sendable, Hashable {
    case socket = "socket(AF_PACKET)"
    case packetVersion = "setsockopt(PACKET_VERSION)"
    case offloadHeader = "setsockopt(PACKET_VNET_HDR)"
    case rxRing = "setsockopt(PACKET_RX_RING)"
    case txRing = "setsockopt(PACKET_TX_RING)"
    case mapRing = "mmap(ring)"
    case unmapRing = "munmap(ring)"
    case qdiscBypass = "setsockopt(PACKET_QDISC_BYPASS)"
    case ignoreOutgoing = "setsockopt(PACKET_IGNORE_OUTGOING)"
    case discardMalformed = "setsockopt(PACKET_LOSS)"
    case sendBuffer = "setsockopt(SO_SNDBUF)"
    case copyThreshold = "setsockopt(PACKET_COPY_THRESH)"
    case receiveBuffer = "setsockopt(SO_RCVBUF)"
    case bind = "bind(AF_PACKET)"
    case fanout = "setsockopt(PACKET_FANOUT)"
    case attachFilter = "setsockopt(SO_ATTACH_BPF)"
    case detachFilter = "setsockopt(SO_DETACH_FILTER)"
    case statistics = "getsockopt(PACKET_STATISTICS)"
    case transmit = "sendto(TX ring)"
    case send = "send"
    case receive = "recv"
    case poll = "poll"
    case close = "close"
    case interfaceIndex = "if_nametoindex"
    case openNamespace = "open(netns)"
    case enterNamespace = "setns(CLONE_NEWNET)"
    case bpfLoad = "bpf_object__open_mem/load"
    case bpfMap = "bpf map lookup"
    case bpfMapUpdate = "bpf_map_update_elem"
    case bpfMapDelete = "bpf_map_delete_elem"
    case tcHook = "bpf_tc_hook_create"
    case tcAttach = "bpf_tc_attach"
    case tcDetach = "bpf_tc_detach"
    case tcQuery = "bpf_tc_query"
    case threadCreate = "pthread_create"
    case threadAffinity = "sched_setaffinity"
    case threadName = "pthread_setname_np"
    case routeMonitor = "socket(NETLINK_ROUTE)"
    case routeMonitorReceive = "recv(NETLINK_ROUTE)"
    case routeLookup = "RTM_GETROUTE"
    case neighbourLookup = "RTM_GETNEIGH"
    case routeChange = "RTM_NEWROUTE/RTM_DELROUTE"
    case neighbourChange = "RTM_NEWNEIGH/RTM_DELNEIGH"
    case ruleChange = "RTM_NEWRULE/RTM_DELRULE"
    case rawIPv6 = "socket(AF_INET6, IPPROTO_RAW)"
    case rawIPv6Send = "sendto(IPPROTO_RAW)"
    case wakeup = "eventfd"
}

/// The result of one non-blocking call: done, or the kernel said "not now"
/// (EAGAIN / EWOULDBLOCK / ENOBUFS), which is a normal outcome on the fast
/// path, not an error.
public enum NonBlockingResult<Value> {
    case done(Value)
    case wouldBlock
}

extension NonBlockingResult: Sendable where Value: Sendable {}
extension NonBlockingResult: Equatable where Value: Equatable {}

/// The errno values that mean "try again later" for a non-blocking call.
@inline(__always)
func isWouldBlock(_ code: Int32) -> Bool {
    code == EAGAIN || code == EWOULDBLOCK || code == ENOBUFS
}

/// Runs a shim call that returns `>= 0` or `-errno`, retrying on EINTR.
@inline(__always)
func retryingInterrupts<Result: FixedWidthInteger & SignedInteger>(
    _ step: SyscallStep, _ call: () -> Result
) throws(SyscallError) -> Result {
    while true {
        let result = call()
        if result >= 0 { return result }
        let code = Int32(truncatingIfNeeded: 0 - result)
        if code == EINTR { continue }
        throw SyscallError(step: step, errno: code)
    }
}

/// Like `retryingInterrupts`, but EAGAIN / ENOBUFS are a normal result.
@inline(__always)
func retryingInterruptsNonBlocking<Result: FixedWidthInteger & SignedInteger>(
    _ step: SyscallStep, _ call: () -> Result
) throws(SyscallError) -> NonBlockingResult<Result> {
    while true {
        let result = call()
        if result >= 0 { return .done(result) }
        let code = Int32(truncatingIfNeeded: 0 - result)
        if code == EINTR { continue }
        if isWouldBlock(code) { return .wouldBlock }
        throw SyscallError(step: step, errno: code)
    }
}
