import HomelessWire

/// Byte the emit buffers are filled with before emitting: a value that
/// leaks into the output (a byte the emitter forgot to write) breaks the
/// strict re-parse or the comparison.
let junk: UInt8 = 0xA5
/// Bytes after the announced length that must stay untouched.
let guardBytes = 16

extension FrameChecker {
    /// Emits `value` (which announces `length` bytes) into a junk-filled
    /// buffer, checks nothing is written past `length`, parses the bytes
    /// again and requires the same value. `trailer` junk bytes after the
    /// emitted ones are handed to the parser too (the IPv6 header view wants
    /// its payload present).
    func roundTrip<Value: Equatable>(_ value: Value, length: Int, trailer: Int = 0,
                                     emit: (UnsafeMutableRawBufferPointer) -> Void,
                                     parse: (UnsafeRawBufferPointer) throws(WireError) -> Value,
                                     file: StaticString = #fileID, line: UInt = #line) {
        require(length >= 0, "negative emitted length", file: file, line: line)
        var buffer = [UInt8](repeating: junk, count: length + max(guardBytes, trailer))
        buffer.withUnsafeMutableBytes { whole in
            emit(UnsafeMutableRawBufferPointer(rebasing: whole[0..<length]))
        }
        require(buffer[length...].allSatisfy { $0 == junk }, "\(Value.self) emit wrote past its \(length) bytes", file: file, line: line)
        buffer.withUnsafeBytes { whole in
            let emitted = UnsafeRawBufferPointer(rebasing: whole[0..<(length + trailer)])
            do {
                let reparsed = try parse(emitted)
                require(reparsed == value, "\(Value.self) round trip: \(value) -> \(reparsed)", file: file, line: line)
            } catch {
                fatalError("invariant broken: emitted \(Value.self) does not parse (\(error)): \(value) bytes \(Array(emitted))",
                           file: file, line: line)
            }
        }
    }

    /// Round trip of a Destination Options header value, re-parsed with the
    /// strict checks (the emitter must produce canonical padding and alignment).
    func roundTripDestinationOptions(_ value: DestinationOptionsHeader, file: StaticString = #fileID, line: UInt = #line) {
        guard value.isEncodable else { return }
        let length = value.bufferLength
        require(length % 8 == 0 && length >= 8 && length <= 2048, "Destination Options length \(length)", file: file, line: line)
        let codePoints = value.codePoints
        roundTrip(value, length: length, emit: { value.emit(into: $0) }, parse: { buffer throws(WireError) in
            let view = try OptionsHeaderView(checking: buffer, at: 0)
            require(view.length == length, "emitted Hdr Ext Len announces \(view.length), wrote \(length)")
            // The strict walker must accept what we emit, Mobile IPv6 checks included.
            try view.validate(checksPadding: true)
            return try DestinationOptionsHeader(view, codePoints: codePoints)
        }, file: file, line: line)
    }

    /// Round trip of one option (a Binding Update, Acknowledgement or
    /// Request parsed from the input) in a header of its own.
    func roundTripSingle(_ option: DestinationOption, file: StaticString = #fileID, line: UInt = #line) {
        let header = DestinationOptionsHeader(nextHeader: .noNextHeader, options: [option], codePoints: codePoints)
        roundTripDestinationOptions(header, file: file, line: line)
    }
}
