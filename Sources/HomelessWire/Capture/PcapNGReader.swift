/// Reads a pcapng capture (draft-ietf-opsawg-pcapng, "PCAP Now Generic")
/// from bytes already in memory. Pure parsing: no I/O.
///
/// Every block has the same frame (pcapng 3.1), in the byte order its
/// section's header declares:
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                          Block Type                           |  0
/// |                      Block Total Length                       |  4
/// /                          Block Body                           /  8
/// |                      Block Total Length                       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
/// Understood: Section Header (4.1; several sections, either byte order),
/// Interface Description (4.2; link type, snaplen, `if_tsresol`,
/// `if_tsoffset`, `if_name`), Enhanced Packet (4.3), Simple Packet (4.4) and
/// the obsolete Packet Block (Appendix A). Every other block is skipped.
public struct PcapNGReader: Sendable {
    /// An interface defined by an Interface Description Block of the current section.
    public struct Interface: Sendable, Hashable {
        public var linkType: CaptureLinkType
        /// 0 means unlimited.
        public var snapshotLength: UInt32
        /// `if_tsresol` (pcapng 4.2): high bit set = power of two, low bits = negative exponent.
        public var timestampResolution: UInt8
        /// `if_tsoffset` (pcapng 4.2): seconds to add to every timestamp.
        public var timestampOffset: Int64
        /// `if_name`, when present and valid UTF-8.
        public var name: String?
    }

    static let sectionHeaderType: UInt32 = 0x0A0D_0D0A
    static let interfaceDescriptionType: UInt32 = 0x0000_0001
    static let obsoletePacketType: UInt32 = 0x0000_0002
    static let simplePacketType: UInt32 = 0x0000_0003
    static let enhancedPacketType: UInt32 = 0x0000_0006
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D
    static let swappedByteOrderMagic: UInt32 = 0x4D3C_2B1A

    /// Fixed block sizes including type, both lengths and the fixed body fields.
    static let minimumBlockLength = 12
    static let sectionHeaderMinimumLength = 28
    static let interfaceDescriptionMinimumLength = 20
    static let enhancedPacketMinimumLength = 32
    static let simplePacketMinimumLength = 16
    static let obsoletePacketMinimumLength = 32

    /// Option codes (pcapng 3.5, 4.2).
    static let endOfOptions: UInt16 = 0
    static let interfaceNameOption: UInt16 = 2
    static let timestampResolutionOption: UInt16 = 9
    static let timestampOffsetOption: UInt16 = 14

    /// True when `magic` (first four bytes, big-endian) starts a pcapng file.
    static func recognizes(_ magic: UInt32) -> Bool { magic == sectionHeaderType }

    private var file: CaptureBytes
    private var offset = 0
    /// The interfaces of the current section, indexed by interface ID.
    public private(set) var interfaces: [Interface] = []
    /// How many Section Header Blocks have been read so far.
    public private(set) var sectionCount = 0

    /// Checks the file starts with a Section Header Block. Blocks are read lazily by `next()`.
    public init(bytes: [UInt8]) throws(CaptureError) {
        guard !bytes.isEmpty else { throw CaptureError(.empty, at: 0) }
        file = CaptureBytes(bytes: bytes, order: .bigEndian)
        guard let magic = file.uint32BigEndian(at: 0) else {
            throw CaptureError(.truncated(.blockHeader, needed: 12, available: bytes.count), at: 0)
        }
        guard PcapNGReader.recognizes(magic) else { throw CaptureError(.missingSectionHeader, at: 0) }
    }

    /// Byte order of the current section.
    public var byteOrder: CaptureByteOrder { file.order }

    /// The next packet, or nil at a clean end of file.
    public mutating func next() throws(CaptureError) -> CapturedPacket? {
        while true {
            let blockOffset = offset
            let available = file.remaining(from: blockOffset)
            if available == 0 { return nil }
            guard available >= 8, let rawType = file.uint32BigEndian(at: blockOffset) else {
                throw CaptureError(.truncated(.blockHeader, needed: 8, available: available), at: blockOffset)
            }
            if rawType == PcapNGReader.sectionHeaderType {
                try readSectionHeaderByteOrder(at: blockOffset)
            } else if sectionCount == 0 {
                throw CaptureError(.missingSectionHeader, at: blockOffset)
            }
            let length = try blockLength(at: blockOffset)
            offset = blockOffset + length
            guard let type = file.uint32(at: blockOffset) else {
                throw CaptureError(.truncated(.blockHeader, needed: 8, available: available), at: blockOffset)
            }
            switch type {
            case PcapNGReader.sectionHeaderType:
                try readSectionHeader(at: blockOffset, length: length)
            case PcapNGReader.interfaceDescriptionType:
                try readInterfaceDescription(at: blockOffset, length: length)
            case PcapNGReader.enhancedPacketType:
                return try readEnhancedPacket(at: blockOffset, length: length)
            case PcapNGReader.simplePacketType:
                return try readSimplePacket(at: blockOffset, length: length)
            case PcapNGReader.obsoletePacketType:
                return try readObsoletePacket(at: blockOffset, length: length)
            default:
                continue  // Name Resolution, Interface Statistics, custom, ...: not needed to show packets.
            }
        }
    }

    // MARK: Block frame

    /// Validates the leading and trailing Block Total Length (pcapng 3.1) and returns it.
    private func blockLength(at blockOffset: Int) throws(CaptureError) -> Int {
        let available = file.remaining(from: blockOffset)
        guard let leading = file.uint32(at: blockOffset + 4) else {
            throw CaptureError(.truncated(.blockHeader, needed: 8, available: available), at: blockOffset)
        }
        let length = Int(leading)
        guard length >= PcapNGReader.minimumBlockLength, length % 4 == 0 else {
            throw CaptureError(.badBlockLength(length), at: blockOffset)
        }
        guard length <= available else {
            throw CaptureError(.truncated(.block, needed: length, available: available), at: blockOffset)
        }
        guard let trailing = file.uint32(at: blockOffset + length - 4) else {
            throw CaptureError(.truncated(.block, needed: length, available: available), at: blockOffset)
        }
        guard Int(trailing) == length else {
            throw CaptureError(.blockLengthMismatch(leading: length, trailing: Int(trailing)), at: blockOffset)
        }
        return length
    }

    // MARK: Section Header Block (pcapng 4.1)

    /// Learns the new section's byte order from its byte-order magic, which
    /// must happen before its Block Total Length can be read.
    private mutating func readSectionHeaderByteOrder(at blockOffset: Int) throws(CaptureError) {
        guard let magic = file.uint32BigEndian(at: blockOffset + 8) else {
            throw CaptureError(.truncated(.blockHeader, needed: 12, available: file.remaining(from: blockOffset)), at: blockOffset)
        }
        switch magic {
        case PcapNGReader.byteOrderMagic: file.order = .bigEndian
        case PcapNGReader.swappedByteOrderMagic: file.order = .littleEndian
        default: throw CaptureError(.badByteOrderMagic(magic), at: blockOffset + 8)
        }
    }

    private mutating func readSectionHeader(at blockOffset: Int, length: Int) throws(CaptureError) {
        guard length >= PcapNGReader.sectionHeaderMinimumLength else {
            throw CaptureError(.badBlockLength(length), at: blockOffset)
        }
        guard let major = file.uint16(at: blockOffset + 12), let minor = file.uint16(at: blockOffset + 14) else {
            throw CaptureError(.truncated(.block, needed: length, available: file.remaining(from: blockOffset)), at: blockOffset)
        }
        // Major version 1 is the only one; a different major means an incompatible layout (pcapng 4.1).
        guard major == 1 else { throw CaptureError(.unsupportedVersion(major: major, minor: minor), at: blockOffset + 12) }
        // Interface IDs are scoped to their section.
        interfaces.removeAll(keepingCapacity: true)
        sectionCount += 1
    }

    // MARK: Interface Description Block (pcapng 4.2)

    private mutating func readInterfaceDescription(at blockOffset: Int, length: Int) throws(CaptureError) {
        guard length >= PcapNGReader.interfaceDescriptionMinimumLength,
              let linkType = file.uint16(at: blockOffset + 8), let snapshotLength = file.uint32(at: blockOffset + 12) else {
            throw CaptureError(.badBlockLength(length), at: blockOffset)
        }
        var interface = Interface(linkType: CaptureLinkType(rawValue: UInt32(linkType)), snapshotLength: snapshotLength,
                                  timestampResolution: 6, timestampOffset: 0, name: nil)
        var optionOffset = blockOffset + 16
        let optionsEnd = blockOffset + length - 4
        while optionsEnd - optionOffset >= 4 {
            guard let code = file.uint16(at: optionOffset), let valueLength = file.uint16(at: optionOffset + 2) else { break }
            if code == PcapNGReader.endOfOptions { break }
            let valueOffset = optionOffset + 4
            let paddedLength = (Int(valueLength) + 3) & ~3
            guard paddedLength <= optionsEnd - valueOffset else {
                throw CaptureError(.optionOverrun(code: code, length: Int(valueLength)), at: optionOffset)
            }
            switch (code, valueLength) {
            case (PcapNGReader.timestampResolutionOption, 1):
                if let value = file.slice(valueOffset, 1)?.first { interface.timestampResolution = value }
            case (PcapNGReader.timestampOffsetOption, 8):
                if let value = file.uint64(at: valueOffset) { interface.timestampOffset = Int64(bitPattern: value) }
            case (PcapNGReader.interfaceNameOption, _):
                if let value = file.slice(valueOffset, Int(valueLength)) {
                    // Some writers include the C string terminator in the length.
                    interface.name = String(validating: value.prefix { $0 != 0 }, as: UTF8.self)
                }
            default:
                break
            }
            optionOffset = valueOffset + paddedLength
        }
        interfaces.append(interface)
    }

    // MARK: Packet blocks (pcapng 4.3, 4.4, Appendix A)

    private func interface(_ id: UInt32, at blockOffset: Int) throws(CaptureError) -> Interface {
        guard id < UInt32(interfaces.count) else { throw CaptureError(.unknownInterface(id), at: blockOffset) }
        return interfaces[Int(id)]
    }

    /// Checks a captured length against the packet limit and the room the block leaves for it.
    private func packetData(at dataOffset: Int, captured: UInt32, room: Int, blockOffset: Int) throws(CaptureError) -> ArraySlice<UInt8> {
        guard captured <= CaptureLimits.maximumPacketLength else {
            throw CaptureError(.packetTooLarge(length: Int(captured), limit: CaptureLimits.maximumPacketLength), at: blockOffset)
        }
        guard Int(captured) <= room, let data = file.slice(dataOffset, Int(captured)) else {
            throw CaptureError(.capturedLengthOverrun(captured: Int(captured), room: max(0, room)), at: blockOffset)
        }
        return data
    }

    /// ```
    /// |                         Interface ID                          |  8
    /// |                     Timestamp (High)                          | 12
    /// |                     Timestamp (Low)                           | 16
    /// |                    Captured Packet Length                     | 20
    /// |                    Original Packet Length                     | 24
    /// /              Packet Data, padded to 32 bits; options          / 28
    /// ```
    private func readEnhancedPacket(at blockOffset: Int, length: Int) throws(CaptureError) -> CapturedPacket {
        guard length >= PcapNGReader.enhancedPacketMinimumLength,
              let id = file.uint32(at: blockOffset + 8),
              let high = file.uint32(at: blockOffset + 12), let low = file.uint32(at: blockOffset + 16),
              let captured = file.uint32(at: blockOffset + 20), let original = file.uint32(at: blockOffset + 24) else {
            throw CaptureError(.badBlockLength(length), at: blockOffset)
        }
        let interface = try interface(id, at: blockOffset)
        let data = try packetData(at: blockOffset + 28, captured: captured,
                                  room: length - PcapNGReader.enhancedPacketMinimumLength, blockOffset: blockOffset)
        let timestamp = CaptureTimestamp(units: UInt64(high) << 32 | UInt64(low), resolution: interface.timestampResolution,
                                         offsetSeconds: interface.timestampOffset)
        return CapturedPacket(timestamp: timestamp, linkType: interface.linkType, originalLength: Int(original),
                              data: data, interfaceID: Int(id), fileOffset: blockOffset)
    }

    /// ```
    /// |                    Original Packet Length                     |  8
    /// /                 Packet Data, padded to 32 bits                / 12
    /// ```
    /// No captured length field: it is the smaller of the original length,
    /// the interface's snaplen and what the block holds (pcapng 4.4).
    private func readSimplePacket(at blockOffset: Int, length: Int) throws(CaptureError) -> CapturedPacket {
        guard length >= PcapNGReader.simplePacketMinimumLength, let original = file.uint32(at: blockOffset + 8) else {
            throw CaptureError(.badBlockLength(length), at: blockOffset)
        }
        let interface = try interface(0, at: blockOffset)
        let room = length - PcapNGReader.simplePacketMinimumLength
        var captured = min(UInt64(original), UInt64(room))
        if interface.snapshotLength != 0 { captured = min(captured, UInt64(interface.snapshotLength)) }
        let data = try packetData(at: blockOffset + 12, captured: UInt32(captured), room: room, blockOffset: blockOffset)
        return CapturedPacket(timestamp: nil, linkType: interface.linkType, originalLength: Int(original),
                              data: data, interfaceID: 0, fileOffset: blockOffset)
    }

    /// ```
    /// |         Interface ID          |          Drops Count          |  8
    /// |                     Timestamp (High)                          | 12
    /// |                     Timestamp (Low)                           | 16
    /// |                    Captured Packet Length                     | 20
    /// |                    Original Packet Length                     | 24
    /// /              Packet Data, padded to 32 bits; options          / 28
    /// ```
    private func readObsoletePacket(at blockOffset: Int, length: Int) throws(CaptureError) -> CapturedPacket {
        guard length >= PcapNGReader.obsoletePacketMinimumLength,
              let id = file.uint16(at: blockOffset + 8),
              let high = file.uint32(at: blockOffset + 12), let low = file.uint32(at: blockOffset + 16),
              let captured = file.uint32(at: blockOffset + 20), let original = file.uint32(at: blockOffset + 24) else {
            throw CaptureError(.badBlockLength(length), at: blockOffset)
        }
        let interface = try interface(UInt32(id), at: blockOffset)
        let data = try packetData(at: blockOffset + 28, captured: captured,
                                  room: length - PcapNGReader.obsoletePacketMinimumLength, blockOffset: blockOffset)
        let timestamp = CaptureTimestamp(units: UInt64(high) << 32 | UInt64(low), resolution: interface.timestampResolution,
                                         offsetSeconds: interface.timestampOffset)
        return CapturedPacket(timestamp: timestamp, linkType: interface.linkType, originalLength: Int(original),
                              data: data, interfaceID: Int(id), fileOffset: blockOffset)
    }
}
