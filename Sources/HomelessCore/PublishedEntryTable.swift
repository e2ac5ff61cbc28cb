public import CHomeless
public import HomelessWire

/// What a fast-path worker needs to know about an entry to build a packet,
/// as last published by the slow path.
public struct PublishedEntry: Equatable, Sendable {
    public var id: HostCacheEntryID
    public var kind: HostCacheEntryKind
    public var capability: PeerCapability
    public var trust: TrustClass
    /// Where to send (draft 1.4: the source of the last packet received).
    public var preferredDestination: IPv6Address?
    /// Opaque SA identifier (draft 2.4.2).
    public var securityAssociation: UInt64?

    public init(id: HostCacheEntryID, kind: HostCacheEntryKind, capability: PeerCapability, trust: TrustClass,
                preferredDestination: IPv6Address?, securityAssociation: UInt64?) {
        self.id = id
        self.kind = kind
        self.capability = capability
        self.trust = trust
        self.preferredDestination = preferredDestination
        self.securityAssociation = securityAssociation
    }
}

/// Per-entry records for the fast path, one per entry slot, in one fixed
/// raw allocation published under a seqlock: the same single-writer scheme
/// as `AddressIndex` (read that comment), applied to an array indexed by
/// entry slot instead of a hash table. A worker that found an entry through
/// the address index reads its record here to pick a destination without
/// touching the slow path.
///
/// Record (4 x UInt64): preferred destination high, low; meta; SA id.
/// Meta: bits 0..23 generation, 24..31 capability, 32..39 trust,
/// 40..47 kind, bit 48 occupied, bit 49 has preferred destination,
/// bit 50 has SA.
public final class PublishedEntryTable: @unchecked Sendable {
    @usableFromInline static let headerWords = 8
    @usableFromInline static let wordsPerRecord = 4

    @usableFromInline let base: UnsafeMutablePointer<UInt64>
    @usableFromInline let records: UnsafeMutablePointer<UInt64>
    @usableFromInline let seqlock: Seqlock
    let byteCount: Int
    public let capacity: Int

    public init(capacity: Int) {
        precondition(capacity >= 1, "capacity must be positive")
        self.capacity = capacity
        let words = Self.headerWords + capacity * Self.wordsPerRecord
        // Lazily backed zero pages (hl_memory.h): only used slots' pages are resident.
        byteCount = words * 8
        guard let raw = hl_zeroed_pages_allocate(byteCount) else {
            fatalError("PublishedEntryTable: cannot map \(byteCount) bytes")
        }
        base = raw.bindMemory(to: UInt64.self, capacity: words)
        records = base + Self.headerWords
        seqlock = Seqlock(word: base)
    }

    deinit { hl_zeroed_pages_free(base, byteCount) }

    /// Reader: the record of `id`, or nil when the slot is empty or holds a
    /// different generation (the entry was removed, maybe replaced).
    @inlinable
    public func read(_ id: HostCacheEntryID) -> PublishedEntry? {
        guard Int(id.slot) < capacity else { return nil }
        let record = records + Int(id.slot) &* Self.wordsPerRecord
        while true {
            guard let start = seqlock.readBegin() else { continue }
            let high = hl_load_relaxed_u64(record)
            let low = hl_load_relaxed_u64(record + 1)
            let meta = hl_load_relaxed_u64(record + 2)
            let association = hl_load_relaxed_u64(record + 3)
            guard seqlock.readValidate(start) else { continue }
            guard meta & (1 << 48) != 0,
                  UInt32(truncatingIfNeeded: meta) & HostCacheEntryID.generationMask == id.generation
            else { return nil }
            return PublishedEntry(
                id: id,
                kind: HostCacheEntryKind(rawValue: UInt8(truncatingIfNeeded: meta >> 40)) ?? .foreign,
                capability: PeerCapability(rawValue: UInt8(truncatingIfNeeded: meta >> 24)) ?? .unknown,
                trust: TrustClass(rawValue: UInt8(truncatingIfNeeded: meta >> 32)) ?? .untrusted,
                preferredDestination: meta & (1 << 49) != 0 ? IPv6Address(high: high, low: low) : nil,
                securityAssociation: meta & (1 << 50) != 0 ? association : nil)
        }
    }

    /// Reader: only the preferred destination (the common per-packet question).
    @inlinable
    public func preferredDestination(of id: HostCacheEntryID) -> IPv6Address? {
        read(id)?.preferredDestination
    }

    /// Writer only.
    public func publish(_ entry: PublishedEntry) {
        let slot = Int(entry.id.slot)
        precondition(slot < capacity, "entry slot out of range")
        var meta = UInt64(entry.id.generation & HostCacheEntryID.generationMask)
        meta |= UInt64(entry.capability.rawValue) << 24
        meta |= UInt64(entry.trust.rawValue) << 32
        meta |= UInt64(entry.kind.rawValue) << 40
        meta |= 1 << 48
        if entry.preferredDestination != nil { meta |= 1 << 49 }
        if entry.securityAssociation != nil { meta |= 1 << 50 }
        let record = records + slot * Self.wordsPerRecord
        seqlock.beginWrite()
        hl_store_relaxed_u64(record, entry.preferredDestination?.high ?? 0)
        hl_store_relaxed_u64(record + 1, entry.preferredDestination?.low ?? 0)
        hl_store_relaxed_u64(record + 2, meta)
        hl_store_relaxed_u64(record + 3, entry.securityAssociation ?? 0)
        seqlock.endWrite()
    }

    /// Writer only: marks the slot empty.
    public func clear(slot: UInt32) {
        guard Int(slot) < capacity else { return }
        let record = records + Int(slot) * Self.wordsPerRecord
        seqlock.beginWrite()
        for word in 0..<Self.wordsPerRecord { hl_store_relaxed_u64(record + word, 0) }
        seqlock.endWrite()
    }
}
