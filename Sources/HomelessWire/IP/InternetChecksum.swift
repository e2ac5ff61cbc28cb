/// The Internet checksum (RFC 1071), the IPv6 pseudo-header (RFC 8200 8.1)
/// and incremental updates (RFC 1624).
///
/// Sums are kept as 32-bit accumulators of 16-bit big-endian words and folded
/// only at the end; `checksum = ~fold(sum)`. Nothing here allocates.
public enum InternetChecksum {
    /// Adds the bytes of `bytes` as big-endian 16-bit words to `initial`. An
    /// odd trailing byte is padded with a zero byte (RFC 1071).
    @inlinable
    public static func sum(_ bytes: UnsafeRawBufferPointer, initial: UInt32 = 0) -> UInt32 {
        var accumulator = UInt64(initial)
        var index = 0
        let count = bytes.count
        // 4 bytes at a time into a 64-bit accumulator: no carries lost for
        // any buffer shorter than 2^32 words.
        while index + 4 <= count {
            accumulator &+= UInt64(bytes.wireUInt32(at: index))
            index += 4
        }
        if index + 2 <= count {
            accumulator &+= UInt64(bytes.wireUInt16(at: index))
            index += 2
        }
        if index < count {
            accumulator &+= UInt64(bytes.wireUInt8(at: index)) << 8
        }
        return fold64(accumulator)
    }

    /// Folds a 64-bit accumulator to a 32-bit partial sum without losing carries.
    @inlinable
    static func fold64(_ value: UInt64) -> UInt32 {
        var folded = (value & 0xFFFF_FFFF) &+ (value >> 32)
        folded = (folded & 0xFFFF_FFFF) &+ (folded >> 32)
        return UInt32(folded & 0xFFFF_FFFF) // at most one more carry: fold() handles it
    }

    /// Folds a 32-bit partial sum to 16 bits with end-around carry.
    @inlinable
    public static func fold(_ sum: UInt32) -> UInt16 {
        var value = sum
        while value > 0xFFFF { value = (value & 0xFFFF) &+ (value >> 16) }
        return UInt16(value)
    }

    /// The checksum field value for a partial sum: ones' complement of the fold.
    @inlinable
    public static func finish(_ sum: UInt32) -> UInt16 { ~fold(sum) }

    /// Adds a 16-bit word.
    @inlinable
    public static func add(_ word: UInt16, to sum: UInt32) -> UInt32 {
        let total = UInt64(sum) &+ UInt64(word)
        return fold64(total)
    }

    /// Adds an IPv6 address as eight 16-bit words.
    @inlinable
    public static func add(_ address: IPv6Address, to sum: UInt32) -> UInt32 {
        var total = UInt64(sum)
        total &+= (address.high >> 32) &+ (address.high & 0xFFFF_FFFF)
        total &+= (address.low >> 32) &+ (address.low & 0xFFFF_FFFF)
        return fold64(total)
    }

    /// Partial sum of the IPv6 pseudo-header (RFC 8200 8.1): source,
    /// destination, 32-bit upper-layer packet length, three zero bytes and
    /// the next header value of the upper-layer protocol.
    ///
    /// `destination` is the final destination: when a Routing header is
    /// present it is the last address in it, not the one in the IPv6 header.
    @inlinable
    public static func pseudoHeaderSum(source: IPv6Address, destination: IPv6Address,
                                       upperLayerLength: UInt32, nextHeader: IPProtocol) -> UInt32 {
        var total = add(source, to: 0)
        total = add(destination, to: total)
        total = add(UInt16(truncatingIfNeeded: upperLayerLength >> 16), to: total)
        total = add(UInt16(truncatingIfNeeded: upperLayerLength), to: total)
        return add(UInt16(nextHeader.rawValue), to: total)
    }

    /// The checksum of an upper-layer message (ICMPv6, UDP, TCP) whose
    /// checksum field is zero or is skipped: pseudo-header plus `message`.
    @inlinable
    public static func upperLayerChecksum(source: IPv6Address, destination: IPv6Address,
                                          nextHeader: IPProtocol, message: UnsafeRawBufferPointer) -> UInt16 {
        let pseudo = pseudoHeaderSum(source: source, destination: destination,
                                     upperLayerLength: UInt32(truncatingIfNeeded: message.count), nextHeader: nextHeader)
        return finish(sum(message, initial: pseudo))
    }

    /// True when `message` (with its checksum field in place) verifies: the
    /// sum over pseudo-header and message folds to 0xFFFF.
    @inlinable
    public static func verifyUpperLayer(source: IPv6Address, destination: IPv6Address,
                                        nextHeader: IPProtocol, message: UnsafeRawBufferPointer) -> Bool {
        let pseudo = pseudoHeaderSum(source: source, destination: destination,
                                     upperLayerLength: UInt32(truncatingIfNeeded: message.count), nextHeader: nextHeader)
        return fold(sum(message, initial: pseudo)) == 0xFFFF
    }

    // MARK: Incremental update (RFC 1624)

    /// Updates checksum `checksum` after one 16-bit word of the covered data
    /// changed from `old` to `new`: HC' = ~(~HC + ~m + m') (RFC 1624 eqn. 3),
    /// which, unlike eqn. 2, never produces the -0 that a full recomputation
    /// could not.
    @inlinable
    public static func update(_ checksum: UInt16, replacing old: UInt16, with new: UInt16) -> UInt16 {
        var total = UInt32(~checksum)
        total &+= UInt32(~old)
        total &+= UInt32(new)
        return ~fold(total)
    }

    /// Updates `checksum` after a 32-bit field changed.
    @inlinable
    public static func update(_ checksum: UInt16, replacing old: UInt32, with new: UInt32) -> UInt16 {
        var total = UInt32(~checksum)
        total &+= UInt32(~UInt16(truncatingIfNeeded: old >> 16)) &+ UInt32(~UInt16(truncatingIfNeeded: old))
        total &+= UInt32(UInt16(truncatingIfNeeded: new >> 16)) &+ UInt32(UInt16(truncatingIfNeeded: new))
        return ~fold(total)
    }

    /// Updates `checksum` after a whole 128-bit address in the covered data
    /// (or in the pseudo-header) changed, e.g. when translating between a
    /// ULID and a locator: eight applications of RFC 1624 eqn. 3 summed at once.
    @inlinable
    public static func update(_ checksum: UInt16, replacing old: IPv6Address, with new: IPv6Address) -> UInt16 {
        var total = UInt64(~checksum)
        for index in 0..<8 {
            total &+= UInt64(~old.group(index))
            total &+= UInt64(new.group(index))
        }
        return ~fold(fold64(total))
    }
}
