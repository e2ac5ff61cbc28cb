public import HomelessWire

/// An SA as written in an `add` statement, before it is given a direction.
public struct ManualSecurityAssociation: Equatable, Sendable {
    public var source: IPv6Address
    public var destination: IPv6Address
    public var spi: UInt32
    public var algorithm: AuthenticationAlgorithm
    public var key: [UInt8]
    /// `-r`: anti-replay window in packets; 0 disables it; nil means the default (64).
    public var replayWindowSize: Int?
    /// `-u`: request id, matched by `unique:id` policies.
    public var requestID: UInt32?
    /// Line of the `add` statement.
    public var line: Int
}

/// The contents of a manual keying file in `setkey(8)` syntax: SAs and
/// policies, parsed completely before anything is installed.
public struct ManualKeyingConfiguration: Equatable, Sendable {
    public var associations: [ManualSecurityAssociation] = []
    public var policies: [SecurityPolicy] = []

    public init(associations: [ManualSecurityAssociation] = [], policies: [SecurityPolicy] = []) {
        self.associations = associations
        self.policies = policies
    }

    /// Parses a whole file; throws every problem found, with line numbers.
    public init(parsing text: String) throws(SetkeyError) {
        self = try SetkeyParser.parse(text)
    }

    /// Gives each SA its direction on this host: inbound when the
    /// destination is local, outbound when the source is; both when both are
    /// (a host talking to itself). SAs between two other hosts (a file
    /// shared by several hosts) are left out. Manual SAs are generic (draft
    /// 3.3.1). Fails, naming the line, on duplicate inbound SPIs.
    public func securityAssociations(isLocal: (IPv6Address) -> Bool) throws(SetkeyError) -> [SecurityAssociation] {
        var result: [SecurityAssociation] = []
        var diagnostics: [SetkeyDiagnostic] = []
        var inboundLines: [UInt32: Int] = [:]
        for manual in associations {
            var directions: [SecurityAssociationDirection] = []
            if isLocal(manual.destination) { directions.append(.inbound) }
            if isLocal(manual.source) { directions.append(.outbound) }
            let window: ReplayWindow
            switch manual.replayWindowSize {
            case nil: window = ReplayWindow(size: ReplayWindow.defaultSize) ?? .disabled
            case 0?: window = .disabled
            case let size?: window = ReplayWindow(size: size) ?? .disabled
            }
            for direction in directions {
                if direction == .inbound {
                    if let earlier = inboundLines[manual.spi] {
                        diagnostics.append(SetkeyDiagnostic(
                            line: manual.line, column: 1,
                            message: "inbound SPI \(manual.spi) is already used on line \(earlier)"))
                        continue
                    }
                    inboundLines[manual.spi] = manual.line
                }
                do {
                    var association = try SecurityAssociation(
                        spi: manual.spi, direction: direction, algorithm: manual.algorithm, key: manual.key,
                        source: manual.source, destination: manual.destination, associationClass: .generic,
                        replayWindow: window)
                    association.manualLine = manual.line
                    result.append(association)
                } catch {
                    diagnostics.append(SetkeyDiagnostic(line: manual.line, column: 1, message: error.description))
                }
            }
        }
        guard diagnostics.isEmpty else { throw SetkeyError(diagnostics) }
        return result
    }
}

extension SecurityAssociationDatabase {
    /// Replaces the manually keyed SAs with those of `configuration`, keeping
    /// SAs made otherwise (e.g. by the handshake). All or nothing: on any
    /// error the database is unchanged.
    public mutating func loadManual(_ configuration: ManualKeyingConfiguration,
                                    isLocal: (IPv6Address) -> Bool) throws(SetkeyError) {
        let manual = try configuration.securityAssociations(isLocal: isLocal)
        let kept = associations.filter { $0.manualLine == nil }
        do {
            self = try SecurityAssociationDatabase(kept + manual)
        } catch {
            let line = manual.first { association in
                if case .duplicateSPI(let spi) = error { return association.spi == spi && association.direction == .inbound }
                return false
            }?.manualLine ?? 0
            throw SetkeyError([SetkeyDiagnostic(line: line, column: 1, message: error.description)])
        }
    }
}
