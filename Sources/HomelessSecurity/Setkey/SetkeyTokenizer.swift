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
enum SetkeyTokenizer {
    static func tokens(of text: String) -> (tokens: [SetkeyToken], diagnostics: [SetkeyDiagnostic]) {
        var tokens: [SetkeyToken] = []
        var diagnostics: [SetkeyDiagnostic] = []
        var line = 1
        var column = 0
        var characters = Array(text.unicodeScalars)[...]
        var current: (text: String, line: Int, column: Int)? = nil

        func flushWord() {
            if let word = current {
                tokens.append(SetkeyToken(kind: .word, text: word.text, line: word.line, column: word.column))
                current = nil
            }
        }

        while let scalar = characters.popFirst() {
            column += 1
            switch scalar {
            case "\n":
                flushWord()
                line += 1
                column = 0
            case " ", "\t", "\r":
                flushWord()
            case "#":
                flushWord()
                while let next = characters.first, next != "\n" {
                    characters.removeFirst()
                }
            case ";":
                flushWord()
                tokens.append(SetkeyToken(kind: .semicolon, text: ";", line: line, column: column))
            case "\"":
                flushWord()
                let startLine = line
                let startColumn = column
                var value = String.UnicodeScalarView()
                var closed = false
                while let next = characters.popFirst() {
                    column += 1
                    if next == "\"" {
                        closed = true
                        break
                    }
                    if next == "\n" {
                        line += 1
                        column = 0
                    }
                    value.append(next)
                }
                if closed {
                    tokens.append(SetkeyToken(kind: .quoted, text: String(value), line: startLine, column: startColumn))
                } else {
                    diagnostics.append(SetkeyDiagnostic(line: startLine, column: startColumn, message: "unterminated quoted string"))
                }
            default:
                if current == nil { current = ("", line, column) }
                current?.text.unicodeScalars.append(scalar)
            }
        }
        flushWord()
        return (tokens, diagnostics)
    }
}
