/// The 64-bit value the fast-path `AddressIndex` stores per address: which
/// entry owns it and the address's state, packed so a lookup is one word.
///
///     bits  0..31  entry slot
///     bits 32..55  entry generation (24 bits)
///     bit  56      address expired (draft 2.1.3): do not send to it, do not
///                  attribute new state to the entry through it (5.3)
///     bit  57      owner is a Local entry
///     bit  58      several Local entries hold the address (draft 1.4 TBD);
///                  the slot names the lowest-numbered one
public struct IndexedAddress: Hashable, Sendable {
    public var rawValue: UInt64

    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    @inlinable
    public init(entry: HostCacheEntryID, isExpired: Bool = false, isLocal: Bool = false, isShared: Bool = false) {
        rawValue = UInt64(entry.slot)
            | UInt64(entry.generation & HostCacheEntryID.generationMask) << 32
            | (isExpired ? 1 << 56 : 0) | (isLocal ? 1 << 57 : 0) | (isShared ? 1 << 58 : 0)
    }

    @inlinable public var entrySlot: UInt32 { UInt32(truncatingIfNeeded: rawValue) }
    @inlinable public var entryGeneration: UInt32 { UInt32(truncatingIfNeeded: rawValue >> 32) & HostCacheEntryID.generationMask }
    @inlinable public var entry: HostCacheEntryID { HostCacheEntryID(slot: entrySlot, generation: entryGeneration) }
    @inlinable public var isExpired: Bool { rawValue & (1 << 56) != 0 }
    @inlinable public var isLocal: Bool { rawValue & (1 << 57) != 0 }
    @inlinable public var isShared: Bool { rawValue & (1 << 58) != 0 }
}
