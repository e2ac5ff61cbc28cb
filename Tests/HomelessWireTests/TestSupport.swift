import Testing
@testable import HomelessWire

/// Bytes from a hex string (whitespace ignored). Test input only.
func hex(_ text: String) -> [UInt8] {
    let digits = Array(text.unicodeScalars.filter { !$0.properties.isWhitespace })
    precondition(digits.count % 2 == 0, "odd hex length")
    var result: [UInt8] = []
    var index = 0
    while index < digits.count {
        result.append(UInt8(String(digits[index]) + String(digits[index + 1]), radix: 16)!)
        index += 2
    }
    return result
}

func hexString(_ bytes: [UInt8]) -> String {
    bytes.map { ($0 < 16 ? "0" : "") + String($0, radix: 16) }.joined()
}

func address(_ text: String) -> IPv6Address { IPv6Address(text)! }

/// The junk byte emit buffers are pre-filled with: emitted bytes must not depend on it.
let junk: UInt8 = 0xA5

/// Emits into a buffer of exactly `length` bytes pre-filled with junk and
/// returns the bytes.
func emitted(length: Int, _ body: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
    var buffer = [UInt8](repeating: junk, count: length)
    buffer.withUnsafeMutableBytes { body($0) }
    return buffer
}

/// Emits twice, into junk-filled and zero-filled buffers, and checks both agree.
func emittedIgnoringJunk(length: Int, sourceLocation: SourceLocation = #_sourceLocation,
                         _ body: (UnsafeMutableRawBufferPointer) -> Void) -> [UInt8] {
    let withJunk = emitted(length: length, body)
    var zeroed = [UInt8](repeating: 0, count: length)
    zeroed.withUnsafeMutableBytes { body($0) }
    #expect(withJunk == zeroed, "emitted bytes depend on the buffer's previous contents", sourceLocation: sourceLocation)
    return withJunk
}

/// Runs `body` over the bytes; the result (or error) is returned as a Result.
/// (Closures infer untyped `throws`; the library's typed throws guarantee
/// that only WireError can arrive here.)
func withBytes<T>(_ bytes: [UInt8], _ body: (UnsafeRawBufferPointer) throws -> T) -> Result<T, WireError> {
    bytes.withUnsafeBytes { raw in
        do { return .success(try body(raw)) } catch let error as WireError { return .failure(error) } catch {
            fatalError("non-wire error \(error)")
        }
    }
}

/// Asserts that `body` fails with `reason` at `offset`.
func expectError<T>(_ reason: WireError.Reason, at offset: Int, _ bytes: [UInt8],
                    sourceLocation: SourceLocation = #_sourceLocation,
                    _ body: (UnsafeRawBufferPointer) throws -> T) {
    switch withBytes(bytes, body) {
    case .success:
        Issue.record("expected \(reason.rawValue) at \(offset), parse succeeded", sourceLocation: sourceLocation)
    case .failure(let error):
        #expect(error == WireError(reason, at: offset), sourceLocation: sourceLocation)
    }
}

/// Unwraps a successful parse or records the error.
func expectSuccess<T>(_ bytes: [UInt8], sourceLocation: SourceLocation = #_sourceLocation,
                      _ body: (UnsafeRawBufferPointer) throws -> T) -> T? {
    switch withBytes(bytes, body) {
    case .success(let value): return value
    case .failure(let error):
        Issue.record("unexpected \(error)", sourceLocation: sourceLocation)
        return nil
    }
}

/// Deterministic generator (SplitMix64) so property tests are reproducible.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

extension SeededGenerator {
    mutating func bytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &self) } }
    mutating func address() -> IPv6Address { IPv6Address(high: next(), low: next()) }
}

/// Collects every header record of a walk (test convenience; allocates).
func walk(_ bytes: [UInt8], configuration: PacketWalkerConfiguration = PacketWalkerConfiguration())
    -> Result<[HeaderRecord], WireError> {
    withBytes(bytes) { raw in
        var walker = PacketWalker(raw, configuration: configuration)
        var records: [HeaderRecord] = []
        while let record = try walker.next() { records.append(record) }
        return records
    }
}

let rawIPv6 = PacketWalkerConfiguration(linkLayer: .rawIPv6)

/// Builds an IPv6 packet: fixed header + `payload`, with Payload Length set.
func ipv6Packet(nextHeader: IPProtocol, payload: [UInt8], source: IPv6Address = address("2001:db8::1"),
                destination: IPv6Address = address("2001:db8::2"), hopLimit: UInt8 = 64) -> [UInt8] {
    let header = IPv6Header(payloadLength: UInt16(payload.count), nextHeader: nextHeader, hopLimit: hopLimit,
                            source: source, destination: destination)
    return emitted(length: 40) { header.emit(into: $0) } + payload
}

/// An extension header (Hop-by-Hop/Destination Options layout) with raw option bytes,
/// which must already make the header a multiple of 8 bytes.
func optionsHeader(next: IPProtocol, options: [UInt8]) -> [UInt8] {
    precondition((options.count + 2) % 8 == 0)
    return [next.rawValue, UInt8((options.count + 2) / 8 - 1)] + options
}
