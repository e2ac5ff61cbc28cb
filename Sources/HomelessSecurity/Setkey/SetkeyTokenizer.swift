/// A word of a `setkey(8)` file: a run of non-blank characters, a quoted
/// string (a key given as text), or the `;` that ends a statement.
struct SetkeyToken: Equatable {
    enum Kind: Equatable {
        case word
        case quoted
        case semicolon
    }

    var kind: Kind
    var text: String
    var line: Int
    var column: Int
}

/// Splits a file into tokens. `#` starts a comment to the end of the line
/// (outside quotes); statements may span lines.
///
/// Works on the UTF-8 bytes and makes one String per token: a file of
/// 10^5 SA pairs is tens of megabytes. Columns count Unicode scalars (a
/// continuation byte adds none), as the diagnostics always did.
enum SetkeyTokenizer {
    static func tokens(of text: String) -> (tokens: [SetkeyToken], diagnostics: [SetkeyDiagnostic]) {
        var tokens: [SetkeyToken] = []
        var diagnostics: [SetkeyDiagnostic] = []
        var line = 1
        var column = 0
        let bytes = Array(text.utf8)
        var index = 0
        /// Start (byte index, line, column) of the word being read.
        var word: (start: Int, line: Int, column: Int)? = nil

        func flushWord(endingAt end: Int) {
            if let current = word {
                tokens.append(SetkeyToken(kind: .word, text: String(decoding: bytes[current.start..<end], as: UTF8.self),
                                          line: current.line, column: current.column))
                word = nil
            }
        }
        func isScalarStart(_ byte: UInt8) -> Bool { byte & 0xC0 != 0x80 }

        while index < bytes.count {
            let byte = bytes[index]
            if isScalarStart(byte) { column += 1 }
            switch byte {
            case UInt8(ascii: "\n"):
                flushWord(endingAt: index)
                line += 1
                column = 0
                index += 1
            case UInt8(ascii: " "), UInt8(ascii: "\t"), UInt8(ascii: "\r"):
                flushWord(endingAt: index)
                index += 1
            case UInt8(ascii: "#"):
                flushWord(endingAt: index)
                index += 1
                while index < bytes.count, bytes[index] != UInt8(ascii: "\n") { index += 1 }
            case UInt8(ascii: ";"):
                flushWord(endingAt: index)
                tokens.append(SetkeyToken(kind: .semicolon, text: ";", line: line, column: column))
                index += 1
            case UInt8(ascii: "\""):
                flushWord(endingAt: index)
                let startLine = line
                let startColumn = column
                index += 1
                let valueStart = index
                var closed = false
                while index < bytes.count {
                    let next = bytes[index]
                    if isScalarStart(next) { column += 1 }
                    if next == UInt8(ascii: "\"") {
                        closed = true
                        break
                    }
                    if next == UInt8(ascii: "\n") {
                        line += 1
                        column = 0
                    }
                    index += 1
                }
                if closed {
                    tokens.append(SetkeyToken(kind: .quoted, text: String(decoding: bytes[valueStart..<index], as: UTF8.self),
                                              line: startLine, column: startColumn))
                    index += 1
                } else {
                    diagnostics.append(SetkeyDiagnostic(line: startLine, column: startColumn, message: "unterminated quoted string"))
                }
            default:
                if word == nil { word = (index, line, column) }
                index += 1
            }
        }
        flushWord(endingAt: index)
        return (tokens, diagnostics)
    }
}
