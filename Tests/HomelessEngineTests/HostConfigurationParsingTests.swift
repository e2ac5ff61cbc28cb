import HomelessSystem
import Testing

@Suite struct HostConfigurationParsingTests {
    @Test func permanentAddressKeepsItsFlags() throws {
        let line = "2: lnk-a    inet6 2001:db8:a::10/64 scope global nodad \\       valid_lft forever preferred_lft forever"
        let address = try #require(InterfaceAddress(line: line))
        #expect(address.prefix == "2001:db8:a::10/64")
        #expect(address.flags == ["nodad"])
        #expect(!address.isKernelGenerated)
        #expect(address.addArguments(device: "hl0") == ["-6", "addr", "add", "2001:db8:a::10/64", "dev", "hl0", "nodad"])
    }

    @Test func addressWithLifetimesReplaysThem() throws {
        let line = "5: eth0    inet6 2001:db8:1::5/64 scope global noprefixroute \\       valid_lft 3500sec preferred_lft 1700sec"
        let address = try #require(InterfaceAddress(line: line))
        #expect(address.flags == ["noprefixroute"])
        #expect(address.addArguments(device: "eth0").suffix(4) == ["valid_lft", "3500", "preferred_lft", "1700"])
    }

    @Test func slaacAndPrivacyAddressesAreKernelGenerated() throws {
        let dynamic = "2: eth0    inet6 2001:db8::a8bb:ccff:fedd:eeff/64 scope global dynamic mngtmpaddr \\       valid_lft 86000sec preferred_lft 14000sec"
        let temporary = "2: eth0    inet6 2001:db8::1234:5678:9abc:def0/64 scope global temporary dynamic \\       valid_lft 86000sec preferred_lft 14000sec"
        #expect(try #require(InterfaceAddress(line: dynamic)).isKernelGenerated)
        #expect(try #require(InterfaceAddress(line: temporary)).isKernelGenerated)
    }

    @Test func notAnAddressLine() {
        #expect(InterfaceAddress(line: "") == nil)
        #expect(InterfaceAddress(line: "2: lnk-a inet 192.0.2.1/24 scope global lnk-a") == nil)
        #expect(InterfaceAddress(line: "2: lnk-a inet6") == nil)
    }

    @Test func routeIsReplayedWordForWordOnAnotherDevice() throws {
        let route = try #require(InterfaceRoute(line: "default via 2001:db8:a::1 dev lnk-a metric 100 pref medium"))
        #expect(route.device == "lnk-a")
        #expect(!route.isKernelManaged)
        #expect(route.addArguments(device: "hl0") ==
                ["-6", "route", "add", "default", "via", "2001:db8:a::1", "dev", "hl0", "metric", "100", "pref", "medium"])
        #expect(route.addArguments() ==
                ["-6", "route", "add", "default", "via", "2001:db8:a::1", "dev", "lnk-a", "metric", "100", "pref", "medium"])
    }

    @Test func stateWordsAndExpiryAreMadeReplayable() throws {
        let route = try #require(InterfaceRoute(line: "2001:db8:5::/48 via fe80::1 dev eth0 proto static metric 20 expires 590sec linkdown pref medium"))
        #expect(!route.words.contains("linkdown"))
        #expect(route.words.contains("590"))
        #expect(route.protocolName == "static")
    }

    @Test func kernelAndRouterAdvertisementRoutesAreKernelManaged() throws {
        #expect(try #require(InterfaceRoute(line: "2001:db8:a::/64 dev lnk-a proto kernel metric 256 pref medium")).isKernelManaged)
        #expect(try #require(InterfaceRoute(line: "default via fe80::1 dev eth0 proto ra metric 1024 expires 1790sec hoplimit 64 pref medium")).isKernelManaged)
    }

    @Test func multipathRoutesAreRecognised() throws {
        let route = try #require(InterfaceRoute(line: "default proto static metric 1024 pref medium \tnexthop via 2001:db8:a::1 dev lnk-a weight 1 \tnexthop via 2001:db8:b::1 dev lnk-b weight 1"))
        #expect(route.isMultipath)
    }

    @Test func linkStateOfAVethEnd() throws {
        let line = "5: lnk-a@if4: <BROADCAST,MULTICAST,ALLMULTI,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT group default qlen 1000\\    link/ether 9a:3f:10:2b:44:01 brd ff:ff:ff:ff:ff:ff link-netns hl-lab-rt"
        let link = try #require(LinkState(line: line))
        #expect(link.name == "lnk-a")
        #expect(link.index == 5)
        #expect(link.mtu == 1500)
        #expect(link.macAddress == "9a:3f:10:2b:44:01")
        #expect(link.isUp && link.isAllMulticast)
    }

    @Test func loopbackIsNotEthernet() {
        let line = "1: lo: <LOOPBACK,UP,LOWER_UP> mtu 65536 qdisc noqueue state UNKNOWN mode DEFAULT group default qlen 1000\\    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"
        #expect(LinkState(line: line) == nil)
    }

    @Test func commandOutputAndFailure() throws {
        let echo = SystemCommand("echo")
        #expect(try echo.check(["one", "two"]) == "one two\n")
        let failing = SystemCommand("sh").run(["-c", "echo oops >&2; exit 3"])
        #expect(failing.status == 3)
        #expect(failing.errorOutput == "oops\n")
        #expect(SystemCommand("no-such-program-here").run([]).status == 127)
        #expect(throws: SystemCommand.Failure.self) { try SystemCommand("false").check([]) }
    }
}
