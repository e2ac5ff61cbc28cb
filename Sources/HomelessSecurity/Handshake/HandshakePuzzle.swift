internal import CHomelessCrypto
import HomelessWire

/// The client puzzle of HIP (RFC 7401 4.1.2), bound to the addresses
/// instead of Host Identity Tags: find J such that the leftmost K bits of
///
///     SHA-256( I | initiator address | responder address | J )
///
/// are zero, where I is the 128-bit cookie of message 2 and J is 64 bits.
/// Checking costs the responder one SHA-256 of 56 octets; solving costs the
/// initiator 2^K hashes on average, so every message 3 that makes the
/// responder do Diffie-Hellman work was paid for.
public enum HandshakePuzzle {
    /// Input octets: cookie 16, two addresses 32, J 8.
    static let inputLength = 56

    /// Largest difficulty the wire allows a responder to ask for; a
    /// responder asking more than the initiator's limit is refused.
    public static let maximumDifficulty: UInt8 = 40

    /// Whether `solution` solves the puzzle.
    public static func isSolved(cookie: HandshakeBlock16, initiator: IPv6Address, responder: IPv6Address,
                                difficulty: UInt8, solution: UInt64) -> Bool {
        guard difficulty <= maximumDifficulty else { return false }
        return leadingZeroBits(cookie: cookie, initiator: initiator, responder: responder, solution: solution) >= Int(difficulty)
    }

    /// Searches J from `start` for at most `limit` candidates; nil when none solved it.
    public static func solve(cookie: HandshakeBlock16, initiator: IPv6Address, responder: IPv6Address,
                             difficulty: UInt8, start: UInt64, limit: UInt64) -> UInt64? {
        guard difficulty <= maximumDifficulty else { return nil }
        var candidate = start
        var tried: UInt64 = 0
        while tried < limit {
            if leadingZeroBits(cookie: cookie, initiator: initiator, responder: responder, solution: candidate) >= Int(difficulty) {
                return candidate
            }
            candidate &+= 1
            tried += 1
        }
        return nil
    }

    /// Leading zero bits of the hash (only the first 64 are looked at, more than any difficulty allowed).
    static func leadingZeroBits(cookie: HandshakeBlock16, initiator: IPv6Address, responder: IPv6Address,
                                solution: UInt64) -> Int {
        var input: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (
            cookie.high.bigEndian, cookie.low.bigEndian, initiator.high.bigEndian, initiator.low.bigEndian,
            responder.high.bigEndian, responder.low.bigEndian, solution.bigEndian)
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeBytes(of: &input) { input in
            withUnsafeMutableBytes(of: &digest) { digest in
                var state = hl_hash_state()
                hl_sha256_init(&state)
                if let base = input.baseAddress { hl_sha256_update(&state, base, inputLength) }
                if let out = digest.baseAddress { hl_sha256_final(&state, out.assumingMemoryBound(to: UInt8.self)) }
            }
        }
        return UInt64(bigEndian: digest.0).leadingZeroBitCount
    }
}
