import HomelessWire

/// The frames the parse benchmarks read, built once with the project's own
/// emitters so they are valid for the strict walker.
enum Frames {
    static let careOf = IPv6Address(high: 0x2001_0db8_0002_0000, low: 0x0000_0000_0000_0200)
    static let home = IPv6Address(high: 0x2001_0db8_0001_0000, low: 0x0000_0000_0000_0100)
    static let peer = IPv6Address(high: 0x2001_0db8_0009_0000, low: 0x0000_0000_0000_0009)
    static let ethernet = EthernetHeader(destination: EthernetAddress(0x02, 0, 0, 0, 0, 0x0B),
                                         source: EthernetAddress(0x02, 0, 0, 0, 0, 0x0A), etherType: .ipv6)

    /// A typical bulk-transfer data segment: Ethernet / IPv6 / TCP (20-byte
    /// header + 12 bytes of timestamp options) / 1208 bytes of data: a
    /// 1294-byte frame.
    static let tcpData: [UInt8] = {
        let tcpLength = 32 + 1208
        var frame = [UInt8](repeating: 0x5A, count: 14 + 40 + tcpLength)
        frame.withUnsafeMutableBytes { buffer in
            ethernet.emit(into: buffer)
            IPv6Header(flowLabel: 0x12345, payloadLength: UInt16(tcpLength), nextHeader: .tcp, source: careOf, destination: peer)
                .emit(into: buffer, at: 14)
            let tcp: [UInt8] = [
                0xC0, 0x00, 0x00, 0x50,  // ports 49152 -> 80
                0x00, 0x01, 0x00, 0x00,  // sequence
                0x00, 0x02, 0x00, 0x00,  // acknowledgment
                0x80, 0x18, 0x01, 0xF5,  // data offset 8 (32 bytes), ACK|PSH, window
                0x00, 0x00, 0x00, 0x00,  // checksum (filled below), urgent
                0x01, 0x01, 0x08, 0x0A,  // NOP NOP Timestamps
                0x00, 0x00, 0x10, 0x00, 0x00, 0x00, 0x20, 0x00,
            ]
            for (index, byte) in tcp.enumerated() { buffer[54 + index] = byte }
            TCPHeaderView.fillChecksum(in: buffer, at: 54, end: buffer.count, source: careOf, destination: peer)
        }
        return frame
    }()

    /// A Binding Update as Homeless Mobile IPv6 sends it (draft 3.2.2):
    /// Ethernet / IPv6 / Destination Options (Home Address option + BU with
    /// Homeless Support, Unique Identifier, an Alternate Care-of Address and
    /// two Alternate Prefixes) / No Next Header.
    static let bindingUpdate: [UInt8] = {
        let update = BindingUpdate(flags: [.acknowledge], prefixLength: 64, sequence: 7, lifetime: 600, subOptions: [
            .homelessSupport,
            .uniqueIdentifier(0x1234),
            .alternateCareOfAddress(IPv6Address(high: 0x2001_0db8_0003_0000, low: 0x200)),
            .alternatePrefixes(AlternatePrefixes(prefixLengthCode: 1, prefixes: [
                [0x20, 0x01, 0x0D, 0xB8, 0x00, 0x04, 0x00, 0x00],
                [0x20, 0x01, 0x0D, 0xB8, 0x00, 0x05, 0x00, 0x00],
            ])),
        ])
        let options = DestinationOptionsHeader(nextHeader: .noNextHeader, options: [.homeAddress(home), .bindingUpdate(update)])
        let length = options.bufferLength
        var frame = [UInt8](repeating: 0, count: 14 + 40 + length)
        frame.withUnsafeMutableBytes { buffer in
            ethernet.emit(into: buffer)
            IPv6Header(payloadLength: UInt16(length), nextHeader: .destinationOptions, source: careOf, destination: peer)
                .emit(into: buffer, at: 14)
            options.emit(into: buffer, at: 54)
        }
        return frame
    }()
}

/// A full walk as the slow path's receive code does it, without value
/// types: every header, every option, the Mobile IPv6 option views and their
/// sub-options. Returns a checksum of what it saw so nothing is optimised
/// away. Allocates nothing.
@inline(never)
func walkEverything(_ bytes: UnsafeRawBufferPointer, configuration: PacketWalkerConfiguration) throws(WireError) -> Int {
    var walker = PacketWalker(bytes, configuration: configuration)
    var seen = 0
    let codePoints = configuration.codePoints
    while let header = try walker.next() {
        seen &+= header.offset &+ header.length
        guard header.kind == .destinationOptions else { continue }
        let view = try OptionsHeaderView(checking: bytes, at: header.offset, limit: walker.payloadEnd)
        var options = view.options()
        while let option = try options.next() {
            switch codePoints.optionKind(option.type) {
            case .homeAddress:
                let home = try HomeAddressOptionView(checking: bytes, record: option, headerOffset: view.offset)
                seen &+= Int(truncatingIfNeeded: home.homeAddress.low)
            case .bindingUpdate:
                let update = try BindingUpdateOptionView(checking: bytes, record: option, headerOffset: view.offset)
                seen &+= Int(update.sequence) &+ Int(update.lifetime)
                var subOptions = update.subOptions(codePoints: codePoints)
                while let subOption = try subOptions.next() {
                    if subOption.type == codePoints.alternatePrefixes {
                        let prefixes = try AlternatePrefixesView(checking: bytes, record: subOption)
                        for index in 0..<prefixes.count {
                            seen &+= Int(truncatingIfNeeded: prefixes.address(index, suffixFrom: walker.ipv6?.source ?? .unspecified)?.high ?? 0)
                        }
                    } else {
                        seen &+= subOption.dataOffset
                    }
                }
            default:
                seen &+= option.dataLength
            }
        }
    }
    return seen
}
