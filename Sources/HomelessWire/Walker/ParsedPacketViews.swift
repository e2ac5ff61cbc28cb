/// Views of the Mobile IPv6 options a `ParsedPacket` located, for the slow
/// path that handles them. The parse already checked these options with the
/// same rules, so each accessor returns nil only when the packet has no such
/// option (or `bytes` is not the buffer that was parsed).
extension ParsedPacket {
    /// The TLV record of the option whose type byte is at `offset`.
    @inlinable
    public static func optionRecord(at offset: Int, in bytes: UnsafeRawBufferPointer) -> OptionRecord? {
        guard offset >= 0, bytes.count - offset >= 2 else { return nil }
        let record = OptionRecord(type: bytes.wireUInt8(at: offset), offset: offset, dataOffset: offset + 2,
                                  dataLength: Int(bytes.wireUInt8(at: offset + 1)))
        return record.dataRange.upperBound <= bytes.count ? record : nil
    }

    @inlinable
    public func homeAddressOption(in bytes: UnsafeRawBufferPointer, checksAlignment: Bool = true) -> HomeAddressOptionView? {
        guard let offset = mobilityOptions.homeAddress, let header = mobilityOptions.homeAddressHeader,
              let record = Self.optionRecord(at: offset, in: bytes) else { return nil }
        return try? HomeAddressOptionView(checking: bytes, record: record, headerOffset: header, checksAlignment: checksAlignment)
    }

    @inlinable
    public func bindingUpdate(in bytes: UnsafeRawBufferPointer, checksAlignment: Bool = true) -> BindingUpdateOptionView? {
        guard let offset = mobilityOptions.bindingUpdate, let header = mobilityOptions.bindingUpdateHeader,
              let record = Self.optionRecord(at: offset, in: bytes) else { return nil }
        return try? BindingUpdateOptionView(checking: bytes, record: record, headerOffset: header, checksAlignment: checksAlignment)
    }

    @inlinable
    public func bindingAcknowledgement(in bytes: UnsafeRawBufferPointer,
                                       checksAlignment: Bool = true) -> BindingAcknowledgementOptionView? {
        guard let offset = mobilityOptions.bindingAcknowledgement, let header = mobilityOptions.bindingAcknowledgementHeader,
              let record = Self.optionRecord(at: offset, in: bytes) else { return nil }
        return try? BindingAcknowledgementOptionView(checking: bytes, record: record, headerOffset: header,
                                                     checksAlignment: checksAlignment)
    }

    @inlinable
    public func bindingRequest(in bytes: UnsafeRawBufferPointer, checksAlignment: Bool = true) -> BindingRequestOptionView? {
        guard let offset = mobilityOptions.bindingRequest, let header = mobilityOptions.bindingRequestHeader,
              let record = Self.optionRecord(at: offset, in: bytes) else { return nil }
        return try? BindingRequestOptionView(checking: bytes, record: record, headerOffset: header, checksAlignment: checksAlignment)
    }
}
