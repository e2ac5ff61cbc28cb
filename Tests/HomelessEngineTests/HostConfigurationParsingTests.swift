import HomelessSystem
import Testing

@Suite struct HostConfigurationParsingTests {
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
