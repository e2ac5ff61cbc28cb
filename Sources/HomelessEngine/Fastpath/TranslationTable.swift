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
    /// addresses) belongs to this peer's conversation.
    @inline(__always)
    func matchesInbound(source: IPv6Address, destination: IPv6Address) -> Bool {
        (source == peerLocator || source == alternatePeerLocator || source == previousPeerLocator)
            && (destination == localLocator || destination == alternateLocalLocator)
    }
}

/// The per-peer translations, published by the slow path (the only
/// writer) to the workers without locks. A fixed array of slots, each
/// guarded by its own seqlock word (the scheme of `Seqlock` in
/// HomelessCore: odd while written, readers retry), plus a published slot
/// count. Lookups scan the used slots: peers doing mobility are few, and a
/// scan of a few cache lines costs less than hashing. Readers allocate
/// nothing and never block; a reader racing a write retries that slot.
public final class TranslationTable: @unchecked Sendable {
    /// Words per slot: seqlock, 7 addresses of 2 words, padding to 128 octets.
    static let slotWords = 16
    public let capacity: Int
    private let words: UnsafeMutablePointer<UInt64>
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
        let countRaw = UnsafeMutableRawPointer.allocate(byteCount: 64, alignment: 64)
        countRaw.initializeMemory(as: UInt8.self, repeating: 0, count: 64)
        usedCount = countRaw.bindMemory(to: UInt64.self, capacity: 8)
        records = Array(repeating: nil, count: self.capacity)
    }

    deinit {
        UnsafeMutableRawPointer(words).deallocate()
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
        hl_store_release_u64(base, sequence &+ 2)
    }

    // MARK: Readers (workers)

    /// The translation for an outbound packet `source` -> `destination`
    /// (identifiers, as the kernel sent it).
    @inline(__always)
    func outbound(source: IPv6Address, destination: IPv6Address) -> TranslationRecord? {
        find { $0.peerIdentifier == destination && $0.localIdentifier == source }
    }

    /// The translation for an inbound packet `source` -> `destination`
    /// (locators, as the wire carried it).
    @inline(__always)
    func inbound(source: IPv6Address, destination: IPv6Address) -> TranslationRecord? {
        find { $0.matchesInbound(source: source, destination: destination) }
    }

    @inline(__always)
    private func find(_ matches: (TranslationRecord) -> Bool) -> TranslationRecord? {
        let used = min(Int(hl_load_acquire_u64(usedCount)), capacity)
        var slot = 0
        while slot < used {
            let base = words + slot * Self.slotWords
            let start = hl_load_acquire_u64(base)
            if start & 1 != 0 {
                hl_cpu_relax()
                continue
            }
            let record = TranslationRecord(
                localIdentifier: IPv6Address(high: hl_load_relaxed_u64(base + 1), low: hl_load_relaxed_u64(base + 2)),
                peerIdentifier: IPv6Address(high: hl_load_relaxed_u64(base + 3), low: hl_load_relaxed_u64(base + 4)),
                localLocator: IPv6Address(high: hl_load_relaxed_u64(base + 5), low: hl_load_relaxed_u64(base + 6)),
                peerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 7), low: hl_load_relaxed_u64(base + 8)),
                alternateLocalLocator: IPv6Address(high: hl_load_relaxed_u64(base + 9), low: hl_load_relaxed_u64(base + 10)),
                alternatePeerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 11), low: hl_load_relaxed_u64(base + 12)),
                previousPeerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 13), low: hl_load_relaxed_u64(base + 14)))
            hl_fence_acquire()
            guard hl_load_relaxed_u64(base) == start else { continue }
            if !record.peerIdentifier.isUnspecified, matches(record) { return record }
            slot += 1
        }
        return nil
    }
}
