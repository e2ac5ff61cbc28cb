/// A 48-bit IEEE 802 MAC address, stored in the low 48 bits of a UInt64
/// (byte 0 most significant) so it is a trivial, hashable value.
public struct EthernetAddress: Hashable, Sendable, CustomStringConvertible {
    public var rawValue: UInt64

    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue & 0xFFFF_FFFF_FFFF }

    public init(_ b0: UInt8, _ b1: UInt8, _ b2: UInt8, _ b3: UInt8, _ b4: UInt8, _ b5: UInt8) {
        self.init(rawValue: UInt64(b0) << 40 | UInt64(b1) << 32 | UInt64(b2) << 24
            | UInt64(b3) << 16 | UInt64(b4) << 8 | UInt64(b5))
    }

    public static let broadcast = EthernetAddress(rawValue: 0xFFFF_FFFF_FFFF)

    /// Reads 6 bytes at `offset`; the caller guarantees they exist.
    @inlinable
    public init(bytes: UnsafeRawBufferPointer, at offset: Int) {
        let high = UInt64(bytes.wireUInt16(at: offset))
        let low = UInt64(bytes.wireUInt32(at: offset + 2))
        self.rawValue = high << 32 | low
    }

    /// Writes 6 bytes at `offset`; the caller guarantees the room.
    @inlinable
    public func write(to bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.storeWireUInt16(UInt16(truncatingIfNeeded: rawValue >> 32), at: offset)
        bytes.storeWireUInt32(UInt32(truncatingIfNeeded: rawValue), at: offset + 2)
    }

    /// Group bit (I/G) set: multicast or broadcast.
    public var isMulticast: Bool { rawValue >> 40 & 1 == 1 }

    public var description: String {
        (0..<6).map { index -> String in
            let byte = UInt8(truncatingIfNeeded: rawValue >> UInt64((5 - index) * 8))
            return (byte < 16 ? "0" : "") + String(byte, radix: 16)
        }.joined(separator: ":")
    }
}
