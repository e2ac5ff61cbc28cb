/// One problem in a `setkey(8)`-syntax file, with its 1-based line and column.
public struct SetkeyDiagnostic: Error, Equatable, Sendable, CustomStringConvertible {
    public var line: Int
    public var column: Int
    public var message: String

    public init(line: Int, column: Int, message: String) {
        self.line = line
        self.column = column
        self.message = message
    }

    public var description: String { "line \(line), column \(column): \(message)" }
}

/// A file that did not load. Every problem found is listed; nothing of the
/// file was installed (the file is parsed completely before anything is
/// committed).
public struct SetkeyError: Error, Equatable, Sendable, CustomStringConvertible {
    public var diagnostics: [SetkeyDiagnostic]

    public init(_ diagnostics: [SetkeyDiagnostic]) {
        self.diagnostics = diagnostics
    }

    public var description: String { diagnostics.map(\.description).joined(separator: "\n") }
}
