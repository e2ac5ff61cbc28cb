// A Destination Options header (RFC 8200 4.6) carrying Mobile IPv6
// options, as a value, with the emitter that places every option and
// sub-option at its alignment with minimal padding.
//
// ```
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// |  Next Header  |  Hdr Ext Len  |  [pad] Option [pad] Option ...|
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+                               +
// .           ... [pad to a multiple of 8 octets]                 .
// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
// ```
// Alignments (WIRE.md section 1, RFC 8200 4.2, counted from the header
// start): BU 4n+2, BA 4n+3, BR none, HAO 8n+6; sub-options Unique
// Identifier 2n, Alternate Care-of Address 8n+6, Homeless Support 2n,
// Alternate Prefixes 4n+1. Padding is Pad1 for one byte and a single PadN
// otherwise, so it never exceeds 7 bytes (RFC 4942 2.1.9.5).

/// One option of a Destination Options header (padding excluded).
public enum DestinationOption: Hashable, Sendable {
    case homeAddress(IPv6Address)
    case bindingUpdate(BindingUpdate)
    case bindingAcknowledgement(BindingAcknowledgement)
    case bindingRequest(BindingRequest)
    /// Any other option (no alignment requirement), data as carried.
    case other(type: UInt8, data: [UInt8])
}

public struct DestinationOptionsHeader: Hashable, Sendable {
    public var nextHeader: IPProtocol
    public var options: [DestinationOption]
    public var codePoints: MobileIPv6CodePoints

    public init(nextHeader: IPProtocol, options: [DestinationOption], codePoints: MobileIPv6CodePoints = .draftEra) {
        self.nextHeader = nextHeader
        self.options = options
        self.codePoints = codePoints
    }

    /// Decodes a checked header; padding is checked and dropped.
    public init(_ view: OptionsHeaderView, codePoints: MobileIPv6CodePoints = .draftEra,
                checksPadding: Bool = true, checksAlignment: Bool = true) throws(WireError) {
        var options: [DestinationOption] = []
        var walker = view.options(checksPadding: checksPadding)
        while let record = try walker.next() {
            if record.isPadding { continue }
            switch codePoints.optionKind(record.type) {
            case .homeAddress:
                let option = try HomeAddressOptionView(checking: view.bytes, record: record, headerOffset: view.offset,
                                                       checksAlignment: checksAlignment)
                options.append(.homeAddress(option.homeAddress))
            case .bindingUpdate:
                let option = try BindingUpdateOptionView(checking: view.bytes, record: record, headerOffset: view.offset,
                                                         checksAlignment: checksAlignment)
                options.append(.bindingUpdate(try BindingUpdate(option, codePoints: codePoints, checksPadding: checksPadding,
                                                                checksAlignment: checksAlignment)))
            case .bindingAcknowledgement:
                let option = try BindingAcknowledgementOptionView(checking: view.bytes, record: record, headerOffset: view.offset,
                                                                  checksAlignment: checksAlignment)
                options.append(.bindingAcknowledgement(try BindingAcknowledgement(option, codePoints: codePoints,
                                                                                  checksPadding: checksPadding,
                                                                                  checksAlignment: checksAlignment)))
            case .bindingRequest:
                let option = try BindingRequestOptionView(checking: view.bytes, record: record, headerOffset: view.offset,
                                                          checksAlignment: checksAlignment)
                options.append(.bindingRequest(try BindingRequest(option, codePoints: codePoints, checksPadding: checksPadding,
                                                                  checksAlignment: checksAlignment)))
            case nil:
                options.append(.other(type: record.type, data: view.bytes.wireBytes(at: record.dataOffset, count: record.dataLength)))
            }
        }
        self.init(nextHeader: view.nextHeader, options: options, codePoints: codePoints)
    }

    /// Exact number of bytes `emit` writes (a multiple of 8).
    public var bufferLength: Int {
        var layout = OptionLayoutWriter(buffer: nil, headerStart: 0, codePoints: codePoints)
        layout.writeHeader(self)
        return layout.position
    }

    /// Alias of `bufferLength`.
    public var emittedLength: Int { bufferLength }

    /// False when some option's data would exceed 255 bytes or the header
    /// 2048 bytes (e.g. too many Alternate Prefixes): such a value cannot be
    /// emitted.
    public var isEncodable: Bool {
        var layout = OptionLayoutWriter(buffer: nil, headerStart: 0, codePoints: codePoints)
        layout.writeHeader(self)
        return !layout.overflowed && layout.position <= 2048
    }

    /// Writes the header at `offset`; requires `bufferLength` bytes there and
    /// `isEncodable`. Every byte of the range is written (no junk leaks).
    public func emit(into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) {
        precondition(isEncodable, "Destination Options header not encodable")
        precondition(offset >= 0 && buffer.count - offset >= bufferLength, "Destination Options emit buffer too small")
        var layout = OptionLayoutWriter(buffer: buffer, headerStart: offset, codePoints: codePoints)
        layout.writeHeader(self)
    }
}

/// Lays out (and, with a buffer, writes) options and sub-options. In
/// measuring mode (`buffer == nil`) it only advances `position`, so the
/// size and the bytes come from one code path.
struct OptionLayoutWriter {
    let buffer: UnsafeMutableRawBufferPointer?
    /// Absolute offset of the header start in `buffer`.
    let headerStart: Int
    let codePoints: MobileIPv6CodePoints
    /// Position relative to the header start.
    var position = 0
    /// Set when an Opt Data Len or Hdr Ext Len would not fit its byte.
    var overflowed = false

    init(buffer: UnsafeMutableRawBufferPointer?, headerStart: Int, codePoints: MobileIPv6CodePoints) {
        self.buffer = buffer
        self.headerStart = headerStart
        self.codePoints = codePoints
    }

    mutating func byte(_ value: UInt8) {
        buffer?.storeWireUInt8(value, at: headerStart + position)
        position += 1
    }

    mutating func word16(_ value: UInt16) {
        buffer?.storeWireUInt16(value, at: headerStart + position)
        position += 2
    }

    mutating func word32(_ value: UInt32) {
        buffer?.storeWireUInt32(value, at: headerStart + position)
        position += 4
    }

    mutating func address(_ value: IPv6Address) {
        if let buffer { value.write(to: buffer, at: headerStart + position) }
        position += 16
    }

    mutating func bytes(_ value: [UInt8], count: Int) {
        let copied = min(value.count, count)
        if let buffer {
            buffer.storeWireBytes(copied == value.count ? value : Array(value.prefix(copied)), at: headerStart + position)
            buffer.zeroWireBytes(count: count - copied, at: headerStart + position + copied)
        }
        position += count
    }

    /// Minimal padding: nothing, Pad1, or one PadN with zero data.
    mutating func pad(_ count: Int, pad1: UInt8, padN: UInt8) {
        if count == 1 {
            byte(pad1)
        } else if count >= 2 {
            byte(padN)
            byte(UInt8(count - 2))
            bytes([], count: count - 2)
        }
    }

    mutating func align(_ alignment: OptionAlignment, pad1: UInt8, padN: UInt8) {
        pad(alignment.padding(before: position), pad1: pad1, padN: padN)
    }

    /// Writes Opt Data Len for the option whose length byte is at `lengthPosition`.
    mutating func patchLength(at lengthPosition: Int) {
        let length = position - lengthPosition - 1
        if length > 255 { overflowed = true }
        buffer?.storeWireUInt8(UInt8(truncatingIfNeeded: length), at: headerStart + lengthPosition)
    }

    mutating func writeHeader(_ header: DestinationOptionsHeader) {
        byte(header.nextHeader.rawValue)
        let lengthPosition = position
        byte(0)
        for option in header.options { write(option) }
        pad((8 - position % 8) % 8, pad1: OptionWalker.pad1, padN: OptionWalker.padN)
        let units = position / 8 - 1
        if units > 255 { overflowed = true }
        buffer?.storeWireUInt8(UInt8(truncatingIfNeeded: units), at: headerStart + lengthPosition)
    }

    mutating func write(_ option: DestinationOption) {
        let pad1 = OptionWalker.pad1, padN = OptionWalker.padN
        switch option {
        case .homeAddress(let home):
            align(MobilityOptionKind.homeAddress.alignment, pad1: pad1, padN: padN)
            byte(codePoints.homeAddress)
            byte(16)
            address(home)
        case .bindingUpdate(let update):
            align(MobilityOptionKind.bindingUpdate.alignment, pad1: pad1, padN: padN)
            byte(codePoints.bindingUpdate)
            let lengthPosition = position
            byte(0)
            byte(update.flags.rawValue & 0xF0 | update.reservedBits & 0x0F)
            byte(update.prefixLength)
            word16(update.sequence)
            word32(update.lifetime)
            write(update.subOptions)
            patchLength(at: lengthPosition)
        case .bindingAcknowledgement(let acknowledgement):
            align(MobilityOptionKind.bindingAcknowledgement.alignment, pad1: pad1, padN: padN)
            byte(codePoints.bindingAcknowledgement)
            let lengthPosition = position
            byte(0)
            byte(acknowledgement.status)
            word16(acknowledgement.sequence)
            word32(acknowledgement.lifetime)
            word32(acknowledgement.refresh)
            write(acknowledgement.subOptions)
            patchLength(at: lengthPosition)
        case .bindingRequest(let request):
            byte(codePoints.bindingRequest)
            let lengthPosition = position
            byte(0)
            write(request.subOptions)
            patchLength(at: lengthPosition)
        case .other(let type, let data):
            byte(type)
            let lengthPosition = position
            byte(0)
            bytes(data, count: data.count)
            patchLength(at: lengthPosition)
        }
    }

    mutating func write(_ subOptions: [MobilitySubOption]) {
        let pad1 = codePoints.subOptionPad1, padN = codePoints.subOptionPadN
        for subOption in subOptions {
            align(subOption.alignment, pad1: pad1, padN: padN)
            byte(subOption.type(codePoints: codePoints))
            let lengthPosition = position
            byte(0)
            switch subOption {
            case .uniqueIdentifier(let identifier):
                word16(identifier)
            case .alternateCareOfAddress(let careOf):
                address(careOf)
            case .homelessSupport:
                break
            case .alternatePrefixes(let value):
                let count = min(value.prefixes.count, 63)
                byte((value.prefixLengthCode & 0x3) << 6 | UInt8(count))
                for prefix in value.prefixes.prefix(count) { bytes(prefix, count: value.prefixByteCount) }
            case .unknown(_, let data):
                bytes(data, count: data.count)
            }
            patchLength(at: lengthPosition)
        }
    }
}
