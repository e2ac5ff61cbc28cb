public import HomelessCore
public import HomelessWire

/// The SA database (RFC 4301 4.4.2) with the lookups draft 2.4.2 asks for:
///
/// - inbound: by SPI alone, whatever local address the packet was sent to
///   ("a host MAY accept any IP address in a Local Host Cache Entry together
///   with a valid SPI"); inbound SPIs are unique;
/// - outbound: through the peer's Foreign Host Cache Entry when the SA is
///   bound to one (RECOMMENDED for Binding Updates), else by destination
///   address.
///
/// A value type: the owner mutates it in place (replay windows, sequence
/// counters); the per-packet paths do not allocate.
public struct SecurityAssociationDatabase: Sendable {
    public private(set) var associations: [SecurityAssociation] = []
    private var inboundIndex = SPIIndex(spis: [])
    private var outboundByEntry: [HostCacheEntryID: Int] = [:]
    private var outboundByDestination: [IPv6Address: Int] = [:]

    public init() {}

    /// Builds a database from `associations`, all or nothing: a duplicate
    /// inbound SPI fails and leaves nothing installed.
    public init(_ associations: [SecurityAssociation]) throws(SecurityAssociationError) {
        self.associations = associations
        try rebuildIndexes()
    }

    public var count: Int { associations.count }

    /// Adds an SA. Fails on a duplicate inbound SPI. A later outbound SA for
    /// the same destination or entry takes over from an earlier one.
    public mutating func add(_ association: SecurityAssociation) throws(SecurityAssociationError) {
        var candidate = self
        candidate.associations.append(association)
        try candidate.rebuildIndexes()
        self = candidate
    }

    /// Replaces every SA with `associations`, all or nothing.
    public mutating func replaceAll(with associations: [SecurityAssociation]) throws(SecurityAssociationError) {
        self = try SecurityAssociationDatabase(associations)
    }

    /// Removes SAs matching `predicate` (e.g. those of an expired Host Cache Entry).
    public mutating func removeAll(where predicate: (SecurityAssociation) -> Bool) {
        associations.removeAll(where: predicate)
        // Removing cannot create duplicates.
        try? rebuildIndexes()
    }

    /// Binds the outbound and inbound SAs with `spi` to a Foreign Host Cache Entry (draft 2.4.2).
    public mutating func bind(spi: UInt32, direction: SecurityAssociationDirection, to entry: HostCacheEntryID?) -> Bool {
        guard let slot = associations.firstIndex(where: { $0.spi == spi && $0.direction == direction }) else {
            return false
        }
        associations[slot].hostCacheEntry = entry
        try? rebuildIndexes()
        return true
    }

    private mutating func rebuildIndexes() throws(SecurityAssociationError) {
        var inboundSPIs = [UInt32](repeating: 0, count: associations.count)
        var seen = Set<UInt32>()
        var byEntry: [HostCacheEntryID: Int] = [:]
        var byDestination: [IPv6Address: Int] = [:]
        for (slot, association) in associations.enumerated() {
            switch association.direction {
            case .inbound:
                guard seen.insert(association.spi).inserted else { throw .duplicateSPI(association.spi) }
                inboundSPIs[slot] = association.spi
            case .outbound:
                if let entry = association.hostCacheEntry { byEntry[entry] = slot }
                byDestination[association.destination] = slot
            }
        }
        inboundIndex = SPIIndex(spis: inboundSPIs)
        outboundByEntry = byEntry
        outboundByDestination = byDestination
    }

    // MARK: Lookups

    public func inbound(spi: UInt32) -> SecurityAssociation? {
        inboundIndex.slot(for: spi).map { associations[$0] }
    }

    /// The outbound SA for a peer: the one bound to its Foreign Host Cache
    /// Entry if any, else the one for `destination`.
    public func outbound(entry: HostCacheEntryID?, destination: IPv6Address) -> SecurityAssociation? {
        outboundSlot(entry: entry, destination: destination).map { associations[$0] }
    }

    private func outboundSlot(entry: HostCacheEntryID?, destination: IPv6Address) -> Int? {
        if let entry, let slot = outboundByEntry[entry] { return slot }
        return outboundByDestination[destination]
    }

    // MARK: Per-packet paths

    /// Checks an inbound IPv6 packet (starting at its IPv6 header): finds
    /// AH, looks the SA up by SPI, rejects replays before computing the ICV
    /// and moves the window only when the ICV verified (RFC 4302 3.4).
    public mutating func verifyInbound(_ packet: UnsafeRawBufferPointer) -> AHVerification {
        let layout: AHPacketLayout
        do { layout = try AHPacketLayout.locate(in: packet) } catch { return AHVerification(error: error) }
        let spi = packet.loadBigEndianUInt32(at: layout.ahOffset + AuthenticationHeaderLayout.spi)
        guard let slot = inboundIndex.slot(for: spi) else {
            var result = AHVerification(verdict: .unknownSPI)
            result.spi = spi
            result.ahOffset = layout.ahOffset
            result.sequenceNumber = packet.loadBigEndianUInt32(at: layout.ahOffset + AuthenticationHeaderLayout.sequenceNumber)
            return result
        }
        return associations[slot].verify(packet, layout: layout)
    }

    /// Protects an outbound packet with the SA chosen for the peer (see
    /// `outbound(entry:destination:)`), inserting AH at `insertionOffset`.
    /// Returns the new packet length.
    public mutating func protectOutbound(
        _ buffer: UnsafeMutableRawBufferPointer, packetLength: Int, insertingAt insertionOffset: Int,
        entry: HostCacheEntryID?, destination: IPv6Address
    ) throws(AHProtectError) -> Int {
        guard let slot = outboundSlot(entry: entry, destination: destination) else { throw .noAssociation }
        return try associations[slot].protect(buffer, packetLength: packetLength, insertingAt: insertionOffset)
    }
}
