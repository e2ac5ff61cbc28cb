import ArgumentParser
import HomelessCommands
import Testing

/// `homeless run` option checks, which happen before anything on the host
/// is touched.
@Suite struct RunCommandTests {
    func validationMessage(_ arguments: [String]) -> String? {
        do {
            _ = try HomelessCommand.parseAsRoot(arguments)
            return nil
        } catch {
            return HomelessCommand.message(for: error)
        }
    }

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
}
