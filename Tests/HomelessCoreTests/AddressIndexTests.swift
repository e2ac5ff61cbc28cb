import Testing
@testable import HomelessCore
import HomelessWire

/// The fast-path open-addressing table, single-threaded behaviour.
@Suite struct AddressIndexTests {
    /// Addresses whose home slot in `index` is `slot`.
    func keys(homingTo slot: Int, in index: AddressIndex, count: Int, seed: UInt64 = 3) -> [IPv6Address] {
        var generator = SplitMix64(seed: seed)
        var result: [IPv6Address] = []
        while result.count < count {
            let candidate = IPv6Address(high: 0x2001_0db8_0000_0000 | generator.next() & 0xFFFF, low: generator.next())
            if index.homeSlot(of: candidate) == slot && !result.contains(candidate) { result.append(candidate) }
        }
        return result
    }

    @Test func insertLookupUpdateRemove() {
        let index = AddressIndex(capacity: 16, seed: 42)
        let key = ip("2001:db8::1")
        #expect(index.lookup(key) == nil)
        #expect(index.insert(key, value: 7) == .inserted)
        #expect(index.lookup(key) == 7)
        #expect(index.insert(key, value: 8) == .updated)
        #expect(index.lookup(key) == 8)
        #expect(index.update(key, value: 9))
        #expect(!index.update(ip("2001:db8::2"), value: 1))
        #expect(index.lookup(key) == 9)
        #expect(index.count == 1)
        #expect(index.remove(key) == 9)
        #expect(index.remove(key) == nil)
        #expect(index.lookup(key) == nil)
        #expect(index.count == 0)
        // A value of zero is a value like any other.
        #expect(index.insert(key, value: 0) == .inserted)
        #expect(index.lookup(key) == 0)
    }

    /// A `Reader` taken once sees every later write, exactly as the index's
    /// own lookup does: inserts, updates and removals with backward shifts.
    @Test func readerAgreesWithTheIndexAcrossWrites() {
        let index = AddressIndex(capacity: 64, slotCount: 128, seed: 7)
        let reader = index.reader
        var model: [IPv6Address: UInt64] = [:]
        var generator = SplitMix64(seed: 11)
        // A small key space so that keys collide, get removed and come back.
        let keys = (0..<96).map { IPv6Address(high: 0x2001_0db8_0000_0000 | UInt64($0 % 5), low: UInt64($0)) }
        for step in 0..<4000 {
            let key = keys[Int(generator.next() % UInt64(keys.count))]
            if generator.next() % 3 == 0 {
                #expect(index.remove(key) == model.removeValue(forKey: key))
            } else if model.count < 64 || model[key] != nil {
                _ = index.insert(key, value: UInt64(step))
                model[key] = UInt64(step)
            }
            let probe = keys[Int(generator.next() % UInt64(keys.count))]
            #expect(reader.lookup(probe) == model[probe])
            #expect(reader.lookup(probe) == index.lookup(probe))
        }
        let batch = Array(keys.prefix(32))
        var results = [UInt64?](repeating: nil, count: batch.count)
        batch.withUnsafeBufferPointer { addresses in
            results.withUnsafeMutableBufferPointer { reader.lookup(batch: addresses, into: $0) }
        }
        #expect(results == batch.map { model[$0] })
    }

    @Test func sizingAndInvalidKey() {
        let index = AddressIndex(capacity: 1000)
        #expect(index.slotCount == 2048)
        #expect(AddressIndex(capacity: 1).slotCount == 8)
        #expect(index.insert(.unspecified, value: 1) == .invalidKey)
        #expect(index.lookup(.unspecified) == nil)
        #expect(index.remove(.unspecified) == nil)
    }

    @Test func backwardShiftKeepsCollidingKeysReachable() {
        let index = AddressIndex(capacity: 7, slotCount: 8, seed: 5)
        let colliding = keys(homingTo: 6, in: index, count: 4)  // occupy 6, 7, 0, 1 (wraps around)
        let neighbour = keys(homingTo: 7, in: index, count: 1, seed: 9)[0]  // lands after the cluster: slot 2
        for (position, key) in colliding.enumerated() { #expect(index.insert(key, value: UInt64(position)) == .inserted) }
        #expect(index.insert(neighbour, value: 99) == .inserted)
        // Slot order: 0, 1 (wrapped part of the cluster), 2 (neighbour), 6, 7.
        #expect(index.contents().map(\.address) == [colliding[2], colliding[3], neighbour, colliding[0], colliding[1]])
        // Remove the head of the cluster: everything behind it shifts back.
        #expect(index.remove(colliding[0]) == 0)
        for (position, key) in colliding.enumerated().dropFirst() { #expect(index.lookup(key) == UInt64(position)) }
        #expect(index.lookup(neighbour) == 99)
        let slotsAfter = index.contents().map(\.address)
        #expect(slotsAfter == [colliding[3], neighbour, colliding[1], colliding[2]])
        // Remove from the middle and the end, then the rest.
        #expect(index.remove(colliding[2]) == 2)
        #expect(index.lookup(colliding[3]) == 3)
        #expect(index.lookup(neighbour) == 99)
        #expect(index.remove(neighbour) == 99)
        #expect(index.lookup(colliding[1]) == 1 && index.lookup(colliding[3]) == 3)
        #expect(index.remove(colliding[1]) == 1)
        #expect(index.remove(colliding[3]) == 3)
        #expect(index.count == 0)
        #expect(index.contents().isEmpty)
    }

    @Test func fullTableRefusesNewKeysButStillUpdatesAndAnswersMisses() {
        let index = AddressIndex(capacity: 7, slotCount: 8, seed: 11)
        let stored = (1...7).map { IPv6Address(high: 0x2001_0db8_0000_0000, low: UInt64($0)) }
        for key in stored { #expect(index.insert(key, value: key.low) == .inserted) }
        let extra = IPv6Address(high: 0x2001_0db8_0000_0000, low: 8)
        #expect(index.insert(extra, value: 8) == .full)
        #expect(index.count == 7)
        #expect(index.insert(stored[3], value: 40) == .updated)
        #expect(index.lookup(extra) == nil)  // one empty slot left ends the probe
        for key in stored where key != stored[3] { #expect(index.lookup(key) == key.low) }
        #expect(index.remove(stored[0]) == 1)
        #expect(index.insert(extra, value: 8) == .inserted)
        #expect(index.lookup(extra) == 8)
        index.removeAll()
        #expect(index.count == 0)
        #expect(stored.allSatisfy { index.lookup($0) == nil })
    }

    @Test func randomOperationsMatchADictionary() {
        var generator = SplitMix64(seed: 2024)
        // Heavily loaded small table: long clusters, many wrap-arounds and shifts.
        let index = AddressIndex(capacity: 100, slotCount: 128, seed: generator.next())
        let pool = (0..<160).map { _ in IPv6Address(high: 0x2001_0db8_0000_0000 | generator.next() & 0xFF, low: generator.next() & 0xFFFF) }
        var model: [IPv6Address: UInt64] = [:]
        for step in 0..<40_000 {
            let key = pool[Int(generator.next() % UInt64(pool.count))]
            let value = generator.next()
            switch generator.next() % 3 {
            case 0, 1:
                let result = index.insert(key, value: value)
                if model[key] != nil {
                    #expect(result == .updated)
                    model[key] = value
                } else if model.count < 100 {
                    #expect(result == .inserted)
                    model[key] = value
                } else {
                    #expect(result == .full)
                }
            default:
                #expect(index.remove(key) == model.removeValue(forKey: key))
            }
            #expect(index.count == model.count)
            if step % 97 == 0 {
                for probe in pool { #expect(index.lookup(probe) == model[probe]) }
            }
        }
        for probe in pool { #expect(index.lookup(probe) == model[probe]) }
        #expect(Dictionary(uniqueKeysWithValues: index.contents().map { ($0.address, $0.value) }) == model)
    }

    @Test func batchedLookupMatchesSingleLookups() {
        var generator = SplitMix64(seed: 77)
        let index = AddressIndex(capacity: 1000, seed: generator.next())
        var queries: [IPv6Address] = []
        for position in 0..<500 {
            let key = IPv6Address(high: 0x2001_0db8_0000_0000 | generator.next() & 0xFFFF_FFFF, low: generator.next())
            index.insert(key, value: UInt64(position))
            queries.append(key)
            queries.append(IPv6Address(high: 0x2001_0db9_0000_0000, low: generator.next()))  // miss
        }
        queries.append(contentsOf: queries.prefix(7))  // a partial last chunk
        var results = [UInt64?](repeating: 12345, count: queries.count)
        queries.withUnsafeBufferPointer { addresses in
            results.withUnsafeMutableBufferPointer { output in index.lookup(batch: addresses, into: output) }
        }
        for (position, query) in queries.enumerated() { #expect(results[position] == index.lookup(query)) }
        #expect(results.compactMap { $0 }.count == 500 + 4)
    }

    @Test func writesAreCountedOnTheSequenceCounter() {
        let index = AddressIndex(capacity: 8)
        let key = ip("2001:db8::5")
        index.insert(key, value: 1)
        index.update(key, value: 2)
        index.remove(key)
        #expect(index.writeCount == 3)
        _ = index.lookup(key)
        #expect(index.writeCount == 3)
    }

    @Test func publishedEntryRecords() {
        let table = PublishedEntryTable(capacity: 4)
        let id = HostCacheEntryID(slot: 2, generation: 9)
        #expect(table.read(id) == nil)
        let record = PublishedEntry(id: id, kind: .foreign, capability: .homeless, trust: .trusted,
                                    preferredDestination: ip("2001:db8::9"), securityAssociation: 0)
        table.publish(record)
        #expect(table.read(id) == record)
        #expect(table.preferredDestination(of: id) == ip("2001:db8::9"))
        #expect(table.read(HostCacheEntryID(slot: 2, generation: 10)) == nil)  // another generation
        #expect(table.read(HostCacheEntryID(slot: 9, generation: 9)) == nil)  // out of range
        table.clear(slot: 2)
        #expect(table.read(id) == nil)
    }

    @Test func indexedAddressPacking() {
        let id = HostCacheEntryID(slot: 0xFFFF_FFFE, generation: 0x12_3456)
        let value = IndexedAddress(entry: id, isExpired: true, isLocal: false, isShared: true)
        #expect(value.entry == id)
        #expect(value.isExpired && !value.isLocal && value.isShared)
        #expect(HostCacheEntryID(slot: 1, generation: 0x1FF_FFFF).generation == 0xFF_FFFF)
    }
}
