import CHomeless
import HomelessWire

/// One peer's translation as the workers see it (DESIGN: ULIDs and
/// locators): the kernel's connection uses `localIdentifier` ->
/// `peerIdentifier`; on the wire the packets carry `localLocator` ->
/// `peerLocator`.
struct TranslationRecord: Equatable, Sendable {
    var localIdentifier: IPv6Address
    var peerIdentifier: IPv6Address
    var localLocator: IPv6Address
    var peerLocator: IPv6Address

    /// True when the wire addresses are the identifiers: nothing to rewrite.
    var isIdentity: Bool { localIdentifier == localLocator && peerIdentifier == peerLocator }
}

/// The per-peer translations, published by the slow path (the only
/// writer) to the workers without locks. A fixed array of slots, each
/// guarded by its own seqlock word (the scheme of `Seqlock` in
/// HomelessCore: odd while written, readers retry), plus a published slot
/// count. Lookups scan the used slots: peers doing mobility are few, and a
/// scan of a few cache lines costs less than hashing. Readers allocate
/// nothing and never block; a reader racing a write retries that slot.
final class TranslationTable: @unchecked Sendable {
    /// Words per slot: seqlock, 4 addresses of 2 words, padding to 128 octets.
    static let slotWords = 16
    let capacity: Int
    private let words: UnsafeMutablePointer<UInt64>
    /// Number of slots ever used (only grows; an unused slot is all zero).
    private let usedCount: UnsafeMutablePointer<UInt64>
    /// Writer-side mirror of the published records.
    private var records: [TranslationRecord?]

    init(capacity: Int = 256) {
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
    func publish(_ record: TranslationRecord) -> Bool {
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
    func withdraw(peerIdentifier: IPv6Address) {
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
        let addresses = record.map { [$0.localIdentifier, $0.peerIdentifier, $0.localLocator, $0.peerLocator] }
            ?? [IPv6Address](repeating: .unspecified, count: 4)
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
        find { $0.peerLocator == source && $0.localLocator == destination }
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
                peerLocator: IPv6Address(high: hl_load_relaxed_u64(base + 7), low: hl_load_relaxed_u64(base + 8)))
            hl_fence_acquire()
            guard hl_load_relaxed_u64(base) == start else { continue }
            if !record.peerIdentifier.isUnspecified, matches(record) { return record }
            slot += 1
        }
        return nil
    }
}
