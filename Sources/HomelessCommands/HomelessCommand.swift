import ArgumentParser

/// The `homeless` command: subcommands for inspecting captures and, later,
/// running and observing the engine.
public struct HomelessCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "homeless",
        abstract: "Homeless Mobile IPv6 packet engine (draft-nikander-homeless-mipv6-00).",
        subcommands: []
    )
    public init() {}
}
