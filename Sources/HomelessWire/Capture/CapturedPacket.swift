/// One packet record from a capture file, in file order.
///
/// `data` is a slice of the capture's byte array: reading a capture copies no
/// packet bytes.
public struct CapturedPacket: Sendable {
    public var timestamp: CaptureTimestamp?
    /// How the packet starts (Ethernet, raw IP, ...).
    public var linkType: CaptureLinkType
    /// The packet's length on the wire, which may exceed `data.count` when
    /// the capture was taken with a short snapshot length.
    public var originalLength: Int
    /// The bytes the capture holds.
    public var data: ArraySlice<UInt8>
    /// The pcapng interface the packet arrived on (nil for classic pcap).
    public var interfaceID: Int?
    /// File offset of the record or block that holds the packet.
    public var fileOffset: Int

    public init(timestamp: CaptureTimestamp?, linkType: CaptureLinkType, originalLength: Int,
                data: ArraySlice<UInt8>, interfaceID: Int?, fileOffset: Int) {
        self.timestamp = timestamp
        self.linkType = linkType
        self.originalLength = originalLength
        self.data = data
        self.interfaceID = interfaceID
        self.fileOffset = fileOffset
    }

    /// The bytes the capture holds for this packet.
    public var capturedLength: Int { data.count }
}
