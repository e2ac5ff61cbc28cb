import HomelessWire

// libFuzzer target over the frame parser (HomelessWire).
//
// Every input is parsed as a frame under four configurations: Ethernet and
// raw IPv6 link layers, each with the strict defaults and with padding and
// alignment checks off. For each one:
//   1. `ParsedPacket.parse` (the fast-path summary) must not trap; a failure
//      is a `WireError` whose offset lies inside the buffer.
//   2. A `PacketWalker` walk must agree with it (same error, same offsets),
//      report contiguous records inside the buffer, and keep returning nil
//      after the end or an error.
//   3. Every record is turned into its checked view and, where one exists,
//      its value type; building them must not fail, since the walker already
//      checked each header (see `PacketWalker`). Options, Mobile IPv6 option
//      views and their sub-options are walked; every reported offset must lie
//      inside its enclosing header.
//   4. Round trips: each value parsed from the input (Destination Options
//      header, Binding Update, Binding Acknowledgement, Binding Request,
//      IPv6, Routing, Fragment, AH, UDP, ICMPv6, Ethernet headers) is emitted
//      into a buffer pre-filled with junk and parsed again strictly; the
//      result must equal the value.
// A broken invariant calls `fatalError`, which libFuzzer reports as a crash.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = UnsafeRawBufferPointer(start: data, count: size)
    for linkLayer in [LinkLayer.ethernet, .rawIPv6] {
        for strict in [true, false] {
            let configuration = PacketWalkerConfiguration(linkLayer: linkLayer, checksPadding: strict, checksAlignment: strict)
            FrameChecker(bytes: bytes, configuration: configuration).run()
        }
    }
    return 0
}

/// Reports a broken invariant: libFuzzer saves the input and stops.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}

/// Runs `body`, which the walker's own checks say cannot fail; a thrown
/// error is an invariant violation.
func mustSucceed<T>(_ what: @autoclosure () -> String, _ body: () throws(WireError) -> T,
                    file: StaticString = #fileID, line: UInt = #line) -> T {
    do {
        return try body()
    } catch {
        fatalError("invariant broken: \(what()) failed after the walker accepted it: \(error)", file: file, line: line)
    }
}
