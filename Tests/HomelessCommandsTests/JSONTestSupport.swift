import Foundation
import Testing

/// JSON as parsed by Foundation, normalised so that booleans and numbers
/// cannot be confused when comparing.
indirect enum TestJSON: Equatable, CustomStringConvertible {
    case null
    case bool(Bool)
    case number(Int64)
    case string(String)
    case array([TestJSON])
    case object([String: TestJSON])

    init(parsing text: String) throws {
        let value = try JSONSerialization.jsonObject(with: Data(text.utf8), options: [.fragmentsAllowed])
        self.init(value)
    }

    init(_ value: Any) {
        switch value {
        case is NSNull:
            self = .null
        case let number as NSNumber:
            if String(cString: number.objCType) == "c" {
                self = .bool(number.boolValue)
            } else {
                self = .number(number.int64Value)
            }
        case let string as String:
            self = .string(string)
        case let array as [Any]:
            self = .array(array.map(TestJSON.init))
        case let object as [String: Any]:
            self = .object(object.mapValues(TestJSON.init))
        default:
            self = .string("unsupported \(type(of: value))")
        }
    }

    subscript(key: String) -> TestJSON? {
        if case .object(let members) = self { return members[key] }
        return nil
    }

    subscript(index: Int) -> TestJSON? {
        if case .array(let elements) = self, elements.indices.contains(index) { return elements[index] }
        return nil
    }

    var description: String {
        switch self {
        case .null: return "null"
        case .bool(let value): return String(value)
        case .number(let value): return String(value)
        case .string(let value): return "\"\(value)\""
        case .array(let elements): return "[" + elements.map(\.description).joined(separator: ",") + "]"
        case .object(let members):
            return "{" + members.keys.sorted().map { "\"\($0)\":\(members[$0]!)" }.joined(separator: ",") + "}"
        }
    }

    /// Records a test issue for every member of `expected` that `self` lacks
    /// or holds with another value. Objects compare as subsets (the output
    /// may carry more members); arrays must match element for element.
    func expectContains(_ expected: TestJSON, path: String, sourceLocation: SourceLocation = #_sourceLocation) {
        switch (expected, self) {
        case (.object(let wanted), .object(let actual)):
            for (key, value) in wanted {
                guard let present = actual[key] else {
                    Issue.record("\(path).\(key) missing", sourceLocation: sourceLocation)
                    continue
                }
                present.expectContains(value, path: "\(path).\(key)", sourceLocation: sourceLocation)
            }
        case (.array(let wanted), .array(let actual)):
            guard wanted.count == actual.count else {
                Issue.record("\(path): \(actual.count) elements, expected \(wanted.count): \(self)", sourceLocation: sourceLocation)
                return
            }
            for (index, (want, have)) in zip(wanted, actual).enumerated() {
                have.expectContains(want, path: "\(path)[\(index)]", sourceLocation: sourceLocation)
            }
        default:
            if expected != self {
                Issue.record("\(path): \(self), expected \(expected)", sourceLocation: sourceLocation)
            }
        }
    }
}

/// Collects what a run writes, for in-process command tests.
struct CapturedText: TextOutputStream {
    var text = ""
    mutating func write(_ string: String) { text += string }
    var lines: [String] { text.split(separator: "\n", omittingEmptySubsequences: false).dropLast().map(String.init) }
}

/// Tests/Fixtures/captures, found from this source file's path.
let fixturesDirectory: String = {
    var components = #filePath.split(separator: "/", omittingEmptySubsequences: false)
    components.removeLast(2)  // HomelessCommandsTests/JSONTestSupport.swift
    return components.joined(separator: "/") + "/Fixtures/captures"
}()
