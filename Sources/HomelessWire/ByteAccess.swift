// Unchecked big-endian reads and writes used by the checked views.
//
// Every view checks its length once in `init(checking:at:)`; after that its
// accessors read through these helpers without further checks. Keeping the
// helpers `@usableFromInline` lets the accessors be `@inlinable` so callers
// in other modules (the fast path) get them inlined.

extension UnsafeRawBufferPointer {
    @inlinable @inline(__always)
    func wireUInt8(at offset: Int) -> UInt8 {
        load(fromByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always)
    func wireUInt16(at offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }

    @inlinable @inline(__always)
    func wireUInt32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }
}

extension UnsafeMutableRawBufferPointer {
    @inlinable @inline(__always)
    func storeWireUInt8(_ value: UInt8, at offset: Int) {
        storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    @inlinable @inline(__always)
    func storeWireUInt16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    @inlinable @inline(__always)
    func storeWireUInt32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// Copies `source` to `offset`; the caller has sized the buffer.
    @usableFromInline
    func storeWireBytes(_ source: [UInt8], at offset: Int) {
        source.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, !raw.isEmpty, let destination = baseAddress else { return }
            (destination + offset).copyMemory(from: base, byteCount: raw.count)
        }
    }

    /// Zeroes `count` bytes at `offset`.
    @usableFromInline
    func zeroWireBytes(count: Int, at offset: Int) {
        guard count > 0, let destination = baseAddress else { return }
        (destination + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count)
    }
}

extension UnsafeRawBufferPointer {
    /// Copies `count` bytes at `offset` into a new array (slow path only).
    @usableFromInline
    func wireBytes(at offset: Int, count: Int) -> [UInt8] {
        guard count > 0 else { return [] }
        return Array(self[offset..<(offset + count)])
    }
}
