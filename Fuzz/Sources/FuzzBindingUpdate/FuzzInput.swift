import HomelessWire

/// Reads the fuzz input as a stream of small decisions. Past the end every
/// read returns zero, so any prefix of an input is itself a valid input.
struct FuzzInput {
    let bytes: UnsafeRawBufferPointer
    var position = 0

    init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    var isExhausted: Bool { position >= bytes.count }

    mutating func byte() -> UInt8 {
        guard position < bytes.count else { return 0 }
        defer { position += 1 }
        return bytes[position]
    }

    mutating func bool() -> Bool { byte() & 1 == 1 }

    mutating func uint16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    mutating func uint64() -> UInt64 {
        var value: UInt64 = 0
        for _ in 0..<8 { value = value << 8 | UInt64(byte()) }
        return value
    }

    /// Up to `count` bytes (fewer at the end of the input).
    mutating func bytes(_ count: Int) -> [UInt8] {
        let available = min(count, max(0, bytes.count - position))
        defer { position += available }
        return Array(bytes[position..<(position + available)])
    }

    /// An address: mostly from a small pool, so operations collide on the
    /// same addresses (ownership conflicts, take-overs, refreshes); with a
    /// selector of 0xF0 or more, 16 literal bytes.
    mutating func address() -> IPv6Address {
        let selector = byte()
        if selector >= 0xF0 {
            var high: UInt64 = 0, low: UInt64 = 0
            for _ in 0..<8 { high = high << 8 | UInt64(byte()) }
            for _ in 0..<8 { low = low << 8 | UInt64(byte()) }
            return IPv6Address(high: high, low: low)
        }
        return addressPool[Int(selector) % addressPool.count]
    }
}

/// Addresses the operations draw from. Several share a /64 so Alternate
/// Prefixes expansions land on pool members; the invalid ones (unspecified,
/// loopback, multicast) exercise the refusal paths.
let addressPool: [IPv6Address] = [
    IPv6Address(high: 0x2001_0db8_0000_0001, low: 1),
    IPv6Address(high: 0x2001_0db8_0000_0001, low: 2),
    IPv6Address(high: 0x2001_0db8_0000_0002, low: 1),
    IPv6Address(high: 0x2001_0db8_0000_0002, low: 2),
    IPv6Address(high: 0x2001_0db8_0000_0003, low: 1),
    IPv6Address(high: 0x2001_0db8_0000_0003, low: 2),
    IPv6Address(high: 0x2001_0db8_0000_0004, low: 1),
    IPv6Address(high: 0x2001_0db8_0000_0005, low: 1),
    IPv6Address(high: 0x2001_0db8_0001_0001, low: 1),
    IPv6Address(high: 0x2001_0db8_0001_0001, low: 0xFFFF_FFFF_FFFF_FFFF),
    IPv6Address(high: 0x2001_0db8_0000_0001, low: 0x0211_22FF_FE33_4455),
    IPv6Address(high: 0xFE80_0000_0000_0000, low: 1),
    IPv6Address.unspecified,
    IPv6Address.loopback,
    IPv6Address(high: 0xFF02_0000_0000_0000, low: 1),
    IPv6Address(high: 0x2001_0db8_FFFF_0000, low: 7),
]
