/// ICMPv6 message header (RFC 4443 2.1) and the messages this engine
/// builds or reads itself: Echo Request/Reply (4.1, 4.2) and Parameter
/// Problem (3.4). Other types decode generically.
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |     Type      |     Code      |          Checksum             |  0
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Echo: Identifier | Sequence; Parameter Problem: Pointer (32)  |  4
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Echo data / as much of the invoking packet as fits ...          8
/// ```
public struct ICMPv6View {
    public enum Field {
        public static let type = 0
        public static let code = 1
        public static let checksum = 2
        public static let identifier = 4
        public static let sequence = 6
        public static let pointer = 4
        public static let body = 8
    }

    /// Type, Code, Checksum.
    public static let headerLength = 4

    public static let typeDestinationUnreachable: UInt8 = 1
    public static let typePacketTooBig: UInt8 = 2
    public static let typeTimeExceeded: UInt8 = 3
    public static let typeParameterProblem: UInt8 = 4
    public static let typeEchoRequest: UInt8 = 128
    public static let typeEchoReply: UInt8 = 129

    /// Parameter Problem codes (RFC 4443 3.4).
    public static let codeErroneousHeaderField: UInt8 = 0
    public static let codeUnrecognizedNextHeader: UInt8 = 1
    public static let codeUnrecognizedOption: UInt8 = 2

    public let bytes: UnsafeRawBufferPointer
    public let offset: Int
    /// End of the message (end of the IPv6 payload).
    public let end: Int

    /// Checks the 4-byte header; Echo and Parameter Problem need 8 bytes.
    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil) throws(WireError) {
        let end = min(limit ?? bytes.count, bytes.count)
        guard offset >= 0, end - offset >= Self.headerLength else { throw WireError(.truncated, at: max(offset, 0)) }
        let type = bytes.wireUInt8(at: offset)
        if type == Self.typeEchoRequest || type == Self.typeEchoReply || type == Self.typeParameterProblem
            || type == Self.typeDestinationUnreachable || type == Self.typePacketTooBig || type == Self.typeTimeExceeded {
            guard end - offset >= Field.body else { throw WireError(.truncated, at: offset) }
        }
        self.bytes = bytes
        self.offset = offset
        self.end = end
    }

    @inlinable public var type: UInt8 { bytes.wireUInt8(at: offset) }
    @inlinable public var code: UInt8 { bytes.wireUInt8(at: offset + Field.code) }
    @inlinable public var checksum: UInt16 { bytes.wireUInt16(at: offset + Field.checksum) }
    /// Absolute offset of the checksum field.
    @inlinable public var checksumOffset: Int { offset + Field.checksum }
    @inlinable public var messageLength: Int { end - offset }
    @inlinable public var isEcho: Bool { type == Self.typeEchoRequest || type == Self.typeEchoReply }

    /// Echo identifier (Echo Request/Reply only; nil otherwise).
    @inlinable public var identifier: UInt16? { isEcho ? bytes.wireUInt16(at: offset + Field.identifier) : nil }
    /// Echo sequence number (Echo Request/Reply only).
    @inlinable public var sequence: UInt16? { isEcho ? bytes.wireUInt16(at: offset + Field.sequence) : nil }
    /// Parameter Problem pointer: offset into the invoking packet of the problem.
    @inlinable public var pointer: UInt32? {
        type == Self.typeParameterProblem ? bytes.wireUInt32(at: offset + Field.pointer) : nil
    }

    /// The whole message as a buffer slice (for checksums).
    @inlinable public var message: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: bytes[offset..<end]) }

    /// Verifies the checksum with the IPv6 pseudo-header (RFC 4443 2.3).
    @inlinable
    public func verifyChecksum(source: IPv6Address, destination: IPv6Address) -> Bool {
        InternetChecksum.verifyUpperLayer(source: source, destination: destination, nextHeader: .icmpv6, message: message)
    }
}

/// An ICMPv6 message as a value.
public struct ICMPv6Message: Hashable, Sendable {
    public enum Body: Hashable, Sendable {
        case echoRequest(identifier: UInt16, sequence: UInt16, data: [UInt8])
        case echoReply(identifier: UInt16, sequence: UInt16, data: [UInt8])
        /// `invokingPacket`: as much of the offending packet as fits (RFC 4443 2.4 (c)).
        case parameterProblem(code: UInt8, pointer: UInt32, invokingPacket: [UInt8])
        /// Any other type: everything after the checksum, as carried.
        case other(type: UInt8, code: UInt8, body: [UInt8])
    }

    public var body: Body
    /// The checksum as received; `emit` computes its own.
    public var checksum: UInt16

    public init(_ body: Body, checksum: UInt16 = 0) {
        self.body = body
        self.checksum = checksum
    }

    public init(_ view: ICMPv6View) {
        let rest = view.offset + ICMPv6View.Field.body
        switch view.type {
        case ICMPv6View.typeEchoRequest, ICMPv6View.typeEchoReply:
            let data = view.bytes.wireBytes(at: rest, count: view.end - rest)
            let identifier = view.identifier ?? 0, sequence = view.sequence ?? 0
            body = view.type == ICMPv6View.typeEchoRequest
                ? .echoRequest(identifier: identifier, sequence: sequence, data: data)
                : .echoReply(identifier: identifier, sequence: sequence, data: data)
        case ICMPv6View.typeParameterProblem:
            body = .parameterProblem(code: view.code, pointer: view.pointer ?? 0,
                                     invokingPacket: view.bytes.wireBytes(at: rest, count: view.end - rest))
        default:
            let start = view.offset + ICMPv6View.headerLength
            body = .other(type: view.type, code: view.code, body: view.bytes.wireBytes(at: start, count: view.end - start))
        }
        checksum = view.checksum
    }

    public var type: UInt8 {
        switch body {
        case .echoRequest: return ICMPv6View.typeEchoRequest
        case .echoReply: return ICMPv6View.typeEchoReply
        case .parameterProblem: return ICMPv6View.typeParameterProblem
        case .other(let type, _, _): return type
        }
    }

    public var bufferLength: Int {
        switch body {
        case .echoRequest(_, _, let data), .echoReply(_, _, let data): return 8 + data.count
        case .parameterProblem(_, _, let invoking): return 8 + invoking.count
        case .other(_, _, let rest): return 4 + rest.count
        }
    }

    /// Writes the message at `offset` with its checksum computed over the
    /// pseudo-header of `source` -> `destination` (RFC 4443 2.3).
    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0,
                     source: IPv6Address, destination: IPv6Address) {
        let length = bufferLength
        precondition(offset >= 0 && buffer.count - offset >= length, "ICMPv6 emit buffer too small")
        buffer.storeWireUInt8(type, at: offset)
        buffer.storeWireUInt16(0, at: offset + ICMPv6View.Field.checksum)
        switch body {
        case .echoRequest(let identifier, let sequence, let data), .echoReply(let identifier, let sequence, let data):
            buffer.storeWireUInt8(0, at: offset + ICMPv6View.Field.code)
            buffer.storeWireUInt16(identifier, at: offset + ICMPv6View.Field.identifier)
            buffer.storeWireUInt16(sequence, at: offset + ICMPv6View.Field.sequence)
            buffer.storeWireBytes(data, at: offset + ICMPv6View.Field.body)
        case .parameterProblem(let code, let pointer, let invoking):
            buffer.storeWireUInt8(code, at: offset + ICMPv6View.Field.code)
            buffer.storeWireUInt32(pointer, at: offset + ICMPv6View.Field.pointer)
            buffer.storeWireBytes(invoking, at: offset + ICMPv6View.Field.body)
        case .other(_, let code, let rest):
            buffer.storeWireUInt8(code, at: offset + ICMPv6View.Field.code)
            buffer.storeWireBytes(rest, at: offset + ICMPv6View.headerLength)
        }
        let message = UnsafeRawBufferPointer(rebasing: buffer[offset..<(offset + length)])
        let sum = InternetChecksum.upperLayerChecksum(source: source, destination: destination, nextHeader: .icmpv6, message: message)
        buffer.storeWireUInt16(sum, at: offset + ICMPv6View.Field.checksum)
    }
}

/// An ICMPv6 error message (RFC 4443 2.1: types 1-4, Destination
/// Unreachable, Packet Too Big, Time Exceeded, Parameter Problem) and the
/// invoking packet it quotes (RFC 4443 2.4 (c): as much of it as fits):
///
///      0                   1                   2                   3
///      0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |     Type      |     Code      |          Checksum             |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |        Unused / MTU (Packet Too Big) / Pointer (Param. Problem)|
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///     |  Invoking packet: its IPv6 header (40 octets), then as much   |
///     |  of its extension and upper-layer headers and data as fits    |
///     +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
/// Exists only when the whole quoted IPv6 header is there; fields after
/// it are optional, as a router may quote little. Non-throwing and
/// non-allocating: the fast path builds it per inbound ICMPv6 packet.
public struct ICMPv6ErrorView {
    public enum Field {
        /// MTU of Packet Too Big, Pointer of Parameter Problem, else unused.
        public static let parameter = 4
        /// Start of the invoking packet.
        public static let invokingPacket = 8
    }

    public let bytes: UnsafeRawBufferPointer
    /// Start of the ICMPv6 message.
    public let offset: Int
    /// End of the message (end of the IPv6 payload).
    public let end: Int

    /// nil unless the message at `offset` (up to `end`) is an error type
    /// whose quote holds an IPv6 version-6 header.
    @inlinable
    public init?(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int) {
        guard offset >= 0, end <= bytes.count,
              offset + Field.invokingPacket + IPv6HeaderView.length <= end else { return nil }
        let type = bytes.wireUInt8(at: offset)
        guard type >= ICMPv6View.typeDestinationUnreachable, type <= ICMPv6View.typeParameterProblem,
              bytes.wireUInt8(at: offset + Field.invokingPacket) >> 4 == 6 else { return nil }
        self.bytes = bytes
        self.offset = offset
        self.end = end
    }

    @inlinable public var type: UInt8 { bytes.wireUInt8(at: offset) }
    /// Absolute offset of the message's checksum field.
    @inlinable public var checksumOffset: Int { offset + ICMPv6View.Field.checksum }
    /// Packet Too Big: the MTU of the next-hop link (RFC 4443 3.2).
    @inlinable public var mtu: UInt32? {
        type == ICMPv6View.typePacketTooBig ? bytes.wireUInt32(at: offset + Field.parameter) : nil
    }

    /// Absolute offset of the quoted IPv6 header.
    @inlinable public var quotedHeaderOffset: Int { offset + Field.invokingPacket }
    /// Absolute offsets of the quoted source and destination addresses.
    @inlinable public var quotedSourceOffset: Int { quotedHeaderOffset + IPv6HeaderView.Field.source }
    @inlinable public var quotedDestinationOffset: Int { quotedHeaderOffset + IPv6HeaderView.Field.destination }
    @inlinable public var quotedSource: IPv6Address { IPv6Address(bytes: bytes, at: quotedSourceOffset) }
    @inlinable public var quotedDestination: IPv6Address { IPv6Address(bytes: bytes, at: quotedDestinationOffset) }
    @inlinable public var quotedNextHeader: IPProtocol {
        IPProtocol(rawValue: bytes.wireUInt8(at: quotedHeaderOffset + IPv6HeaderView.Field.nextHeader))
    }
    /// Absolute offset of the quoted upper-layer header when it follows
    /// the fixed header directly (TCP, UDP or ICMPv6: no extension header).
    @inlinable public var quotedUpperLayerOffset: Int? {
        switch quotedNextHeader {
        case .tcp, .udp, .icmpv6: quotedHeaderOffset + IPv6HeaderView.length
        default: nil
        }
    }

    /// Absolute offset of the quoted upper-layer checksum when the quote
    /// holds it (the quoted packet's checksum covers its pseudo-header
    /// addresses, RFC 8200 8.1); nil when truncated before it or for
    /// another protocol.
    @inlinable public var quotedChecksumOffset: Int? {
        guard let upper = quotedUpperLayerOffset else { return nil }
        let field: Int
        switch quotedNextHeader {
        case .tcp: field = TCPHeaderView.Field.checksum
        case .udp: field = UDPHeaderView.Field.checksum
        default: field = ICMPv6View.Field.checksum
        }
        return upper + field + 2 <= end ? upper + field : nil
    }

    /// The quoted TCP or UDP ports (source, destination) when quoted.
    @inlinable public var quotedPorts: (source: UInt16, destination: UInt16)? {
        guard let upper = quotedUpperLayerOffset, quotedNextHeader != .icmpv6, upper + 4 <= end else { return nil }
        return (bytes.wireUInt16(at: upper), bytes.wireUInt16(at: upper + 2))
    }
}
