import ArgumentParser

/// The `homeless` command: subcommands for inspecting captures and, later,
/// running and observing the engine.
public struct HomelessCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "homeless",
        abstract: "Homeless Mobile IPv6 packet engine (draft-nikander-homeless-mipv6-00).",
        discussion: """
            Homeless implements Homeless Mobile IPv6: hosts that move keep their \
            connections by sending Binding Updates, carried in IPv6 Destination \
            Options and protected by IPsec AH, directly to their peers.

            Examples:
              homeless inspect capture.pcap           decode every packet of a capture
              homeless inspect capture.pcapng --json  one JSON object per packet
              homeless run --wire eth0                put the engine between the host and eth0
              homeless show stats                     counters of the engine in this namespace
              homeless help inspect                   details of a subcommand
            """,
        subcommands: [InspectCommand.self, RunCommand.self, ShowCommand.self]
    )
    public init() {}
}
