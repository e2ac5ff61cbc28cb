/// Reads packets from a classic pcap or a pcapng capture, recognised by its
/// first four bytes. Pure parsing over bytes already in memory: packets are
/// slices of `bytes`, and every length in the file is checked before use.
public struct CaptureReader: Sendable {
    public enum Format: String, Sendable {
        case pcap
        case pcapng
    }

    private enum Underlying: Sendable {
        case pcap(PcapReader)
        case pcapng(PcapNGReader)
    }

    private var underlying: Underlying

    /// Recognises the format and reads the file header; throws when `bytes`
    /// are empty, not a capture, or too short to hold the header.
    public init(bytes: [UInt8]) throws(CaptureError) {
        guard !bytes.isEmpty else { throw CaptureError(.empty, at: 0) }
        guard bytes.count >= 4 else {
            throw CaptureError(.truncated(.fileHeader, needed: 4, available: bytes.count), at: 0)
        }
        let magic = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
        if PcapReader.recognizes(magic) {
            underlying = .pcap(try PcapReader(bytes: bytes))
        } else if PcapNGReader.recognizes(magic) {
            underlying = .pcapng(try PcapNGReader(bytes: bytes))
        } else {
            throw CaptureError(.unrecognizedMagic(magic), at: 0)
        }
    }

    public var format: Format {
        switch underlying {
        case .pcap: return .pcap
        case .pcapng: return .pcapng
        }
    }

    /// The next packet in file order, or nil at a clean end of file.
    public mutating func next() throws(CaptureError) -> CapturedPacket? {
        switch underlying {
        case .pcap(var reader):
            defer { underlying = .pcap(reader) }
            return try reader.next()
        case .pcapng(var reader):
            defer { underlying = .pcapng(reader) }
            return try reader.next()
        }
    }
}
