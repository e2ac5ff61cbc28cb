import Testing
@testable import HomelessSecurity

@Suite struct PrecomputedHMACTests {
    static let hiThere = Array("Hi There".utf8)
    static let largeKeyMessage = Array("Test Using Larger Than Block-Size Key - Hash Key First".utf8)

    /// RFC 4231 test cases 1 and 6 (the latter hashes a 131-octet key first).
    @Test func hmacSHA256MatchesRFC4231() {
        let short = PrecomputedHMAC(algorithm: .hmacSHA256_128, key: [UInt8](repeating: 0x0B, count: 20))
        #expect(hexString(short.authenticate(Self.hiThere)) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
        let long = PrecomputedHMAC(algorithm: .hmacSHA256_128, key: [UInt8](repeating: 0xAA, count: 131))
        #expect(hexString(long.authenticate(Self.largeKeyMessage)) == "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54")
    }

    /// RFC 2202 test cases 1 and 6.
    @Test func hmacSHA1MatchesRFC2202() {
        let short = PrecomputedHMAC(algorithm: .hmacSHA1_96, key: [UInt8](repeating: 0x0B, count: 20))
        #expect(hexString(short.authenticate(Self.hiThere)) == "b617318655057264e28bc0b6fb378c8ef146be00")
        let long = PrecomputedHMAC(algorithm: .hmacSHA1_96, key: [UInt8](repeating: 0xAA, count: 80))
        #expect(hexString(long.authenticate(Self.largeKeyMessage)) == "aa4ae5e15272d00e95705637ce8a3b55ed402112")
    }

    /// Feeding a message in arbitrary pieces (some as zero runs) gives the
    /// same MAC as one piece: exercises the 64-octet staging block.
    @Test(arguments: AuthenticationAlgorithm.allCases)
    func piecewiseFeedingMatchesOneShot(_ algorithm: AuthenticationAlgorithm) {
        let hmac = PrecomputedHMAC(algorithm: algorithm, key: [UInt8](repeating: 0x5C, count: algorithm.keyLength))
        var generator = SplitMix(seed: 99)
        for length in [0, 1, 20, 63, 64, 65, 127, 128, 129, 300, 1500] {
            var message = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            // Cut the message into pieces of 1...90 octets; every third piece
            // becomes zeros and is fed with absorbZeros.
            var pieces: [(range: Range<Int>, zeros: Bool)] = []
            var cursor = 0
            while cursor < length {
                let range = cursor..<min(length, cursor + Int(generator.next() % 90) + 1)
                let zeros = generator.next() % 3 == 0
                if zeros { for index in range { message[index] = 0 } }
                pieces.append((range, zeros))
                cursor = range.upperBound
            }
            let expected = hmac.authenticate(message)
            var computation = hmac.begin()
            for piece in pieces {
                if piece.zeros {
                    computation.absorbZeros(piece.range.count)
                } else {
                    message[piece.range].withUnsafeBytes { computation.absorb($0) }
                }
            }
            var digest = [UInt8](repeating: 0, count: algorithm.digestLength)
            withExtendedLifetime(hmac) {
                digest.withUnsafeMutableBytes { computation.finish(into: $0) }
            }
            #expect(digest == expected, "length \(length)")
        }
    }

    /// The AH fast path's one C call (`authenticate(_:_:into:)`, which pads
    /// and compresses itself) agrees with the piecewise computation for
    /// every length around the padding boundaries (55/56 octets left in the
    /// last block) and every split point into two pieces, and with
    /// RFC 4231 test case 1.
    @Test(arguments: AuthenticationAlgorithm.allCases)
    func twoPieceCallMatchesPiecewise(_ algorithm: AuthenticationAlgorithm) {
        let hmac = PrecomputedHMAC(algorithm: algorithm, key: [UInt8](repeating: 0x36, count: algorithm.keyLength))
        var generator = SplitMix(seed: 7)
        for length in [0, 1, 8, 55, 56, 57, 63, 64, 65, 104, 119, 120, 121, 127, 128, 129, 200, 1400] {
            let message = (0..<length).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            let expected = hmac.authenticate(message)
            for split in Set([0, min(length, 1), length / 2, max(0, length - 1), length, min(length, 64), min(length, 72)]) {
                var digest = [UInt8](repeating: 0, count: algorithm.digestLength)
                message.withUnsafeBytes { bytes in
                    digest.withUnsafeMutableBytes { output in
                        hmac.authenticate(UnsafeRawBufferPointer(rebasing: bytes[0..<split]),
                                          UnsafeRawBufferPointer(rebasing: bytes[split...]), into: output)
                    }
                }
                #expect(digest == expected, "length \(length), split at \(split)")
            }
        }
        let rfc4231 = PrecomputedHMAC(algorithm: .hmacSHA256_128, key: [UInt8](repeating: 0x0B, count: 20))
        var digest = [UInt8](repeating: 0, count: 32)
        Self.hiThere.withUnsafeBytes { bytes in
            digest.withUnsafeMutableBytes { output in
                rfc4231.authenticate(UnsafeRawBufferPointer(rebasing: bytes[0..<3]),
                                     UnsafeRawBufferPointer(rebasing: bytes[3...]), into: output)
            }
        }
        #expect(hexString(digest) == "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7")
    }
}
