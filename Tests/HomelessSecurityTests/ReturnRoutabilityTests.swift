import HomelessCore
import HomelessWire
import Testing
@testable import HomelessSecurity

/// Address verification by return routability (RFC 4225 3.1): an address
/// added by a Binding Update gets bulk traffic only after the peer
/// answered a nonce probe from it; probes are retried with backoff and
/// rate-limited host-wide.
@Suite struct ReturnRoutabilityTests {
    static let entry = HostCacheEntryID(slot: 3, generation: 1)
    static let other = HostCacheEntryID(slot: 4, generation: 1)
    static let newAddress = IPv6Address("2001:db8:7::70")!
    static let second: UInt64 = 1_000_000_000

    static func at(_ seconds: UInt64, plus nanoseconds: UInt64 = 0) -> MonotonicInstant {
        MonotonicInstant(nanoseconds: 1_000 * second + seconds * second + nanoseconds)
    }

    @Test func addressIsUsableOnlyAfterTheProbeIsAnswered() {
        var random = SplitMix64(seed: 42)
        var verification = ReturnRoutability(now: Self.at(0))
        let result1 = verification.addressAdded(entry: Self.entry, address: Self.newAddress)
        #expect(result1)
        #expect(!verification.mayReceiveBulkTraffic(entry: Self.entry, address: Self.newAddress, now: Self.at(0)))
        let probes = verification.poll(now: Self.at(0), random: &random)
        #expect(probes.count == 1)
        let probe = try! #require(probes.first)
        #expect(probe.address == Self.newAddress && probe.entry == Self.entry && probe.message.kind == .probe)
        #expect(!verification.mayReceiveBulkTraffic(entry: Self.entry, address: Self.newAddress, now: Self.at(0)))

        // The reply goes through the wire format and back.
        let wire = probe.message.reply.bytes()
        let reply = try! wire.withUnsafeBytes { try AddressProbeMessage(parsing: $0) }
        let result2 = verification.receiveReply(reply, source: Self.newAddress, entry: Self.entry, now: Self.at(0, plus: 3_000_000))
        #expect(result2 == .verified)
        #expect(verification.mayReceiveBulkTraffic(entry: Self.entry, address: Self.newAddress, now: Self.at(1)))
        #expect(verification.counters.verified == 1 && verification.counters.probesSent == 1)
        // The same address under another entry is not verified.
        #expect(!verification.mayReceiveBulkTraffic(entry: Self.other, address: Self.newAddress, now: Self.at(1)))
    }

    @Test func wrongNonceFromAnotherAddressOrUnsolicitedReplyIsRefused() {
        var random = SplitMix64(seed: 42)
        var verification = ReturnRoutability(now: Self.at(0))
        verification.addressAdded(entry: Self.entry, address: Self.newAddress)
        let probe = verification.poll(now: Self.at(0), random: &random)[0].message
        var guessed = probe.reply
        guessed.nonce.low ^= 1
        let result3 = verification.receiveReply(guessed, source: Self.newAddress, entry: Self.entry, now: Self.at(0))
        #expect(result3 == .wrongNonce)
        // The right nonce but from an address that was not probed (the
        // victim never answers; the peer answering from elsewhere proves nothing).
        let result4 = verification.receiveReply(probe.reply, source: IPv6Address("2001:db8:8::80")!, entry: Self.entry, now: Self.at(0))
        #expect(result4 == .unexpected)
        #expect(verification.receiveReply(probe, source: Self.newAddress, entry: Self.entry, now: Self.at(0)) == .unexpected,
                "a probe is not a reply")
        #expect(!verification.mayReceiveBulkTraffic(entry: Self.entry, address: Self.newAddress, now: Self.at(0)))
        #expect(verification.counters.wrongNonces == 1 && verification.counters.unexpectedReplies == 2)
        let result5 = verification.receiveReply(probe.reply, source: Self.newAddress, entry: Self.entry, now: Self.at(0))
        #expect(result5 == .verified)
        #expect(verification.receiveReply(probe.reply, source: Self.newAddress, entry: Self.entry, now: Self.at(0)) == .unexpected,
                "a duplicate reply changes nothing")
    }

    @Test func retriesWithBackoffThenFails() {
        var random = SplitMix64(seed: 42)
        var verification = ReturnRoutability(now: Self.at(0))
        verification.addressAdded(entry: Self.entry, address: Self.newAddress)
        let first = verification.poll(now: Self.at(0), random: &random)
        #expect(first.count == 1)
        #expect(verification.poll(now: Self.at(0, plus: 999_999_999), random: &random).isEmpty)
        let second = verification.poll(now: Self.at(1), random: &random)
        #expect(second.count == 1)
        #expect(second.first?.message.nonce == first.first?.message.nonce, "retries repeat the nonce")
        // Backoff doubles: next at 1 + 2 s.
        #expect(verification.poll(now: Self.at(2), random: &random).isEmpty)
        #expect(verification.poll(now: Self.at(3), random: &random).count == 1)
        // Three probes sent; the next due time (3 + 4 s) fails the address.
        #expect(verification.poll(now: Self.at(7), random: &random).isEmpty)
        #expect(verification.state(entry: Self.entry, address: Self.newAddress) == .failed)
        #expect(verification.counters.failed == 1 && verification.counters.probesSent == 3)
        #expect(!verification.mayReceiveBulkTraffic(entry: Self.entry, address: Self.newAddress, now: Self.at(7)))
        // A late reply after failure does not verify.
        let late = first[0].message.reply
        let result6 = verification.receiveReply(late, source: Self.newAddress, entry: Self.entry, now: Self.at(8))
        #expect(result6 == .unexpected)
    }

    @Test func lateReplyToAnEarlierProbeStillVerifies() {
        var random = SplitMix64(seed: 42)
        var verification = ReturnRoutability(now: Self.at(0))
        verification.addressAdded(entry: Self.entry, address: Self.newAddress)
        let first = verification.poll(now: Self.at(0), random: &random)[0].message
        _ = verification.poll(now: Self.at(1), random: &random)
        let result7 = verification.receiveReply(first.reply, source: Self.newAddress, entry: Self.entry, now: Self.at(1, plus: 500))
        #expect(result7 == .verified)
    }

    @Test func probesAreRateLimitedHostWide() {
        var random = SplitMix64(seed: 42)
        var configuration = ReturnRoutabilityConfiguration()
        configuration.probesPerSecond = 5
        configuration.probeBurst = 10
        var verification = ReturnRoutability(configuration: configuration, now: Self.at(0))
        // A peer lists 1000 addresses (perhaps a victim's whole subnet).
        for index in 0..<1000 {
            verification.addressAdded(entry: Self.entry, address: IPv6Address(high: 0x2001_0db8_0009_0000, low: UInt64(index)))
        }
        #expect(verification.poll(now: Self.at(0), random: &random).count == 10, "the burst")
        #expect(verification.poll(now: Self.at(0, plus: 100_000_000), random: &random).isEmpty)
        #expect(verification.poll(now: Self.at(1), random: &random).count == 5, "then the rate")
        #expect(verification.counters.probesDeferred > 0)
        var sent = 15
        for seconds in 2...10 {
            sent += verification.poll(now: Self.at(UInt64(seconds)), random: &random).count
        }
        // Retries compete for the same tokens: never more than burst + rate * time.
        #expect(sent == 10 + 5 * 10)
        #expect(verification.counters.probesSent == sent)
    }

    @Test func tokenBucketRefillsAtItsRateUpToTheBurst() {
        var bucket = ProbeTokenBucket(rate: 2, burst: 3, now: Self.at(0))
        var taken: [Bool] = []
        for _ in 0..<4 { taken.append(bucket.take(now: Self.at(0))) }
        #expect(taken == [true, true, true, false])
        let early = bucket.take(now: Self.at(0, plus: 499_999_999))
        #expect(!early)
        let refilled = bucket.take(now: Self.at(0, plus: 500_000_000))
        #expect(refilled)
        #expect(bucket.available(now: Self.at(100)) == 3)
        // A clock that goes backwards adds nothing.
        #expect(bucket.available(now: MonotonicInstant(nanoseconds: 0)) == 0)
        // Far future: no overflow.
        #expect(bucket.available(now: MonotonicInstant(nanoseconds: .max)) == 3)
    }

    @Test func verifiedAddressIsProbedAgainAfterItsLifetime() {
        var random = SplitMix64(seed: 42)
        var configuration = ReturnRoutabilityConfiguration()
        configuration.verifiedNanoseconds = 30 * Self.second
        var verification = ReturnRoutability(configuration: configuration, now: Self.at(0))
        verification.addressVerifiedByHandshake(entry: Self.entry, address: Self.newAddress, now: Self.at(0))
        #expect(verification.mayReceiveBulkTraffic(entry: Self.entry, address: Self.newAddress, now: Self.at(29)))
        #expect(verification.poll(now: Self.at(29), random: &random).isEmpty)
        #expect(!verification.mayReceiveBulkTraffic(entry: Self.entry, address: Self.newAddress, now: Self.at(30)))
        let probes = verification.poll(now: Self.at(30), random: &random)
        #expect(probes.count == 1)
        let result8 = verification.receiveReply(probes[0].message.reply, source: Self.newAddress, entry: Self.entry, now: Self.at(31))
        #expect(result8 == .verified)
        #expect(verification.mayReceiveBulkTraffic(entry: Self.entry, address: Self.newAddress, now: Self.at(59)))
    }

    @Test func tableIsBoundedAndEntriesCanBeForgotten() {
        var configuration = ReturnRoutabilityConfiguration()
        configuration.maximumTracked = 2
        var verification = ReturnRoutability(configuration: configuration, now: Self.at(0))
        let result9 = verification.addressAdded(entry: Self.entry, address: IPv6Address(high: 1, low: 1))
        #expect(result9)
        let result10 = verification.addressAdded(entry: Self.other, address: IPv6Address(high: 1, low: 2))
        #expect(result10)
        let result11 = verification.addressAdded(entry: Self.entry, address: IPv6Address(high: 1, low: 3))
        #expect(!result11)
        #expect(verification.counters.untracked == 1)
        let result12 = verification.addressAdded(entry: Self.entry, address: IPv6Address(high: 1, low: 1))
        #expect(result12, "already tracked")
        verification.entryRemoved(Self.entry)
        #expect(verification.trackedCount == 1)
        verification.addressRemoved(entry: Self.other, address: IPv6Address(high: 1, low: 2))
        #expect(verification.trackedCount == 0)
    }
}
