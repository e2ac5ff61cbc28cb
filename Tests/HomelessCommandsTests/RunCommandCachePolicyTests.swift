import ArgumentParser
@testable import HomelessCommands
import Testing

/// `homeless run` options of the draft 5.2 cache policy and the handshake
/// puzzle: validated before anything is touched, and carried into the
/// engine's configuration.
@Suite struct RunCommandCachePolicyTests {
    @Test func policyOptionsAreValidated() {
        #expect(validationMessage(["run", "--wire", "eth0", "--puzzle-bits", "20"]) == nil)
        #expect(validationMessage(["run", "--wire", "eth0", "--puzzle-bits", "21"]) == "--puzzle-bits must be between 0 and 20")
        #expect(validationMessage(["run", "--wire", "eth0", "--untrusted-lifetime-cap", "0"])
            == "--untrusted-lifetime-cap must be between 1 and 31536000 seconds")
        #expect(validationMessage(["run", "--wire", "eth0", "--max-addresses-per-peer", "0"])
            == "--max-addresses-per-peer must be between 1 and 1024")
    }

    @Test func policyOptionsReachTheEngineConfiguration() throws {
        let command = try #require(try HomelessCommand.parseAsRoot([
            "run", "--wire", "eth0", "--anonymous-handshake", "--puzzle-bits", "14", "--untrusted-lifetime-cap", "20",
            "--max-addresses-per-peer", "4",
        ]) as? RunCommand)
        let configuration = try command.engineConfiguration()
        #expect(configuration.hostCacheParameters.untrustedLifetimeLimit == 20)
        #expect(configuration.hostCacheParameters.maximumAddressesPerUntrustedEntry == 4)
        #expect(configuration.anonymousHandshake?.responder.difficulty == 14)
        // Defaults: the cap is DEFAULT-LIFETIME, the puzzle 10 bits.
        let plain = try #require(try HomelessCommand.parseAsRoot(["run", "--wire", "eth0", "--anonymous-handshake",
                                                                   "--default-lifetime", "90"]) as? RunCommand)
        let defaults = try plain.engineConfiguration()
        #expect(defaults.hostCacheParameters.untrustedLifetimeLimit == 90)
        #expect(defaults.anonymousHandshake?.responder.difficulty == 10)
    }
}
