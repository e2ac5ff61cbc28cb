#if canImport(Glibc)
import Glibc
#endif
import CHomeless

/// The wire-port classifier (BPF/classifier.bpf.c), loaded into the kernel
/// from the object embedded at build time. It owns two programs and the
/// maps they share:
///  * `socketFilterDescriptor`: attach to the engine's RX socket
///    (`PacketRXConfiguration.socketFilterDescriptor`) so only engine
///    frames enter the ring;
///  * `attachIngress(interfaceIndex:)`: removes the same frames from the
///    kernel's path with a tc clsact ingress filter.
/// The RX socket must be bound to every EtherType (ETH_P_ALL): such taps see
/// a frame before tc ingress drops it, taps for one protocol do not.
public final class WirePortClassifier {
    private let classifier: OpaquePointer

    public init() throws(SyscallError) {
        let object = Self.decodeEmbeddedObject()
        var loaded: OpaquePointer?
        let result = object.withUnsafeBytes { hl_classifier_open($0.baseAddress, $0.count, &loaded) }
        guard result == 0, let loaded else { throw SyscallError(step: .bpfLoad, errno: result < 0 ? -result : EINVAL) }
        classifier = loaded
    }

    deinit { hl_classifier_close(classifier) }

    /// The socket-filter program, for SO_ATTACH_BPF.
    public var socketFilterDescriptor: Int32 { hl_classifier_socket_program(classifier) }
    /// The tc ingress program.
    public var ingressProgramDescriptor: Int32 { hl_classifier_tc_program(classifier) }

    /// The socket filter that keeps outgoing TCP SYNs to unknown peers
    /// (`hl_conversation_tap`), for a tap the slow path reads.
    public var conversationTapDescriptor: Int32 { hl_classifier_conversation_tap_program(classifier) }

    public func setConfiguration(_ configuration: ClassifierConfiguration) throws(SyscallError) {
        var raw = hl_classifier_config()
        raw.handshake_next_header = configuration.handshakeNextHeader
        raw.flags = configuration.kernelFlags
        _ = try retryingInterrupts(.bpfMapUpdate) { hl_classifier_set_config(classifier, &raw) }
    }

    public func configuration() throws(SyscallError) -> ClassifierConfiguration {
        var raw = hl_classifier_config()
        _ = try retryingInterrupts(.bpfMap) { hl_classifier_get_config(classifier, &raw) }
        return ClassifierConfiguration(handshakeNextHeader: raw.handshake_next_header, kernelFlags: raw.flags)
    }

    /// Adds or replaces a locator; `owner` is read back by the engine only.
    public func addLocator(_ address: LocatorAddress, to map: LocatorMap, owner: UInt32 = 0) throws(SyscallError) {
        var value = hl_locator_value(owner: owner, flags: 0)
        _ = try retryingInterrupts(.bpfMapUpdate) {
            address.withNetworkBytes { hl_classifier_add_locator(classifier, map.shimValue, $0, &value) }
        }
    }

    /// Removes a locator; false when it was not there.
    @discardableResult
    public func removeLocator(_ address: LocatorAddress, from map: LocatorMap) throws(SyscallError) -> Bool {
        let result = address.withNetworkBytes { hl_classifier_remove_locator(classifier, map.shimValue, $0) }
        if result == -ENOENT { return false }
        if result < 0 { throw SyscallError(step: .bpfMapDelete, errno: -result) }
        return true
    }

    /// The owner recorded for a locator, or nil when absent.
    public func owner(of address: LocatorAddress, in map: LocatorMap) throws(SyscallError) -> UInt32? {
        var value = hl_locator_value()
        let result = try retryingInterrupts(.bpfMap) {
            address.withNetworkBytes { hl_classifier_lookup_locator(classifier, map.shimValue, $0, &value) }
        }
        return result == 1 ? value.owner : nil
    }

    public func verdictCounts() throws(SyscallError) -> ClassifierVerdictCounts {
        var counts = [UInt64](repeating: 0, count: Int(HL_VERDICT_COUNTERS))
        _ = try retryingInterrupts(.bpfMap) {
            counts.withUnsafeMutableBufferPointer { hl_classifier_read_verdicts(classifier, $0.baseAddress, $0.count) }
        }
        return ClassifierVerdictCounts(counts: counts)
    }

    /// Attaches the ingress program to an interface of the calling thread's
    /// network namespace, after removing a leftover of a crashed run.
    public func attachIngress(interfaceIndex: Int32) throws(SyscallError) -> IngressAttachment {
        try IngressAttachment.removeLeftover(interfaceIndex: interfaceIndex)
        var created: Int32 = 0
        _ = try retryingInterrupts(.tcAttach) {
            hl_tc_attach_ingress(interfaceIndex, ingressProgramDescriptor, &created)
        }
        let namespace: Int32
        do { namespace = try NetworkNamespace.openCurrent() } catch {
            _ = hl_tc_detach_ingress(interfaceIndex, created)
            throw error
        }
        return IngressAttachment(interfaceIndex: interfaceIndex, createdQdisc: created != 0,
                                 namespaceDescriptor: namespace)
    }

    private static func decodeEmbeddedObject() -> [UInt8] {
        embeddedClassifierObjectHex.withUTF8Buffer { hex in
            var bytes = [UInt8]()
            bytes.reserveCapacity(hex.count / 2)
            var index = 0
            while index + 1 < hex.count {
                bytes.append(hexValue(hex[index]) << 4 | hexValue(hex[index + 1]))
                index += 2
            }
            return bytes
        }
    }

    private static func hexValue(_ digit: UInt8) -> UInt8 {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): digit - UInt8(ascii: "a") + 10
        default: 0
        }
    }
}

/// The classifier's tc ingress filter on one interface. `detach()` removes
/// the filter, and the clsact qdisc too when this attachment created it;
/// releasing the value without detaching leaves both in place (the next
/// start removes the filter as a leftover). The attachment remembers the
/// network namespace it was made in, so it can be detached from any thread.
public final class IngressAttachment {
    public let interfaceIndex: Int32
    public let createdQdisc: Bool
    public private(set) var isAttached = true
    private let namespaceDescriptor: Int32

    init(interfaceIndex: Int32, createdQdisc: Bool, namespaceDescriptor: Int32) {
        self.interfaceIndex = interfaceIndex
        self.createdQdisc = createdQdisc
        self.namespaceDescriptor = namespaceDescriptor
    }

    deinit { _ = hl_close(namespaceDescriptor) }

    public func detach() throws(SyscallError) {
        guard isAttached else { return }
        isAttached = false
        let index = interfaceIndex
        let destroy: Int32 = createdQdisc ? 1 : 0
        let result: Int32
        do {
            result = try NetworkNamespace.withEntered(descriptor: namespaceDescriptor) {
                hl_tc_detach_ingress(index, destroy)
            }
        } catch let error as SyscallError {
            throw error
        } catch {
            throw SyscallError(step: .enterNamespace, errno: EINVAL)
        }
        if result < 0 { throw SyscallError(step: .tcDetach, errno: -result) }
    }

    /// Removes this project's ingress filter left by a run that did not
    /// detach (recognised by handle, priority and program name; anything
    /// else on the interface is left alone). True when one was removed.
    @discardableResult
    public static func removeLeftover(interfaceIndex: Int32) throws(SyscallError) -> Bool {
        try retryingInterrupts(.tcDetach) { hl_tc_remove_leftover(interfaceIndex) } == 1
    }

    /// Whether this project's filter is on the interface's ingress hook.
    public static func isPresent(interfaceIndex: Int32) throws(SyscallError) -> Bool {
        var programID: UInt32 = 0
        let result = hl_tc_query_ingress(interfaceIndex, &programID)
        if result == 0 { return true }
        // ENOENT: no such filter; EINVAL: no clsact qdisc at all.
        if result == -ENOENT || result == -EINVAL { return false }
        throw SyscallError(step: .tcQuery, errno: -result)
    }
}
