import Foundation
import HomelessSystem
import Testing

@Suite(.enabled(if: runningAsRoot, "network namespaces need root"))
struct NetworkNamespaceTests {
    /// The inode of the calling thread's network namespace: equal inodes,
    /// same namespace.
    static func currentNamespace() throws -> UInt64 {
        var info = stat()
        guard stat("/proc/thread-self/ns/net", &info) == 0 else { throw CocoaError(.fileReadUnknown) }
        return UInt64(info.st_ino)
    }

    @Test func withNewRunsInAFreshNamespaceAndComesBack() throws {
        let before = try Self.currentNamespace()
        let device = "hl-nn\(getpid() % 100_000)"
        let (inside, loopback, created) = try NetworkNamespace.withNew { () throws -> (UInt64, Int32, Int32) in
            let namespace = try Self.currentNamespace()
            let loopback = try NetworkNamespace.interfaceIndex(named: "lo")
            // A program started here runs in the new namespace too.
            try run(["ip", "link", "add", device, "type", "veth", "peer", "name", device + "p"])
            return (namespace, loopback, try NetworkNamespace.interfaceIndex(named: device))
        }
        #expect(inside != before)
        #expect(loopback == 1, "a new namespace's first interface is its loopback")
        #expect(created > loopback)
        #expect(try Self.currentNamespace() == before)
        #expect(throws: SyscallError.self) { try NetworkNamespace.interfaceIndex(named: device) }
    }
}
