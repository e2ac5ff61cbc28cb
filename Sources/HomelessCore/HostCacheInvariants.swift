extension HostCache {
    /// Checks every structural invariant of the cache and its fast-path
    /// mirror; returns a description of each violation (empty when sound).
    /// Linear in the cache size: for tests, fuzzing and debug commands.
    public func invariantViolations() -> [String] {
        var problems: [String] = []
        let now = clock.now
        var occupied = 0
        for (slot, entry) in slots.enumerated() {
            guard let entry else {
                if index.entries.read(HostCacheEntryID(slot: UInt32(slot), generation: nextGeneration[slot] &- 1)) != nil {
                    problems.append("free slot \(slot) still published")
                }
                continue
            }
            occupied += 1
            if entry.id.slot != UInt32(slot) { problems.append("\(entry.id) stored in slot \(slot)") }
            let published = PublishedEntry(id: entry.id, kind: entry.kind, capability: entry.capability, trust: entry.trust,
                                           preferredDestination: entry.preferredDestination,
                                           securityAssociation: entry.securityAssociation)
            if index.entries.read(entry.id) != published { problems.append("\(entry.id) published record out of date") }
            let eligible = entry.kind == .foreign && entry.trust == .untrusted && entry.referenceCount == 0
            if eligible != (evictionPosition[UInt32(slot)] != nil) { problems.append("\(entry.id) eviction membership wrong") }
            if entry.referenceCount < 0 { problems.append("\(entry.id) negative reference count") }
            switch entry.kind {
            case .foreign:
                if entry.addresses.isEmpty && entry.referenceCount == 0 {
                    problems.append("\(entry.id) has no address and no reference but was not removed (2.1.4)")
                }
                if let preferred = entry.preferredDestination, entry.addresses[preferred]?.state != .live {
                    problems.append("\(entry.id) preferred destination \(preferred) is not a live address")
                }
                if entry.preferredDestination == nil,
                   entry.addresses.values.contains(where: { isLive($0, at: now) }) {
                    problems.append("\(entry.id) has live addresses but no preferred destination")
                }
                for (address, record) in entry.addresses {
                    if record.address != address { problems.append("\(entry.id) record key mismatch \(address)") }
                    if foreignOwner[address] != UInt32(slot) { problems.append("\(entry.id) \(address) missing from owner map") }
                    let expected = IndexedAddress(entry: entry.id, isExpired: record.state != .live).rawValue
                    if index.foreign.lookup(address) != expected { problems.append("\(entry.id) \(address) index value wrong") }
                    if localOwners[address] != nil { problems.append("\(address) is both local and foreign") }
                    if case .permanent = record.lifetime { problems.append("\(entry.id) \(address) foreign but permanent") }
                }
            case .local:
                for address in entry.addresses.keys where !(localOwners[address] ?? []).contains(UInt32(slot)) {
                    problems.append("\(entry.id) local \(address) missing from owner map")
                }
            }
        }
        if occupied + freeSlots.count != slots.count { problems.append("slot accounting: \(occupied) + \(freeSlots.count) free") }
        if Set(freeSlots).count != freeSlots.count { problems.append("free list has duplicates") }
        for (address, slot) in foreignOwner where slots[Int(slot)]?.addresses[address] == nil {
            problems.append("owner map names \(slot) for \(address) but the entry lacks it")
        }
        if index.foreign.count != foreignOwner.count {
            problems.append("foreign index holds \(index.foreign.count), owner map \(foreignOwner.count)")
        }
        if foreignOwner.count > parameters.maximumForeignAddresses { problems.append("foreign address capacity exceeded") }
        for (address, owners) in localOwners {
            if owners.isEmpty || owners != owners.sorted() { problems.append("local owners of \(address) malformed") }
            guard let first = owners.first, let id = slots[Int(first)]?.id else {
                problems.append("local owners of \(address) name a free slot")
                continue
            }
            let expected = IndexedAddress(entry: id, isLocal: true, isShared: owners.count > 1).rawValue
            if index.local.lookup(address) != expected { problems.append("local index value wrong for \(address)") }
        }
        if index.local.count != localOwners.count { problems.append("local index size mismatch") }
        if evictionPool.count != evictionPosition.count { problems.append("eviction pool size mismatch") }
        for (position, slot) in evictionPool.enumerated() where evictionPosition[slot] != position {
            problems.append("eviction position of slot \(slot) wrong")
        }
        return problems
    }
}
