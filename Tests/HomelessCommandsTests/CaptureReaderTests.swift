import HomelessWire
import Testing

/// The pcap and pcapng readers on files crafted byte by byte.
@Suite struct CaptureReaderTests {
    static let frame = TestPackets.ethernet(TestPackets.ipv6(nextHeader: 17, payload: TestPackets.udp(source: 1, destination: 2)))

    func readAll(_ bytes: [UInt8]) throws(CaptureError) -> [CapturedPacket] {
        var reader = try CaptureReader(bytes: bytes)
        var packets: [CapturedPacket] = []
        while let packet = try reader.next() { packets.append(packet) }
        return packets
    }

    func captureError(_ bytes: [UInt8]) -> CaptureError? {
        do {
            _ = try readAll(bytes)
            return nil
        } catch {
            return error
        }
    }

    // MARK: Classic pcap

    @Test(arguments: [CaptureByteOrder.bigEndian, .littleEndian], [false, true])
    func classicPcap(order: CaptureByteOrder, nanosecond: Bool) throws {
        let bytes = CaptureBytesBuilder.pcap(order: order, nanosecond: nanosecond, records: [
            (seconds: 1_700_000_000, fraction: 42, data: Self.frame, original: nil),
            (seconds: 1_700_000_001, fraction: 999_999, data: Array(Self.frame.prefix(20)), original: Self.frame.count),
        ])
        var reader = try CaptureReader(bytes: bytes)
        #expect(reader.format == .pcap)
        let first = try #require(try reader.next())
        #expect(first.linkType == .ethernet)
        #expect(Array(first.data) == Self.frame)
        #expect(first.originalLength == Self.frame.count)
        #expect(first.timestamp?.description == (nanosecond ? "1700000000.000000042" : "1700000000.000042"))
        #expect(first.fileOffset == 24)
        #expect(first.interfaceID == nil)
        let second = try #require(try reader.next())
        #expect(second.capturedLength == 20)
        #expect(second.originalLength == Self.frame.count)
        #expect(second.timestamp?.description == (nanosecond ? "1700000001.000999999" : "1700000001.999999"))
        #expect(try reader.next() == nil)
        #expect(try reader.next() == nil)
    }

    @Test func pcapHeaderFieldsAndLinkTypeBits() throws {
        // The FCS bits above the 16-bit link type must not change it.
        var bytes = CaptureBytesBuilder.pcap(order: .littleEndian, linkType: 0x1000_0000 | 101, records: [])
        var reader = try PcapReader(bytes: bytes)
        #expect(reader.linkType == .raw)
        #expect(reader.byteOrder == .littleEndian)
        #expect(reader.versionMajor == 2 && reader.versionMinor == 4)
        #expect(reader.snapshotLength == 262_144)
        #expect(try reader.next() == nil)
        bytes[4] = 3  // major version 3 (little-endian)
        #expect(captureError(bytes) == CaptureError(.unsupportedVersion(major: 3, minor: 4), at: 4))
    }

    @Test func subsecondOverflowCarriesIntoSeconds() throws {
        let bytes = CaptureBytesBuilder.pcap(order: .bigEndian, records: [
            (seconds: 10, fraction: 2_500_000, data: [0x60], original: nil),
        ])
        #expect(try readAll(bytes).first?.timestamp?.description == "12.500000")
    }

    @Test func pcapErrors() {
        #expect(captureError([]) == CaptureError(.empty, at: 0))
        #expect(captureError([0xA1, 0xB2]) == CaptureError(.truncated(.fileHeader, needed: 4, available: 2), at: 0))
        #expect(captureError(Array("hello, world\n".utf8)) == CaptureError(.unrecognizedMagic(0x6865_6C6C), at: 0))
        let header = CaptureBytesBuilder.pcap(order: .bigEndian, records: [])
        #expect(captureError(Array(header.prefix(10))) == CaptureError(.truncated(.fileHeader, needed: 24, available: 10), at: 0))
        let full = CaptureBytesBuilder.pcap(order: .bigEndian, records: [(seconds: 0, fraction: 0, data: Self.frame, original: nil)])
        // Record header cut short.
        #expect(captureError(Array(full.prefix(24 + 7))) == CaptureError(.truncated(.recordHeader, needed: 16, available: 7), at: 24))
        // Packet data cut short.
        #expect(captureError(Array(full.prefix(24 + 16 + 5)))
                == CaptureError(.truncated(.packetData, needed: Self.frame.count, available: 5), at: 40))
    }

    @Test func absurdCapturedLengthIsRefusedBeforeUse() {
        var builder = CaptureBytesBuilder(order: .bigEndian)
        builder.bytes = CaptureBytesBuilder.pcap(order: .bigEndian, records: [])
        builder.u32(0); builder.u32(0)
        builder.u32(0xFFFF_FFF0)  // captured length
        builder.u32(0xFFFF_FFF0)
        #expect(captureError(builder.bytes)
                == CaptureError(.packetTooLarge(length: 0xFFFF_FFF0, limit: CaptureLimits.maximumPacketLength), at: 24))
    }

    // MARK: pcapng

    @Test(arguments: [CaptureByteOrder.bigEndian, .littleEndian])
    func pcapngSectionsInterfacesAndBlocks(order: CaptureByteOrder) throws {
        var builder = CaptureBytesBuilder(order: order)
        builder.sectionHeader(options: [])
        builder.interface(linkType: 1, name: "eth0")
        builder.interface(linkType: 101, timestampResolution: 9, timestampOffset: 100)
        builder.block(0x0000_0005, body: [UInt8](repeating: 0xEE, count: 20))  // Interface Statistics: skipped
        builder.enhancedPacket(interface: 0, timestamp: 1_700_000_000_123_456, data: Self.frame)
        builder.enhancedPacket(interface: 1, timestamp: 5_000_000_001, data: [0x60, 0, 0, 0])
        builder.block(0x0BAD_0BAD, body: [1, 2, 3])  // unknown: skipped
        builder.simplePacket(data: Self.frame)
        let packets = try readAll(builder.bytes)
        #expect(packets.count == 3)
        #expect(packets[0].linkType == .ethernet)
        #expect(packets[0].interfaceID == 0)
        #expect(packets[0].timestamp?.description == "1700000000.123456")
        #expect(Array(packets[0].data) == Self.frame)
        #expect(packets[1].linkType == .raw)
        #expect(packets[1].timestamp?.description == "105.000000001")  // if_tsresol 9, if_tsoffset 100
        #expect(packets[2].timestamp == nil)
        #expect(packets[2].linkType == .ethernet)
        #expect(Array(packets[2].data) == Self.frame)
    }

    @Test func pcapngSecondSectionInOtherByteOrderResetsInterfaces() throws {
        var first = CaptureBytesBuilder(order: .littleEndian)
        first.sectionHeader()
        first.interface(linkType: 1)
        first.enhancedPacket(interface: 0, timestamp: 1, data: Self.frame)
        var second = CaptureBytesBuilder(order: .bigEndian)
        second.sectionHeader()
        second.interface(linkType: 229, timestampResolution: 0x80 | 10)  // 2^-10 seconds
        second.enhancedPacket(interface: 0, timestamp: 3 * 1024 + 512, data: [0x60])
        var reader = try PcapNGReader(bytes: first.bytes + second.bytes)
        let one = try #require(try reader.next())
        #expect(reader.byteOrder == .littleEndian)
        #expect(one.linkType == .ethernet)
        let two = try #require(try reader.next())
        #expect(reader.byteOrder == .bigEndian)
        #expect(reader.sectionCount == 2)
        #expect(reader.interfaces.count == 1)
        #expect(two.linkType == .ipv6)
        #expect(two.timestamp?.description == "3.500000000")
        #expect(try reader.next() == nil)

        // Interface 1 existed only in the first section.
        var third = CaptureBytesBuilder(order: .bigEndian)
        third.sectionHeader()
        third.interface(linkType: 1)
        third.enhancedPacket(interface: 1, timestamp: 0, data: [0x60])
        #expect(captureError(first.bytes + third.bytes)
                == CaptureError(.unknownInterface(1), at: first.bytes.count + 28 + 20))
    }

    @Test func simplePacketHonoursSnapshotLength() throws {
        var builder = CaptureBytesBuilder(order: .littleEndian)
        builder.sectionHeader()
        builder.interface(linkType: 1, snapshotLength: 16)
        builder.simplePacket(data: Self.frame)
        let packets = try readAll(builder.bytes)
        #expect(packets.first?.capturedLength == 16)
        #expect(packets.first?.originalLength == Self.frame.count)
    }

    @Test func pcapngErrors() throws {
        var valid = CaptureBytesBuilder(order: .littleEndian)
        valid.sectionHeader()
        valid.interface(linkType: 1)
        valid.enhancedPacket(interface: 0, timestamp: 0, data: Self.frame)
        let bytes = valid.bytes
        let packetBlock = 28 + 20

        // Cut anywhere: a clear truncation error, never a trap.
        for length in 1..<bytes.count where length != 28 && length != packetBlock {
            // (28 and packetBlock are block boundaries: a file may end there.)
            let error = captureError(Array(bytes.prefix(length)))
            #expect(error != nil, "prefix \(length)")
        }
        // Trailing length differs from the leading one.
        var mismatch = bytes
        mismatch[mismatch.count - 4] ^= 0x04
        let blockLength = bytes.count - packetBlock
        #expect(captureError(mismatch)
                == CaptureError(.blockLengthMismatch(leading: blockLength, trailing: blockLength ^ 4), at: packetBlock))
        // Length not a multiple of 4.
        var odd = bytes
        odd[packetBlock + 4] &+= 1
        #expect(captureError(odd) == CaptureError(.badBlockLength(blockLength + 1), at: packetBlock))
        // Length far past the end of the file.
        var huge = bytes
        huge[packetBlock + 7] = 0x7F
        if case .truncated(.block, _, _)? = captureError(huge)?.reason {} else {
            Issue.record("expected a truncated block, got \(String(describing: captureError(huge)))")
        }
        // Captured length larger than the block.
        var overrun = bytes
        overrun[packetBlock + 20] = 0xFF
        #expect(captureError(overrun) == CaptureError(.capturedLengthOverrun(captured: 0xFF, room: blockLength - 32), at: packetBlock))
        // Bad byte-order magic.
        var magic = bytes
        magic[8] = 0
        #expect(captureError(magic) == CaptureError(.badByteOrderMagic(0x003C_2B1A), at: 8))
        // A packet block before any interface.
        var noInterface = CaptureBytesBuilder(order: .littleEndian)
        noInterface.sectionHeader()
        noInterface.enhancedPacket(interface: 0, timestamp: 0, data: [1])
        #expect(captureError(noInterface.bytes) == CaptureError(.unknownInterface(0), at: 28))
        // An option running past its block.
        var option = CaptureBytesBuilder(order: .littleEndian)
        option.sectionHeader()
        var body = CaptureBytesBuilder(order: .littleEndian)
        body.u16(1); body.u16(0); body.u32(0)
        body.u16(9); body.u16(200)
        option.block(1, body: body.bytes)
        #expect(captureError(option.bytes) == CaptureError(.optionOverrun(code: 9, length: 200), at: 28 + 16))
    }

    @Test func timestampResolutions() {
        #expect(CaptureTimestamp(units: 1_500, resolution: 3, offsetSeconds: 0).description == "1.500")
        #expect(CaptureTimestamp(units: 7, resolution: 0, offsetSeconds: 0).description == "7")
        #expect(CaptureTimestamp(units: 42, resolution: 30, offsetSeconds: 0).description
                == "0.000000000000000000000000000042")
        #expect(CaptureTimestamp(units: 1 << 20 | 1 << 19, resolution: 0x80 | 20, offsetSeconds: 0).description == "1.500000000")
        #expect(CaptureTimestamp(units: UInt64.max, resolution: 0x80 | 127, offsetSeconds: 0).seconds == 0)
        #expect(CaptureTimestamp(units: UInt64.max, resolution: 0, offsetSeconds: .max).seconds == .max)
        #expect(CaptureTimestamp(units: 5_000_000, resolution: 6, offsetSeconds: -2).description == "3.000000")
    }
}
