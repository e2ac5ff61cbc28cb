// BPFEmbed: compiles a BPF C source with clang and writes a Swift source
// that embeds the object's bytes (used by BPFClassifierPlugin at build time).
//
// usage: BPFEmbed --clang PATH --source FILE.c --object FILE.o --output FILE.swift [--include DIR]...
import Foundation

struct Arguments {
    var clang = ""
    var source = ""
    var object = ""
    var output = ""
    var includes: [String] = []

    init(_ arguments: ArraySlice<String>) throws {
        var iterator = arguments.makeIterator()
        while let flag = iterator.next() {
            guard let value = iterator.next() else { throw Failure("missing value after \(flag)") }
            switch flag {
            case "--clang": clang = value
            case "--source": source = value
            case "--object": object = value
            case "--output": output = value
            case "--include": includes.append(value)
            default: throw Failure("unknown argument \(flag)")
            }
        }
        if clang.isEmpty || source.isEmpty || object.isEmpty || output.isEmpty {
            throw Failure("usage: BPFEmbed --clang PATH --source FILE.c --object FILE.o --output FILE.swift [--include DIR]...")
        }
    }
}

struct Failure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

func compile(_ arguments: Arguments) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: arguments.clang)
    // -g makes clang emit BTF, which libbpf needs for the maps' layouts.
    process.arguments = ["-O2", "-g", "-target", "bpf", "-Wall", "-Werror"]
        + arguments.includes.flatMap { ["-I", $0] }
        + ["-c", arguments.source, "-o", arguments.object]
    try process.run()
    process.waitUntilExit()
    if process.terminationStatus != 0 {
        throw Failure("clang failed (\(process.terminationStatus)) compiling \(arguments.source)")
    }
}

/// The object as a hex string literal: compiles fast (a large array literal
/// does not) and decodes once, when the classifier is loaded.
func swiftSource(embedding bytes: Data) -> String {
    let digits = Array("0123456789abcdef".utf8)
    var hex = [UInt8]()
    hex.reserveCapacity(bytes.count * 2)
    for byte in bytes {
        hex.append(digits[Int(byte >> 4)])
        hex.append(digits[Int(byte & 0x0f)])
    }
    return """
        // Generated at build time from BPF/classifier.bpf.c by BPFClassifierPlugin. Do not edit.

        /// The classifier's BPF ELF object, hex encoded (\(bytes.count) bytes).
        let embeddedClassifierObjectHex: StaticString = "\(String(decoding: hex, as: UTF8.self))"

        """
}

do {
    let arguments = try Arguments(CommandLine.arguments.dropFirst())
    try compile(arguments)
    let object = try Data(contentsOf: URL(fileURLWithPath: arguments.object))
    try swiftSource(embedding: object).write(toFile: arguments.output, atomically: true, encoding: .utf8)
} catch {
    FileHandle.standardError.write(Data("BPFEmbed: \(error)\n".utf8))
    exit(1)
}
