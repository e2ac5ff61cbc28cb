import HomelessCore
import HomelessWire

/// Host Cache invariants, checked through the public API only (so they do
/// not share code, or bugs, with `HostCache.invariantViolations`):
/// * an address belongs to at most one Foreign entry, and never to a Foreign
///   and a Local entry at once (draft 1.3, 5.3);
/// * the fast-path index agrees with the master cache, both ways: every
///   cache address is indexed with the right entry and state, and the index
///   holds nothing else (no stale keys after removals, evictions, purges);
/// * capacity bounds hold (entries, foreign and local addresses, 5.2);
/// * after an expiry sweep no address is live past its lifetime and none is
///   kept expired past MAXIMUM-EXPIRED-LIFETIME (2.1.3);
/// * a Foreign entry's preferred destination is one of its live addresses,
///   and the published record the workers read says the same (1.4).
struct CacheAudit {
    let cache: HostCache

    mutating func check(afterExpiry: Bool) {
        let violations = cache.invariantViolations()
        require(violations.isEmpty, "HostCache.invariantViolations: \(violations)")

        let parameters = cache.parameters
        let now = cache.clock.now
        let entries = cache.entryIDs.compactMap { cache.entry($0) }
        require(entries.count == cache.entryCount, "entryIDs lists \(entries.count), entryCount \(cache.entryCount)")
        require(entries.count <= parameters.maximumEntries, "\(entries.count) entries, capacity \(parameters.maximumEntries)")

        var foreignOwner: [IPv6Address: HostCacheEntry] = [:]
        var localOwners: [IPv6Address: [HostCacheEntryID]] = [:]
        for entry in entries {
            switch entry.kind {
            case .foreign:
                for (address, record) in entry.addresses {
                    require(record.address == address, "\(entry.id) keeps \(record.address) under \(address)")
                    if let other = foreignOwner[address] {
                        fatalError("invariant broken: \(address) belongs to \(other.id) and \(entry.id)")
                    }
                    foreignOwner[address] = entry
                    checkLifetime(record, of: entry, now: now, afterExpiry: afterExpiry)
                }
                if let preferred = entry.preferredDestination {
                    require(entry.addresses[preferred]?.isLive == true, "\(entry.id) prefers \(preferred), not a live address")
                }
                require(cache.index.entries.preferredDestination(of: entry.id) == entry.preferredDestination,
                        "\(entry.id) published destination differs from the cache")
            case .local:
                for address in entry.addresses.keys { localOwners[address, default: []].append(entry.id) }
            }
        }

        require(foreignOwner.count == cache.foreignAddressCount, "foreign address count")
        require(foreignOwner.count <= parameters.maximumForeignAddresses,
                "\(foreignOwner.count) foreign addresses, capacity \(parameters.maximumForeignAddresses)")
        require(localOwners.count == cache.localAddressCount && localOwners.count <= parameters.maximumLocalAddresses,
                "\(localOwners.count) local addresses, capacity \(parameters.maximumLocalAddresses)")

        // Master -> index.
        for (address, owner) in foreignOwner {
            require(localOwners[address] == nil, "\(address) is both local and foreign")
            guard let indexed = cache.index.lookupForeign(address) else {
                fatalError("invariant broken: \(address) of \(owner.id) missing from the fast-path index")
            }
            require(indexed.entry == owner.id, "index names \(indexed.entry) for \(address), cache \(owner.id)")
            require(indexed.isExpired == !(owner.addresses[address]?.isLive ?? false), "index expiry flag of \(address)")
            require(!indexed.isLocal, "foreign \(address) indexed as local")
            require(cache.foreignMatch(for: address)?.entry == owner.id, "foreignMatch(\(address)) disagrees")
        }
        for (address, owners) in localOwners {
            let sorted = owners.sorted { $0.slot < $1.slot }
            require(cache.localEntries(containing: address) == sorted, "localEntries(\(address))")
            guard let indexed = cache.index.lookupLocal(address) else {
                fatalError("invariant broken: local \(address) missing from the fast-path index")
            }
            require(indexed.entry == sorted[0] && indexed.isLocal && indexed.isShared == (sorted.count > 1),
                    "local index value for \(address)")
        }
        // Index -> master: nothing stale.
        let foreignIndexed = cache.index.foreign.contents()
        require(foreignIndexed.count == foreignOwner.count && cache.index.foreign.count == foreignOwner.count,
                "foreign index holds \(foreignIndexed.count) keys, cache \(foreignOwner.count)")
        for (address, _) in foreignIndexed { require(foreignOwner[address] != nil, "stale foreign index key \(address)") }
        let localIndexed = cache.index.local.contents()
        require(localIndexed.count == localOwners.count, "local index holds \(localIndexed.count) keys, cache \(localOwners.count)")
        for (address, _) in localIndexed { require(localOwners[address] != nil, "stale local index key \(address)") }
        require(cache.index.foreign.count <= cache.index.foreign.capacity, "index over capacity")
    }

    func checkLifetime(_ record: HostCacheAddress, of entry: HostCacheEntry, now: MonotonicInstant, afterExpiry: Bool) {
        if case .permanent = record.lifetime { fatalError("invariant broken: foreign \(record.address) has a permanent lifetime") }
        guard afterExpiry else { return }
        switch record.state {
        case .live:
            if let deadline = record.expiry(defaultLifetime: cache.parameters.defaultLifetime) {
                require(deadline > now, "\(entry.id) \(record.address) live past its lifetime after expire()")
            }
        case .expired(let since):
            require(since <= now, "\(record.address) expired in the future")
            require(since.adding(seconds: cache.parameters.maximumExpiredLifetime) > now,
                    "\(entry.id) \(record.address) kept past MAXIMUM-EXPIRED-LIFETIME after expire()")
        }
    }
}
