public import HomelessWire

/// The master Host Cache (draft 2.1): every Local and Foreign Host Cache
/// Entry, their addresses and lifetimes, and the policy rules. It belongs to
/// the slow path and has exactly one user at a time (the slow-path actor);
/// it mirrors every address and entry change into `index`, the lock-free
/// view the fast-path workers read.
///
/// Rules implemented here (draft sections):
/// * 2.1.1 Local entries are created administratively; their addresses are
///   permanent. Foreign entries are created only by the initiating side
///   (`createForeignEntry`); nothing here creates an entry because a packet
///   arrived (2.3.4): receipt APIs (`foreignMatch`, `noteReceived`) only
///   look up.
/// * 2.1.1/2.1.3 Addresses entered by other means than a Binding Update have
///   an activity-related lifetime: DEFAULT-LIFETIME after the last use
///   (`touch`, `noteReceived`). A Binding Update switches an address to an
///   absolute expiry (receipt + lifetime; 0xFFFFFFFF never expires).
/// * 2.1.3 Past its lifetime an address becomes expired and is purged
///   MAXIMUM-EXPIRED-LIFETIME after it expired (`expire()`). Using an expired
///   address does not revive it; only a Binding Update of its entry does.
/// * 2.1.4 A Foreign entry is removed when its last address is gone and its
///   reference count (open connections, `retain`/`release`) is zero. Local
///   entries are removed only administratively.
/// * 1.3 / 5.3 An address belongs to at most one Foreign entry. When entry X
///   claims address A (a Binding Update, or `createForeignEntry`) and A
///   belongs to entry Y:
///     - A live in Y: X's claim is refused and reported as a conflict. Both
///       claims are authenticated by their own SAs and we cannot tell which
///       host really holds A now; moving A silently would hand Y's traffic
///       to X (or let X hijack Y's connections), which is exactly the
///       confusion of 5.3. Y's claim ends by itself (BU lifetime, or
///       DEFAULT-LIFETIME of inactivity for untrusted entries), after which X
///       can register A.
///     - A expired in Y: Y has stopped vouching for A, so A moves to X
///       (reported as `takenOver`), and Y may be removed if that was its last
///       address. Packets from A are from then on X's, never Y's.
///   A received packet whose source is an expired address of Y matches Y
///   only with `isLive == false`: it can reach Y's existing connections but
///   never refreshes Y, never becomes Y's preferred destination and never
///   makes `createForeignEntry` return Y (a new connection to A gets a new
///   entry, with A taken over). Local addresses are ours: adding one removes
///   it from any Foreign entry; a Foreign claim on a local address is a
///   conflict.
/// * 5.2 Capacity is bounded (entries and addresses). When full, a random
///   untrusted Foreign entry with no open connection is evicted (the random
///   source is injected); if there is none the operation fails with
///   `cacheFull` or an address change `noSpace`. Untrusted entries get at
///   most `untrustedLifetimeLimit` (DEFAULT-LIFETIME unless configured,
///   never infinity) for Binding Update lifetimes and hold at most
///   `maximumAddressesPerUntrustedEntry` addresses.
public final class HostCache {
    public let parameters: HostCacheParameters
    public let clock: any MonotonicClock
    /// The fast path's view, kept in step with every change.
    public let index: HostCacheIndex

    var random: any RandomNumberGenerator
    var slots: [HostCacheEntry?]
    var nextGeneration: [UInt32]
    var freeSlots: [UInt32]
    /// Address -> slot of the Foreign entry holding it (live or expired).
    var foreignOwner: [IPv6Address: UInt32] = [:]
    /// Address -> slots of the Local entries holding it, ascending.
    var localOwners: [IPv6Address: [UInt32]] = [:]
    /// Untrusted Foreign entries without references: the eviction candidates
    /// (5.2), with positions for O(1) removal.
    var evictionPool: [UInt32] = []
    var evictionPosition: [UInt32: Int] = [:]
    /// While set, evicted / removed entries are collected for the result
    /// of the running operation (then cleared, so memory stays bounded).
    var recordingRemovals = false
    var evictedDuringOperation: [HostCacheEntryID] = []
    var removedDuringOperation: [HostCacheEntryID] = []
    /// Next slot the incremental expiry sweep examines.
    var sweepCursor = 0
    /// Slots at or past this one were never used: the free list hands out
    /// the lowest slots first (a freed slot is reused before a new one), so
    /// walks over the entries (`entryIDs`, the expiry sweep) cost the peak
    /// number of entries, not `maximumEntries` (`homeless run --max-peers`
    /// may reserve a million).
    var slotsEverUsed = 0

    /// - Parameters:
    ///   - random: source for random eviction and the index hash seed; pass a
    ///     seeded `SplitMix64` for reproducible runs.
    public init(parameters: HostCacheParameters = HostCacheParameters(),
                clock: any MonotonicClock,
                random: any RandomNumberGenerator = SystemRandomNumberGenerator()) {
        precondition(parameters.maximumEntries >= 1 && parameters.maximumEntries <= Int(UInt32.max),
                     "maximumEntries out of range")
        precondition(parameters.maximumForeignAddresses >= 1 && parameters.maximumLocalAddresses >= 1,
                     "address capacities must be positive")
        self.parameters = parameters
        self.clock = clock
        self.random = random
        let seed = self.random.next()
        index = HostCacheIndex(foreignCapacity: parameters.maximumForeignAddresses,
                               localCapacity: parameters.maximumLocalAddresses,
                               entryCapacity: parameters.maximumEntries, seed: seed)
        slots = Array(repeating: nil, count: parameters.maximumEntries)
        nextGeneration = Array(repeating: 1, count: parameters.maximumEntries)
        freeSlots = (0..<UInt32(parameters.maximumEntries)).reversed()
    }

    // MARK: - Reading

    public var entryCount: Int { slots.count - freeSlots.count }
    public var foreignAddressCount: Int { foreignOwner.count }
    public var localAddressCount: Int { localOwners.count }

    /// A copy of the entry, or nil when `id` is stale or unknown.
    public func entry(_ id: HostCacheEntryID) -> HostCacheEntry? {
        guard let slot = validSlot(id) else { return nil }
        return slots[slot]
    }

    /// Every live entry's identifier, in slot order.
    public var entryIDs: [HostCacheEntryID] { slots[..<slotsEverUsed].compactMap { $0?.id } }

    /// The Foreign entry holding `address` (receipt path: looks up, never creates).
    public func foreignMatch(for address: IPv6Address) -> ForeignMatch? {
        guard let slot = foreignOwner[address], let entry = slots[Int(slot)],
              let record = entry.addresses[address] else { return nil }
        return ForeignMatch(entry: entry.id, isLive: isLive(record, at: clock.now))
    }

    /// The Local entries holding `address` (a received packet's destination must be one, 1.4).
    public func localEntries(containing address: IPv6Address) -> [HostCacheEntryID] {
        (localOwners[address] ?? []).compactMap { slots[Int($0)]?.id }
    }

    // MARK: - Local entries (2.1.1)

    /// Creates an empty Local entry (administrative action). May evict an
    /// untrusted Foreign entry when all entry slots are used.
    @discardableResult
    public func createLocalEntry() throws(HostCacheError) -> HostCacheEntryID {
        guard ensureRoom(entrySlots: 1, foreignAddresses: 0, protecting: nil) else { throw .cacheFull }
        return allocateEntry(kind: .local, trust: .trusted)
    }

    /// Adds a permanent local address (learned from netlink) to a Local entry.
    /// A Foreign entry holding the address loses it: the address is ours now.
    @discardableResult
    public func addLocalAddress(_ address: IPv6Address, to id: HostCacheEntryID) throws(HostCacheError) -> [AddressChange] {
        let slot = try requireSlot(id, kind: .local)
        guard !address.isUnspecified, !address.isMulticast else { throw .invalidAddress(address) }
        var changes: [AddressChange] = []
        if slots[slot]?.addresses[address] != nil { return [AddressChange(address: address, entry: id, kind: .refreshed)] }
        if localOwners[address] == nil && localOwners.count >= parameters.maximumLocalAddresses { throw .cacheFull }
        if let foreignSlot = foreignOwner[address] {
            changes.append(removeForeignAddress(address, slot: foreignSlot, kind: .removed))
            removeEntryIfDead(foreignSlot, into: &changes)
        }
        let now = clock.now
        slots[slot]?.addresses[address] = HostCacheAddress(address: address, lifetime: .permanent, state: .live, refreshedAt: now)
        var owners = localOwners[address] ?? []
        owners.append(UInt32(slot))
        owners.sort()
        localOwners[address] = owners
        publishLocal(address)
        changes.append(AddressChange(address: address, entry: id, kind: .added))
        return changes
    }

    /// Removes a local address from a Local entry (netlink: address gone).
    @discardableResult
    public func removeLocalAddress(_ address: IPv6Address, from id: HostCacheEntryID) throws(HostCacheError) -> AddressChange {
        let slot = try requireSlot(id, kind: .local)
        guard slots[slot]?.addresses.removeValue(forKey: address) != nil else { throw .addressNotInEntry(address, id) }
        var owners = localOwners[address] ?? []
        owners.removeAll { $0 == UInt32(slot) }
        localOwners[address] = owners.isEmpty ? nil : owners
        publishLocal(address)
        return AddressChange(address: address, entry: id, kind: .removed)
    }

    // MARK: - Foreign entries (2.1.1, 5.2)

    /// Creates the Foreign entry for a peer we are about to send to as the
    /// initiating side (2.1.1). `address` and `additional` addresses (e.g.
    /// from DNS) get an activity-related lifetime.
    ///
    /// Returns `.existing` when `address` is already live in a Foreign entry
    /// (one entry per personality); `additional` is then ignored. An
    /// `address` that is only expired in some entry does not count: the new
    /// entry takes it over (5.3, see the type comment).
    /// Throws `addressConflict` when an additional address is live in another
    /// entry or `address` is local, `invalidAddress` for unspecified,
    /// loopback or multicast addresses, and `cacheFull` when neither a free
    /// slot nor an evictable untrusted entry is available.
    public func createForeignEntry(for address: IPv6Address, alsoKnownAs additional: [IPv6Address] = [],
                                   trust: TrustClass = .untrusted) throws(HostCacheError) -> ForeignEntryCreation {
        let now = clock.now
        if let match = foreignMatch(for: address), match.isLive { return .existing(match.entry) }
        var wanted: [IPv6Address] = []
        for candidate in [address] + additional where !wanted.contains(candidate) {
            guard isUsableForeignAddress(candidate) else { throw .invalidAddress(candidate) }
            if let local = localOwners[candidate]?.first, let owner = slots[Int(local)] {
                throw .addressConflict(candidate, owner: owner.id)
            }
            if let ownerSlot = foreignOwner[candidate], let owner = slots[Int(ownerSlot)],
               let record = owner.addresses[candidate], isLive(record, at: now) {
                throw .addressConflict(candidate, owner: owner.id)
            }
            wanted.append(candidate)
        }
        let newAddresses = wanted.filter { foreignOwner[$0] == nil }.count
        beginRecordingRemovals()
        defer { endRecordingRemovals() }
        guard ensureRoom(entrySlots: 1, foreignAddresses: newAddresses, protecting: nil) else { throw .cacheFull }
        let evicted = evictedDuringOperation
        let id = allocateEntry(kind: .foreign, trust: trust)
        let slot = Int(id.slot)
        var changes: [AddressChange] = []
        for candidate in wanted {
            changes.append(addForeignAddress(candidate, slot: slot, lifetime: .activity(lastUse: now), now: now))
        }
        slots[slot]?.preferredDestination = address
        publishEntry(slot)
        return .created(id, evicted: evicted, changes: changes)
    }

    /// Erases an entry on request (5.2: an upper layer may drop entries it
    /// created). Refused while connections refer to it.
    public func removeEntry(_ id: HostCacheEntryID) throws(HostCacheError) -> [AddressChange] {
        guard let slot = validSlot(id) else { throw .unknownEntry(id) }
        guard slots[slot]?.referenceCount == 0 else { throw .entryInUse(id) }
        return freeEntry(slot)
    }

    // MARK: - Per-entry state

    /// One more open connection refers to the entry (2.1.4).
    public func retain(_ id: HostCacheEntryID) throws(HostCacheError) {
        guard let slot = validSlot(id) else { throw .unknownEntry(id) }
        slots[slot]?.referenceCount += 1
        updateEvictionMembership(slot)
    }

    /// A connection referring to the entry closed. Returns true when this
    /// removed the entry (no address left, 2.1.4).
    @discardableResult
    public func release(_ id: HostCacheEntryID) throws(HostCacheError) -> Bool {
        guard let slot = validSlot(id) else { throw .unknownEntry(id) }
        guard let count = slots[slot]?.referenceCount, count > 0 else { throw .notRetained(id) }
        slots[slot]?.referenceCount = count - 1
        updateEvictionMembership(slot)
        var changes: [AddressChange] = []
        return removeEntryIfDead(UInt32(slot), into: &changes)
    }

    /// Marks a Foreign entry trusted or untrusted (5.2: e.g. TCP after the
    /// third handshake packet).
    public func setTrust(_ trust: TrustClass, for id: HostCacheEntryID) throws(HostCacheError) {
        let slot = try requireSlot(id, kind: .foreign)
        slots[slot]?.trust = trust
        updateEvictionMembership(slot)
        publishEntry(slot)
    }

    /// Records what the peer runs (e.g. `.standard` after an ICMPv6
    /// Parameter Problem for our Initial BU, 2.2.4).
    public func setCapability(_ capability: PeerCapability, for id: HostCacheEntryID) throws(HostCacheError) {
        let slot = try requireSlot(id, kind: .foreign)
        slots[slot]?.capability = capability
        publishEntry(slot)
    }

    /// Binds (or unbinds) the opaque AH SA identifier to the entry (2.4.2).
    public func setSecurityAssociation(_ association: UInt64?, for id: HostCacheEntryID) throws(HostCacheError) {
        guard let slot = validSlot(id) else { throw .unknownEntry(id) }
        slots[slot]?.securityAssociation = association
        publishEntry(slot)
    }

    /// Chooses the destination explicitly; it must be a live address of the entry.
    public func setPreferredDestination(_ address: IPv6Address, for id: HostCacheEntryID) throws(HostCacheError) {
        let slot = try requireSlot(id, kind: .foreign)
        guard let record = slots[slot]?.addresses[address], isLive(record, at: clock.now) else {
            throw .addressNotInEntry(address, id)
        }
        slots[slot]?.preferredDestination = address
        publishEntry(slot)
    }

    /// The sequence number for the next Binding Update we send to this peer
    /// (modulo 2^16).
    public func nextSendSequence(for id: HostCacheEntryID) throws(HostCacheError) -> UInt16 {
        guard let slot = validSlot(id), let current = slots[slot]?.sendSequence else { throw .unknownEntry(id) }
        slots[slot]?.sendSequence = current &+ 1
        return current &+ 1
    }

    // MARK: - Use (activity lifetimes, preferred destination)

    /// A packet arrived from `source`, matched to Foreign entry `id`.
    /// If `source` is a live address of the entry it becomes the preferred
    /// destination (1.4) and its activity lifetime restarts. An expired or
    /// foreign-to-the-entry source changes nothing (5.3). Returns whether the
    /// entry was updated.
    @discardableResult
    public func noteReceived(from source: IPv6Address, entry id: HostCacheEntryID) -> Bool {
        guard let slot = validSlot(id), slots[slot]?.kind == .foreign,
              let record = slots[slot]?.addresses[source] else { return false }
        let now = clock.now
        guard isLive(record, at: now) else { return false }
        refreshActivity(source, slot: slot, now: now)
        if slots[slot]?.preferredDestination != source {
            slots[slot]?.preferredDestination = source
            publishEntry(slot)
        }
        return true
    }

    /// `address` was used (e.g. sent to): restarts its activity-related
    /// lifetime. Absolute lifetimes and expired addresses are unaffected.
    /// Returns whether a live address was found.
    @discardableResult
    public func touch(_ address: IPv6Address) -> Bool {
        guard let slot = foreignOwner[address], let record = slots[Int(slot)]?.addresses[address] else { return false }
        let now = clock.now
        guard isLive(record, at: now) else { return false }
        refreshActivity(address, slot: Int(slot), now: now)
        return true
    }

    // MARK: - Expiry (2.1.3, 2.1.4)

    /// Moves addresses past their lifetime to expired, purges those expired
    /// for MAXIMUM-EXPIRED-LIFETIME, removes Foreign entries left without
    /// addresses and references. Call periodically (the slow path's timer);
    /// cost is linear in the number of entries.
    @discardableResult
    public func expire() -> ExpiryReport {
        expire(slotBudget: slotsEverUsed)
    }

    /// Incremental sweep: examines at most `slotBudget` entry slots, resuming
    /// where the previous call stopped, so a large cache can be swept in
    /// bounded slices without stalling the slow path. Addresses are judged
    /// by their exact deadlines; a full cycle over all slots bounds how late
    /// an expired address is purged after MAXIMUM-EXPIRED-LIFETIME.
    @discardableResult
    public func expire(slotBudget: Int) -> ExpiryReport {
        let now = clock.now
        var report = ExpiryReport()
        for _ in 0..<min(max(slotBudget, 0), slotsEverUsed) {
            let slot = sweepCursor
            sweepCursor = sweepCursor + 1 >= slotsEverUsed ? 0 : sweepCursor + 1
            guard let entry = slots[slot], entry.kind == .foreign,
                  entry.addresses.values.contains(where: { needsSweep($0, at: now) }) else { continue }
            for record in entry.addresses.values.sorted(by: { $0.address < $1.address }) {
                var state = record.state
                if state == .live, let deadline = record.expiry(defaultLifetime: parameters.defaultLifetime),
                   deadline <= now {
                    state = .expired(since: deadline)
                    report.changes.append(expireForeignAddress(record.address, slot: slot, since: deadline))
                }
                if case .expired(let since) = state,
                   since.adding(seconds: parameters.maximumExpiredLifetime) <= now {
                    report.changes.append(removeForeignAddress(record.address, slot: UInt32(slot), kind: .purged))
                }
            }
            repairPreferredDestination(slot, now: now)
            var changes: [AddressChange] = []
            if removeEntryIfDead(UInt32(slot), into: &changes) { report.removedEntries.append(entry.id) }
        }
        return report
    }

    /// True when the sweep has something to do for this address at `now`.
    func needsSweep(_ record: HostCacheAddress, at now: MonotonicInstant) -> Bool {
        switch record.state {
        case .live:
            guard let deadline = record.expiry(defaultLifetime: parameters.defaultLifetime) else { return false }
            return deadline <= now
        case .expired(let since):
            return since.adding(seconds: parameters.maximumExpiredLifetime) <= now
        }
    }

    // MARK: - Internals

    /// Live at `now` by its deadline, even if the sweep has not run yet.
    func isLive(_ record: HostCacheAddress, at now: MonotonicInstant) -> Bool {
        guard record.state == .live else { return false }
        guard let deadline = record.expiry(defaultLifetime: parameters.defaultLifetime) else { return true }
        return now < deadline
    }

    func isUsableForeignAddress(_ address: IPv6Address) -> Bool {
        !address.isUnspecified && !address.isMulticast && !address.isLoopback
    }

    func validSlot(_ id: HostCacheEntryID) -> Int? {
        let slot = Int(id.slot)
        guard slot < slots.count, let entry = slots[slot], entry.id == id else { return nil }
        return slot
    }

    func requireSlot(_ id: HostCacheEntryID, kind: HostCacheEntryKind) throws(HostCacheError) -> Int {
        guard let slot = validSlot(id) else { throw .unknownEntry(id) }
        guard slots[slot]?.kind == kind else { throw .wrongKind(id) }
        return slot
    }

    func allocateEntry(kind: HostCacheEntryKind, trust: TrustClass) -> HostCacheEntryID {
        guard let slot = freeSlots.popLast() else { preconditionFailure("allocateEntry without room") }
        slotsEverUsed = max(slotsEverUsed, Int(slot) + 1)
        let id = HostCacheEntryID(slot: slot, generation: nextGeneration[Int(slot)])
        nextGeneration[Int(slot)] = (nextGeneration[Int(slot)] &+ 1) & HostCacheEntryID.generationMask
        slots[Int(slot)] = HostCacheEntry(
            id: id, kind: kind, addresses: [:], capability: .unknown, trust: trust, preferredDestination: nil,
            lastAcceptedSequence: nil, sendSequence: 0, securityAssociation: nil, referenceCount: 0,
            createdAt: clock.now)
        updateEvictionMembership(Int(slot))
        publishEntry(Int(slot))
        return id
    }

    /// Frees a slot and every address of its entry.
    func freeEntry(_ slot: Int) -> [AddressChange] {
        guard let entry = slots[slot] else { return [] }
        var changes: [AddressChange] = []
        for address in entry.addresses.keys.sorted() {
            switch entry.kind {
            case .foreign:
                changes.append(removeForeignAddress(address, slot: UInt32(slot), kind: .entryRemoved))
            case .local:
                var owners = localOwners[address] ?? []
                owners.removeAll { $0 == UInt32(slot) }
                localOwners[address] = owners.isEmpty ? nil : owners
                slots[slot]?.addresses[address] = nil
                publishLocal(address)
                changes.append(AddressChange(address: address, entry: entry.id, kind: .entryRemoved))
            }
        }
        slots[slot] = nil
        if recordingRemovals { removedDuringOperation.append(entry.id) }
        updateEvictionMembership(slot)
        freeSlots.append(UInt32(slot))
        index.entries.clear(slot: UInt32(slot))
        return changes
    }

    func beginRecordingRemovals() {
        recordingRemovals = true
        evictedDuringOperation.removeAll()
        removedDuringOperation.removeAll()
    }

    func endRecordingRemovals() {
        recordingRemovals = false
        evictedDuringOperation.removeAll()
        removedDuringOperation.removeAll()
    }

    /// 2.1.4: a Foreign entry goes when no address and no reference is left.
    @discardableResult
    func removeEntryIfDead(_ slot: UInt32, into changes: inout [AddressChange]) -> Bool {
        guard let entry = slots[Int(slot)], entry.kind == .foreign,
              entry.addresses.isEmpty, entry.referenceCount == 0 else { return false }
        changes += freeEntry(Int(slot))
        return true
    }

    /// Makes room for new entries/addresses by evicting random untrusted,
    /// unreferenced Foreign entries (5.2), never `protecting`.
    func ensureRoom(entrySlots: Int, foreignAddresses: Int, protecting: Int?) -> Bool {
        while freeSlots.count < entrySlots
            || foreignOwner.count + foreignAddresses > parameters.maximumForeignAddresses {
            guard foreignAddresses <= parameters.maximumForeignAddresses, evictRandomEntry(protecting: protecting) else {
                return false
            }
        }
        return true
    }

    func evictRandomEntry(protecting: Int?) -> Bool {
        var candidates = evictionPool.count
        var excludedPosition = Int.max
        if let protected = protecting, let position = evictionPosition[UInt32(protected)] {
            candidates -= 1
            excludedPosition = position
        }
        guard candidates > 0 else { return false }
        var pick = Int(random.next().multipliedFullWidth(by: UInt64(candidates)).high)
        if pick >= excludedPosition { pick += 1 }
        let victim = Int(evictionPool[pick])
        if recordingRemovals, let id = slots[victim]?.id { evictedDuringOperation.append(id) }
        _ = freeEntry(victim)
        return true
    }

    func updateEvictionMembership(_ slot: Int) {
        let key = UInt32(slot)
        let eligible = slots[slot].map { $0.kind == .foreign && $0.trust == .untrusted && $0.referenceCount == 0 } ?? false
        let position = evictionPosition[key]
        if eligible, position == nil {
            evictionPosition[key] = evictionPool.count
            evictionPool.append(key)
        } else if !eligible, let position {
            let last = evictionPool.removeLast()
            if position < evictionPool.count {
                evictionPool[position] = last
                evictionPosition[last] = position
            }
            evictionPosition[key] = nil
        }
    }

    /// Adds or refreshes `address` in Foreign entry `slot`, applying the
    /// one-owner/5.3 rule and capacity policy (see the type comment).
    func addForeignAddress(_ address: IPv6Address, slot: Int, lifetime: AddressLifetime,
                           now: MonotonicInstant) -> AddressChange {
        guard let id = slots[slot]?.id else { preconditionFailure("addForeignAddress to empty slot") }
        guard isUsableForeignAddress(address) else { return AddressChange(address: address, entry: id, kind: .invalid) }
        if let local = localOwners[address]?.first, let owner = slots[Int(local)] {
            return AddressChange(address: address, entry: id, kind: .conflict(owner: owner.id))
        }
        // 5.2: an untrusted peer holds a bounded share of the cache.
        if foreignOwner[address] != UInt32(slot), let entry = slots[slot], entry.trust == .untrusted,
           entry.addresses.count >= parameters.maximumAddressesPerUntrustedEntry {
            return AddressChange(address: address, entry: id, kind: .noSpace)
        }
        var kind = AddressChange.Kind.added
        if let ownerSlot = foreignOwner[address] {
            if Int(ownerSlot) == slot {
                slots[slot]?.addresses[address]?.lifetime = lifetime
                slots[slot]?.addresses[address]?.state = .live
                slots[slot]?.addresses[address]?.refreshedAt = now
                index.foreign.update(address, value: indexValue(slot: slot, expired: false))
                return AddressChange(address: address, entry: id, kind: .refreshed)
            }
            guard let owner = slots[Int(ownerSlot)], let record = owner.addresses[address] else {
                preconditionFailure("foreignOwner out of step with entries")
            }
            if isLive(record, at: now) {
                return AddressChange(address: address, entry: id, kind: .conflict(owner: owner.id))
            }
            _ = removeForeignAddress(address, slot: ownerSlot, kind: .removed)
            var discarded: [AddressChange] = []
            removeEntryIfDead(ownerSlot, into: &discarded)
            kind = .takenOver(from: owner.id)
        } else if !ensureRoom(entrySlots: 0, foreignAddresses: 1, protecting: slot) {
            return AddressChange(address: address, entry: id, kind: .noSpace)
        }
        slots[slot]?.addresses[address] = HostCacheAddress(address: address, lifetime: lifetime, state: .live, refreshedAt: now)
        foreignOwner[address] = UInt32(slot)
        index.foreign.insert(address, value: indexValue(slot: slot, expired: false))
        return AddressChange(address: address, entry: id, kind: kind)
    }

    /// Marks `address` of Foreign entry `slot` expired since `since`: it
    /// stays in the entry (and in the index, flagged expired) so a packet
    /// still arriving from it is recognised, until the sweep purges it
    /// after MAXIMUM-EXPIRED-LIFETIME (2.1.3); another entry may take it
    /// over at once (5.3). The caller repairs the preferred destination
    /// where needed (the sweep does so per entry).
    @discardableResult
    func expireForeignAddress(_ address: IPv6Address, slot: Int, since: MonotonicInstant) -> AddressChange {
        let id = slots[slot]?.id ?? HostCacheEntryID(slot: UInt32(slot), generation: 0)
        slots[slot]?.addresses[address]?.state = .expired(since: since)
        if foreignOwner[address] == UInt32(slot) {
            index.foreign.update(address, value: indexValue(slot: slot, expired: true))
        }
        return AddressChange(address: address, entry: id, kind: .expired)
    }

    /// Deletes `address` from Foreign entry `slot` (the entry itself stays;
    /// callers run `removeEntryIfDead`).
    func removeForeignAddress(_ address: IPv6Address, slot: UInt32, kind: AddressChange.Kind) -> AddressChange {
        let id = slots[Int(slot)]?.id ?? HostCacheEntryID(slot: slot, generation: 0)
        slots[Int(slot)]?.addresses[address] = nil
        if foreignOwner[address] == slot {
            foreignOwner[address] = nil
            index.foreign.remove(address)
        }
        if slots[Int(slot)]?.preferredDestination == address {
            repairPreferredDestination(Int(slot), now: clock.now)
        }
        return AddressChange(address: address, entry: id, kind: kind)
    }

    func refreshActivity(_ address: IPv6Address, slot: Int, now: MonotonicInstant) {
        if case .activity = slots[slot]?.addresses[address]?.lifetime {
            slots[slot]?.addresses[address]?.lifetime = .activity(lastUse: now)
        }
    }

    /// Keeps the preferred destination a live address: if it is not, picks
    /// the most recently refreshed live address (ties: lowest address).
    func repairPreferredDestination(_ slot: Int, now: MonotonicInstant) {
        guard let entry = slots[slot] else { return }
        if let current = entry.preferredDestination, let record = entry.addresses[current], isLive(record, at: now) {
            return
        }
        let best = entry.addresses.values.filter { isLive($0, at: now) }.max { lhs, rhs in
            lhs.refreshedAt != rhs.refreshedAt ? lhs.refreshedAt < rhs.refreshedAt : lhs.address > rhs.address
        }
        slots[slot]?.preferredDestination = best?.address
        publishEntry(slot)
    }

    func indexValue(slot: Int, expired: Bool) -> UInt64 {
        guard let id = slots[slot]?.id else { return 0 }
        return IndexedAddress(entry: id, isExpired: expired).rawValue
    }

    /// Mirrors the Local owners of `address` into the local index.
    func publishLocal(_ address: IPv6Address) {
        guard let owners = localOwners[address], let first = owners.first, let id = slots[Int(first)]?.id else {
            index.local.remove(address)
            return
        }
        index.local.insert(address, value: IndexedAddress(entry: id, isLocal: true, isShared: owners.count > 1).rawValue)
    }

    func publishEntry(_ slot: Int) {
        guard let entry = slots[slot] else { return }
        index.entries.publish(PublishedEntry(
            id: entry.id, kind: entry.kind, capability: entry.capability, trust: entry.trust,
            preferredDestination: entry.preferredDestination, securityAssociation: entry.securityAssociation))
    }
}
