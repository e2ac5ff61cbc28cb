import HomelessWire

/// AH field offsets and sizes used by the ICV computation (RFC 4302 2; the
/// header diagram is in HomelessWire's `AuthenticationHeaderView`).
enum AuthenticationHeaderLayout {
    static let payloadLength = AuthenticationHeaderView.Field.payloadLength
    static let spi = AuthenticationHeaderView.Field.securityParametersIndex
    static let sequenceNumber = AuthenticationHeaderView.Field.sequenceNumber
    static let icv = AuthenticationHeaderView.Field.integrityCheckValue
    /// Octets before the ICV.
    static let fixedLength = AuthenticationHeaderView.fixedLength
    /// IP protocol number of AH.
    static let protocolNumber: UInt8 = IPProtocol.authentication.rawValue
}

extension UnsafeRawBufferPointer {
    /// Unchecked big-endian reads; callers have checked the bounds.
    @inline(__always)
    func loadBigEndianUInt32(at offset: Int) -> UInt32 {
        UInt32(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    @inline(__always)
    func loadBigEndianUInt16(at offset: Int) -> UInt16 {
        UInt16(bigEndian: loadUnaligned(fromByteOffset: offset, as: UInt16.self))
    }
}
