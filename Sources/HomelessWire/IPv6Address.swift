/// A 128-bit IPv6 address stored as two big-endian-ordered 64-bit halves.
///
/// `high` holds bytes 0..<8 and `low` bytes 8..<16, each as the numeric value
/// of those bytes read in network order, so comparisons and hashing work on
/// two machine words and the Host Cache can hash the full 128 bits cheaply.
/// The value is a trivial type: creating, copying and comparing never
/// allocates.
public struct IPv6Address: Hashable, Comparable, Sendable {
    public var high: UInt64
    public var low: UInt64

    @inlinable
    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let unspecified = IPv6Address(high: 0, low: 0)
    public static let loopback = IPv6Address(high: 0, low: 1)

    /// Reads 16 bytes in network order starting at `offset`.
    /// The caller guarantees `offset + 16 <= bytes.count`.
    @inlinable
    public init(bytes: UnsafeRawBufferPointer, at offset: Int) {
        self.high = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        self.low = UInt64(bigEndian: bytes.loadUnaligned(fromByteOffset: offset + 8, as: UInt64.self))
    }

    /// Creates an address from exactly 16 bytes; returns nil for any other count.
    public init?<C: Collection>(bytes: C) where C.Element == UInt8 {
        guard bytes.count == 16 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for (index, byte) in bytes.enumerated() {
            if index < 8 { high = high << 8 | UInt64(byte) } else { low = low << 8 | UInt64(byte) }
        }
        self.init(high: high, low: low)
    }

    /// Writes the 16 bytes in network order at `offset`.
    @inlinable
    public func write(to bytes: UnsafeMutableRawBufferPointer, at offset: Int) {
        bytes.storeBytes(of: high.bigEndian, toByteOffset: offset, as: UInt64.self)
        bytes.storeBytes(of: low.bigEndian, toByteOffset: offset + 8, as: UInt64.self)
    }

    /// The 16 bytes in network order.
    public var bytes: [UInt8] {
        (0..<16).map { index in
            let word = index < 8 ? high : low
            return UInt8(truncatingIfNeeded: word >> (UInt64(7 - index % 8) * 8))
        }
    }

    /// The 16-bit group `index` (0...7) in host order.
    @inlinable
    public func group(_ index: Int) -> UInt16 {
        let word = index < 4 ? high : low
        return UInt16(truncatingIfNeeded: word >> (UInt64(3 - index % 4) * 16))
    }

    @inlinable
    public static func < (lhs: IPv6Address, rhs: IPv6Address) -> Bool {
        (lhs.high, lhs.low) < (rhs.high, rhs.low)
    }

    // MARK: Scope (RFC 4291 2.4, RFC 4007)

    /// Address scope, used to match source and destination scope (draft 2.2.1).
    public enum Scope: Int, Sendable, Comparable {
        case interfaceLocal = 1, linkLocal = 2, siteLocal = 5, global = 14

        public static func < (lhs: Scope, rhs: Scope) -> Bool { lhs.rawValue < rhs.rawValue }
    }

    public var isMulticast: Bool { high >> 56 == 0xFF }
    public var isLinkLocal: Bool { high >> 54 == 0x3FA }  // fe80::/10
    public var isUnspecified: Bool { high == 0 && low == 0 }
    public var isLoopback: Bool { high == 0 && low == 1 }

    public var scope: Scope {
        if isMulticast {
            switch (high >> 48) & 0xF {
            case 1: return .interfaceLocal
            case 2: return .linkLocal
            case 5: return .siteLocal
            default: return .global
            }
        }
        if isLoopback { return .interfaceLocal }
        if isLinkLocal { return .linkLocal }
        if high >> 54 == 0x3FB { return .siteLocal }  // fec0::/10 (deprecated, RFC 3879)
        return .global
    }
}

// MARK: - Text form

extension IPv6Address: CustomStringConvertible, LosslessStringConvertible {
    /// The RFC 5952 canonical text form: lower-case hex, leading zeros
    /// suppressed, the longest run (first on ties) of two or more zero
    /// groups shortened to `::`, and IPv4-mapped addresses (::ffff:0:0/96)
    /// with a dotted-quad tail (RFC 5952 section 5).
    public var description: String {
        let groups = (0..<8).map { group($0) }
        if high == 0 && low >> 32 == 0xFFFF {
            let v4 = UInt32(truncatingIfNeeded: low)
            return "::ffff:\(v4 >> 24).\(v4 >> 16 & 0xFF).\(v4 >> 8 & 0xFF).\(v4 & 0xFF)"
        }
        var bestStart = -1, bestLength = 0, runStart = -1
        for index in 0...8 {
            if index < 8 && groups[index] == 0 {
                if runStart < 0 { runStart = index }
            } else if runStart >= 0 {
                let length = index - runStart
                if length > bestLength && length >= 2 { bestStart = runStart; bestLength = length }
                runStart = -1
            }
        }
        func hex(_ range: Range<Int>) -> String {
            range.map { String(groups[$0], radix: 16) }.joined(separator: ":")
        }
        if bestStart < 0 { return hex(0..<8) }
        return hex(0..<bestStart) + "::" + hex((bestStart + bestLength)..<8)
    }

    /// Parses any RFC 4291 section 2.2 text form (including `::` and a
    /// dotted-quad tail). Returns nil for anything else.
    public init?(_ text: String) {
        let utf8 = Array(text.utf8)
        guard !utf8.isEmpty, utf8.count <= 45 else { return nil }
        var head: [UInt16] = []
        var tail: [UInt16] = []
        var sawDoubleColon = false
        // Split on "::" at most once.
        let parts = text.components(separatedByDoubleColon: ())
        guard let parts, parts.count <= 2 else { return nil }
        sawDoubleColon = parts.count == 2
        func parseGroups(_ part: Substring, allowV4Tail: Bool) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            let pieces = part.split(separator: ":", omittingEmptySubsequences: false)
            for (index, piece) in pieces.enumerated() {
                if piece.contains(".") {
                    guard allowV4Tail, index == pieces.count - 1 else { return nil }
                    let octets = piece.split(separator: ".", omittingEmptySubsequences: false)
                    guard octets.count == 4 else { return nil }
                    var values: [UInt16] = []
                    for octet in octets {
                        guard !octet.isEmpty, octet.count <= 3, octet.allSatisfy({ $0.isASCII && $0.isNumber }),
                              let value = UInt16(octet), value <= 255 else { return nil }
                        if octet.count > 1 && octet.first == "0" { return nil }
                        values.append(value)
                    }
                    result.append(values[0] << 8 | values[1])
                    result.append(values[2] << 8 | values[3])
                } else {
                    guard !piece.isEmpty, piece.count <= 4, piece.allSatisfy({ $0.isHexDigit && $0.isASCII }),
                          let value = UInt16(piece, radix: 16) else { return nil }
                    result.append(value)
                }
            }
            return result
        }
        if sawDoubleColon {
            guard let h = parseGroups(parts[0], allowV4Tail: false),
                  let t = parseGroups(parts[1], allowV4Tail: true),
                  h.count + t.count <= 7 else { return nil }
            head = h
            tail = t
        } else {
            guard let h = parseGroups(parts[0], allowV4Tail: true), h.count == 8 else { return nil }
            head = h
        }
        var groups = head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
        if groups.count != 8 { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for index in 0..<4 { high = high << 16 | UInt64(groups[index]) }
        for index in 4..<8 { low = low << 16 | UInt64(groups[index]) }
        groups.removeAll()
        self.init(high: high, low: low)
    }
}

extension String {
    /// Splits at "::"; returns nil when it occurs more than once or as ":::".
    fileprivate func components(separatedByDoubleColon _: Void) -> [Substring]? {
        var previous: Index? = nil
        var found: Range<Index>? = nil
        for index in indices {
            if self[index] == ":", let p = previous, self[p] == ":" {
                if found != nil { return nil }
                found = p..<self.index(after: index)
            }
            previous = index
        }
        guard let range = found else { return [self[...]] }
        let rest = self[range.upperBound...]
        if rest.hasPrefix(":") { return nil }
        return [self[..<range.lowerBound], rest]
    }
}
