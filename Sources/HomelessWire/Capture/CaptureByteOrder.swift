/// Byte order of the integers in a capture file's own headers (not the
/// packets, which are always network order). pcap and pcapng are written in
/// the writer's host order; readers learn it from the magic number.
public enum CaptureByteOrder: Sendable, Hashable {
    case littleEndian, bigEndian
}

/// Bounds-checked integer loads from a capture's bytes. Every accessor
/// returns nil rather than read past the end, so callers turn a short file
/// into a `CaptureError` instead of a trap.
struct CaptureBytes {
    let bytes: [UInt8]
    var order: CaptureByteOrder

    var count: Int { bytes.count }

    /// Bytes left from `offset` to the end (0 when `offset` is beyond it).
    func remaining(from offset: Int) -> Int {
        offset >= 0 && offset < bytes.count ? bytes.count - offset : 0
    }

    func has(_ length: Int, at offset: Int) -> Bool {
        offset >= 0 && length >= 0 && offset <= bytes.count && length <= bytes.count - offset
    }

    func uint16(at offset: Int) -> UInt16? {
        guard has(2, at: offset) else { return nil }
        let a = UInt16(bytes[offset]), b = UInt16(bytes[offset + 1])
        return order == .bigEndian ? a << 8 | b : b << 8 | a
    }

    func uint32(at offset: Int) -> UInt32? {
        guard has(4, at: offset) else { return nil }
        var value: UInt32 = 0
        for index in 0..<4 {
            let byte = UInt32(bytes[offset + (order == .bigEndian ? index : 3 - index)])
            value = value << 8 | byte
        }
        return value
    }

    /// Big-endian regardless of `order`: used to compare magic numbers as
    /// they appear in the file.
    func uint32BigEndian(at offset: Int) -> UInt32? {
        guard has(4, at: offset) else { return nil }
        return UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16
            | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    func uint64(at offset: Int) -> UInt64? {
        guard let first = uint32(at: offset), let second = uint32(at: offset + 4) else { return nil }
        return order == .bigEndian
            ? UInt64(first) << 32 | UInt64(second)
            : UInt64(second) << 32 | UInt64(first)
    }

    func slice(_ offset: Int, _ length: Int) -> ArraySlice<UInt8>? {
        guard has(length, at: offset) else { return nil }
        return bytes[offset..<(offset + length)]
    }
}
