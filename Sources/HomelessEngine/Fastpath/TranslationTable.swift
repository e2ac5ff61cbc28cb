import CHomeless
import HomelessCore
import HomelessWire

/// One peer's translation as the workers see it (DESIGN: ULIDs and
/// locators): the kernel's connection uses `localIdentifier` ->
/// `peerIdentifier`; on the wire the packets carry `localLocator` ->
/// `peerLocator`.
public struct TranslationRecord: Equatable, Sendable {
    public var localIdentifier: IPv6Address
    public var peerIdentifier: IPv6Address
    public var localLocator: IPv6Address
    public var peerLocator: IPv6Address
    /// A second local address inbound packets may be sent to: the one we
    /// announced and the peer may already use while our data still leaves
    /// from `localLocator` (the peer switches when it processes our Binding
    /// Update, before we see its acknowledgement).
    public var alternateLocalLocator: IPv6Address
    /// A second address inbound packets may come from: the peer's newest
    /// address (registered, or not yet verified), which it may already send
    /// from while our data still goes to `peerLocator`.
    public var alternatePeerLocator: IPv6Address
    /// A third: the peer's previous locator, for packets still in flight
    /// when it moved.
    public var previousPeerLocator: IPv6Address
    /// Every address of the peer's Host Cache Entry has expired (draft
    /// 2.2): outbound packets are answered with ICMPv6 address unreachable
    /// instead of being sent.
    public var isPeerUnreachable = false
    /// Binding Updates wait for a data packet to ride on (2.1.2, 2.2.1):
    /// the workers hand small outbound packets to the slow path.
    public var isPiggybackPending = false

    public init(localIdentifier: IPv6Address, peerIdentifier: IPv6Address, localLocator: IPv6Address,
                peerLocator: IPv6Address, alternateLocalLocator: IPv6Address? = nil,
                alternatePeerLocator: IPv6Address? = nil, previousPeerLocator: IPv6Address? = nil) {
        self.localIdentifier = localIdentifier
        self.peerIdentifier = peerIdentifier
        self.localLocator = localLocator
        self.peerLocator = peerLocator
        self.alternateLocalLocator = alternateLocalLocator ?? localLocator
        self.alternatePeerLocator = alternatePeerLocator ?? peerLocator
        self.previousPeerLocator = previousPeerLocator ?? peerLocator
    }

    /// True when the wire addresses are the identifiers: nothing to rewrite.
    public var isIdentity: Bool { localIdentifier == localLocator && peerIdentifier == peerLocator }

    /// Whether an inbound packet `source` -> `destination` (wire
    /// addresses) belongs to this peer's conversation. The destination may
    /// also be our ULID: after we moved our data to a new locator (our
    /// Binding Update was acknowledged), the peer keeps sending to the
    /// old one until it verified the new one by return routability.
    @inline(__always)
    func matchesInbound(source: IPv6Address, destination: IPv6Address) -> Bool {
        (source == peerLocator || source == alternatePeerLocator || source == previousPeerLocator)
            && (destination == localLocator || destination == alternateLocalLocator || destination == localIdentifier)
    }
}

/// A record as a worker found it, with the slot it lives in (for the
/// slot's flow marks).
struct TranslationMatch {
    var record: TranslationRecord
    var slot: Int
}

/// The per-peer translations, published by the slow path (the only
/// writer) to the workers without locks.
///
/// Records live in a fixed array of slots, one per peer, each guarded by
/// its own `Seqlock` word (HomelessCore; odd while written, readers
/// retry). A worker finds a peer's slot through an `AddressIndex` (the
/// Host Cache's lock-free hash, read that comment) keyed by every peer
/// address a record carries: the peer's ULID, its locator, and the
/// alternate and previous peer locators. The index value is the slot and
/// the slot's generation, so a reader that raced a withdraw and the reuse
/// of the slot sees the generation differ and looks the address up again.
/// A lookup is one hash probe and one slot read, whatever the number of
/// peers (a host with thousands of peers, or a gateway).
///
/// Which address a lookup uses (the one the predicate pins to a peer
/// address): outbound the destination (the peer's ULID); inbound the
/// source (a peer locator); the locator conversation the destination (a
/// peer locator or the ULID). The full predicate is then checked on the
/// record read, exactly as a scan checked it, so a hit through a key that
/// moved meanwhile is a miss, never a wrong translation.
///
/// Two records may claim one address (draft 5.3, address confusion: a
/// peer registering a locator that is another peer's ULID or locator).
/// The index holds one slot per address: a record whose ULID is the
/// address wins over records that have it as a locator (an outbound packet
/// to a ULID must find that peer), otherwise the earliest claim wins. When
/// the winner withdraws the address, the next claimant takes the key over;
/// a withdraw removes only keys that point to its own slot.
///
/// Memory: the slots, flow marks and index are sized for `capacity` peers
/// at start (`homeless run --max-peers`), in lazily backed zero pages, so
/// only pages of used slots are resident; nothing grows or moves while
/// workers read. The writer's bookkeeping (slot by peer ULID, freed
/// slots, addresses claimed twice) lives in Swift collections that grow
/// with the peers published; the writer reads records back from the slots.
/// docs/PERFORMANCE.md has the resident memory per peer at 10^6 peers.
public final class TranslationTable: @unchecked Sendable {
    /// Words per slot: seqlock, 7 addresses of 2 words, flags and
    /// generation; 128 octets.
    static let slotWords = 16
    /// Flow marks per slot: two sets of 512 bits (`FlowKind`), one bit per
    /// hash of a TCP/UDP flow's ports (see "Flow marks" below).
    static let flowWordsPerKind = 8
    static let flowWordsPerSlot = 2 * flowWordsPerKind
    static let flowBits = UInt32(flowWordsPerKind * 64)
    /// Peer addresses a record can claim: ULID, locator, alternate and
    /// previous locator.
    static let keysPerRecord = 4
    /// The default `capacity` (`homeless run --max-peers`).
    public static let defaultCapacity = 65_536
    public let capacity: Int
    private let words: UnsafeMutablePointer<UInt64>
    /// Written by every worker (atomic OR), cleared by the slow path when a
    /// slot changes hands.
    private let flowMarks: UnsafeMutablePointer<UInt64>
    private let wordsByteCount: Int
    private let flowByteCount: Int
    /// Every peer address of a published record -> slot | generation << 32.
    /// At most `keysPerRecord` keys per slot, plus as many for the one
    /// record being updated (its new keys are claimed before the old ones
    /// are released), so it is never full.
    let addresses: AddressIndex

    // Writer-side state (slow path only). The records themselves are
    // read back from the slots (the writer's own stores), so the writer
    // keeps no second copy of every peer.
    private var slotOfPeer: [IPv6Address: Int] = [:]
    /// Slots withdrawn and free again (reused first), and the first slot
    /// never used: allocation is O(1) without a list of every free slot.
    private var freeSlots: [Int] = []
    private var neverUsed = 0
    /// Addresses more than one record carries (draft 5.3): the slots other
    /// than the index's owner that claim it, earliest first. Empty unless
    /// peers confuse addresses.
    private var otherClaimants: [IPv6Address: [Int]] = [:]

    public init(capacity: Int = TranslationTable.defaultCapacity, seed: UInt64 = UInt64.random(in: .min ... .max)) {
        self.capacity = max(capacity, 1)
        wordsByteCount = self.capacity * Self.slotWords * 8
        flowByteCount = self.capacity * Self.flowWordsPerSlot * 8
        guard let slotPages = hl_zeroed_pages_allocate(wordsByteCount),
              let flowPages = hl_zeroed_pages_allocate(flowByteCount) else {
            fatalError("TranslationTable: cannot map the slots of \(self.capacity) peers")
        }
        words = slotPages.bindMemory(to: UInt64.self, capacity: self.capacity * Self.slotWords)
        flowMarks = flowPages.bindMemory(to: UInt64.self, capacity: self.capacity * Self.flowWordsPerSlot)
        // Load at most one half when every record claims four addresses
        // (one quarter with the usual two: ULID and locator).
        let keys = (self.capacity + 1) * Self.keysPerRecord
        var slots = 8
        while slots < 2 * self.capacity * Self.keysPerRecord || slots <= keys { slots <<= 1 }
        addresses = AddressIndex(capacity: keys, slotCount: slots, seed: seed)
    }

    deinit {
        hl_zeroed_pages_free(words, wordsByteCount)
        hl_zeroed_pages_free(flowMarks, flowByteCount)
    }

    // MARK: Writer (slow path only)

    /// Publishes `record` for its peer identifier (replacing the previous
    /// one); false when every slot is taken by another peer.
    @discardableResult
    public func publish(_ record: TranslationRecord) -> Bool {
        guard !record.peerIdentifier.isUnspecified else { return false }
        if let slot = slotOfPeer[record.peerIdentifier] {
            let old = read(slot).record
            guard old != record else { return true }
            write(slot, record, generation: generation(of: slot))
            // New keys after the record (a key never leads to a record
            // that does not carry it), stale keys after that.
            let oldKeys = Self.keys(of: old), newKeys = Self.keys(of: record)
            for address in newKeys where !oldKeys.contains(address) { claim(address, slot: slot) }
            for address in oldKeys where !newKeys.contains(address) { release(address, slot: slot) }
            return true
        }
        guard let slot = allocateSlot() else { return false }
        // A slot taken by another peer starts without flows (cleared when
        // it was withdrawn; never-used slots are zero).
        slotOfPeer[record.peerIdentifier] = slot
        write(slot, record, generation: generation(of: slot))
        for address in Self.keys(of: record) { claim(address, slot: slot) }
        return true
    }

    /// Stops translating for `peerIdentifier`.
    public func withdraw(peerIdentifier: IPv6Address) {
        guard let slot = slotOfPeer.removeValue(forKey: peerIdentifier) else { return }
        // Keys first, so a new lookup no longer reaches the slot; a reader
        // that already holds the old value sees the generation change.
        for address in Self.keys(of: read(slot).record) { release(address, slot: slot) }
        write(slot, nil, generation: generation(of: slot) &+ 1)
        clearFlows(slot)
        freeSlots.append(slot)
    }

    /// Peers published.
    public var count: Int { slotOfPeer.count }

    var publishedRecords: [TranslationRecord] { slotOfPeer.values.map { read($0).record } }

    /// The record published for `peerIdentifier` (slow path).
    func publishedRecord(peerIdentifier: IPv6Address) -> TranslationRecord? {
        slotOfPeer[peerIdentifier].map { read($0).record }
    }

    private func allocateSlot() -> Int? {
        if let slot = freeSlots.popLast() { return slot }
        guard neverUsed < capacity else { return nil }
        defer { neverUsed += 1 }
        return neverUsed
    }

    /// The distinct peer addresses `record` carries.
    private static func keys(of record: TranslationRecord) -> [IPv6Address] {
        var keys: [IPv6Address] = []
        for address in [record.peerIdentifier, record.peerLocator, record.alternatePeerLocator,
                        record.previousPeerLocator] where !address.isUnspecified && !keys.contains(address) {
            keys.append(address)
        }
        return keys
    }

    /// The slot the index holds for `address` (writer side).
    private func owner(of address: IPv6Address) -> Int? {
        addresses.lookup(address).map { Int(truncatingIfNeeded: $0 & 0xFFFF_FFFF) }
    }

    /// Points the index entry of `address` at `slot`, current generation.
    private func point(_ address: IPv6Address, to slot: Int) {
        // Never full: see `addresses`.
        let result = addresses.insert(address, value: UInt64(slot) | UInt64(generation(of: slot)) << 32)
        precondition(result == .inserted || result == .updated, "translation index full")
    }

    /// `slot`'s record now carries `address`. It takes the index entry
    /// when the address is free, or when it is the record's ULID and the
    /// owner has it only as a locator; otherwise it waits its turn.
    private func claim(_ address: IPv6Address, slot: Int) {
        guard let owner = owner(of: address) else { return point(address, to: slot) }
        if read(slot).record.peerIdentifier == address, read(owner).record.peerIdentifier != address {
            otherClaimants[address, default: []].insert(owner, at: 0)
            point(address, to: slot)
        } else {
            otherClaimants[address, default: []].append(slot)
        }
    }

    /// `slot`'s record no longer carries `address`. The owner's release
    /// hands the entry to the next claimant (the one whose ULID it is,
    /// else the earliest); with none left the key goes.
    private func release(_ address: IPv6Address, slot: Int) {
        guard owner(of: address) == slot else {
            otherClaimants[address]?.removeAll { $0 == slot }
            if otherClaimants[address]?.isEmpty == true { otherClaimants[address] = nil }
            return
        }
        guard var waiting = otherClaimants.removeValue(forKey: address), !waiting.isEmpty else {
            addresses.remove(address)
            return
        }
        let next = waiting.firstIndex { read($0).record.peerIdentifier == address } ?? 0
        let successor = waiting.remove(at: next)
        if !waiting.isEmpty { otherClaimants[address] = waiting }
        point(address, to: successor)
    }

    private func clearFlows(_ slot: Int) {
        let base = flowMarks + slot * Self.flowWordsPerSlot
        for word in 0..<Self.flowWordsPerSlot { hl_store_relaxed_u64(base + word, 0) }
    }

    /// The slot's generation (high half of its last word): bumped each
    /// time the slot is withdrawn, so an index value taken before is stale.
    private func generation(of slot: Int) -> UInt32 {
        UInt32(truncatingIfNeeded: hl_load_relaxed_u64(words + slot * Self.slotWords + 15) >> 32)
    }

    private func write(_ slot: Int, _ record: TranslationRecord?, generation: UInt32) {
        let base = words + slot * Self.slotWords
        let seqlock = Seqlock(word: base)
        seqlock.beginWrite()
        let unspecified = IPv6Address.unspecified
        let addresses = [record?.localIdentifier ?? unspecified, record?.peerIdentifier ?? unspecified,
                         record?.localLocator ?? unspecified, record?.peerLocator ?? unspecified,
                         record?.alternateLocalLocator ?? unspecified, record?.alternatePeerLocator ?? unspecified,
                         record?.previousPeerLocator ?? unspecified]
        for (index, address) in addresses.enumerated() {
            hl_store_relaxed_u64(base + 1 + index * 2, address.high)
            hl_store_relaxed_u64(base + 2 + index * 2, address.low)
        }
        let flags: UInt64 = (record?.isPeerUnreachable == true ? 1 : 0) | (record?.isPiggybackPending == true ? 2 : 0)
        hl_store_relaxed_u64(base + 15, flags | UInt64(generation) << 32)
        seqlock.endWrite()
    }

    // MARK: Readers (workers)

    /// The translation for an outbound packet `source` -> `destination`
    /// (identifiers, as the kernel sent it).
    @inline(__always)
    func outbound(source: IPv6Address, destination: IPv6Address) -> TranslationRecord? {
        matchOutbound(source: source, destination: destination)?.record
    }

    /// The translation for an inbound packet `source` -> `destination`
    /// (locators, as the wire carried it).
    @inline(__always)
    func inbound(source: IPv6Address, destination: IPv6Address) -> TranslationRecord? {
        matchInbound(source: source, destination: destination)?.record
    }

    @inline(__always)
    func matchOutbound(source: IPv6Address, destination: IPv6Address) -> TranslationMatch? {
        find(destination) { $0.peerIdentifier == destination && $0.localIdentifier == source }
    }

    @inline(__always)
    func matchInbound(source: IPv6Address, destination: IPv6Address) -> TranslationMatch? {
        find(source) { $0.matchesInbound(source: source, destination: destination) }
    }

    /// The record whose outbound translation produced a packet
    /// `source` -> `destination` as an ICMPv6 error quotes it (wire
    /// addresses: one of our locators to one of the peer's), or nil when
    /// no live record translates to these addresses (identity records
    /// included: nothing was rewritten).
    @inline(__always)
    func matchQuotedOutbound(source: IPv6Address, destination: IPv6Address) -> TranslationMatch? {
        find(destination) {
            !$0.isIdentity && (source == $0.localLocator || source == $0.alternateLocalLocator)
                && (destination == $0.peerLocator || destination == $0.alternatePeerLocator
                    || destination == $0.previousPeerLocator)
        }
    }

    /// The record of a peer our kernel sends to from one of our locators
    /// (not the ULID): `source` a local locator, `destination` one of the
    /// peer's locators or its ULID.
    @inline(__always)
    func matchLocatorConversation(source: IPv6Address, destination: IPv6Address) -> TranslationMatch? {
        find(destination) {
            (source == $0.localLocator || source == $0.alternateLocalLocator)
                && (destination == $0.peerIdentifier || destination == $0.peerLocator
                    || destination == $0.alternatePeerLocator || destination == $0.previousPeerLocator)
        }
    }

    // MARK: Flow marks (workers)
    //
    // Translation is per address pair, and after a move two different
    // conversations can have the same wire addresses: the one the kernel
    // opened with our ULID (translated to the new locator) and a new one
    // a kernel opened from the new address itself (not translated).
    // Inbound, only the first may be rewritten to the ULIDs. The workers
    // mark flows (a hash of protocol, local port and peer port into 512
    // bits per peer and kind):
    //   * `identifiers`: the local kernel sent the flow under the ULIDs
    //     (outbound, matching the record's identifiers);
    //   * `locators`: the flow is the kernels' own between the locators:
    //     our kernel sent it from a locator to the peer, or it began with
    //     an inbound TCP SYN that no identifiers flow explains.
    // An inbound TCP/UDP packet matching the record's locators is rewritten
    // unless its flow is marked `locators` only. Unmarked flows (a
    // conversation idle since before the record existed) are rewritten, as
    // every packet was before flows were told apart. A new conversation
    // whose hash collides with a marked identifiers flow is rewritten and
    // fails: probability marked flows / 512 (about 2 % with 10 flows of the
    // peer under its ULID), and only for a conversation the kernels open
    // between the locators after a move, itself rare; an old one never
    // breaks. 512 bits (128 octets a peer for both kinds) instead of 4096
    // keep a million peers at 128 MiB of marks, resident only for peers
    // with traffic. Other protocols (ICMPv6 echo) are rewritten as before.

    enum FlowKind: Int {
        case identifiers = 0
        case locators = 1
    }

    /// The bit of a flow: `localPort`/`peerPort` as the kernel's socket sees them.
    @inline(__always)
    static func flowBit(protocolNumber: UInt8, localPort: UInt16, peerPort: UInt16) -> UInt32 {
        let key = (UInt32(localPort) << 16 | UInt32(peerPort)) ^ (UInt32(protocolNumber) &* 0x0101_0101)
        // Fibonacci hashing: the top 9 bits of the product.
        return (key &* 0x9E37_79B1) >> 23
    }

    @inline(__always)
    func noteFlow(_ kind: FlowKind, slot: Int, bit: UInt32) {
        guard slot >= 0, slot < capacity else { return }
        let word = flowMarks + slot * Self.flowWordsPerSlot + kind.rawValue * Self.flowWordsPerKind
            + Int(bit >> 6 & UInt32(Self.flowWordsPerKind - 1))
        let mask: UInt64 = 1 << UInt64(bit & 63)
        // The common case (already marked) is a load; the OR only for a new flow.
        if hl_load_relaxed_u64(word) & mask == 0 { hl_fetch_or_relaxed_u64(word, mask) }
    }

    @inline(__always)
    func hasFlow(_ kind: FlowKind, slot: Int, bit: UInt32) -> Bool {
        guard slot >= 0, slot < capacity else { return false }
        let word = flowMarks + slot * Self.flowWordsPerSlot + kind.rawValue * Self.flowWordsPerKind
            + Int(bit >> 6 & UInt32(Self.flowWordsPerKind - 1))
        return hl_load_relaxed_u64(word) & (1 << UInt64(bit & 63)) != 0
    }

    /// The record whose slot the index gives for `key`, if it `matches`.
    /// A stale index value (the slot was withdrawn and maybe reused since)
    /// shows as a generation that differs: look the key up again, a few
    /// times at most (each retry means the writer moved on; the answer is
    /// then a miss, as for any lookup racing a withdraw).
    @inline(__always)
    private func find(_ key: IPv6Address, _ matches: (TranslationRecord) -> Bool) -> TranslationMatch? {
        var attempts = 0
        while attempts < 4 {
            attempts += 1
            guard let value = addresses.lookup(key) else { return nil }
            guard let match = record(at: value) else { continue }
            guard !match.record.peerIdentifier.isUnspecified, matches(match.record) else { return nil }
            return match
        }
        return nil
    }

    /// The slot an index value names (slot | generation << 32) as it is
    /// now, or nil when the slot is of another generation: the value is
    /// stale.
    @inline(__always)
    func record(at value: UInt64) -> TranslationMatch? {
        let slot = Int(truncatingIfNeeded: value & 0xFFFF_FFFF)
        guard slot < capacity else { return nil }
        let (record, generation) = read(slot)
        guard generation == UInt32(truncatingIfNeeded: value >> 32) else { return nil }
        return TranslationMatch(record: record, slot: slot)
    }

    /// One consistent copy of a slot and its generation (seqlock read).
    @inline(__always)
    private func read(_ slot: Int) -> (record: TranslationRecord, generation: UInt32) {
        let base = words + slot * Self.slotWords
        let seqlock = Seqlock(word: base)
        while true {
            guard let start = seqlock.readBegin() else { continue }
            var record = TranslationRecord(
                localIdentifier: IPv6Address(high: hl_load_relaxed_u64(base + 1), low: hl_load_relaxed_u64(base + 2)),
                peerIdentifier: IPv6Address(high: hl_load_relaxed_u64(base + 3), low: hl_load_relaxed_u64(base + 4)),
                localLocator: IPv6Address(high: hl_load_relaxed_u64(base + 5), low: hl_load_relaxed_u64(base + 6)),
                peerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 7), low: hl_load_relaxed_u64(base + 8)),
                alternateLocalLocator: IPv6Address(high: hl_load_relaxed_u64(base + 9), low: hl_load_relaxed_u64(base + 10)),
                alternatePeerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 11), low: hl_load_relaxed_u64(base + 12)),
                previousPeerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 13), low: hl_load_relaxed_u64(base + 14)))
            let flags = hl_load_relaxed_u64(base + 15)
            guard seqlock.readValidate(start) else { continue }
            record.isPeerUnreachable = flags & 1 != 0
            record.isPiggybackPending = flags & 2 != 0
            return (record, UInt32(truncatingIfNeeded: flags >> 32))
        }
    }
}
