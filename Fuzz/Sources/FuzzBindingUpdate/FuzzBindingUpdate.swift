import HomelessCore
import HomelessWire

// libFuzzer target over Binding Update processing in the Host Cache
// (HomelessCore).
//
// The input is a program. Its first bytes size a small cache (so capacity
// limits and random eviction, draft 5.2, are reached quickly) and seed its
// random source; then each operation is one opcode byte and its operands:
// create Local/Foreign entries, add/remove local addresses, apply the
// Binding Updates of a Destination Options header parsed from bytes (either
// raw input bytes or a header emitted from fuzzer-chosen fields), advance
// the manual clock, run expiry, look addresses up, retain/release/remove
// entries, change trust, note received packets. After every operation the
// cache is checked by `CacheAudit` (independently of the cache's own
// `invariantViolations`, which must also be empty). A broken invariant or
// a trap is a crash for libFuzzer.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var input = FuzzInput(UnsafeRawBufferPointer(start: data, count: size))
    var program = CacheProgram(&input)
    program.run(&input)
    return 0
}

/// Reports a broken invariant: libFuzzer saves the input and stops.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

struct CacheProgram {
    static let maximumOperations = 200

    let cache: HostCache
    let clock = ManualClock(now: MonotonicInstant(nanoseconds: 1_000_000_000))
    /// Every entry identifier handed out so far (stale ones too, so the
    /// operations also exercise unknown-entry paths).
    var knownEntries: [HostCacheEntryID] = []

    init(_ input: inout FuzzInput) {
        let parameters = HostCacheParameters(
            defaultLifetime: UInt64(1 + input.byte() % 30),
            maximumExpiredLifetime: UInt64(input.byte() % 60),
            maximumEntries: 1 + Int(input.byte() % 8),
            maximumForeignAddresses: 1 + Int(input.byte() % 12),
            maximumLocalAddresses: 1 + Int(input.byte() % 4))
        cache = HostCache(parameters: parameters, clock: clock, random: SplitMix64(seed: UInt64(input.byte())))
    }

    mutating func run(_ input: inout FuzzInput) {
        var audit = CacheAudit(cache: cache)
        audit.check(afterExpiry: false)
        var operations = 0
        while !input.isExhausted && operations < Self.maximumOperations {
            operations += 1
            let ranExpiry = step(&input)
            audit.check(afterExpiry: ranExpiry)
        }
    }

    func entry(_ input: inout FuzzInput) -> HostCacheEntryID {
        let pick = Int(input.byte())
        if knownEntries.isEmpty || pick == 0xFF { return HostCacheEntryID(slot: UInt32(pick), generation: 1) }
        return knownEntries[pick % knownEntries.count]
    }

    mutating func remember(_ id: HostCacheEntryID) {
        if knownEntries.count >= 32 { knownEntries.removeFirst() }
        if !knownEntries.contains(id) { knownEntries.append(id) }
    }

    /// One operation. Returns true when it ran the expiry sweep.
    mutating func step(_ input: inout FuzzInput) -> Bool {
        switch input.byte() % 16 {
        case 0, 1:
            let address = input.address()
            var additional: [IPv6Address] = []
            for _ in 0..<(input.byte() % 3) { additional.append(input.address()) }
            let trust: TrustClass = input.bool() ? .trusted : .untrusted
            if let creation = try? cache.createForeignEntry(for: address, alsoKnownAs: additional, trust: trust) {
                remember(creation.id)
                if case .created(_, let evicted, _) = creation {
                    for id in evicted { require(cache.entry(id) == nil, "evicted \(id) still present") }
                }
                require(cache.foreignMatch(for: address)?.entry == creation.id, "created entry does not own \(address)")
            }
        case 2:
            if let id = try? cache.createLocalEntry() { remember(id) }
        case 3:
            let address = input.address()
            let id = entry(&input)
            if (try? cache.addLocalAddress(address, to: id)) != nil {
                require(cache.localEntries(containing: address).contains(id), "local address \(address) not in \(id)")
                require(cache.foreignMatch(for: address) == nil, "local address \(address) still foreign")
            }
        case 4:
            let address = input.address()
            _ = try? cache.removeLocalAddress(address, from: entry(&input))
        case 5, 6, 7:
            applyEmittedBindingUpdates(&input)
        case 8:
            applyRawBindingUpdates(&input)
        case 9:
            let seconds = input.byte()
            clock.advance(seconds: seconds < 200 ? UInt64(seconds) : UInt64(seconds - 199) * 600)
        case 10:
            // A full sweep, or an incremental one over a few slots (the
            // slow path's timer may bound each sweep).
            let full = input.bool()
            let report = full ? cache.expire() : cache.expire(slotBudget: 1 + Int(input.byte() % 4))
            for id in report.removedEntries { require(cache.entry(id) == nil, "expiry removed \(id) but it is present") }
            return full
        case 11:
            let address = input.address()
            let match = cache.foreignMatch(for: address)
            let indexed = cache.index.lookupForeign(address)
            require(match?.entry == indexed?.entry, "foreignMatch \(String(describing: match)) vs index \(String(describing: indexed))")
            if let match, let indexed { require(match.isLive == !indexed.isExpired || !match.isLive, "live match indexed as expired") }
            if let destination = cache.index.destination(forForeign: address), let match {
                require(cache.entry(match.entry)?.preferredDestination == destination, "index destination differs")
            }
        case 12:
            let id = entry(&input)
            if input.bool() { _ = try? cache.retain(id) } else { _ = try? cache.release(id) }
        case 13:
            let id = entry(&input)
            if let changes = try? cache.removeEntry(id) {
                require(cache.entry(id) == nil, "removed \(id) still present")
                for change in changes { require(cache.foreignMatch(for: change.address)?.entry != id, "removed entry still matches") }
            }
        case 14:
            let id = entry(&input)
            switch input.byte() % 4 {
            case 0: _ = try? cache.setTrust(input.bool() ? .trusted : .untrusted, for: id)
            case 1: _ = try? cache.setPreferredDestination(input.address(), for: id)
            case 2: _ = try? cache.setCapability(PeerCapability.allCases[Int(input.byte()) % PeerCapability.allCases.count], for: id)
            default: _ = try? cache.setSecurityAssociation(input.bool() ? input.uint64() : nil, for: id)
            }
        default:
            let address = input.address()
            if input.bool() {
                _ = cache.touch(address)
            } else {
                let id = entry(&input)
                let wasLive = cache.foreignMatch(for: address).map { $0.entry == id && $0.isLive } ?? false
                let updated = cache.noteReceived(from: address, entry: id)
                require(updated == wasLive, "noteReceived(\(address)) returned \(updated), expected \(wasLive)")
                if updated { require(cache.entry(id)?.preferredDestination == address, "source did not become preferred") }
            }
        }
        return false
    }
}
