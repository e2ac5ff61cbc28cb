import Benchmark
import Crypto
import HomelessCore
import HomelessSecurity
import HomelessWire

// Per-packet security costs: verifying AH (HMAC-SHA-256-128, RFC 4868)
// on an inbound packet, and the responder's answer to a handshake
// message 1 (draft A.2; stateless, so it is what a flood of message 1s
// costs). Every benchmark counts mallocs: AH verification is on the fast
// path and must allocate nothing. Results: docs/PERFORMANCE.md;
// Bench/ah-vs-openssl.sh puts the verify figures beside OpenSSL's HMAC
// with precomputed state.
//
// Each measured iteration runs `operationsPerIteration` operations; divide
// the per-iteration time by it for nanoseconds per operation.
let operationsPerIteration = 1_000

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal, .mallocBytesCount]
    Benchmark.defaultConfiguration = .init(metrics: metrics, timeUnits: .nanoseconds, warmupIterations: 3,
                                           scalingFactor: .one, maxDuration: .seconds(2), maxIterations: 2_000)

    // MARK: AH verification
    //
    // IPv6 | AH (HMAC-SHA-256-128: 12 + 16 octets, padded to 32) | payload.
    // "Payload64" carries 64 octets after AH (a 136-octet packet, the
    // smallest packets with 64 octets of data); "Packet104" is a 104-octet
    // packet (32 octets of data, a TCP ACK's size), whose ICV input takes
    // as many SHA-256 compressions (2 inner + 1 outer) as the HMAC of a
    // 64-octet message; "Packet256" and
    // "Packet1400" are packets of 256 and 1400 octets, so their ICV input
    // is exactly as long as the messages of the same size in the OpenSSL
    // reference. "HopByHop" variants put an 8-octet Hop-by-Hop header
    // (PadN) in front of AH, which takes the general, piecewise ICV path
    // instead of the IPv6 | AH fast path. The inbound SA has no replay
    // window, so the same packet verifies every time; everything else is
    // the full inbound check (`SecurityAssociation.verify`: AH located,
    // SPI, ICV in constant time).
    let cases: [(label: String, packetLength: Int, hopByHop: Bool)] = [
        ("Payload64", 40 + 32 + 64, false), ("Packet104", 104, false), ("Packet256", 256, false), ("Packet1400", 1400, false),
        ("Packet256.HopByHop", 256, true), ("Packet1400.HopByHop", 1400, true),
    ]
    for (label, packetLength, hopByHop) in cases {
        let fixture = AHFixture(packetLength: packetLength, hopByHop: hopByHop)
        Benchmark("AH.Verify.\(label)") { _ in
            var association = fixture.inbound
            fixture.packet.withUnsafeBytes { packet in
                for _ in 0..<operationsPerIteration {
                    blackHole(association.verify(packet).verdict == .ok)
                }
            }
        } setup: {
            var association = fixture.inbound
            let verdict = fixture.packet.withUnsafeBytes { association.verify($0).verdict }
            precondition(verdict == .ok, "fixture packet does not verify: \(verdict)")
        }
    }

    // MARK: Handshake message 1 -> message 2

    Benchmark("Handshake.AnswerHello") { _ in
        var random = SystemRandomNumberGenerator()
        var responder = HandshakeResponder(now: .origin, random: &random)
        let hello = InitiatorHello(initiatorNonce: HandshakeBlock16(high: 0x0123_4567_89AB_CDEF, low: 42))
        let initiator = IPv6Address(high: 0x2001_0db8_0000_0001, low: 1)
        let responderAddress = IPv6Address(high: 0x2001_0db8_0000_0002, low: 2)
        for index in 0..<operationsPerIteration {
            // A new initiator address each time, as in a flood of message 1s.
            let source = IPv6Address(high: initiator.high, low: UInt64(index))
            blackHole(responder.answer(hello, initiator: source, responder: responderAddress, now: .origin,
                                       random: &random).responderSPI)
        }
    }

    // MARK: One X25519 shared secret
    //
    // What a responder would pay per message 1 if it had to key an AH on
    // message 2 (docs/HANDSHAKE.md): one X25519 with swift-crypto, the
    // library the handshake uses. The engine pays it once per message 3
    // that passed the cookie and the puzzle.
    let responderKey = Curve25519.KeyAgreement.PrivateKey()
    let initiatorKey = Curve25519.KeyAgreement.PrivateKey().publicKey
    Benchmark("Handshake.X25519SharedSecret") { _ in
        for _ in 0..<operationsPerIteration {
            blackHole(try? responderKey.sharedSecretFromKeyAgreement(with: initiatorKey))
        }
    }
}

/// A signed packet and the inbound SA that accepts it.
struct AHFixture: Sendable {
    let packet: [UInt8]
    let inbound: SecurityAssociation

    /// A signed packet of `packetLength` octets; with `hopByHop`, an
    /// 8-octet Hop-by-Hop header (one PadN option) precedes AH.
    init(packetLength: Int, hopByHop: Bool) {
        let source = IPv6Address(high: 0x2001_0db8_0000_0001, low: 1)
        let destination = IPv6Address(high: 0x2001_0db8_0000_0002, low: 2)
        let key = (0..<32).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 1) }
        do {
            var outbound = try SecurityAssociation(spi: 0x1000, direction: .outbound, algorithm: .hmacSHA256_128,
                                                   key: key, source: source, destination: destination)
            inbound = try SecurityAssociation(spi: 0x1000, direction: .inbound, algorithm: .hmacSHA256_128,
                                              key: key, source: source, destination: destination,
                                              replayWindow: .disabled)
            let options: [UInt8] = hopByHop ? [59, 0, 1, 4, 0, 0, 0, 0] : []
            let dataLength = packetLength - 40 - 32 - options.count
            let payload = options + (0..<dataLength).map { UInt8(truncatingIfNeeded: $0) }
            var buffer = HandshakePacket.ipv6(source: source, destination: destination,
                                              nextHeader: hopByHop ? 0 : 59, payload: payload)
            let length = buffer.count
            buffer += [UInt8](repeating: 0, count: 64)
            let signedLength = try buffer.withUnsafeMutableBytes { bytes in
                let insertionOffset = try AHPlacement.transportInsertionOffset(
                    in: UnsafeRawBufferPointer(rebasing: bytes[0..<length]))
                return try outbound.protect(bytes, packetLength: length, insertingAt: insertionOffset)
            }
            precondition(signedLength == packetLength, "AH fixture length \(signedLength), wanted \(packetLength)")
            packet = Array(buffer[0..<signedLength])
        } catch {
            fatalError("AH fixture: \(error)")
        }
    }
}
