// swift-tools-version:6.1
//
// libFuzzer targets. Build and run from this directory (see docs/FUZZING.md,
// or scripts/fuzz.sh which does both and replays Regressions/ first):
//   swift build -c release --sanitize=fuzzer --disable-dead-strip
//   SWIFT_BACKTRACE=enable=no .build/release/FuzzFrameParser -max_total_time=60 <copy of Corpus/FrameParser>
// Each target is built with -parse-as-library so libFuzzer supplies main().
import PackageDescription

let fuzzFlags: [SwiftSetting] = [.unsafeFlags(["-parse-as-library"])]

let package = Package(
    name: "HomelessFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "Homeless", path: "..")],
    targets: [
        .executableTarget(
            name: "FuzzFrameParser",
            dependencies: [.product(name: "HomelessWire", package: "Homeless")],
            swiftSettings: fuzzFlags
        ),
        .executableTarget(
            name: "FuzzBindingUpdate",
            dependencies: [
                .product(name: "HomelessWire", package: "Homeless"),
                .product(name: "HomelessCore", package: "Homeless"),
            ],
            swiftSettings: fuzzFlags
        ),
        .executableTarget(
            name: "FuzzSignalling",
            dependencies: [
                .product(name: "HomelessWire", package: "Homeless"),
                .product(name: "HomelessCore", package: "Homeless"),
                .product(name: "HomelessSecurity", package: "Homeless"),
            ],
            swiftSettings: fuzzFlags
        ),
    ]
)
