import CHomeless

/// An AF_PACKET socket without rings, for the slow path's occasional frames
/// (and for generating test traffic): one send() or recv() per frame.
public final class RawPacketSocket {
    public let descriptor: Int32

    /// Binds to `interfaceIndex`; `etherType` 0 sends only and never receives.
    /// A socket filter (a BPF program descriptor) is attached before the
    /// bind, so no frame it would refuse is ever queued.
    public init(interfaceIndex: Int32, etherType: UInt16 = 0, qdiscBypass: Bool = false,
                socketFilterDescriptor: Int32? = nil) throws(SyscallError) {
        let fd = try retryingInterrupts(.socket) { hl_packet_socket() }
        do throws(SyscallError) {
            if qdiscBypass { _ = try retryingInterrupts(.qdiscBypass) { hl_packet_set_qdisc_bypass(fd, 1) } }
            if let program = socketFilterDescriptor {
                _ = try retryingInterrupts(.attachFilter) { hl_packet_attach_bpf(fd, program) }
            }
            _ = try retryingInterrupts(.bind) { hl_packet_bind(fd, interfaceIndex, etherType) }
        } catch {
            _ = hl_close(fd)
            throw error
        }
        descriptor = fd
    }

    deinit { _ = hl_close(descriptor) }

    /// Sends one complete Ethernet frame; blocks while the socket buffer is full.
    public func send(_ frame: UnsafeRawBufferPointer) throws(SyscallError) {
        _ = try retryingInterrupts(.send) { hl_packet_send(descriptor, frame.baseAddress, frame.count, 0) }
    }

    public func send(_ frame: [UInt8]) throws(SyscallError) {
        let outcome = frame.withUnsafeBytes { bytes in
            Result { () throws(SyscallError) in try send(bytes) }
        }
        try outcome.get()
    }

    /// Receives one frame into `buffer` without blocking.
    public func receive(into buffer: UnsafeMutableRawBufferPointer) throws(SyscallError) -> NonBlockingResult<Int> {
        try retryingInterruptsNonBlocking(.receive) {
            hl_packet_receive(descriptor, buffer.baseAddress, buffer.count, 1)
        }.map { Int($0) }
    }
}

extension NonBlockingResult {
    func map<T>(_ transform: (Value) -> T) -> NonBlockingResult<T> {
        switch self {
        case .done(let value): .done(transform(value))
        case .wouldBlock: .wouldBlock
        }
    }
}
