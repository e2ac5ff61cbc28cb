import HomelessWire

/// Builds pcap and pcapng files byte by byte, in either byte order, so the
/// tests control every field the readers check.
struct CaptureBytesBuilder {
    var order: CaptureByteOrder
    var bytes: [UInt8] = []

    init(order: CaptureByteOrder) { self.order = order }

    mutating func u16(_ value: UInt16) {
        let pair = [UInt8(value >> 8), UInt8(value & 0xFF)]
        bytes += order == .bigEndian ? pair : pair.reversed()
    }

    mutating func u32(_ value: UInt32) {
        let quad = (0..<4).map { UInt8(truncatingIfNeeded: value >> UInt32(24 - 8 * $0)) }
        bytes += order == .bigEndian ? quad : quad.reversed()
    }

    mutating func u64(_ value: UInt64) {
        if order == .bigEndian {
            u32(UInt32(value >> 32)); u32(UInt32(truncatingIfNeeded: value))
        } else {
            u32(UInt32(truncatingIfNeeded: value)); u32(UInt32(value >> 32))
        }
    }

    // MARK: Classic pcap

    static func pcap(order: CaptureByteOrder, nanosecond: Bool = false, linkType: UInt32 = 1,
                     records: [(seconds: UInt32, fraction: UInt32, data: [UInt8], original: Int?)]) -> [UInt8] {
        var builder = CaptureBytesBuilder(order: order)
        builder.u32(nanosecond ? 0xA1B2_3C4D : 0xA1B2_C3D4)
        builder.u16(2); builder.u16(4)
        builder.u32(0); builder.u32(0)
        builder.u32(262_144)
        builder.u32(linkType)
        for record in records {
            builder.u32(record.seconds); builder.u32(record.fraction)
            builder.u32(UInt32(record.data.count)); builder.u32(UInt32(record.original ?? record.data.count))
            builder.bytes += record.data
        }
        return builder.bytes
    }

    // MARK: pcapng

    /// A block: type, total length, body padded to 4, total length.
    mutating func block(_ type: UInt32, body: [UInt8]) {
        var padded = body
        while padded.count % 4 != 0 { padded.append(0) }
        let length = UInt32(12 + padded.count)
        u32(type); u32(length)
        bytes += padded
        u32(length)
    }

    mutating func sectionHeader(options: [UInt8] = []) {
        var body = CaptureBytesBuilder(order: order)
        body.u32(0x1A2B_3C4D)
        body.u16(1); body.u16(0)
        body.u64(UInt64.max)  // section length unknown
        body.bytes += options
        block(0x0A0D_0D0A, body: body.bytes)
    }

    mutating func interface(linkType: UInt16, snapshotLength: UInt32 = 0, timestampResolution: UInt8? = nil,
                            timestampOffset: Int64? = nil, name: String? = nil) {
        var body = CaptureBytesBuilder(order: order)
        body.u16(linkType); body.u16(0); body.u32(snapshotLength)
        if let name {
            body.option(2, Array(name.utf8))
        }
        if let timestampResolution {
            body.option(9, [timestampResolution])
        }
        if let timestampOffset {
            var value = CaptureBytesBuilder(order: order)
            value.u64(UInt64(bitPattern: timestampOffset))
            body.option(14, value.bytes)
        }
        if name != nil || timestampResolution != nil || timestampOffset != nil { body.option(0, []) }
        block(1, body: body.bytes)
    }

    mutating func option(_ code: UInt16, _ value: [UInt8]) {
        u16(code); u16(UInt16(value.count))
        bytes += value
        while bytes.count % 4 != 0 { bytes.append(0) }
    }

    mutating func enhancedPacket(interface: UInt32, timestamp: UInt64, data: [UInt8], original: Int? = nil) {
        var body = CaptureBytesBuilder(order: order)
        body.u32(interface)
        body.u32(UInt32(timestamp >> 32)); body.u32(UInt32(truncatingIfNeeded: timestamp))
        body.u32(UInt32(data.count)); body.u32(UInt32(original ?? data.count))
        body.bytes += data
        block(6, body: body.bytes)
    }

    mutating func simplePacket(data: [UInt8], original: Int? = nil) {
        var body = CaptureBytesBuilder(order: order)
        body.u32(UInt32(original ?? data.count))
        body.bytes += data
        block(3, body: body.bytes)
    }
}

/// Packets for the tests, built field by field.
enum TestPackets {
    static let source: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [1]
    static let destination: [UInt8] = [0x20, 0x01, 0x0d, 0xb8] + [UInt8](repeating: 0, count: 11) + [2]

    static func ipv6(nextHeader: UInt8, payload: [UInt8], payloadLength: Int? = nil) -> [UInt8] {
        let length = payloadLength ?? payload.count
        return [0x60, 0, 0, 0, UInt8(length >> 8), UInt8(length & 0xFF), nextHeader, 64] + source + destination + payload
    }

    static func udp(source: UInt16, destination: UInt16, payload: [UInt8] = []) -> [UInt8] {
        let length = 8 + payload.count
        return [UInt8(source >> 8), UInt8(source & 0xFF), UInt8(destination >> 8), UInt8(destination & 0xFF),
                UInt8(length >> 8), UInt8(length & 0xFF), 0, 0] + payload
    }

    static func ethernet(_ payload: [UInt8], etherType: UInt16 = 0x86DD) -> [UInt8] {
        [2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, UInt8(etherType >> 8), UInt8(etherType & 0xFF)] + payload
    }
}
