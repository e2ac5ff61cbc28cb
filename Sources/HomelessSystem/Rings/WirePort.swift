#if canImport(Glibc)
import Glibc
#endif
/// How a wire port is opened.
public struct WirePortConfiguration: Hashable, Sendable {
    public var interfaceName: String
    /// Worker threads, one RX ring and one TX ring each; more than one joins
    /// the RX rings into a PACKET_FANOUT group with a kernel-chosen id.
    public var workers: Int
    public var rxGeometry: RXRingGeometry
    public var txGeometry: TXRingGeometry
    /// PACKET_VNET_HDR on every ring: offload metadata with each frame.
    public var ringOffloads: Bool
    public var fanoutMode: FanoutGroup.Mode
    public var classifier: ClassifierConfiguration
    /// Remove the engine's frames from the kernel's path (tc ingress). Off,
    /// the engine only listens (the kernel also processes its frames).
    public var takeFromKernel: Bool

    public init(
        interfaceName: String, workers: Int = 1, rxGeometry: RXRingGeometry = .standard,
        txGeometry: TXRingGeometry = .standard, ringOffloads: Bool = false, fanoutMode: FanoutGroup.Mode = .hash,
        classifier: ClassifierConfiguration = ClassifierConfiguration(), takeFromKernel: Bool = true
    ) {
        self.interfaceName = interfaceName
        self.workers = workers
        self.rxGeometry = rxGeometry
        self.txGeometry = txGeometry
        self.ringOffloads = ringOffloads
        self.fanoutMode = fanoutMode
        self.classifier = classifier
        self.takeFromKernel = takeFromKernel
    }
}

/// The rings one worker owns. Ownership moves to the worker's thread as a
/// whole (hence Sendable); the rings are then used by that thread only.
public struct WorkerRings: @unchecked Sendable {
    public let receive: PacketRXRing
    public let transmit: PacketTXRing
}

/// A wire port: the classifier loaded, one filtered RX ring and one TX ring
/// per worker, and the tc ingress filter that takes the engine's frames
/// away from the kernel. Open it in the network namespace of the interface.
///
/// The RX rings exist (socket filter attached, bound) before the ingress
/// filter is attached, so no engine frame is dropped from the kernel's path
/// without having been copied into a ring. `close()` (or releasing the
/// port) removes the ingress filter, and the clsact qdisc if the port
/// created it; a crashed run's filter is removed when the next port opens.
public final class WirePort {
    public let interfaceIndex: Int32
    public let classifier: WirePortClassifier
    /// The fanout group of the RX rings (nil with one worker).
    public let fanoutGroupID: UInt16?
    /// Whether opening removed an ingress filter left by a crashed run.
    public let removedLeftover: Bool
    private var rings: [WorkerRings]
    private var ingress: IngressAttachment?

    public init(configuration: WirePortConfiguration) throws(PacketRingError) {
        guard configuration.workers > 0, configuration.workers <= Int(UInt16.max) else {
            throw .system(SyscallError(step: .fanout, errno: EINVAL))
        }
        do {
            interfaceIndex = try NetworkNamespace.interfaceIndex(named: configuration.interfaceName)
            classifier = try WirePortClassifier()
            try classifier.setConfiguration(configuration.classifier)
        } catch { throw .system(error) }

        var rings: [WorkerRings] = []
        var group: FanoutGroup? = configuration.workers > 1 ? .unique(mode: configuration.fanoutMode) : nil
        var groupID: UInt16?
        for _ in 0..<configuration.workers {
            let receive = try PacketRXRing(configuration: PacketRXConfiguration(
                interfaceIndex: interfaceIndex, geometry: configuration.rxGeometry, fanout: group,
                socketFilterDescriptor: classifier.socketFilterDescriptor, receivesOffloads: configuration.ringOffloads))
            if let current = group, current.uniqueID {
                let id: UInt16
                do { id = try receive.fanoutGroupID() } catch { throw .system(error) }
                groupID = id
                group = FanoutGroup(id: id, mode: current.mode, defragment: current.defragment,
                                    rollover: current.rollover)
            }
            let transmit = try PacketTXRing(configuration: PacketTXConfiguration(
                interfaceIndex: interfaceIndex, geometry: configuration.txGeometry,
                sendsOffloads: configuration.ringOffloads))
            rings.append(WorkerRings(receive: receive, transmit: transmit))
        }
        self.rings = rings
        fanoutGroupID = groupID

        if configuration.takeFromKernel {
            do {
                removedLeftover = try IngressAttachment.removeLeftover(interfaceIndex: interfaceIndex)
                ingress = try classifier.attachIngress(interfaceIndex: interfaceIndex)
            } catch { throw .system(error) }
        } else {
            removedLeftover = false
        }
    }

    deinit { try? ingress?.detach() }

    /// Hands each worker its rings (once; later calls return nothing).
    public func takeWorkerRings() -> [WorkerRings] {
        defer { rings = [] }
        return rings
    }

    /// Whether the ingress filter is attached.
    public var isTakingFromKernel: Bool { ingress?.isAttached ?? false }

    /// Removes the ingress filter (and the qdisc if this port created it).
    public func close() throws(SyscallError) {
        defer { ingress = nil }
        try ingress?.detach()
    }
}
