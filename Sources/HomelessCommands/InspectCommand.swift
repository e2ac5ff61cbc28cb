import ArgumentParser
import HomelessWire

/// `homeless inspect CAPTURE [--json] [--sa FILE]`: decodes every packet of a pcap or
/// pcapng capture the way the engine's wire parsers see it.
public struct InspectCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode the packets of a pcap or pcapng capture.",
        discussion: """
            Reads a classic pcap (either byte order, microsecond or nanosecond \
            timestamps) or pcapng capture whose link type is Ethernet, raw IP, \
            Linux cooked or BSD loopback, and prints each packet's headers: \
            Ethernet and 802.1Q, IPv6, every extension header with each option \
            and sub-option (Home Address, Binding Update, Binding \
            Acknowledgement, Binding Request, Homeless Support, Alternate \
            Care-of Address, Alternate Prefixes, ...), AH SPI and sequence \
            number, and the upper-layer header (TCP, UDP, ICMPv6).

            A malformed packet is reported on its own line ("error: REASON at \
            offset N", offsets counted from the first byte of the packet) \
            after what decoded before the problem; the remaining packets are \
            still read. A file that cannot be read or is not a capture ends \
            the command with a one-line message on standard error and exit \
            status 1. Use - to read the capture from standard input.

            With --json, each packet is one JSON object on its own line, in \
            capture order; the fields are documented in docs/INSPECT.md.

            With --sa FILE, every SA of the setkey(8)-syntax FILE is installed \
            as an inbound SA and each packet's AH is verified in capture order \
            with the anti-replay windows running. Each packet gets one verdict: \
            ok, bad-icv, unknown-spi, replay, no-ah or malformed (the text line \
            "ah-verdict ...", the JSON member "ah_verdict"). Problems in FILE \
            are reported as "error: FILE:LINE:COLUMN: message" and end the \
            command with exit status 1 before any packet is read.
            """
    )

    @Argument(help: ArgumentHelp("The pcap or pcapng file to read (- for standard input).", valueName: "capture"))
    public var capture: String

    @Flag(name: .long, help: "Print one JSON object per packet per line instead of text.")
    public var json = false

    @Flag(name: .long, help: "Do not check option padding (RFC 4942 2.1.9.5) or Mobile IPv6 option alignment.")
    public var lenient = false

    @Option(name: .customLong("sa"),
            help: ArgumentHelp("Verify each packet's AH with the SAs in this setkey(8)-syntax file.", valueName: "file"))
    public var securityAssociations: String?

    public init() {}

    public func run() throws {
        var output = StandardOutputStream()
        var errors = StandardErrorStream()
        let options = Inspector.Options(format: json ? .json : .text, lenient: lenient,
                                        securityAssociationsPath: securityAssociations)
        let status = Inspector.run(path: capture, options: options, output: &output, errors: &errors)
        if status != 0 { throw ExitCode(status) }
    }
}
