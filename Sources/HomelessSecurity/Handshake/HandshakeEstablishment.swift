public import HomelessCore
public import HomelessWire

/// The result of a completed handshake on one side: the pair of anonymous
/// AH SAs (draft 3.3.1: they vouch only for Binding Updates, Binding
/// Acknowledgements and the handshake) between `local` and `peer`.
public struct HandshakeEstablishment: Sendable {
    public enum Role: String, Sendable {
        case initiator
        case responder
    }

    public var role: Role
    public var local: IPv6Address
    public var peer: IPv6Address
    /// Verifies the peer's packets (SPI chosen by this side).
    public var inbound: SecurityAssociation
    /// Protects packets to the peer (SPI chosen by the peer).
    public var outbound: SecurityAssociation

    init(role: Role, local: IPv6Address, peer: IPv6Address, keys: HandshakeKeySchedule.Keys,
         initiatorSPI: UInt32, responderSPI: UInt32, replayWindowSize: Int) throws(SecurityAssociationError) {
        self.role = role
        self.local = local
        self.peer = peer
        let window = ReplayWindow(size: replayWindowSize) ?? .disabled
        switch role {
        case .initiator:
            inbound = try SecurityAssociation(
                spi: initiatorSPI, direction: .inbound, algorithm: .hmacSHA256_128, key: keys.responderToInitiator,
                source: peer, destination: local, associationClass: .anonymous, replayWindow: window)
            outbound = try SecurityAssociation(
                spi: responderSPI, direction: .outbound, algorithm: .hmacSHA256_128, key: keys.initiatorToResponder,
                source: local, destination: peer, associationClass: .anonymous, replayWindow: window)
        case .responder:
            inbound = try SecurityAssociation(
                spi: responderSPI, direction: .inbound, algorithm: .hmacSHA256_128, key: keys.initiatorToResponder,
                source: peer, destination: local, associationClass: .anonymous, replayWindow: window)
            outbound = try SecurityAssociation(
                spi: initiatorSPI, direction: .outbound, algorithm: .hmacSHA256_128, key: keys.responderToInitiator,
                source: local, destination: peer, associationClass: .anonymous, replayWindow: window)
        }
    }

    /// Adds both SAs to `database`, bound to the peer's Foreign Host Cache
    /// Entry (draft 2.4.2, A.2: "associates the AH SA with the Foreign Host
    /// Cache Entry"). All or nothing.
    public func install(into database: inout SecurityAssociationDatabase,
                        entry: HostCacheEntryID?) throws(SecurityAssociationError) {
        var inbound = self.inbound
        var outbound = self.outbound
        inbound.hostCacheEntry = entry
        outbound.hostCacheEntry = entry
        var candidate = database
        try candidate.add(inbound)
        try candidate.add(outbound)
        database = candidate
    }
}
