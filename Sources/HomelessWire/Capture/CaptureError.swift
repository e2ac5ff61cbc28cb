/// Why a capture file could not be read, with the file offset of the
/// offending structure.
///
/// These are *file* errors: the container (pcap or pcapng framing) is broken,
/// so reading stops. A malformed packet inside an intact record is not a
/// capture error; it is reported by the packet parsers as a `WireError`.
public struct CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    public var reason: Reason
    /// Byte offset from the start of the file of the structure that failed.
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public enum Reason: Equatable, Sendable {
        /// The file holds no bytes at all.
        case empty
        /// The first four bytes are neither a pcap nor a pcapng magic number.
        case unrecognizedMagic(UInt32)
        /// A structure announces `needed` bytes but only `available` remain.
        case truncated(Structure, needed: Int, available: Int)
        /// The file format version is one this reader does not understand.
        case unsupportedVersion(major: UInt16, minor: UInt16)
        /// A packet claims more captured bytes than any sane capture holds.
        case packetTooLarge(length: Int, limit: Int)
        /// A pcapng block length is too small or not a multiple of 4 (pcapng 3.1).
        case badBlockLength(Int)
        /// The trailing copy of a pcapng block length differs from the leading one (pcapng 3.1).
        case blockLengthMismatch(leading: Int, trailing: Int)
        /// A pcapng Section Header Block has neither byte-order magic (pcapng 4.1).
        case badByteOrderMagic(UInt32)
        /// The first pcapng block is not a Section Header Block (pcapng 3.1).
        case missingSectionHeader
        /// A packet block names an interface no Interface Description Block defined (pcapng 4.3).
        case unknownInterface(UInt32)
        /// A pcapng option runs past the end of its block (pcapng 3.5).
        case optionOverrun(code: UInt16, length: Int)
        /// A packet block's captured length does not fit its block (pcapng 4.3).
        case capturedLengthOverrun(captured: Int, room: Int)
    }

    /// The pcap or pcapng structure a `truncated` error is about.
    public enum Structure: String, Sendable {
        case fileHeader = "file header"
        case recordHeader = "packet record header"
        case packetData = "packet data"
        case blockHeader = "block header"
        case block = "block"
    }

    public var description: String {
        switch reason {
        case .empty:
            return "empty file: not a pcap or pcapng capture"
        case .unrecognizedMagic(let magic):
            return "not a pcap or pcapng capture (magic number \(CaptureError.hex(magic)))"
        case .truncated(let structure, let needed, let available):
            return "truncated capture: \(structure.rawValue) at offset \(offset) needs \(needed) bytes, \(available) present"
        case .unsupportedVersion(let major, let minor):
            return "unsupported capture format version \(major).\(minor) at offset \(offset)"
        case .packetTooLarge(let length, let limit):
            return "packet at offset \(offset) claims \(length) captured bytes, more than the \(limit)-byte limit"
        case .badBlockLength(let length):
            return "pcapng block at offset \(offset) has invalid length \(length)"
        case .blockLengthMismatch(let leading, let trailing):
            return "pcapng block at offset \(offset) has length \(leading) but trailing length \(trailing)"
        case .badByteOrderMagic(let magic):
            return "pcapng section header at offset \(offset) has invalid byte-order magic \(CaptureError.hex(magic))"
        case .missingSectionHeader:
            return "pcapng file does not start with a section header block"
        case .unknownInterface(let id):
            return "pcapng packet block at offset \(offset) refers to undefined interface \(id)"
        case .optionOverrun(let code, let length):
            return "pcapng option \(code) at offset \(offset) with length \(length) runs past its block"
        case .capturedLengthOverrun(let captured, let room):
            return "pcapng packet block at offset \(offset) claims \(captured) captured bytes but has room for \(room)"
        }
    }

    private static func hex(_ value: UInt32) -> String {
        let digits = String(value, radix: 16)
        return "0x" + String(repeating: "0", count: max(0, 8 - digits.count)) + digits
    }
}
