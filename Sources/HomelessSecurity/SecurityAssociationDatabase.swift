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
    // The indexes are kept up to date by every change, so adding, binding
    // and looking up cost O(1) amortised whatever the number of SAs (a
    // host may hold one pair per peer, 10^5 and more): the slow path does
    // one of them per signalling packet.
    private var inboundIndex = SPIIndex(spis: [])
    /// The first outbound SA with each SPI (what `bind` looks for).
    private var outboundBySPI: [UInt32: Int] = [:]
    /// The latest outbound SA for each destination.
    private var outboundByDestination: [IPv6Address: Int] = [:]
    /// The SAs (both directions) bound to each Host Cache entry, in slot order.
    private var boundSlots: [HostCacheEntryID: [Int]] = [:]

    public init() {}

    /// Builds a database from `associations`, all or nothing: a duplicate
    /// inbound SPI fails and leaves nothing installed.
    public init(_ associations: [SecurityAssociation]) throws(SecurityAssociationError) {
        for association in associations { try add(association) }
    }

    public var count: Int { associations.count }

    /// Adds an SA. Fails on a duplicate inbound SPI. A later outbound SA for
    /// the same destination or entry takes over from an earlier one.
    public mutating func add(_ association: SecurityAssociation) throws(SecurityAssociationError) {
        if association.direction == .inbound {
            // SPI 0 is reserved and never in the index: only it needs a search.
            let duplicate = association.spi == 0
                ? associations.contains { $0.direction == .inbound && $0.spi == 0 }
                : inboundIndex.slot(for: association.spi) != nil
            if duplicate { throw .duplicateSPI(association.spi) }
        }
        associations.append(association)
        index(slot: associations.count - 1)
    }

    /// Replaces every SA with `associations`, all or nothing.
    public mutating func replaceAll(with associations: [SecurityAssociation]) throws(SecurityAssociationError) {
        self = try SecurityAssociationDatabase(associations)
    }

    /// Removes SAs matching `predicate` (e.g. those of an expired Host
    /// Cache Entry). O(SAs): the slots move, so the indexes are rebuilt.
    public mutating func removeAll(where predicate: (SecurityAssociation) -> Bool) {
        let kept = associations.filter { !predicate($0) }
        guard kept.count != associations.count else { return }
        // Removing cannot create duplicates.
        self = (try? SecurityAssociationDatabase(kept)) ?? SecurityAssociationDatabase()
    }

    /// Binds the outbound and inbound SAs with `spi` to a Foreign Host Cache Entry (draft 2.4.2).
    public mutating func bind(spi: UInt32, direction: SecurityAssociationDirection, to entry: HostCacheEntryID?) -> Bool {
        guard let slot = firstSlot(spi: spi, direction: direction) else { return false }
        rebind(slot: slot, to: entry)
        return true
    }

    /// Unbinds every SA bound to `entry` (the entry went away); they stay
    /// for a later entry of the same peer.
    public mutating func unbindAll(from entry: HostCacheEntryID) {
        for slot in boundSlots[entry] ?? [] { associations[slot].hostCacheEntry = nil }
        boundSlots[entry] = nil
    }

    /// Whether an inbound SA other than `spi` is bound to `entry` (another
    /// SA speaks for that entry, draft 2.4.2, 5.3).
    public func hasInbound(boundTo entry: HostCacheEntryID, otherThan spi: UInt32) -> Bool {
        (boundSlots[entry] ?? []).contains { associations[$0].direction == .inbound && associations[$0].spi != spi }
    }

    /// Stores `association` (its sequence counter moved) over the outbound
    /// SA `outbound(entry:destination:)` chose, keeping its binding. False
    /// when that SA is no longer the one with `association`'s SPI.
    @discardableResult
    public mutating func replaceOutbound(_ association: SecurityAssociation, entry: HostCacheEntryID?,
                                         destination: IPv6Address) -> Bool {
        guard association.direction == .outbound, let slot = outboundSlot(entry: entry, destination: destination),
              associations[slot].spi == association.spi, associations[slot].destination == association.destination
        else { return false }
        var updated = association
        updated.hostCacheEntry = associations[slot].hostCacheEntry
        associations[slot] = updated
        return true
    }

    private func firstSlot(spi: UInt32, direction: SecurityAssociationDirection) -> Int? {
        switch direction {
        case .inbound where spi == 0: associations.firstIndex { $0.spi == 0 && $0.direction == .inbound }
        case .inbound: inboundIndex.slot(for: spi)
        case .outbound: outboundBySPI[spi]
        }
    }

    private mutating func index(slot: Int) {
        let association = associations[slot]
        switch association.direction {
        case .inbound:
            inboundIndex.insert(association.spi, slot: slot)
        case .outbound:
            if outboundBySPI[association.spi] == nil { outboundBySPI[association.spi] = slot }
            outboundByDestination[association.destination] = slot
        }
        // The newest slot: appending keeps the list in slot order.
        if let entry = association.hostCacheEntry { boundSlots[entry, default: []].append(slot) }
    }

    private mutating func rebind(slot: Int, to entry: HostCacheEntryID?) {
        let old = associations[slot].hostCacheEntry
        guard old != entry else { return }
        if let old {
            boundSlots[old]?.removeAll { $0 == slot }
            if boundSlots[old]?.isEmpty == true { boundSlots[old] = nil }
        }
        associations[slot].hostCacheEntry = entry
        if let entry {
            var slots = boundSlots[entry] ?? []
            slots.insert(slot, at: slots.firstIndex { $0 > slot } ?? slots.count)
            boundSlots[entry] = slots
        }
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
        if let entry, let slots = boundSlots[entry],
           let slot = slots.last(where: { associations[$0].direction == .outbound }) { return slot }
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
