import HomelessWire

/// One of the responder's rotating generations: the cookie secret and the
/// X25519 key pair of a time slot. Cookies of the current and the previous
/// slot are accepted, so a cookie lives between one and two slot lengths;
/// older ones are stale (RFC 7401 4.1.1 recommends rotating R1 material).
struct ResponderGeneration: Sendable {
    let slot: UInt32
    let cookieKey: PrecomputedHMAC
    let keyPair: X25519KeyPair

    init<Random: RandomNumberGenerator>(slot: UInt32, random: inout Random) {
        self.slot = slot
        var secret = [UInt8](repeating: 0, count: 32)
        for index in stride(from: 0, to: 32, by: 8) {
            let word = random.next()
            for byte in 0..<8 { secret[index + byte] = UInt8(truncatingIfNeeded: word >> (8 * byte)) }
        }
        cookieKey = PrecomputedHMAC(algorithm: .hmacSHA256_128, key: secret)
        keyPair = X25519KeyPair(random: &random)
    }

    /// The cookie and the Responder SPI for an attempt:
    ///
    ///     HMAC-SHA-256(secret, slot | K | initiator | responder | nonce)
    ///
    /// octets 0-15 are the cookie, 16-19 the SPI (values 0-255 are
    /// reserved by RFC 4302 2.4, so bit 8 is set in them). Both are
    /// recomputed from message 3: nothing is stored per initiator. K is the
    /// difficulty message 2 asked for (it changes with load, see
    /// `HandshakeResponder`): binding it here keeps an initiator from
    /// claiming an easier puzzle than it was given. One
    /// HMAC over 53 octets from a precomputed key state; no allocation.
    func cookie(initiator: IPv6Address, responder: IPv6Address, nonce: HandshakeBlock16,
                difficulty: UInt8) -> (cookie: HandshakeBlock16, spi: UInt32) {
        // 64 octets of input space; 53 used.
        var input: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        withUnsafeMutableBytes(of: &input) { bytes in
            bytes.storeHandshakeUInt32(slot, at: 0)
            bytes[4] = difficulty
            initiator.write(to: bytes, at: 5)
            responder.write(to: bytes, at: 21)
            bytes.storeHandshakeBlock(nonce, at: 37)
        }
        withExtendedLifetime(cookieKey.keyStates) {
            var computation = cookieKey.begin()
            withUnsafeBytes(of: &input) { computation.absorb(UnsafeRawBufferPointer(rebasing: $0[0..<53])) }
            withUnsafeMutableBytes(of: &digest) { computation.finish(into: $0) }
        }
        return withUnsafeBytes(of: &digest) { bytes in
            var spi = bytes.handshakeUInt32(at: 16)
            if spi < 256 { spi |= 0x100 }
            return (bytes.handshakeBlock16(at: 0), spi)
        }
    }
}
