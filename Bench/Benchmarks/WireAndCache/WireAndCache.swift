import Benchmark
import HomelessCore
import HomelessWire

// Fast-path microbenchmarks: frame parsing and Host Cache index lookups.
// Every benchmark counts mallocs (MallocInterposer): the parse and lookup
// paths must allocate nothing. Results and how to reproduce them are in
// docs/PERFORMANCE.md.
//
// Each measured iteration runs a fixed number of operations (1000 parses,
// or 2^20 lookups), so the reported wall-clock time per iteration keeps
// full precision: divide by that number for nanoseconds per operation
// (Bench/hostcache-vs-c.sh does so for the lookups). Malloc counts are per
// iteration, i.e. per 1000 parses or 2^20 lookups.
let parsesPerIteration = 1_000
let lookupsPerIteration = 1 << 20

let benchmarks: @Sendable () -> Void = {
    let metrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal, .mallocBytesCount]
    Benchmark.defaultConfiguration = .init(metrics: metrics, timeUnits: .nanoseconds, warmupIterations: 3,
                                           scalingFactor: .one, maxDuration: .seconds(2), maxIterations: 1_000)

    // The harness alone: its allocations per measured iteration (none were
    // measured) are the floor under every other benchmark's counts.
    Benchmark("Baseline.Empty") { _ in
        for position in 0..<parsesPerIteration { blackHole(position) }
    }

    // MARK: Parsing

    let ethernet = PacketWalkerConfiguration(linkLayer: .ethernet)
    Benchmark("Parse.TCPData.ParsedPacket") { _ in
        Frames.tcpData.withUnsafeBytes { bytes in
            for _ in 0..<parsesPerIteration {
                blackHole(summarize(bytes, configuration: ethernet))
            }
        }
    }
    Benchmark("Parse.TCPData.Walk") { _ in
        Frames.tcpData.withUnsafeBytes { bytes in
            for _ in 0..<parsesPerIteration {
                blackHole(try? walkEverything(bytes, configuration: ethernet))
            }
        }
    }
    Benchmark("Parse.BindingUpdate.ParsedPacket") { _ in
        Frames.bindingUpdate.withUnsafeBytes { bytes in
            for _ in 0..<parsesPerIteration {
                blackHole(summarize(bytes, configuration: ethernet))
            }
        }
    }
    Benchmark("Parse.BindingUpdate.Walk") { _ in
        Frames.bindingUpdate.withUnsafeBytes { bytes in
            for _ in 0..<parsesPerIteration {
                blackHole(try? walkEverything(bytes, configuration: ethernet))
            }
        }
    }

    // MARK: Host Cache index lookups

    let lookups = Benchmark.Configuration(metrics: metrics, timeUnits: .nanoseconds, warmupIterations: 2,
                                          scalingFactor: .one, maxDuration: .seconds(3), maxIterations: 200)
    // The fixtures are built lazily, in `setup`, so runs filtered to other
    // benchmarks do not pay for a 1M-entry table.
    let sizes: [(label: String, fixture: @Sendable () -> LookupFixture)] = [("1K", { smallIndex }), ("1M", { largeIndex })]
    for (label, fixture) in sizes {
        Benchmark("AddressIndex.Lookup.Hit.\(label)", configuration: lookups) { _ in
            blackHole(fixture().lookUp(fixture().hits, count: lookupsPerIteration))
        } setup: {
            precondition(fixture().lookUp(fixture().hits, count: fixture().queryCount) == fixture().queryCount, "hit keys missing")
        }
        Benchmark("AddressIndex.Lookup.Miss.\(label)", configuration: lookups) { _ in
            blackHole(fixture().lookUp(fixture().misses, count: lookupsPerIteration))
        } setup: {
            precondition(fixture().lookUp(fixture().misses, count: fixture().queryCount) == 0, "miss keys present")
        }
        Benchmark("AddressIndex.ReaderLookup.Hit.\(label)", configuration: lookups) { _ in
            blackHole(fixture().lookUpWithReader(fixture().hits, count: lookupsPerIteration))
        } setup: {
            precondition(fixture().lookUpWithReader(fixture().hits, count: fixture().queryCount) == fixture().queryCount, "hit keys missing")
        }
        Benchmark("AddressIndex.ReaderLookup.Miss.\(label)", configuration: lookups) { _ in
            blackHole(fixture().lookUpWithReader(fixture().misses, count: lookupsPerIteration))
        } setup: {
            precondition(fixture().lookUpWithReader(fixture().misses, count: fixture().queryCount) == 0, "miss keys present")
        }
        Benchmark("AddressIndex.BatchLookup.Hit.\(label)", configuration: lookups) { _ in
            blackHole(fixture().lookUpBatched(fixture().hits, count: lookupsPerIteration))
        } setup: {
            precondition(fixture().lookUpBatched(fixture().hits, count: fixture().queryCount) == fixture().queryCount, "hit keys missing")
        }
        Benchmark("AddressIndex.BatchLookup.Miss.\(label)", configuration: lookups) { _ in
            blackHole(fixture().lookUpBatched(fixture().misses, count: lookupsPerIteration))
        } setup: {
            precondition(fixture().lookUpBatched(fixture().misses, count: fixture().queryCount) == 0, "miss keys present")
        }
    }
}

/// Parses and returns two fields, so the benchmark measures the parse and
/// not a copy of the whole `ParsedPacket` into `blackHole`.
@inline(__always)
func summarize(_ bytes: UnsafeRawBufferPointer, configuration: PacketWalkerConfiguration) -> Int {
    do {
        let packet = try ParsedPacket.parse(bytes, configuration: configuration)
        return packet.packetEnd &+ (packet.upperLayerOffset ?? 0) &+ (packet.mobilityOptions.bindingUpdate ?? 0)
    } catch {
        return -error.offset
    }
}
