/// Why an AF_PACKET ring could not be set up.
public enum PacketRingError: Error, Hashable, CustomStringConvertible {
    /// The requested geometry was refused before any system call.
    case geometry(RingGeometryError)
    /// A setup step failed in the kernel.
    case system(SyscallError)

    public var description: String {
        switch self {
        case .geometry(let error): "ring geometry refused: \(error)"
        case .system(let error): error.description
        }
    }
}
