import ArgumentParser
import HomelessCommands
import Testing

/// The error message `homeless` prints for `arguments`, or nil when they
/// parse and validate (used by every `homeless run` option test).
func validationMessage(_ arguments: [String]) -> String? {
    do {
        _ = try HomelessCommand.parseAsRoot(arguments)
        return nil
    } catch {
        return HomelessCommand.message(for: error)
    }
}

/// `homeless run` option checks, which happen before anything on the host
/// is touched.
@Suite struct RunCommandTests {
    @Test func steeringTakesBridgeOrClassifier() {
        #expect(validationMessage(["run", "--wire", "eth0"]) == nil)
        #expect(validationMessage(["run", "--wire", "eth0", "--steering", "bridge"]) == nil)
        #expect(validationMessage(["run", "--wire", "eth0", "--steering", "classifier"]) == nil)
        #expect(validationMessage(["run", "--wire", "eth0", "--steering", "sideways"])
            == "unknown --steering 'sideways' (bridge or classifier)")
    }

    @Test func steeringIsParsed() throws {
        let command = try #require(
            try HomelessCommand.parseAsRoot(["run", "--wire", "eth0", "--steering", "classifier"]) as? RunCommand)
        #expect(command.steering == "classifier")
        let bridged = try #require(try HomelessCommand.parseAsRoot(["run", "--wire", "eth0"]) as? RunCommand)
        #expect(bridged.steering == "bridge")
    }

    /// `--max-peers` bounds the Host Cache and the translation table;
    /// out-of-range values are refused with the range.
    @Test func maxPeersIsBoundedAndParsed() throws {
        let command = try #require(try HomelessCommand.parseAsRoot(["run", "--wire", "eth0"]) as? RunCommand)
        #expect(command.maxPeers == 65_536)
        let million = try #require(
            try HomelessCommand.parseAsRoot(["run", "--wire", "eth0", "--max-peers", "1000000"]) as? RunCommand)
        #expect(million.maxPeers == 1_000_000)
        for refused in ["0", "1048577"] {
            #expect(validationMessage(["run", "--wire", "eth0", "--max-peers", refused])
                == "--max-peers must be between 1 and 1048576")
        }
        #expect(validationMessage(["run", "--wire", "eth0", "--max-peers", "1"]) == nil)
    }
}
