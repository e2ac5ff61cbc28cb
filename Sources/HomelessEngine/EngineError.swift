import HomelessSystem

/// Why the engine could not start. Every case reads as one line for the
/// command line; start-up throws before changing the host for the
/// validation cases and after rolling every change back for the others.
public enum EngineError: Error, Equatable, CustomStringConvertible, Sendable {
    case notRoot
    case noWire
    case noSuchInterface(String)
    case notEthernet(String)
    case invalidInterfaceName(String)
    case interfaceExists(String)
    case duplicateWire(String)
    case missingTool(String)
    case invalidOption(String)
    case controlSocketInUse(String)
    case ring(String, String)
    case thread(String)
    case hostConfiguration(String)

    public var description: String {
        switch self {
        case .notRoot: "host mode changes links, addresses and routes and opens packet sockets: run as root"
        case .noWire: "no wire interface given: use --wire IF"
        case .noSuchInterface(let name): "no interface named '\(name)' in this network namespace"
        case .notEthernet(let name): "interface '\(name)' is not an Ethernet interface"
        case .invalidInterfaceName(let name): "'\(name)' is not a valid interface name (1 to 15 characters, distinct names)"
        case .interfaceExists(let name): "interface '\(name)' already exists and is not a leftover of a crashed run of this engine (another engine, or someone else's: remove it with `ip link del \(name)` or choose --upper-name)"
        case .duplicateWire(let name): "interface '\(name)' is given more than once"
        case .missingTool(let name): "'\(name)' is not installed (host mode needs iproute2 and ethtool)"
        case .invalidOption(let message): message
        case .controlSocketInUse(let name): "an engine named '\(name)' already runs in this network namespace (@homeless/\(name) is in use)"
        case .ring(let interface, let error): "cannot open rings on \(interface): \(error)"
        case .thread(let error): "cannot start a worker: \(error)"
        case .hostConfiguration(let message): "host configuration failed: \(message)"
        }
    }
}
