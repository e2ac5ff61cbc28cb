import ArgumentParser
import HomelessEngine
import HomelessSystem

/// `homeless show ports|stats|cache|sa [--json]`: asks a running engine.
public struct ShowCommand: ParsableCommand {
    public enum Subject: String, ExpressibleByArgument, CaseIterable, Sendable {
        case ports, stats, cache, sa
    }

    public static let configuration = CommandConfiguration(
        commandName: "show",
        abstract: "Show a running engine's ports, statistics, Host Cache or security associations.",
        discussion: """
            Connects to the control socket @homeless/NAME of the engine \
            running in the current network namespace.

              ports  wire interfaces, upper ports, workers, ring geometry
              stats  per-worker packets, bytes, punts and drops by reason, and \
            each RX ring's PACKET_STATISTICS (packets, drops, freezes)
              cache  Host Cache entry and address counts
              sa     security associations loaded with `homeless run --sa`: SPI, \
            direction, algorithm, class, addresses, bound Host Cache entry, \
            replay window (inbound) or next sequence number and rekey need \
            (outbound)

            Examples:
              homeless show stats
              homeless show ports --json --name mn
              homeless show sa --name cn
            """
    )

    @Argument(help: ArgumentHelp("What to show: ports, stats, cache or sa.", valueName: "subject"))
    public var subject: Subject

    @Flag(name: .long, help: "Print JSON instead of text.")
    public var json = false

    @Option(name: .long, help: ArgumentHelp("Engine instance name (as given to `homeless run --name`).", valueName: "name"))
    public var name = "default"

    public init() {}

    public func run() throws {
        let request = subject.rawValue + (json ? " json" : "")
        let socketName = EngineConfiguration.controlSocketName(name)
        do {
            let response = try ControlSocket.request(name: socketName, request)
            var output = StandardOutputStream()
            print(String(decoding: response, as: UTF8.self), terminator: "", to: &output)
        } catch {
            var errors = StandardErrorStream()
            if error.errno == 111 || error.errno == 2 {
                print("homeless show: no engine named '\(name)' runs in this network namespace (@\(socketName))", to: &errors)
            } else {
                print("homeless show: \(error)", to: &errors)
            }
            throw ExitCode(1)
        }
    }
}
