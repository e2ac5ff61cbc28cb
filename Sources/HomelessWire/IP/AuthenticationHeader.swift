/// IP Authentication Header (RFC 4302 2; WIRE.md section 2).
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// | Next Header   |  Payload Len  |          RESERVED             |  0
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Security Parameters Index (SPI)               |  4
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Sequence Number Field                      |  8
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                Integrity Check Value-ICV (variable)           |  12
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Payload Len is the AH length in 32-bit words minus 2 (RFC 4302 2.2).
/// Over IPv6 the whole AH must be a multiple of 8 octets (RFC 4302 3.3.3.2.1);
/// the ICV field is everything after the sequence number and includes any
/// padding an algorithm needs (HMAC-SHA-256-128: 16 bytes ICV + 4 padding).
public struct AuthenticationHeaderView {
    public enum Field {
        public static let nextHeader = 0
        public static let payloadLength = 1
        public static let reserved = 2
        public static let securityParametersIndex = 4
        public static let sequenceNumber = 8
        public static let integrityCheckValue = 12
    }

    /// Fixed part before the ICV.
    public static let fixedLength = 12

    public let bytes: UnsafeRawBufferPointer
    public let offset: Int
    /// (Payload Len + 2) * 4.
    public let length: Int

    /// Checks the fixed part, that the announced length fits, is at least
    /// the fixed part and, over IPv6 (`requiresEightOctetMultiple`), a
    /// multiple of 8 octets.
    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil,
                requiresEightOctetMultiple: Bool = true) throws(WireError) {
        let end = min(limit ?? bytes.count, bytes.count)
        guard offset >= 0, end - offset >= Self.fixedLength else { throw WireError(.truncated, at: max(offset, 0)) }
        let length = (Int(bytes.wireUInt8(at: offset + Field.payloadLength)) + 2) * 4
        guard length >= Self.fixedLength else { throw WireError(.badLength, at: offset + Field.payloadLength) }
        if requiresEightOctetMultiple && length % 8 != 0 {
            throw WireError(.badLength, at: offset + Field.payloadLength)
        }
        guard end - offset >= length else { throw WireError(.lengthOverrun, at: offset + Field.payloadLength) }
        self.bytes = bytes
        self.offset = offset
        self.length = length
    }

    @inlinable public var nextHeader: IPProtocol { IPProtocol(bytes.wireUInt8(at: offset)) }
    @inlinable public var payloadLength: UInt8 { bytes.wireUInt8(at: offset + Field.payloadLength) }
    @inlinable public var reserved: UInt16 { bytes.wireUInt16(at: offset + Field.reserved) }
    @inlinable public var securityParametersIndex: UInt32 { bytes.wireUInt32(at: offset + Field.securityParametersIndex) }
    @inlinable public var sequenceNumber: UInt32 { bytes.wireUInt32(at: offset + Field.sequenceNumber) }
    /// Absolute offset of the ICV field.
    @inlinable public var integrityCheckValueOffset: Int { offset + Field.integrityCheckValue }
    /// Length of the ICV field (ICV plus padding), derived from Payload Len.
    @inlinable public var integrityCheckValueLength: Int { length - Self.fixedLength }
    @inlinable public var integrityCheckValueRange: Range<Int> {
        integrityCheckValueOffset..<(integrityCheckValueOffset + integrityCheckValueLength)
    }
    @inlinable public var end: Int { offset + length }

    /// The Payload Len value for an ICV field of `icvFieldLength` bytes.
    @inlinable
    public static func payloadLength(forICVFieldLength icvFieldLength: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: (fixedLength + icvFieldLength) / 4 - 2)
    }
}

/// An Authentication Header as a value.
public struct AuthenticationHeader: Hashable, Sendable {
    public var nextHeader: IPProtocol
    public var securityParametersIndex: UInt32
    public var sequenceNumber: UInt32
    /// The ICV field as carried, including algorithm padding. `emit` pads it
    /// with zeros to make the header a multiple of 8 octets.
    public var integrityCheckValue: [UInt8]

    public init(nextHeader: IPProtocol, securityParametersIndex: UInt32, sequenceNumber: UInt32,
                integrityCheckValue: [UInt8]) {
        self.nextHeader = nextHeader
        self.securityParametersIndex = securityParametersIndex
        self.sequenceNumber = sequenceNumber
        self.integrityCheckValue = integrityCheckValue
    }

    public init(_ view: AuthenticationHeaderView) {
        self.init(nextHeader: view.nextHeader, securityParametersIndex: view.securityParametersIndex,
                  sequenceNumber: view.sequenceNumber,
                  integrityCheckValue: view.bytes.wireBytes(at: view.integrityCheckValueOffset, count: view.integrityCheckValueLength))
    }

    /// 12 + ICV field, rounded up to a multiple of 8 (IPv6).
    public var bufferLength: Int { (AuthenticationHeaderView.fixedLength + integrityCheckValue.count + 7) / 8 * 8 }

    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        let length = bufferLength
        precondition(offset >= 0 && buffer.count - offset >= length && length <= 1028, "AH emit buffer too small")
        Self.emitFixedPart(into: buffer, at: offset, nextHeader: nextHeader, securityParametersIndex: securityParametersIndex,
                           sequenceNumber: sequenceNumber, integrityCheckValueFieldLength: length - AuthenticationHeaderView.fixedLength)
        buffer.storeWireBytes(integrityCheckValue, at: offset + AuthenticationHeaderView.Field.integrityCheckValue)
    }

    /// Fast-path emitter: writes the fixed fields and zeroes an ICV field of
    /// `integrityCheckValueFieldLength` bytes, ready for the ICV computation.
    /// The caller guarantees `12 + integrityCheckValueFieldLength` bytes at `offset`.
    @inlinable
    public static func emitFixedPart(into buffer: UnsafeMutableRawBufferPointer, at offset: Int, nextHeader: IPProtocol,
                                     securityParametersIndex: UInt32, sequenceNumber: UInt32,
                                     integrityCheckValueFieldLength: Int) {
        typealias Field = AuthenticationHeaderView.Field
        buffer.storeWireUInt8(nextHeader.rawValue, at: offset + Field.nextHeader)
        buffer.storeWireUInt8(AuthenticationHeaderView.payloadLength(forICVFieldLength: integrityCheckValueFieldLength),
                              at: offset + Field.payloadLength)
        buffer.storeWireUInt16(0, at: offset + Field.reserved)
        buffer.storeWireUInt32(securityParametersIndex, at: offset + Field.securityParametersIndex)
        buffer.storeWireUInt32(sequenceNumber, at: offset + Field.sequenceNumber)
        buffer.zeroWireBytes(count: integrityCheckValueFieldLength, at: offset + Field.integrityCheckValue)
    }
}

/// Encapsulating Security Payload (RFC 4303 2): only SPI and sequence number
/// are in the clear; everything after them is opaque, so the chain walk stops.
///
/// ```
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |               Security Parameters Index (SPI)                 |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                      Sequence Number                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                    Payload Data ... (opaque)                  |
/// ```
public struct EncapsulatingSecurityPayloadView {
    public static let fixedLength = 8
    public let bytes: UnsafeRawBufferPointer
    public let offset: Int

    @inlinable
    public init(checking bytes: UnsafeRawBufferPointer, at offset: Int, limit: Int? = nil) throws(WireError) {
        let end = min(limit ?? bytes.count, bytes.count)
        guard offset >= 0, end - offset >= Self.fixedLength else { throw WireError(.truncated, at: max(offset, 0)) }
        self.bytes = bytes
        self.offset = offset
    }

    @inlinable public var securityParametersIndex: UInt32 { bytes.wireUInt32(at: offset) }
    @inlinable public var sequenceNumber: UInt32 { bytes.wireUInt32(at: offset + 4) }
}
