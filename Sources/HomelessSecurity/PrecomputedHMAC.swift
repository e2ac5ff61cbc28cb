internal import CHomelessCrypto

/// HMAC (RFC 2104) keyed once: the hash states after absorbing
/// `key XOR ipad` and `key XOR opad` are computed when the Security
/// Association is installed, so each packet costs only the hash of its own
/// bytes plus one outer block, and starting a computation is a plain copy of
/// a fixed-size value (no allocation, RFC 2104 section 4 "implementation note").
public struct PrecomputedHMAC: Sendable {
    public let algorithm: AuthenticationAlgorithm
    /// The two states live in one immutable object, so the SA (and this
    /// value) stay small: copying a large struct out of an SA held `inout`
    /// costs a memcpy per packet.
    let keyStates: HMACKeyStates

    /// HMAC block size of SHA-1 and SHA-256 (RFC 2104 2: B = 64).
    static let blockLength = 64

    /// Keys longer than the block are hashed first (RFC 2104 2). AH keys
    /// have a fixed length per algorithm; that is checked where SAs are made.
    public init(algorithm: AuthenticationAlgorithm, key: [UInt8]) {
        self.algorithm = algorithm
        var blockKey = [UInt8](repeating: 0, count: Self.blockLength)
        if key.count > Self.blockLength {
            var state = Self.freshState(algorithm)
            key.withUnsafeBytes { Self.update(&state, algorithm, $0) }
            blockKey.withUnsafeMutableBytes { Self.finish(&state, algorithm, into: $0) }
        } else {
            blockKey.replaceSubrange(0..<key.count, with: key)
        }
        var innerState = Self.freshState(algorithm)
        var outerState = Self.freshState(algorithm)
        let innerPad = blockKey.map { $0 ^ 0x36 }
        let outerPad = blockKey.map { $0 ^ 0x5C }
        innerPad.withUnsafeBytes { Self.update(&innerState, algorithm, $0) }
        outerPad.withUnsafeBytes { Self.update(&outerState, algorithm, $0) }
        self.keyStates = HMACKeyStates(inner: innerState, outer: outerState)
    }

    /// Starts a MAC computation over a new message.
    @inline(__always)
    func begin() -> HMACComputation {
        HMACComputation(algorithm: algorithm, state: keyStates.inner, keyStates: keyStates)
    }

    /// The MAC of `first` followed by `second` in one C call, into `digest`
    /// (at least `algorithm.digestLength` octets): the AH fast path, which
    /// has the ICV input in exactly two pieces.
    @inline(__always)
    func authenticate(_ first: UnsafeRawBufferPointer, _ second: UnsafeRawBufferPointer,
                      into digest: UnsafeMutableRawBufferPointer) {
        guard let output = digest.baseAddress, digest.count >= algorithm.digestLength else { return }
        let mac = output.assumingMemoryBound(to: UInt8.self)
        withExtendedLifetime(keyStates) {
            let inner = keyStates.innerPointer, outer = keyStates.outerPointer
            switch algorithm {
            case .hmacSHA1_96:
                hl_hmac_sha1(inner, outer, first.baseAddress, first.count, second.baseAddress, second.count, mac)
            case .hmacSHA256_128:
                hl_hmac_sha256(inner, outer, first.baseAddress, first.count, second.baseAddress, second.count, mac)
            }
        }
    }

    /// One-shot MAC of `message`, writing the full digest (slow path, tests).
    public func authenticate(_ message: [UInt8]) -> [UInt8] {
        var digest = [UInt8](repeating: 0, count: algorithm.digestLength)
        withExtendedLifetime(keyStates) {
            var computation = begin()
            message.withUnsafeBytes { computation.absorb($0) }
            digest.withUnsafeMutableBytes { computation.finish(into: $0) }
        }
        return digest
    }

    static func freshState(_ algorithm: AuthenticationAlgorithm) -> hl_hash_state {
        var state = hl_hash_state()
        switch algorithm {
        case .hmacSHA1_96: hl_sha1_init(&state)
        case .hmacSHA256_128: hl_sha256_init(&state)
        }
        return state
    }

    @inline(__always)
    static func update(_ state: inout hl_hash_state, _ algorithm: AuthenticationAlgorithm, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        switch algorithm {
        case .hmacSHA1_96: hl_sha1_update(&state, base, bytes.count)
        case .hmacSHA256_128: hl_sha256_update(&state, base, bytes.count)
        }
    }

    /// Writes the full digest into `digest`, which holds at least `algorithm.digestLength` octets.
    @inline(__always)
    static func finish(_ state: inout hl_hash_state, _ algorithm: AuthenticationAlgorithm, into digest: UnsafeMutableRawBufferPointer) {
        guard let base = digest.baseAddress, digest.count >= algorithm.digestLength else { return }
        let bytes = base.assumingMemoryBound(to: UInt8.self)
        switch algorithm {
        case .hmacSHA1_96: hl_sha1_final(&state, bytes)
        case .hmacSHA256_128: hl_sha256_final(&state, bytes)
        }
    }
}

/// The hash states after absorbing `key XOR ipad` and `key XOR opad`;
/// immutable once made, shared by copies of an SA. They live in one raw
/// allocation rather than in stored properties so the fast path can hand C
/// pointers to them directly (`withUnsafePointer(to:)` on a class property
/// would copy both 128-octet states to the stack for every packet).
final class HMACKeyStates: @unchecked Sendable {
    /// Two states: inner at index 0, outer at index 1. Written only in `init`.
    private let storage: UnsafeMutablePointer<hl_hash_state>

    init(inner: hl_hash_state, outer: hl_hash_state) {
        storage = .allocate(capacity: 2)
        storage.initialize(to: inner)
        (storage + 1).initialize(to: outer)
    }

    deinit {
        storage.deinitialize(count: 2)
        storage.deallocate()
    }

    var inner: hl_hash_state { storage.pointee }
    var outer: hl_hash_state { storage[1] }
    /// Valid while this object lives.
    var innerPointer: UnsafePointer<hl_hash_state> { UnsafePointer(storage) }
    var outerPointer: UnsafePointer<hl_hash_state> { UnsafePointer(storage + 1) }
}

/// A running HMAC over a message fed in pieces (see `ICVInputSink`).
///
/// Small pieces are staged in a 64-octet block on the stack and handed to
/// the hash a whole block at a time, large runs straight from the packet in
/// multiples of the block: the ICV input arrives as several short pieces
/// (header, zeroed fields) and one call per block is cheaper than one per
/// piece, without copying more than a block's worth of the packet.
struct HMACComputation: ICVInputSink {
    let algorithm: AuthenticationAlgorithm
    var state: hl_hash_state
    /// Not retained: a computation lives inside one call on the
    /// `PrecomputedHMAC` that owns the states (saves two atomic operations).
    unowned(unsafe) let keyStates: HMACKeyStates
    var block: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0, 0, 0, 0, 0)
    var staged = 0

    init(algorithm: AuthenticationAlgorithm, state: hl_hash_state, keyStates: HMACKeyStates) {
        self.algorithm = algorithm
        self.state = state
        self.keyStates = keyStates
    }

    static let blockLength = PrecomputedHMAC.blockLength

    mutating func absorb(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        var offset = 0
        var remaining = bytes.count
        if staged > 0 {
            let take = min(remaining, Self.blockLength - staged)
            let at = staged
            withUnsafeMutableBytes(of: &block) { block in
                guard let base = block.baseAddress else { return }
                (base + at).copyMemory(from: source, byteCount: take)
            }
            staged += take
            offset = take
            remaining -= take
            if staged == Self.blockLength { flushBlock() }
        }
        let direct = remaining / Self.blockLength * Self.blockLength
        if direct > 0 {
            PrecomputedHMAC.update(&state, algorithm, UnsafeRawBufferPointer(start: source + offset, count: direct))
            offset += direct
            remaining -= direct
        }
        if remaining > 0 {
            let from = offset
            withUnsafeMutableBytes(of: &block) { block in
                block.baseAddress?.copyMemory(from: source + from, byteCount: remaining)
            }
            staged = remaining
        }
    }

    mutating func absorbZeros(_ count: Int) {
        var remaining = count
        while remaining > 0 {
            let take = min(remaining, Self.blockLength - staged)
            let at = staged
            withUnsafeMutableBytes(of: &block) { block in
                guard let base = block.baseAddress else { return }
                (base + at).initializeMemory(as: UInt8.self, repeating: 0, count: take)
            }
            staged += take
            remaining -= take
            if staged == Self.blockLength { flushBlock() }
        }
    }

    private mutating func flushBlock() {
        let count = staged
        let algorithm = self.algorithm
        withUnsafeBytes(of: &block) { block in
            PrecomputedHMAC.update(&state, algorithm, UnsafeRawBufferPointer(rebasing: block[0..<count]))
        }
        staged = 0
    }

    /// Finishes the inner hash, runs the outer hash over it and writes the
    /// full MAC (digestLength octets) into `digest`.
    mutating func finish(into digest: UnsafeMutableRawBufferPointer) {
        if staged > 0 { flushBlock() }
        var innerDigest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        let algorithm = self.algorithm
        withUnsafeMutableBytes(of: &innerDigest) { inner in
            PrecomputedHMAC.finish(&state, algorithm, into: inner)
            var outer = keyStates.outer
            PrecomputedHMAC.update(&outer, algorithm, UnsafeRawBufferPointer(rebasing: inner[0..<algorithm.digestLength]))
            PrecomputedHMAC.finish(&outer, algorithm, into: digest)
        }
    }
}
