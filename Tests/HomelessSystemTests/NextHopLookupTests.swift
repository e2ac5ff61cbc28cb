import Foundation
import HomelessSystem
import Testing

struct NextHopLookupTests {
    /// 2001:db8:<subnet>::<host>.
    static func address(_ subnet: UInt8, _ host: UInt8) -> [UInt8] {
        [0x20, 0x01, 0x0d, 0xb8, 0, subnet] + [UInt8](repeating: 0, count: 9) + [host]
    }

    @Test func usableStatesAreTheOnesWithAValidLinkLayerAddress() {
        // NUD_* from linux/neighbour.h.
        for usable: UInt16 in [0x02, 0x04, 0x08, 0x10, 0x40, 0x80] {
            #expect(NextHopLookup.isUsable(state: usable), "state \(usable)")
        }
        for unusable: UInt16 in [0x00, 0x01, 0x20] {  // NONE, INCOMPLETE, FAILED
            #expect(!NextHopLookup.isUsable(state: unusable), "state \(unusable)")
        }
    }

    @Test func malformedAddressesAreRejected() {
        #expect(throws: SyscallError(step: .routeLookup, errno: EINVAL)) {
            try NextHopLookup.route(to: [0x20, 0x01])
        }
        #expect(throws: SyscallError(step: .neighbourLookup, errno: EINVAL)) {
            try NextHopLookup.linkLayerAddress(of: [], interfaceIndex: 1)
        }
    }

    /// v0 holds 2001:db8:1::1/64 and a route to 2001:db8:9::/64 via
    /// 2001:db8:1::2; under fwmark 7, table 100 sends that prefix out of v1
    /// (2001:db8:2::1/64) via 2001:db8:2::2. The namespace (VethNamespace)
    /// is deleted when the test ends, failed or not.
    @Test(.enabled(if: runningAsRoot, "network namespaces need root"))
    func routesAndNeighboursComeFromTheKernelTables() throws {
        let namespace = try VethNamespace(ipv6: true)
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "v0", "nodad"])
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:2::1/64", "dev", "v1", "nodad"])
        try namespace.exec(["ip", "-6", "route", "add", "2001:db8:9::/64", "via", "2001:db8:1::2", "dev", "v0"])
        try namespace.exec(["ip", "-6", "route", "add", "2001:db8:9::/64", "via", "2001:db8:2::2", "dev", "v1", "table", "100"])
        try namespace.exec(["ip", "-6", "rule", "add", "fwmark", "7", "lookup", "100"])
        try namespace.exec(["ip", "-6", "neigh", "add", "2001:db8:1::2", "lladdr", "02:00:00:00:00:02",
                            "nud", "permanent", "dev", "v0"])
        // An entry still being resolved: present, but with no link-layer address.
        try namespace.exec(["ip", "-6", "neigh", "add", "2001:db8:1::3", "nud", "incomplete", "dev", "v0"])
        let v0 = try namespace.interfaceIndex("v0")
        let v1 = try namespace.interfaceIndex("v1")

        try namespace.inside { () throws -> Void in
            #expect(try NextHopLookup.route(to: Self.address(9, 5))
                == NextHop(interfaceIndex: v0, gateway: Self.address(1, 2)))
            #expect(try NextHopLookup.route(to: Self.address(9, 5), mark: 7)
                == NextHop(interfaceIndex: v1, gateway: Self.address(2, 2)))
            #expect(try NextHopLookup.route(to: Self.address(1, 7)) == NextHop(interfaceIndex: v0, gateway: nil))
            #expect(throws: SyscallError(step: .routeLookup, errno: ENETUNREACH)) {
                try NextHopLookup.route(to: Self.address(0xff, 1))
            }

            let neighbour = try #require(try NextHopLookup.linkLayerAddress(of: Self.address(1, 2), interfaceIndex: v0))
            #expect(neighbour.mac == [0x02, 0, 0, 0, 0, 0x02])
            #expect(neighbour.state == 0x80)  // NUD_PERMANENT
            #expect(NextHopLookup.isUsable(state: neighbour.state))
            #expect(try NextHopLookup.linkLayerAddress(of: Self.address(1, 0x99), interfaceIndex: v0) == nil)
            #expect(try NextHopLookup.linkLayerAddress(of: Self.address(1, 3), interfaceIndex: v0) == nil,
                    "an INCOMPLETE entry has no address yet")
            #expect(try NextHopLookup.linkLayerAddress(of: Self.address(1, 2), interfaceIndex: v1) == nil,
                    "the entry belongs to v0 only")
        }
    }

    /// HostRoutes programs what classifier steering needs, and a marked
    /// lookup does not see a table that only unmarked packets consult.
    @Test(.enabled(if: runningAsRoot, "network namespaces need root"))
    func hostRoutesAndPermanentNeighboursAreProgrammed() throws {
        let namespace = try VethNamespace(ipv6: true)
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "v0", "nodad"])
        try namespace.exec(["ip", "-6", "rule", "add", "pref", "18508", "not", "fwmark", "0x484c", "lookup", "18508"])
        let v0 = try namespace.interfaceIndex("v0")
        let v1 = try namespace.interfaceIndex("v1")
        let peer = Self.address(1, 0x20)
        let mac: [UInt8] = [0x02, 0, 0, 0, 0, 0x20]
        try namespace.inside { () throws -> Void in
            try HostRoutes.installPermanentNeighbour(peer, linkLayerAddress: mac, interfaceIndex: v1)
            try HostRoutes.install(peer, interfaceIndex: v1, table: 18508)
            // Replacing is not an error.
            try HostRoutes.install(peer, interfaceIndex: v1, table: 18508)
            #expect(try NextHopLookup.route(to: peer) == NextHop(interfaceIndex: v1, gateway: nil))
            #expect(try NextHopLookup.route(to: peer, mark: 0x484c) == NextHop(interfaceIndex: v0, gateway: nil),
                    "the marked lookup sees the main table only")
            let neighbour = try #require(try NextHopLookup.linkLayerAddress(of: peer, interfaceIndex: v1))
            #expect(neighbour.mac == mac)
            #expect(neighbour.state == 0x80)  // NUD_PERMANENT
        }
        #expect(try namespace.exec(["ip", "-6", "route", "show", "table", "18508"]).contains("2001:db8:1::20 dev v1 proto static"))
        try namespace.inside { () throws -> Void in
            #expect(try HostRoutes.remove(peer, table: 18508))
            #expect(try !HostRoutes.remove(peer, table: 18508), "nothing left to remove")
            #expect(try HostRoutes.removeNeighbour(peer, interfaceIndex: v1))
            #expect(try !HostRoutes.removeNeighbour(peer, interfaceIndex: v1))
            #expect(try NextHopLookup.route(to: peer) == NextHop(interfaceIndex: v0, gateway: nil))
            #expect(throws: SyscallError(step: .routeChange, errno: EINVAL)) {
                try HostRoutes.install([1, 2, 3], interfaceIndex: v1, table: 18508)
            }
        }
        #expect(try namespace.exec(["ip", "-6", "route", "show", "table", "18508"]).isEmpty)
    }

    /// A connected UDP socket keeps the route it cached when a host route
    /// for its destination appears in the steering table; after
    /// `invalidateCachedRoutes` its next datagram takes the new route.
    /// Counted on the interfaces' transmit counters (the peer's link-layer
    /// addresses are permanent entries, so no Neighbour Discovery is sent).
    @Test(.enabled(if: runningAsRoot, "network namespaces need root"))
    func invalidatingCachedRoutesMovesAConnectedSocketToANewHostRoute() throws {
        let namespace = try VethNamespace(ipv6: true)
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:1::1/64", "dev", "v0", "nodad"])
        try namespace.exec(["ip", "-6", "rule", "add", "pref", "18508", "not", "fwmark", "0x484c", "lookup", "18508"])
        let peer = Self.address(1, 0x20)
        try namespace.exec(["ip", "-6", "neigh", "replace", "2001:db8:1::20", "lladdr", "02:00:00:00:00:20",
                            "dev", "v0", "nud", "permanent"])
        let v1 = try namespace.interfaceIndex("v1")
        let socket = try namespace.inside { () throws -> Int32 in
            let descriptor = Glibc.socket(AF_INET6, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0)
            guard descriptor >= 0 else { throw CommandFailed(command: "socket", status: errno, stderr: "") }
            return descriptor
        }
        defer { close(socket) }
        var destination = sockaddr_in6()
        destination.sin6_family = sa_family_t(AF_INET6)
        destination.sin6_port = UInt16(9).bigEndian
        withUnsafeMutableBytes(of: &destination.sin6_addr) { $0.copyBytes(from: peer) }
        let connected = withUnsafePointer(to: &destination) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socket, $0, socklen_t(MemoryLayout<sockaddr_in6>.size))
            }
        }
        try #require(connected == 0, "connect: errno \(errno)")
        func transmitted(_ device: String) throws -> Int {
            Int(try namespace.exec(["cat", "/sys/class/net/\(device)/statistics/tx_packets"])
                .trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
        /// Sends 20 datagrams and returns how many more frames v0 and v1
        /// sent meanwhile.
        func sendBurst() throws -> (v0: Int, v1: Int) {
            let before = (try transmitted("v0"), try transmitted("v1"))
            for _ in 0..<20 { #expect(send(socket, "x", 1, 0) == 1) }
            return (try transmitted("v0") - before.0, try transmitted("v1") - before.1)
        }
        let first = try sendBurst()
        #expect(first.v0 >= 20 && first.v1 < 20, "before the host route: through v0 (\(first))")

        try namespace.inside { () throws -> Void in
            try HostRoutes.installPermanentNeighbour(peer, linkLayerAddress: [0x02, 0, 0, 0, 0, 0x21],
                                                     interfaceIndex: v1)
            try HostRoutes.install(peer, interfaceIndex: v1, table: 18508)
        }
        let cached = try sendBurst()
        #expect(cached.v0 >= 20 && cached.v1 < 20,
                "the socket's cached route still holds after the route is added (\(cached))")

        try namespace.inside { () throws -> Void in
            try HostRoutes.invalidateCachedRoutes(rulePriority: 18509)
        }
        let moved = try sendBurst()
        #expect(moved.v1 >= 20 && moved.v0 < 20, "after the invalidation: through v1 (\(moved))")
        func nopRuleListed() throws -> Bool { try namespace.exec(["ip", "-6", "rule", "show"]).contains("18509:") }
        #expect(try !nopRuleListed(), "the nop rule is gone again")

        // A nop rule left by an interrupted call: an invalidation still
        // works and takes it away, and removeNopRule removes one.
        try namespace.exec(["ip", "-6", "rule", "add", "pref", "18509", "nop"])
        try namespace.inside { () throws -> Void in try HostRoutes.invalidateCachedRoutes(rulePriority: 18509) }
        #expect(try !nopRuleListed())
        try namespace.exec(["ip", "-6", "rule", "add", "pref", "18509", "nop"])
        try namespace.inside { () throws -> Void in
            #expect(try HostRoutes.removeNopRule(rulePriority: 18509))
            #expect(try !HostRoutes.removeNopRule(rulePriority: 18509), "nothing left to remove")
        }
    }
}
