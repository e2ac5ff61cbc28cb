/// Where AH goes in an outbound IPv6 packet and how it is put there.
public enum AHPlacement {
    /// The transport-mode position (RFC 4302 3.1.1): after Hop-by-Hop
    /// Options and the Routing header, and after a Destination Options header
    /// that precedes the Routing header; a Destination Options header for
    /// the final destination stays after AH (this is where draft-era KAME
    /// puts the Home Address and Binding Update options, so the ICV covers
    /// them exactly as sent). Fails on malformed chains.
    public static func transportInsertionOffset(in packet: UnsafeRawBufferPointer) throws(AHPacketError) -> Int {
        let packetLength = try AHPacketLayout.checkedPacketLength(packet)
        var nextHeader = packet.load(fromByteOffset: 6, as: UInt8.self)
        var offset = AHPacketLayout.ipv6HeaderLength
        var insertion = offset
        var headers = 0
        while true {
            switch nextHeader {
            case AHPacketLayout.hopByHop, AHPacketLayout.routing, AHPacketLayout.destinationOptions:
                if nextHeader == AHPacketLayout.hopByHop && offset != AHPacketLayout.ipv6HeaderLength {
                    throw AHPacketError(.hopByHopNotFirst, at: offset)
                }
                headers += 1
                guard headers <= AHPacketLayout.maximumHeadersBeforeAH else { throw AHPacketError(.chainTooLong, at: offset) }
                guard packetLength - offset >= 8 else { throw AHPacketError(.truncated, at: offset) }
                let length = (Int(packet.load(fromByteOffset: offset + 1, as: UInt8.self)) + 1) * 8
                guard packetLength - offset >= length else { throw AHPacketError(.truncated, at: offset + 1) }
                let isDestinationOptions = nextHeader == AHPacketLayout.destinationOptions
                nextHeader = packet.load(fromByteOffset: offset, as: UInt8.self)
                offset += length
                if !isDestinationOptions { insertion = offset }
            case AuthenticationHeaderLayout.protocolNumber:
                throw AHPacketError(.badInsertionPoint, at: offset)
            default:
                return insertion
            }
        }
    }

    /// Inserts an AH header for `algorithm` at `insertionOffset` (a header
    /// boundary at or after the IPv6 header, before the upper layer): moves
    /// the rest of the packet up, links AH into the Next Header chain and
    /// raises the IPv6 Payload Length. The ICV field is zero; sign it next.
    /// Returns the new packet length.
    static func insert(
        into buffer: UnsafeMutableRawBufferPointer, packetLength: Int, at insertionOffset: Int,
        algorithm: AuthenticationAlgorithm, spi: UInt32, sequenceNumber: UInt32
    ) throws(AHPacketError) -> Int {
        let packet = UnsafeRawBufferPointer(rebasing: buffer[0..<min(packetLength, buffer.count)])
        guard packetLength <= buffer.count else { throw AHPacketError(.truncated, at: 0) }
        let declaredLength = try AHPacketLayout.checkedPacketLength(packet)
        guard declaredLength == packetLength else { throw AHPacketError(.truncated, at: 4) }
        let nextHeaderOffset = try nextHeaderField(in: packet, before: insertionOffset)
        let ahLength = algorithm.headerLength
        guard buffer.count - packetLength >= ahLength, packetLength - 40 + ahLength <= 0xFFFF,
            let base = buffer.baseAddress
        else { throw AHPacketError(.noRoom, at: 4) }
        (base + insertionOffset + ahLength).copyMemory(from: base + insertionOffset, byteCount: packetLength - insertionOffset)
        (base + insertionOffset).initializeMemory(as: UInt8.self, repeating: 0, count: ahLength)
        buffer[insertionOffset] = buffer[nextHeaderOffset]
        buffer[insertionOffset + AuthenticationHeaderLayout.payloadLength] = algorithm.payloadLength
        buffer.storeBytes(of: spi.bigEndian, toByteOffset: insertionOffset + AuthenticationHeaderLayout.spi, as: UInt32.self)
        buffer.storeBytes(
            of: sequenceNumber.bigEndian, toByteOffset: insertionOffset + AuthenticationHeaderLayout.sequenceNumber,
            as: UInt32.self)
        buffer[nextHeaderOffset] = AuthenticationHeaderLayout.protocolNumber
        buffer.storeBytes(of: UInt16(packetLength - 40 + ahLength).bigEndian, toByteOffset: 4, as: UInt16.self)
        return packetLength + ahLength
    }

    /// The offset of the Next Header field naming the header that starts at
    /// `boundary`, walking Hop-by-Hop, Routing and Destination Options headers.
    static func nextHeaderField(in packet: UnsafeRawBufferPointer, before boundary: Int) throws(AHPacketError) -> Int {
        var nextHeaderOffset = 6
        var nextHeader = packet.load(fromByteOffset: 6, as: UInt8.self)
        var offset = AHPacketLayout.ipv6HeaderLength
        var headers = 0
        while offset < boundary {
            switch nextHeader {
            case AHPacketLayout.hopByHop, AHPacketLayout.routing, AHPacketLayout.destinationOptions:
                headers += 1
                guard headers <= AHPacketLayout.maximumHeadersBeforeAH else { throw AHPacketError(.chainTooLong, at: offset) }
                guard packet.count - offset >= 8 else { throw AHPacketError(.truncated, at: offset) }
                let length = (Int(packet.load(fromByteOffset: offset + 1, as: UInt8.self)) + 1) * 8
                guard packet.count - offset >= length else { throw AHPacketError(.truncated, at: offset + 1) }
                nextHeader = packet.load(fromByteOffset: offset, as: UInt8.self)
                nextHeaderOffset = offset
                offset += length
            default:
                throw AHPacketError(.badInsertionPoint, at: boundary)
            }
        }
        guard offset == boundary, nextHeader != AuthenticationHeaderLayout.protocolNumber else {
            throw AHPacketError(.badInsertionPoint, at: boundary)
        }
        return nextHeaderOffset
    }
}
