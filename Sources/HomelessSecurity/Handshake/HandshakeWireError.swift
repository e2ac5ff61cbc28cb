/// Why a handshake or address-probe message did not parse, with the byte
/// offset (from the start of the buffer given to the parser) of the field
/// at fault. Parsers never trap on hostile input.
public struct HandshakeWireError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable, CaseIterable {
        /// The buffer ends before the message does.
        case truncated
        /// Header Length is not the one the message type has.
        case badLength = "bad-length"
        /// The Version field is not one this implementation speaks.
        case unsupportedVersion = "unsupported-version"
        /// The Message Type is not the one the caller expected.
        case unexpectedType = "unexpected-type"
    }

    public var reason: Reason
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason.rawValue) at offset \(offset)" }
}
