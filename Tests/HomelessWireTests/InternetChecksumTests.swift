import Testing
@testable import HomelessWire

@Suite struct InternetChecksumTests {
    /// RFC 1071 section 3 worked example: the sum of 0001 f203 f4f5 f6f7 is ddf2.
    @Test func rfc1071Example() {
        let bytes: [UInt8] = [0x00, 0x01, 0xF2, 0x03, 0xF4, 0xF5, 0xF6, 0xF7]
        let sum = bytes.withUnsafeBytes { InternetChecksum.sum($0) }
        #expect(InternetChecksum.fold(sum) == 0xDDF2)
        #expect(InternetChecksum.finish(sum) == 0x220D)
    }

    @Test func oddLengthPadsWithZero() {
        let odd: [UInt8] = [0x12, 0x34, 0x56]
        let even: [UInt8] = [0x12, 0x34, 0x56, 0x00]
        #expect(InternetChecksum.fold(odd.withUnsafeBytes { InternetChecksum.sum($0) })
            == InternetChecksum.fold(even.withUnsafeBytes { InternetChecksum.sum($0) }))
        #expect(InternetChecksum.fold(odd.withUnsafeBytes { InternetChecksum.sum($0) }) == 0x6834)
    }

    @Test func sumMatchesWordByWordReference() {
        var rng = SeededGenerator(seed: 1071)
        for _ in 0..<300 {
            let bytes = rng.bytes(Int.random(in: 0...300, using: &rng))
            var reference: UInt32 = 0
            var index = 0
            while index < bytes.count {
                let high = UInt32(bytes[index]) << 8
                let low = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
                reference += high | low
                reference = (reference & 0xFFFF) + (reference >> 16)
                index += 2
            }
            let sum = bytes.withUnsafeBytes { InternetChecksum.sum($0) }
            #expect(UInt32(InternetChecksum.fold(sum)) == reference)
        }
    }

    @Test func verificationOfComputedChecksum() {
        var rng = SeededGenerator(seed: 8200)
        for _ in 0..<100 {
            let source = rng.address(), destination = rng.address()
            var message = rng.bytes(Int.random(in: 8...200, using: &rng))
            message[6] = 0; message[7] = 0
            let checksum = message.withUnsafeBytes {
                InternetChecksum.upperLayerChecksum(source: source, destination: destination, nextHeader: .udp, message: $0)
            }
            message[6] = UInt8(checksum >> 8); message[7] = UInt8(checksum & 0xFF)
            #expect(message.withUnsafeBytes {
                InternetChecksum.verifyUpperLayer(source: source, destination: destination, nextHeader: .udp, message: $0)
            })
            message[Int.random(in: 8..<message.count, using: &rng)] ^= 0x01
            #expect(!message.withUnsafeBytes {
                InternetChecksum.verifyUpperLayer(source: source, destination: destination, nextHeader: .udp, message: $0)
            })
        }
    }

    /// RFC 8200 8.1 pseudo-header laid out as bytes and summed directly.
    @Test func pseudoHeaderMatchesByteLayout() {
        var rng = SeededGenerator(seed: 81)
        for _ in 0..<50 {
            let source = rng.address(), destination = rng.address()
            let length = UInt32.random(in: 0...0x1_0000_0, using: &rng)
            var bytes = source.bytes + destination.bytes
            bytes += [UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            bytes += [0, 0, 0, 58]
            let direct = bytes.withUnsafeBytes { InternetChecksum.fold(InternetChecksum.sum($0)) }
            let computed = InternetChecksum.fold(InternetChecksum.pseudoHeaderSum(
                source: source, destination: destination, upperLayerLength: length, nextHeader: .icmpv6))
            #expect(direct == computed)
        }
    }

    /// RFC 1624 eqn. 3 must equal a full recomputation, for 16-bit words.
    @Test func incrementalWordUpdateEqualsRecomputation() {
        var rng = SeededGenerator(seed: 1624)
        for _ in 0..<2000 {
            var data = rng.bytes(2 * Int.random(in: 1...40, using: &rng))
            let before = data.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.sum($0)) }
            let word = 2 * Int.random(in: 0..<(data.count / 2), using: &rng)
            let old = UInt16(data[word]) << 8 | UInt16(data[word + 1])
            let new = UInt16.random(in: 0...0xFFFF, using: &rng)
            data[word] = UInt8(new >> 8); data[word + 1] = UInt8(new & 0xFF)
            let after = data.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.sum($0)) }
            #expect(InternetChecksum.update(before, replacing: old, with: new) == after)
        }
    }

    @Test func incrementalWord32UpdateEqualsRecomputation() {
        var rng = SeededGenerator(seed: 32)
        for _ in 0..<500 {
            var data = rng.bytes(4 * Int.random(in: 1...20, using: &rng))
            let before = data.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.sum($0)) }
            let at = 4 * Int.random(in: 0..<(data.count / 4), using: &rng)
            let old = data[at..<(at + 4)].reduce(UInt32(0)) { $0 << 8 | UInt32($1) }
            let new = UInt32.random(in: 0...UInt32.max, using: &rng)
            for index in 0..<4 { data[at + index] = UInt8(truncatingIfNeeded: new >> UInt32(24 - 8 * index)) }
            let after = data.withUnsafeBytes { InternetChecksum.finish(InternetChecksum.sum($0)) }
            #expect(InternetChecksum.update(before, replacing: old, with: new) == after)
        }
    }

    /// Replacing a whole source address in the pseudo-header (ULID <-> locator
    /// translation) updates the upper-layer checksum like a recomputation.
    @Test func incrementalAddressUpdateEqualsRecomputation() {
        var rng = SeededGenerator(seed: 128)
        for _ in 0..<1000 {
            let oldSource = rng.address(), newSource = rng.address(), destination = rng.address()
            let message = rng.bytes(Int.random(in: 8...120, using: &rng))
            let before = message.withUnsafeBytes {
                InternetChecksum.upperLayerChecksum(source: oldSource, destination: destination, nextHeader: .tcp, message: $0)
            }
            let after = message.withUnsafeBytes {
                InternetChecksum.upperLayerChecksum(source: newSource, destination: destination, nextHeader: .tcp, message: $0)
            }
            #expect(InternetChecksum.update(before, replacing: oldSource, with: newSource) == after)
        }
    }

    /// Same-value and inverse updates are identities.
    @Test func incrementalUpdateIdentities() {
        var rng = SeededGenerator(seed: 7)
        for _ in 0..<200 {
            let checksum = UInt16.random(in: 1...0xFFFE, using: &rng)
            let a = rng.address(), b = rng.address()
            #expect(InternetChecksum.update(checksum, replacing: a, with: a) == checksum)
            let there = InternetChecksum.update(checksum, replacing: a, with: b)
            #expect(InternetChecksum.update(there, replacing: b, with: a) == checksum)
        }
    }
}
