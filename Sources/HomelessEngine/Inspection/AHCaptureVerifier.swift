public import HomelessSecurity
import HomelessWire

/// Verifies the AH of captured packets against Security Associations given
/// in `setkey(8)` syntax, for `homeless inspect --sa`.
///
/// A capture is seen from outside: every SA of the file is installed as an
/// *inbound* SA, whichever host it belongs to, and each keeps its own
/// anti-replay window (RFC 4302 3.4.3) that runs over the packets in capture
/// order, exactly as a receiver would see them. A packet's SA is the one
/// with its SPI and destination address (RFC 4301 4.1); when no SA has both
/// (a Routing header changes the destination on the way), the SA with the
/// SPI is used if only one has it.
public struct AHCaptureVerifier: Sendable {
    private var associations: [SecurityAssociation]
    private var bySPIAndDestination: [SPIAndDestination: Int] = [:]
    private var bySPI: [UInt32: [Int]] = [:]

    private struct SPIAndDestination: Hashable {
        var spi: UInt32
        var destination: IPv6Address
    }

    /// Installs the SAs of `configuration`. Two SAs with the same SPI and
    /// destination cannot be told apart: that fails, naming both lines.
    public init(configuration: ManualKeyingConfiguration) throws(SetkeyError) {
        var associations: [SecurityAssociation] = []
        var diagnostics: [SetkeyDiagnostic] = []
        var lines: [SPIAndDestination: Int] = [:]
        for manual in configuration.associations {
            let key = SPIAndDestination(spi: manual.spi, destination: manual.destination)
            if let earlier = lines[key] {
                diagnostics.append(SetkeyDiagnostic(
                    line: manual.line, column: 1,
                    message: "SPI 0x\(String(manual.spi, radix: 16)) to \(manual.destination) is already defined on line \(earlier)"))
                continue
            }
            lines[key] = manual.line
            let window: ReplayWindow
            switch manual.replayWindowSize {
            case nil: window = ReplayWindow(size: ReplayWindow.defaultSize) ?? .disabled
            case 0?: window = .disabled
            case let size?: window = ReplayWindow(size: size) ?? .disabled
            }
            do {
                var association = try SecurityAssociation(
                    spi: manual.spi, direction: .inbound, algorithm: manual.algorithm, key: manual.key,
                    source: manual.source, destination: manual.destination, associationClass: .generic,
                    replayWindow: window)
                association.manualLine = manual.line
                bySPIAndDestination[key] = associations.count
                bySPI[manual.spi, default: []].append(associations.count)
                associations.append(association)
            } catch {
                diagnostics.append(SetkeyDiagnostic(line: manual.line, column: 1, message: error.description))
            }
        }
        guard diagnostics.isEmpty else { throw SetkeyError(diagnostics) }
        self.associations = associations
    }

    /// Parses and installs a whole SA file.
    public init(parsing text: String) throws(SetkeyError) {
        try self.init(configuration: ManualKeyingConfiguration(parsing: text))
    }

    public var count: Int { associations.count }

    /// Checks one IPv6 packet (starting at its IPv6 header), moving the
    /// window of the SA that verified it. Offsets in the result count from
    /// the IPv6 header.
    public mutating func verify(_ packet: UnsafeRawBufferPointer) -> AHVerification {
        // An empty database walks the packet to AH with the engine's own
        // rules and reports what it found: no-ah, malformed, or the SPI.
        var locator = SecurityAssociationDatabase()
        let located = locator.verifyInbound(packet)
        guard located.verdict == .unknownSPI, packet.count >= IPv6HeaderView.length else { return located }
        let destination = IPv6Address(bytes: packet, at: IPv6HeaderView.Field.destination)
        let slot = bySPIAndDestination[SPIAndDestination(spi: located.spi, destination: destination)]
            ?? bySPI[located.spi].flatMap { $0.count == 1 ? $0.first : nil }
        guard let slot else { return located }
        return associations[slot].verify(packet)
    }
}
