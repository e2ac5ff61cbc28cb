/// The AH integrity algorithms this implementation offers, with the sizes
/// that follow from them for AH over IPv6 (RFC 4302 2.2, 2.6: the header is a
/// multiple of 8 octets, so SHA-256-128 carries 4 octets of padding).
///
/// | algorithm | key | ICV | AH bytes | Payload Len |
/// |---|---|---|---|---|
/// | HMAC-SHA1-96 (RFC 2404) | 20 | 12 | 24 | 4 |
/// | HMAC-SHA-256-128 (RFC 4868) | 32 | 16 | 32 | 6 |
public enum AuthenticationAlgorithm: UInt8, Sendable, CaseIterable, CustomStringConvertible {
    /// HMAC-SHA1-96, RFC 2404.
    case hmacSHA1_96 = 1
    /// HMAC-SHA-256-128, RFC 4868 (the default).
    case hmacSHA256_128 = 2

    public static let `default` = AuthenticationAlgorithm.hmacSHA256_128

    /// Key length in octets. RFC 2404 2 and RFC 4868 2.1.1 fix the key
    /// length to the hash output length for these AH transforms.
    public var keyLength: Int {
        switch self {
        case .hmacSHA1_96: return 20
        case .hmacSHA256_128: return 32
        }
    }

    /// Truncated ICV length in octets (RFC 2404 2: 96 bits, RFC 4868 2.3: 128 bits).
    public var icvLength: Int {
        switch self {
        case .hmacSHA1_96: return 12
        case .hmacSHA256_128: return 16
        }
    }

    /// Full digest length of the underlying hash.
    public var digestLength: Int {
        switch self {
        case .hmacSHA1_96: return 20
        case .hmacSHA256_128: return 32
        }
    }

    /// The whole AH header in octets for IPv6: 12 fixed octets plus the ICV,
    /// padded to a multiple of 8 (RFC 4302 2.6, 3.3.3.2.1).
    public var headerLength: Int {
        (12 + icvLength + 7) & ~7
    }

    /// The Payload Len field value: header length in 32-bit words minus 2 (RFC 4302 2.2).
    public var payloadLength: UInt8 {
        UInt8(truncatingIfNeeded: headerLength / 4 - 2)
    }

    /// Names as `setkey(8)` spells them.
    public var setkeyName: String {
        switch self {
        case .hmacSHA1_96: return "hmac-sha1"
        case .hmacSHA256_128: return "hmac-sha256"
        }
    }

    public var description: String {
        switch self {
        case .hmacSHA1_96: return "hmac-sha1-96"
        case .hmacSHA256_128: return "hmac-sha256-128"
        }
    }
}
