/// 16 octets held inline (nonces, cookies): values of these types are
/// plain words, so messages and responder state allocate nothing.
public struct HandshakeBlock16: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
    }

    public static let zero = HandshakeBlock16(high: 0, low: 0)

    /// The first 16 octets of `bytes` (zero-filled when shorter).
    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        var words: (UInt64, UInt64) = (0, 0)
        for (index, byte) in bytes.prefix(16).enumerated() {
            if index < 8 { words.0 |= UInt64(byte) << (56 - 8 * index) } else { words.1 |= UInt64(byte) << (56 - 8 * (index - 8)) }
        }
        self.init(high: words.0, low: words.1)
    }

    public var bytes: [UInt8] {
        (0..<16).map { index in
            index < 8 ? UInt8(truncatingIfNeeded: high >> (56 - 8 * index)) : UInt8(truncatingIfNeeded: low >> (56 - 8 * (index - 8)))
        }
    }

    /// Compares without an early exit, so timing does not say how many
    /// leading octets of a guessed cookie were right.
    public func constantTimeEquals(_ other: HandshakeBlock16) -> Bool {
        ((high ^ other.high) | (low ^ other.low)) == 0
    }

    public var description: String { bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined() }
}

/// 32 octets held inline (X25519 public keys).
public struct HandshakeBlock32: Hashable, Sendable, CustomStringConvertible {
    public var first: HandshakeBlock16
    public var second: HandshakeBlock16

    public init(first: HandshakeBlock16, second: HandshakeBlock16) {
        self.first = first
        self.second = second
    }

    public static let zero = HandshakeBlock32(first: .zero, second: .zero)

    public init<C: Collection>(bytes: C) where C.Element == UInt8 {
        self.init(first: HandshakeBlock16(bytes: bytes.prefix(16)), second: HandshakeBlock16(bytes: bytes.dropFirst(16)))
    }

    public var bytes: [UInt8] { first.bytes + second.bytes }

    public var description: String { first.description + second.description }
}

extension String {
    func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
