// Decoding the Mobile IPv6 option views into the value types of
// `MobilitySubOption.swift` (slow path: these allocate the sub-option
// arrays), and the per-sub-option layout used by the emitter.

extension MobilitySubOption {
    /// Decodes a non-padding sub-option found by `MobilitySubOptionWalker`
    /// (which checked its length and alignment). A record whose length does
    /// not fit its type decodes as `.unknown`, so this never fails.
    public init(record: OptionRecord, bytes: UnsafeRawBufferPointer, codePoints: MobileIPv6CodePoints = .draftEra) {
        let type = record.type
        let data = record.dataOffset
        let inBounds = record.dataOffset >= 0 && record.dataRange.upperBound <= bytes.count
        guard inBounds else { self = .unknown(type: type, data: []); return }
        if type == codePoints.uniqueIdentifier && record.dataLength == 2 {
            self = .uniqueIdentifier(bytes.wireUInt16(at: data))
        } else if type == codePoints.alternateCareOfAddress && record.dataLength == 16 {
            self = .alternateCareOfAddress(IPv6Address(bytes: bytes, at: data))
        } else if type == codePoints.homelessSupport && record.dataLength == 0 {
            self = .homelessSupport
        } else if type == codePoints.alternatePrefixes, let view = try? AlternatePrefixesView(checking: bytes, record: record) {
            var prefixes: [[UInt8]] = []
            prefixes.reserveCapacity(view.count)
            for index in 0..<view.count {
                prefixes.append(bytes.wireBytes(at: view.prefixOffset(index), count: view.prefixByteCount))
            }
            self = .alternatePrefixes(AlternatePrefixes(prefixLengthCode: view.prefixLengthCode, prefixes: prefixes))
        } else {
            self = .unknown(type: type, data: bytes.wireBytes(at: data, count: record.dataLength))
        }
    }

    /// The sub-option type under `codePoints`.
    public func type(codePoints: MobileIPv6CodePoints = .draftEra) -> UInt8 {
        switch self {
        case .uniqueIdentifier: return codePoints.uniqueIdentifier
        case .alternateCareOfAddress: return codePoints.alternateCareOfAddress
        case .homelessSupport: return codePoints.homelessSupport
        case .alternatePrefixes: return codePoints.alternatePrefixes
        case .unknown(let type, _): return type
        }
    }

    /// Alignment of the type byte, counted from the Destination Options
    /// header start (WIRE.md section 1). Unknown sub-options: none.
    public var alignment: OptionAlignment {
        switch self {
        case .uniqueIdentifier, .homelessSupport: return OptionAlignment(2, 0)
        case .alternateCareOfAddress: return OptionAlignment(8, 6)
        case .alternatePrefixes: return OptionAlignment(4, 1)
        case .unknown: return .none
        }
    }

    /// Len field value. Alternate Prefixes: 1 + P * Count (each prefix is
    /// emitted as exactly P bytes, Count at most 63).
    public var dataLength: Int {
        switch self {
        case .uniqueIdentifier: return 2
        case .alternateCareOfAddress: return 16
        case .homelessSupport: return 0
        case .alternatePrefixes(let value): return 1 + value.prefixByteCount * min(value.prefixes.count, 63)
        case .unknown(_, let data): return data.count
        }
    }

    /// Decodes every sub-option a walker yields, skipping padding.
    static func decodeAll(_ walker: MobilitySubOptionWalker, bytes: UnsafeRawBufferPointer) throws(WireError) -> [MobilitySubOption] {
        var walker = walker
        var result: [MobilitySubOption] = []
        while let record = try walker.next() {
            if walker.isPadding(record) { continue }
            result.append(MobilitySubOption(record: record, bytes: bytes, codePoints: walker.codePoints))
        }
        return result
    }
}

extension BindingUpdate {
    /// Decodes a checked view; walks (and checks) the sub-options.
    public init(_ view: BindingUpdateOptionView, codePoints: MobileIPv6CodePoints = .draftEra,
                checksPadding: Bool = true, checksAlignment: Bool = true) throws(WireError) {
        let subOptions = try MobilitySubOption.decodeAll(
            view.subOptions(codePoints: codePoints, checksPadding: checksPadding, checksAlignment: checksAlignment), bytes: view.bytes)
        self.init(flags: view.flags, reservedBits: view.reservedBits, prefixLength: view.prefixLength,
                  sequence: view.sequence, lifetime: view.lifetime, subOptions: subOptions)
    }
}

extension BindingAcknowledgement {
    public init(_ view: BindingAcknowledgementOptionView, codePoints: MobileIPv6CodePoints = .draftEra,
                checksPadding: Bool = true, checksAlignment: Bool = true) throws(WireError) {
        let subOptions = try MobilitySubOption.decodeAll(
            view.subOptions(codePoints: codePoints, checksPadding: checksPadding, checksAlignment: checksAlignment), bytes: view.bytes)
        self.init(status: view.status, sequence: view.sequence, lifetime: view.lifetime, refresh: view.refresh,
                  subOptions: subOptions)
    }

    /// True when the status means accepted (< 128 under the draft-era table).
    public func isAccepted(codePoints: MobileIPv6CodePoints = .draftEra) -> Bool { codePoints.isAccepted(status: status) }
}

extension BindingRequest {
    public init(_ view: BindingRequestOptionView, codePoints: MobileIPv6CodePoints = .draftEra,
                checksPadding: Bool = true, checksAlignment: Bool = true) throws(WireError) {
        let subOptions = try MobilitySubOption.decodeAll(
            view.subOptions(codePoints: codePoints, checksPadding: checksPadding, checksAlignment: checksAlignment), bytes: view.bytes)
        self.init(subOptions: subOptions)
    }
}
