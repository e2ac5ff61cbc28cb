// swift-tools-version:6.1
//
// Microbenchmarks (package-benchmark). Run from this directory:
//   swift package --allow-writing-to-package-directory benchmark
// See docs/PERFORMANCE.md for the recorded results and how to reproduce them.
import PackageDescription

let package = Package(
    name: "HomelessBench",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "Homeless", path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        // The X25519 the handshake uses, timed on its own (SecurityPaths).
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .executableTarget(
            name: "WireAndCache",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HomelessWire", package: "Homeless"),
                .product(name: "HomelessCore", package: "Homeless"),
            ],
            path: "Benchmarks/WireAndCache",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "SecurityPaths",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HomelessWire", package: "Homeless"),
                .product(name: "HomelessCore", package: "Homeless"),
                .product(name: "HomelessSecurity", package: "Homeless"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Benchmarks/SecurityPaths",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
        .executableTarget(
            name: "ForwardingPath",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "HomelessWire", package: "Homeless"),
                .product(name: "HomelessSystem", package: "Homeless"),
                .product(name: "HomelessEngine", package: "Homeless"),
            ],
            path: "Benchmarks/ForwardingPath",
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]
        ),
    ]
)
