import Testing
@testable import HomelessCore
import HomelessWire

/// Random operation sequences over a small cache: after every step the
/// cache, its owner maps and the fast-path mirror must agree
/// (`invariantViolations`), and the one-owner rule must hold.
@Suite struct HostCacheModelTests {
    @Test(arguments: [UInt64(1), 2, 3, 4])
    func randomOperationsKeepEveryInvariant(seed: UInt64) throws {
        var random = SplitMix64(seed: seed &* 0x9E37_79B9)
        let (cache, clock) = makeCache(HostCacheParameters(defaultLifetime: 50, maximumExpiredLifetime: 80,
                                                           maximumEntries: 12, maximumForeignAddresses: 24,
                                                           maximumLocalAddresses: 6), seed: seed)
        let pool = (1...40).map { IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64($0 % 5), low: UInt64($0)) }
        func pick() -> IPv6Address { pool[Int(random.next() % UInt64(pool.count))] }
        let local = try cache.createLocalEntry()
        var sequence: [HostCacheEntryID: UInt16] = [:]
        var seen: [String: Int] = [:]
        func count(_ changes: [AddressChange]) {
            for change in changes {
                let name: String
                switch change.kind {
                case .takenOver: name = "takenOver"
                case .conflict: name = "conflict"
                default: name = "\(change.kind)"
                }
                seen[name, default: 0] += 1
            }
        }

        for step in 0..<3_000 {
            let ids = cache.entryIDs.filter { cache.entry($0)?.kind == .foreign }
            let target = ids.isEmpty ? nil : ids[Int(random.next() % UInt64(ids.count))]
            switch random.next() % 10 {
            case 0, 1:
                let creation = try? cache.createForeignEntry(for: pick(), alsoKnownAs: random.next() % 3 == 0 ? [pick()] : [],
                                                             trust: random.next() % 3 == 0 ? .trusted : .untrusted)
                if case .created(_, let evicted, let changes)? = creation {
                    count(changes)
                    seen["evicted", default: 0] += evicted.count
                }
            case 2, 3, 4:
                guard let target, let entry = cache.entry(target), let source = entry.addresses.keys.min() else { break }
                var options: [MobilitySubOption] = []
                for _ in 0..<Int(random.next() % 4) {
                    switch random.next() % 3 {
                    case 0: options.append(.alternateCareOfAddress(pick()))
                    case 1: options.append(.homelessSupport)
                    default:
                        let prefix = pick().bytes
                        options.append(.alternatePrefixes(AlternatePrefixes(prefixLengthCode: 1, prefixes: [Array(prefix.prefix(8))])))
                    }
                }
                let next = (sequence[target] ?? 0) &+ UInt16(random.next() % 3)
                sequence[target] = next
                let lifetime: UInt32 = [0, 10, 30, 100, BindingUpdate.infiniteLifetime][Int(random.next() % 5)]
                let outcome = try cache.applyBindingUpdates([bu(next, lifetime: lifetime, ack: true, options)], to: target,
                                                            matchedBy: .packetSource, packetSource: source, homeAddress: nil)
                #expect(outcome.dispositions.count == 1)
                count(outcome.changes)
                if outcome.dispositions.first?.rejection != nil { seen["rejectedSequence", default: 0] += 1 }
            case 5:
                clock.advance(seconds: random.next() % 40)
                count(cache.expire().changes)
            case 6:
                if let target {
                    if random.next() % 2 == 0 { try cache.retain(target) } else { _ = try? cache.release(target) }
                }
            case 7:
                if let target { try cache.setTrust(random.next() % 2 == 0 ? .trusted : .untrusted, for: target) }
            case 8:
                if random.next() % 2 == 0 {
                    // An address a Foreign entry holds becomes ours: "removed" there.
                    if let changes = try? cache.addLocalAddress(pick(), to: local) { count(changes) }
                } else if let mine = cache.entry(local)?.addresses.keys.first {
                    _ = try cache.removeLocalAddress(mine, from: local)
                }
            default:
                if let target {
                    _ = cache.noteReceived(from: pick(), entry: target)
                    _ = cache.touch(pick())
                }
            }
            let problems = cache.invariantViolations()
            #expect(problems.isEmpty, "step \(step): \(problems)")
            if !problems.isEmpty { return }
        }
        // The run must have reached the interesting rules, or it proves little.
        for kind in ["added", "refreshed", "removed", "expired", "purged", "takenOver", "conflict", "evicted", "rejectedSequence"] {
            #expect(seen[kind, default: 0] > 0, "never saw \(kind): \(seen)")
        }
    }
}
