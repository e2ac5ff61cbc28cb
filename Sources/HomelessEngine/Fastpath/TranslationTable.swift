import CHomeless
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
/// writer) to the workers without locks. A fixed array of slots, each
/// guarded by its own seqlock word (the scheme of `Seqlock` in
/// HomelessCore: odd while written, readers retry), plus a published slot
/// count. Lookups scan the used slots: peers doing mobility are few, and a
/// scan of a few cache lines costs less than hashing. Readers allocate
/// nothing and never block; a reader racing a write retries that slot.
public final class TranslationTable: @unchecked Sendable {
    /// Words per slot: seqlock, 7 addresses of 2 words, flags; 128 octets.
    static let slotWords = 16
    /// Flow marks per slot: two sets of 4096 bits (`FlowKind`), one bit per
    /// hash of a TCP/UDP flow's ports (see "Flow marks" below).
    static let flowWordsPerKind = 64
    static let flowWordsPerSlot = 2 * flowWordsPerKind
    static let flowBits = UInt32(flowWordsPerKind * 64)
    public let capacity: Int
    private let words: UnsafeMutablePointer<UInt64>
    /// Written by every worker (atomic OR), cleared by the slow path when a
    /// slot changes hands.
    private let flowMarks: UnsafeMutablePointer<UInt64>
    /// Number of slots ever used (only grows; an unused slot is all zero).
    private let usedCount: UnsafeMutablePointer<UInt64>
    /// Writer-side mirror of the published records.
    private var records: [TranslationRecord?]

    public init(capacity: Int = 256) {
        self.capacity = max(capacity, 1)
        let count = self.capacity * Self.slotWords
        let raw = UnsafeMutableRawPointer.allocate(byteCount: count * 8, alignment: 64)
        raw.initializeMemory(as: UInt8.self, repeating: 0, count: count * 8)
        words = raw.bindMemory(to: UInt64.self, capacity: count)
        let flowCount = self.capacity * Self.flowWordsPerSlot
        let flowRaw = UnsafeMutableRawPointer.allocate(byteCount: flowCount * 8, alignment: 64)
        flowRaw.initializeMemory(as: UInt8.self, repeating: 0, count: flowCount * 8)
        flowMarks = flowRaw.bindMemory(to: UInt64.self, capacity: flowCount)
        let countRaw = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        countRaw.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        usedCount = countRaw.bindMemory(to: UInt64.self, capacity: 8)
        records = Array(repeating: nil, count: self.capacity)
    }

    deinit {
        UnsafeMutableRawPointer(words).deallocate()
        UnsafeMutableRawPointer(flowMarks).deallocate()
        UnsafeMutableRawPointer(usedCount).deallocate()
    }

    // MARK: Writer (slow path only)

    /// Publishes `record` for its peer identifier (replacing the previous
    /// one); false when the table is full.
    @discardableResult
    public func publish(_ record: TranslationRecord) -> Bool {
        let slot = records.firstIndex { $0?.peerIdentifier == record.peerIdentifier }
            ?? records.firstIndex { $0 == nil }
        guard let slot else { return false }
        guard records[slot] != record else { return true }
        // A slot taken by another peer starts without flows.
        if records[slot]?.peerIdentifier != record.peerIdentifier { clearFlows(slot) }
        records[slot] = record
        write(slot, record)
        let used = Int(hl_load_relaxed_u64(usedCount))
        if slot >= used { hl_store_release_u64(usedCount, UInt64(slot + 1)) }
        return true
    }

    /// Stops translating for `peerIdentifier`.
    public func withdraw(peerIdentifier: IPv6Address) {
        guard let slot = records.firstIndex(where: { $0?.peerIdentifier == peerIdentifier }) else { return }
        records[slot] = nil
        write(slot, nil)
        clearFlows(slot)
    }

    private func clearFlows(_ slot: Int) {
        let base = flowMarks + slot * Self.flowWordsPerSlot
        for word in 0..<Self.flowWordsPerSlot { hl_store_relaxed_u64(base + word, 0) }
    }

    var publishedRecords: [TranslationRecord] { records.compactMap { $0 } }

    private func write(_ slot: Int, _ record: TranslationRecord?) {
        let base = words + slot * Self.slotWords
        let sequence = hl_load_relaxed_u64(base)
        hl_store_relaxed_u64(base, sequence &+ 1)
        hl_fence_release()
        let addresses = record.map {
            [$0.localIdentifier, $0.peerIdentifier, $0.localLocator, $0.peerLocator,
             $0.alternateLocalLocator, $0.alternatePeerLocator, $0.previousPeerLocator]
        } ?? [IPv6Address](repeating: .unspecified, count: 7)
        for (index, address) in addresses.enumerated() {
            hl_store_relaxed_u64(base + 1 + index * 2, address.high)
            hl_store_relaxed_u64(base + 2 + index * 2, address.low)
        }
        let flags: UInt64 = (record?.isPeerUnreachable == true ? 1 : 0) | (record?.isPiggybackPending == true ? 2 : 0)
        hl_store_relaxed_u64(base + 15, flags)
        hl_store_release_u64(base, sequence &+ 2)
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
        find { $0.peerIdentifier == destination && $0.localIdentifier == source }
    }

    @inline(__always)
    func matchInbound(source: IPv6Address, destination: IPv6Address) -> TranslationMatch? {
        find { $0.matchesInbound(source: source, destination: destination) }
    }

    /// The record of a peer our kernel sends to from one of our locators
    /// (not the ULID): `source` a local locator, `destination` one of the
    /// peer's locators or its ULID.
    @inline(__always)
    func matchLocatorConversation(source: IPv6Address, destination: IPv6Address) -> TranslationMatch? {
        find {
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
    // mark flows (a hash of protocol, local port and peer port into 4096
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
    // fails (probability: marked flows / 4096); an old one never breaks.
    // Other protocols (ICMPv6 echo) are rewritten as before.

    enum FlowKind: Int {
        case identifiers = 0
        case locators = 1
    }

    /// The bit of a flow: `localPort`/`peerPort` as the kernel's socket sees them.
    @inline(__always)
    static func flowBit(protocolNumber: UInt8, localPort: UInt16, peerPort: UInt16) -> UInt32 {
        let key = (UInt32(localPort) << 16 | UInt32(peerPort)) ^ (UInt32(protocolNumber) &* 0x0101_0101)
        // Fibonacci hashing: the top 12 bits of the product.
        return (key &* 0x9E37_79B1) >> 20
    }

    @inline(__always)
    func noteFlow(_ kind: FlowKind, slot: Int, bit: UInt32) {
        guard slot >= 0, slot < capacity else { return }
        let word = flowMarks + slot * Self.flowWordsPerSlot + kind.rawValue * Self.flowWordsPerKind + Int(bit >> 6 & 63)
        let mask: UInt64 = 1 << UInt64(bit & 63)
        // The common case (already marked) is a load; the OR only for a new flow.
        if hl_load_relaxed_u64(word) & mask == 0 { hl_fetch_or_relaxed_u64(word, mask) }
    }

    @inline(__always)
    func hasFlow(_ kind: FlowKind, slot: Int, bit: UInt32) -> Bool {
        guard slot >= 0, slot < capacity else { return false }
        let word = flowMarks + slot * Self.flowWordsPerSlot + kind.rawValue * Self.flowWordsPerKind + Int(bit >> 6 & 63)
        return hl_load_relaxed_u64(word) & (1 << UInt64(bit & 63)) != 0
    }

    @inline(__always)
    private func find(_ matches: (TranslationRecord) -> Bool) -> TranslationMatch? {
        let used = min(Int(hl_load_acquire_u64(usedCount)), capacity)
        var slot = 0
        while slot < used {
            let base = words + slot * Self.slotWords
            let start = hl_load_acquire_u64(base)
            if start & 1 != 0 {
                hl_cpu_relax()
                continue
            }
            var record = TranslationRecord(
                localIdentifier: IPv6Address(high: hl_load_relaxed_u64(base + 1), low: hl_load_relaxed_u64(base + 2)),
                peerIdentifier: IPv6Address(high: hl_load_relaxed_u64(base + 3), low: hl_load_relaxed_u64(base + 4)),
                localLocator: IPv6Address(high: hl_load_relaxed_u64(base + 5), low: hl_load_relaxed_u64(base + 6)),
                peerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 7), low: hl_load_relaxed_u64(base + 8)),
                alternateLocalLocator: IPv6Address(high: hl_load_relaxed_u64(base + 9), low: hl_load_relaxed_u64(base + 10)),
                alternatePeerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 11), low: hl_load_relaxed_u64(base + 12)),
                previousPeerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 13), low: hl_load_relaxed_u64(base + 14)))
            let flags = hl_load_relaxed_u64(base + 15)
            record.isPeerUnreachable = flags & 1 != 0
            record.isPiggybackPending = flags & 2 != 0
            hl_fence_acquire()
            guard hl_load_relaxed_u64(base) == start else { continue }
            if !record.peerIdentifier.isUnspecified, matches(record) { return TranslationMatch(record: record, slot: slot) }
            slot += 1
        }
        return nil
    }
}
