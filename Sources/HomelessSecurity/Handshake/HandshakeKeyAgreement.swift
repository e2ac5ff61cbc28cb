internal import Crypto
import HomelessWire

/// An X25519 key pair (RFC 7748) made from bytes of the injected random
/// source, so handshakes are reproducible under a seeded generator.
struct X25519KeyPair: Sendable {
    /// swift-crypto does not mark the key Sendable; it is an immutable value
    /// (the 32 key octets) that is only read after creation.
    private nonisolated(unsafe) let privateKey: Curve25519.KeyAgreement.PrivateKey
    let publicKey: HandshakeBlock32

    init<Random: RandomNumberGenerator>(random: inout Random) {
        var seed = [UInt8](repeating: 0, count: 32)
        for index in stride(from: 0, to: 32, by: 8) {
            let word = random.next()
            for byte in 0..<8 { seed[index + byte] = UInt8(truncatingIfNeeded: word >> (8 * byte)) }
        }
        // Any 32 octets are a valid X25519 private key (RFC 7748 5: the scalar is clamped on use).
        guard let key = try? Curve25519.KeyAgreement.PrivateKey(rawRepresentation: seed) else {
            preconditionFailure("a 32-octet X25519 private key was refused")
        }
        privateKey = key
        publicKey = HandshakeBlock32(bytes: key.publicKey.rawRepresentation)
    }

    /// X25519(private, peer). swift-crypto (like CryptoKit) returns the
    /// all-zero result of a low-order peer key without complaint, so it is
    /// refused here (RFC 7748 6.1: "check for the all-zero value and abort"):
    /// with such a key the attacker knows the "shared" secret.
    func sharedSecret(with peer: HandshakeBlock32) throws(HandshakeKeyAgreementError) -> [UInt8] {
        let peerKey: Curve25519.KeyAgreement.PublicKey
        do { peerKey = try Curve25519.KeyAgreement.PublicKey(rawRepresentation: peer.bytes) } catch { throw .invalidPublicKey }
        let secret: SharedSecret
        do { secret = try privateKey.sharedSecretFromKeyAgreement(with: peerKey) } catch { throw .invalidPublicKey }
        let bytes = secret.withUnsafeBytes { Array($0) }
        guard bytes.count == 32, bytes.reduce(0, { $0 | $1 }) != 0 else { throw .lowOrderPublicKey }
        return bytes
    }
}

public enum HandshakeKeyAgreementError: Error, Equatable, Sendable {
    /// The peer's key gave the all-zero shared secret (a low-order point).
    case lowOrderPublicKey
    case invalidPublicKey
}

/// The key schedule: HKDF-SHA256 (RFC 5869) from the X25519 secret to one
/// AH key per direction. Everything both sides agreed on goes into `info`,
/// so a change to any field of messages 2 or 3 by an attacker gives the two
/// sides different keys and message 3's AH fails.
enum HandshakeKeySchedule {
    static let label = Array("homeless anonymous authentication v1".utf8)
    static let keyLength = AuthenticationAlgorithm.hmacSHA256_128.keyLength

    struct Keys {
        /// Protects initiator-to-responder packets (the responder's inbound SA, SPI = Responder SPI).
        var initiatorToResponder: [UInt8]
        /// Protects responder-to-initiator packets (SPI = Initiator SPI).
        var responderToInitiator: [UInt8]
    }

    static func derive(sharedSecret: [UInt8], initiator: IPv6Address, responder: IPv6Address,
                       challenge: ResponderChallenge, response: InitiatorResponse) -> Keys {
        let salt = challenge.initiatorNonce.bytes + challenge.cookie.bytes
        var info = label
        info += initiator.bytes + responder.bytes
        info += response.initiatorPublicKey.bytes + challenge.responderPublicKey.bytes
        info += bigEndian(response.initiatorSPI) + bigEndian(challenge.responderSPI) + bigEndian(challenge.timeSlot)
        info.append(challenge.difficulty)
        let key = HKDF<SHA256>.deriveKey(inputKeyMaterial: SymmetricKey(data: sharedSecret), salt: salt, info: info,
                                         outputByteCount: 2 * keyLength)
        let material = key.withUnsafeBytes { Array($0) }
        return Keys(initiatorToResponder: Array(material[0..<keyLength]),
                    responderToInitiator: Array(material[keyLength..<(2 * keyLength)]))
    }

    static func bigEndian(_ value: UInt32) -> [UInt8] {
        [UInt8(truncatingIfNeeded: value >> 24), UInt8(truncatingIfNeeded: value >> 16),
         UInt8(truncatingIfNeeded: value >> 8), UInt8(truncatingIfNeeded: value)]
    }
}

