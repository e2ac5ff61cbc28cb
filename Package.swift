// swift-tools-version:6.1
//
// Homeless: a kernel-bypass packet engine implementing Homeless Mobile IPv6
// (draft-nikander-homeless-mipv6-00). The targets follow the architecture:
//
//   HomelessWire      wire codecs: zero-copy checked views + value types
//   HomelessCore      core protocol: Host Cache, Binding Update processing
//   HomelessSecurity  IPsec AH, anti-replay, SA database, anonymous auth
//   HomelessSystem    system I/O: syscalls, files, AF_PACKET rings, netlink
//   HomelessEngine    the pipeline between upper and wire ports
//   HomelessCommands  the `homeless` command line (swift-argument-parser)
//   CHomeless         thin C shim (CShims/): atomics, barriers, kernel ABI
//
// Fuzz/ (libFuzzer targets) and Bench/ (package-benchmark) are packages of
// their own that depend on this one by path, so `swift build` here stays fast.
import PackageDescription

let package = Package(
    name: "Homeless",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "homeless", targets: ["homeless"]),
        .library(name: "HomelessWire", targets: ["HomelessWire"]),
        .library(name: "HomelessCore", targets: ["HomelessCore"]),
        .library(name: "HomelessSecurity", targets: ["HomelessSecurity"]),
        .library(name: "HomelessSystem", targets: ["HomelessSystem"]),
        .library(name: "HomelessEngine", targets: ["HomelessEngine"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
    ],
    targets: [
        .target(name: "CHomeless", path: "CShims", linkerSettings: [
            // hl_bpf.c loads the wire-port classifier with libbpf (which needs libelf and zlib).
            .linkedLibrary("bpf"), .linkedLibrary("elf"), .linkedLibrary("z"),
        ]),
        .target(name: "CHomelessCrypto", path: "CCrypto", linkerSettings: [.linkedLibrary("crypto")]),
        .target(name: "HomelessWire"),
        .target(name: "HomelessCore", dependencies: ["HomelessWire", "CHomeless"]),
        .target(name: "HomelessSecurity", dependencies: [
            "HomelessWire", "HomelessCore", "CHomelessCrypto",
            // X25519 and HKDF-SHA256 for the Anonymous Authentication handshake (draft 2.4.3).
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "HomelessSystem", dependencies: ["CHomeless"], plugins: ["BPFClassifierPlugin"]),
        // Compiles BPF/classifier.bpf.c with the toolchain's clang and embeds the object in HomelessSystem.
        .plugin(name: "BPFClassifierPlugin", capability: .buildTool(), dependencies: ["BPFEmbed"]),
        .executableTarget(name: "BPFEmbed", path: "Plugins/BPFEmbed"),
        .target(name: "HomelessEngine", dependencies: [
            "HomelessWire", "HomelessCore", "HomelessSecurity", "HomelessSystem", "CHomeless",
            .product(name: "Logging", package: "swift-log"),
        ]),
        .target(name: "HomelessCommands", dependencies: [
            "HomelessWire", "HomelessCore", "HomelessSecurity", "HomelessSystem", "HomelessEngine",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "homeless", dependencies: ["HomelessCommands"]),

        .testTarget(name: "HomelessWireTests", dependencies: ["HomelessWire"]),
        .testTarget(name: "HomelessSecurityTests", dependencies: ["HomelessSecurity", "HomelessWire", "HomelessCore"]),
        .testTarget(name: "HomelessCoreTests", dependencies: ["HomelessCore", "HomelessWire"]),
        .testTarget(name: "HomelessSystemTests", dependencies: ["HomelessSystem"]),
        .testTarget(name: "HomelessEngineTests", dependencies: ["HomelessEngine", "HomelessSystem", "HomelessWire", "HomelessCore", "HomelessSecurity"]),
        .testTarget(name: "HomelessCommandsTests", dependencies: ["HomelessCommands", "HomelessEngine", "HomelessWire"]),
    ]
)
