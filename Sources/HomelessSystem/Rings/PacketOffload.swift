import CHomeless

/// The kernel's offload metadata for one frame (struct virtio_net_hdr,
/// carried with PACKET_VNET_HDR): whether it is a segmentation-offload
/// super-frame (GSO/GRO/TSO, up to 64 KiB: `segmentationType`,
/// `segmentSize`) and whether its TCP/UDP checksum is still to be computed
/// (`needsChecksum`: the field at `checksumStart + checksumOffset` holds
/// the uncomplemented pseudo-header sum, CHECKSUM_PARTIAL). An RX frame
/// without metadata, or one the kernel had nothing to say about, has
/// `none`.
public struct PacketOffload: Hashable, Sendable {
    public var flags: UInt8
    /// VIRTIO_NET_HDR_GSO_*: NONE, TCPV4, UDP, TCPV6, possibly with the ECN bit.
    public var segmentationType: UInt8
    /// hdr_len: bytes of headers (the kernel copies at least these into the
    /// socket buffer's linear part; the rest may stay in the ring's pages).
    public var headerLength: UInt16
    /// gso_size: payload bytes per segment (the MSS for TCP).
    public var segmentSize: UInt16
    /// Offset of the upper-layer header from the start of the frame.
    public var checksumStart: UInt16
    /// Offset of the checksum field from `checksumStart`.
    public var checksumOffset: UInt16

    public init(flags: UInt8 = 0, segmentationType: UInt8 = 0, headerLength: UInt16 = 0, segmentSize: UInt16 = 0,
                checksumStart: UInt16 = 0, checksumOffset: UInt16 = 0) {
        self.flags = flags
        self.segmentationType = segmentationType
        self.headerLength = headerLength
        self.segmentSize = segmentSize
        self.checksumStart = checksumStart
        self.checksumOffset = checksumOffset
    }

    /// No segmentation, checksum complete (or not the kernel's business).
    public static var none: PacketOffload { PacketOffload() }

    public static var needsChecksumFlag: UInt8 { UInt8(HL_VIRTIO_NET_HDR_F_NEEDS_CSUM) }
    public static var dataValidFlag: UInt8 { UInt8(HL_VIRTIO_NET_HDR_F_DATA_VALID) }
    public static var tcpIPv6: UInt8 { UInt8(HL_VIRTIO_NET_HDR_GSO_TCPV6) }
    public static var explicitCongestionBit: UInt8 { UInt8(HL_VIRTIO_NET_HDR_GSO_ECN) }

    /// Bytes the header takes in front of a frame (10).
    public static var headerSize: Int { Int(hl_vnet_header_size()) }

    /// A super-frame the kernel (or a device) still has to cut into segments.
    @inline(__always)
    public var isSuperFrame: Bool { segmentationType & ~Self.explicitCongestionBit != UInt8(HL_VIRTIO_NET_HDR_GSO_NONE) }

    /// The TCP/UDP checksum field holds only the pseudo-header sum.
    @inline(__always)
    public var needsChecksum: Bool { flags & Self.needsChecksumFlag != 0 }

    /// Offset of the checksum field that the kernel completes.
    @inline(__always)
    public var checksumField: Int { Int(checksumStart) + Int(checksumOffset) }

    @inline(__always)
    init(_ raw: hl_vnet_header) {
        self.init(flags: raw.flags, segmentationType: raw.gso_type, headerLength: raw.header_length,
                  segmentSize: raw.gso_size, checksumStart: raw.checksum_start, checksumOffset: raw.checksum_offset)
    }

    /// Reads the header the kernel wrote at `address`.
    @inline(__always)
    static func load(from address: UnsafeRawPointer) -> PacketOffload { PacketOffload(hl_vnet_header_load(address)) }

    /// Writes the header at `address` for the kernel to read.
    @inline(__always)
    func store(to address: UnsafeMutableRawPointer) {
        hl_vnet_header_store(address, hl_vnet_header(
            flags: flags, gso_type: segmentationType, header_length: headerLength, gso_size: segmentSize,
            checksum_start: checksumStart, checksum_offset: checksumOffset))
    }
}
