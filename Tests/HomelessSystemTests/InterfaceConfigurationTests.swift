import Foundation
import HomelessSystem
import Testing

/// Links and addresses read over rtnetlink, checked against what iproute2
/// (an independent reader of the same kernel state) prints in JSON, in a
/// namespace of their own.
@Suite(.enabled(if: runningAsRoot, "network namespaces need root"))
struct InterfaceConfigurationTests {
    /// `ip -j ARGUMENTS` inside the namespace, decoded.
    func ipJSON(_ namespace: VethNamespace, _ arguments: [String]) throws -> [[String: Any]] {
        let text = try namespace.exec(["ip", "-j"] + arguments)
        return try #require(JSONSerialization.jsonObject(with: Data(text.utf8)) as? [[String: Any]])
    }

    @Test func linkFactsMatchIproute2() throws {
        let namespace = try VethNamespace()
        try namespace.exec(["ip", "link", "set", "v0", "mtu", "1400", "allmulticast", "on"])
        let link = try #require(try namespace.inside { try InterfaceConfiguration.link(named: "v0") })
        let shown = try #require(try ipJSON(namespace, ["link", "show", "dev", "v0"]).first)
        #expect(link.name == "v0")
        #expect(link.index == Int32(try #require(shown["ifindex"] as? Int)))
        #expect(link.macAddress == shown["address"] as? String)
        #expect(link.mtu == 1400)
        #expect(link.flags == Set(try #require(shown["flags"] as? [String])))
        #expect(link.isUp && link.isAllMulticast && link.flags.contains("LOWER_UP"))

        // The peer going down takes the carrier away, as `ip` shows it.
        try namespace.exec(["ip", "link", "set", "v1", "down"])
        let noCarrier = try #require(try namespace.inside { try InterfaceConfiguration.link(named: "v0") })
        let shownNow = try #require(try ipJSON(namespace, ["link", "show", "dev", "v0"]).first)
        // `ip` adds M-DOWN (the veth peer is down), which is not an IFF_ flag.
        #expect(noCarrier.flags == Set(try #require(shownNow["flags"] as? [String])).subtracting(["M-DOWN"]))
        #expect(noCarrier.isUp && !noCarrier.flags.contains("LOWER_UP") && noCarrier.flags.contains("NO-CARRIER"))
    }

    @Test func missingAndNonEthernetLinks() throws {
        let namespace = try VethNamespace()
        try namespace.inside { () throws -> Void in
            #expect(InterfaceConfiguration.linkExists("v0"))
            #expect(InterfaceConfiguration.linkExists("lo"))
            #expect(!InterfaceConfiguration.linkExists("nothere0"))
            #expect(!InterfaceConfiguration.linkExists(""))
            #expect(!InterfaceConfiguration.linkExists("sixteen-letters0"))
            // Loopback exists but is not Ethernet.
            let loopback = try InterfaceConfiguration.link(named: "lo")
            #expect(loopback == nil)
            #expect {
                _ = try InterfaceConfiguration.link(named: "nothere0")
            } throws: { error in
                (error as? SyscallError) == SyscallError(step: .linkQuery, errno: ENODEV)
            }
            #expect(throws: SyscallError.self) { _ = try InterfaceConfiguration.globalAddresses(of: "nothere0") }
        }
    }

    @Test func addressesWithFlagsAndLifetimesMatchIproute2() throws {
        let namespace = try VethNamespace(ipv6: true)
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:a::10/64", "dev", "v0", "nodad"])
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:b::5/64", "dev", "v0", "noprefixroute", "nodad",
                            "valid_lft", "3500", "preferred_lft", "1700"])
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:c::7/128", "dev", "v0", "nodad", "home",
                            "preferred_lft", "0"])
        try namespace.exec(["ip", "-6", "addr", "add", "2001:db8:0:0:1::/64", "dev", "v1", "nodad"])
        let addresses = try namespace.inside { try InterfaceConfiguration.globalAddresses(of: "v0") }
        // Only v0's global addresses: its link-local one and v1's are not listed.
        let shown = try #require(try ipJSON(namespace, ["-6", "addr", "show", "dev", "v0", "scope", "global"]).first)
        // (`ip -j` leaves an empty object for each address its filter skipped.)
        let info = try #require(shown["addr_info"] as? [[String: Any]]).filter { $0["local"] != nil }
        #expect(addresses.map(\.prefix) == info.map { "\($0["local"] as? String ?? "?")/\($0["prefixlen"] as? Int ?? -1)" })
        #expect(Set(addresses.map(\.prefix)) == ["2001:db8:a::10/64", "2001:db8:b::5/64", "2001:db8:c::7/128"])

        let byPrefix = Dictionary(uniqueKeysWithValues: addresses.map { ($0.prefix, $0) })
        let permanent = try #require(byPrefix["2001:db8:a::10/64"])
        #expect(permanent.flags == ["nodad"])
        #expect(permanent.validLifetime == "forever" && permanent.preferredLifetime == "forever")
        #expect(!permanent.isKernelGenerated)
        #expect(permanent.addArguments(device: "hl0") == ["-6", "addr", "add", "2001:db8:a::10/64", "dev", "hl0", "nodad"])

        let limited = try #require(byPrefix["2001:db8:b::5/64"])
        #expect(Set(limited.flags) == ["nodad", "noprefixroute"])
        let valid = try #require(Int(limited.validLifetime))
        let preferred = try #require(Int(limited.preferredLifetime))
        #expect((3490...3500).contains(valid) && (1690...1700).contains(preferred))
        // An address with finite lifetimes is not marked permanent: `ip`
        // calls it dynamic, and it is treated as the kernel's own.
        #expect(limited.isKernelGenerated)

        let deprecated = try #require(byPrefix["2001:db8:c::7/128"])
        #expect(Set(deprecated.flags) == ["nodad", "home"])
        #expect(deprecated.preferredLifetime == "0")
    }

    @Test func manyAddressesAreAllListed() throws {
        // More than the first read has room for (16): the list is read again.
        let namespace = try VethNamespace(ipv6: true)
        let batch = (1...40).map { "address add 2001:db8:99::\(String($0, radix: 16))/64 dev v0 nodad" }
        let file = FileManager.default.temporaryDirectory.appendingPathComponent("hl-batch-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try batch.joined(separator: "\n").appending("\n").write(to: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(at: file) }
        try namespace.exec(["ip", "-6", "-batch", file.path])
        let addresses = try namespace.inside { try InterfaceConfiguration.globalAddresses(of: "v0") }
        #expect(addresses.count == 40)
        #expect(Set(addresses.map(\.prefix)) == Set((1...40).map { "2001:db8:99::\(String($0, radix: 16))/64" }))
    }
}
