/// Reads a classic libpcap capture (draft-ietf-opsawg-pcap, "PCAP Capture
/// File Format") from bytes already in memory. Pure parsing: no I/O.
///
/// ```
///  File header (24 bytes, writer's byte order):
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |          Magic Number (0xA1B2C3D4 us, 0xA1B23C4D ns)           |  0
/// |        Major Version (2)      |        Minor Version (4)      |  4
/// |                     Reserved1 (thiszone)                      |  8
/// |                     Reserved2 (sigfigs)                       | 12
/// |                          SnapLen                              | 16
/// | FCS  |f|      reserved       |          LinkType              | 20
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
///
///  Packet record (16-byte header, then Captured Length bytes):
/// |                    Timestamp (seconds)                        |  0
/// |           Timestamp (microseconds or nanoseconds)             |  4
/// |                   Captured Packet Length                      |  8
/// |                   Original Packet Length                      | 12
/// ```
public struct PcapReader: Sendable {
    public static let fileHeaderLength = 24
    public static let recordHeaderLength = 16

    /// Magic numbers as the first four file bytes read big-endian.
    static let microsecondMagic: UInt32 = 0xA1B2_C3D4
    static let nanosecondMagic: UInt32 = 0xA1B2_3C4D
    static let swappedMicrosecondMagic: UInt32 = 0xD4C3_B2A1
    static let swappedNanosecondMagic: UInt32 = 0x4D3C_B2A1

    /// True when `magic` (first four bytes, big-endian) starts a classic pcap file.
    static func recognizes(_ magic: UInt32) -> Bool {
        magic == microsecondMagic || magic == nanosecondMagic
            || magic == swappedMicrosecondMagic || magic == swappedNanosecondMagic
    }

    public let byteOrder: CaptureByteOrder
    /// True for the nanosecond-resolution variant of the format.
    public let nanosecondResolution: Bool
    public let versionMajor: UInt16
    public let versionMinor: UInt16
    public let snapshotLength: UInt32
    public let linkType: CaptureLinkType

    private let file: CaptureBytes
    private var offset: Int

    /// Parses the file header; fails when the bytes are not a classic pcap file.
    public init(bytes: [UInt8]) throws(CaptureError) {
        var file = CaptureBytes(bytes: bytes, order: .bigEndian)
        guard !bytes.isEmpty else { throw CaptureError(.empty, at: 0) }
        guard let magic = file.uint32BigEndian(at: 0) else {
            throw CaptureError(.truncated(.fileHeader, needed: PcapReader.fileHeaderLength, available: bytes.count), at: 0)
        }
        switch magic {
        case PcapReader.microsecondMagic: (file.order, nanosecondResolution) = (.bigEndian, false)
        case PcapReader.nanosecondMagic: (file.order, nanosecondResolution) = (.bigEndian, true)
        case PcapReader.swappedMicrosecondMagic: (file.order, nanosecondResolution) = (.littleEndian, false)
        case PcapReader.swappedNanosecondMagic: (file.order, nanosecondResolution) = (.littleEndian, true)
        default: throw CaptureError(.unrecognizedMagic(magic), at: 0)
        }
        guard file.has(PcapReader.fileHeaderLength, at: 0),
              let major = file.uint16(at: 4), let minor = file.uint16(at: 6),
              let snapshotLength = file.uint32(at: 16), let linkField = file.uint32(at: 20) else {
            throw CaptureError(.truncated(.fileHeader, needed: PcapReader.fileHeaderLength, available: bytes.count), at: 0)
        }
        // Version 2.x has been the only one since 1998; 2.3 files still exist.
        guard major == 2 else { throw CaptureError(.unsupportedVersion(major: major, minor: minor), at: 4) }
        self.byteOrder = file.order
        self.versionMajor = major
        self.versionMinor = minor
        self.snapshotLength = snapshotLength
        // The high bits of the LinkType field carry FCS information; the type is the low 16 bits.
        self.linkType = CaptureLinkType(rawValue: linkField & 0xFFFF)
        self.file = file
        self.offset = PcapReader.fileHeaderLength
    }

    /// The next packet record, or nil at a clean end of file.
    public mutating func next() throws(CaptureError) -> CapturedPacket? {
        let recordOffset = offset
        let available = file.remaining(from: recordOffset)
        if available == 0 { return nil }
        guard available >= PcapReader.recordHeaderLength,
              let seconds = file.uint32(at: recordOffset), let subseconds = file.uint32(at: recordOffset + 4),
              let captured = file.uint32(at: recordOffset + 8), let original = file.uint32(at: recordOffset + 12) else {
            throw CaptureError(.truncated(.recordHeader, needed: PcapReader.recordHeaderLength, available: available), at: recordOffset)
        }
        guard captured <= CaptureLimits.maximumPacketLength else {
            throw CaptureError(.packetTooLarge(length: Int(captured), limit: CaptureLimits.maximumPacketLength), at: recordOffset)
        }
        let dataOffset = recordOffset + PcapReader.recordHeaderLength
        guard let data = file.slice(dataOffset, Int(captured)) else {
            throw CaptureError(.truncated(.packetData, needed: Int(captured), available: file.remaining(from: dataOffset)), at: dataOffset)
        }
        offset = dataOffset + Int(captured)
        // A sub-second field of a second or more is out of spec; carry it into
        // the seconds rather than print a fraction with too many digits.
        let perSecond: UInt32 = nanosecondResolution ? 1_000_000_000 : 1_000_000
        let timestamp = CaptureTimestamp(seconds: Int64(seconds) + Int64(subseconds / perSecond),
                                         fraction: UInt64(subseconds % perSecond),
                                         fractionDigits: nanosecondResolution ? 9 : 6)
        return CapturedPacket(timestamp: timestamp, linkType: linkType, originalLength: Int(original),
                              data: data, interfaceID: nil, fileOffset: recordOffset)
    }
}
