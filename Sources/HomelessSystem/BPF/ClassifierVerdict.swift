import CHomeless

/// Where the classifier sent a frame, and why (BPF/homeless_bpf.h).
public enum ClassifierVerdict: UInt32, CaseIterable, Sendable {
    case kernelNotIPv6 = 0
    case kernelNeighborDiscovery = 1
    case kernelDHCPv6 = 2
    case kernelNotOwned = 3
    case kernelUnparsed = 4
    case engineForeignLocator = 5
    case engineMobilityOption = 6
    case engineHandshake = 7
    case engineMobilityHeader = 8

    /// Whether frames with this verdict go to the engine (and not the kernel).
    public var isEngine: Bool { rawValue >= UInt32(HL_VERDICT_FIRST_ENGINE) }

    /// The counter's name in `homeless show stats`.
    public var name: String {
        switch self {
        case .kernelNotIPv6: "kernel-not-ipv6"
        case .kernelNeighborDiscovery: "kernel-neighbour-discovery"
        case .kernelDHCPv6: "kernel-dhcpv6"
        case .kernelNotOwned: "kernel-not-owned"
        case .kernelUnparsed: "kernel-unparsed"
        case .engineForeignLocator: "engine-foreign-locator"
        case .engineMobilityOption: "engine-mobility-option"
        case .engineHandshake: "engine-handshake"
        case .engineMobilityHeader: "engine-mobility-header"
        }
    }
}

/// The hook a verdict was counted at.
public enum ClassifierHook: UInt32, CaseIterable, Sendable {
    /// The socket filter: what entered the engine's ring.
    case socketFilter = 0
    /// tc ingress: what the kernel's stack no longer sees.
    case tcIngress = 1

    /// The hook's name in `homeless show stats`.
    public var name: String {
        switch self {
        case .socketFilter: "socket-filter"
        case .tcIngress: "tc-ingress"
        }
    }
}

/// Per-verdict frame counts summed over CPUs.
public struct ClassifierVerdictCounts: Hashable, Sendable {
    var counts: [UInt64]

    init(counts: [UInt64]) { self.counts = counts }

    public subscript(hook: ClassifierHook, verdict: ClassifierVerdict) -> UInt64 {
        let index = Int(hook.rawValue) * Int(HL_VERDICT_COUNT.rawValue) + Int(verdict.rawValue)
        return index < counts.count ? counts[index] : 0
    }

    /// Every frame the hook saw.
    public func total(_ hook: ClassifierHook) -> UInt64 {
        ClassifierVerdict.allCases.reduce(0) { $0 &+ self[hook, $1] }
    }
}
