/// Builders for the IPv6 frames the classifier tests send.
enum ClassifierFrames {
    static let udp: UInt8 = 17
    static let icmpv6: UInt8 = 58
    static let destinationOptions: UInt8 = 60
    static let authenticationHeader: UInt8 = 51
    static let noNextHeader: UInt8 = 59

    /// 2001:db8:1::<last>
    static func address(_ last: UInt8) -> [UInt8] {
        [0x20, 0x01, 0x0d, 0xb8, 0, 1] + [UInt8](repeating: 0, count: 9) + [last]
    }

    static let allNodes: [UInt8] = [0xff, 0x02] + [UInt8](repeating: 0, count: 13) + [1]

    static func ethernet(destination: [UInt8], source: [UInt8] = [0x02, 0, 0, 0, 0, 0x99],
                         etherType: UInt16 = 0x86dd, payload: [UInt8]) -> [UInt8] {
        destination + source + [UInt8(etherType >> 8), UInt8(etherType & 0xff)] + payload
    }

    /// IPv6 header + `payload`, hop limit 64 (255 for ND).
    static func ipv6(source: [UInt8], destination: [UInt8], nextHeader: UInt8, payload: [UInt8],
                     hopLimit: UInt8 = 64) -> [UInt8] {
        [0x60, 0, 0, 0, UInt8(payload.count >> 8), UInt8(payload.count & 0xff), nextHeader, hopLimit]
            + source + destination + payload
    }

    static func udpDatagram(sourcePort: UInt16 = 40000, destinationPort: UInt16, body: [UInt8] = [1, 2, 3, 4]) -> [UInt8] {
        let length = 8 + body.count
        return [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), UInt8(destinationPort >> 8),
                UInt8(destinationPort & 0xff), UInt8(length >> 8), UInt8(length & 0xff), 0, 0] + body
    }

    /// A Destination Options header holding one option (type, data), padded
    /// with PadN to a multiple of 8 octets (RFC 8200 4.2).
    static func destinationOptionsHeader(next: UInt8, optionType: UInt8, optionData: [UInt8]) -> [UInt8] {
        var header: [UInt8] = [next, 0, optionType, UInt8(optionData.count)] + optionData
        let padding = (8 - header.count % 8) % 8
        if padding == 1 { header.append(0) } else if padding > 1 {
            header += [1, UInt8(padding - 2)] + [UInt8](repeating: 0, count: padding - 2)
        }
        header[1] = UInt8(header.count / 8 - 1)
        return header
    }

    /// A draft-era Binding Update option body: flags, prefix length,
    /// sequence, lifetime (WIRE.md section 1).
    static let bindingUpdateData: [UInt8] = [0xc0, 0, 0, 0, 0, 0, 0x02, 0x58]

    /// AH (RFC 4302) with a 12-byte ICV: 24 bytes, Payload Len 4.
    static func authenticationHeader(next: UInt8) -> [UInt8] {
        [next, 4, 0, 0, 0, 0, 0x10, 0x01, 0, 0, 0, 1] + [UInt8](repeating: 0xab, count: 12)
    }

    /// ICMPv6 message with a correct checksum (RFC 4443 2.3).
    static func icmpv6Message(type: UInt8, code: UInt8 = 0, body: [UInt8], source: [UInt8], destination: [UInt8]) -> [UInt8] {
        var message = [type, code, 0, 0] + body
        var sum: UInt32 = 0
        func add(_ bytes: [UInt8]) {
            var index = 0
            while index < bytes.count {
                let high = UInt32(bytes[index]) << 8
                let low = index + 1 < bytes.count ? UInt32(bytes[index + 1]) : 0
                sum += high | low
                index += 2
            }
        }
        add(source)
        add(destination)
        add([0, 0, UInt8(message.count >> 8), UInt8(message.count & 0xff), 0, 0, 0, 58])
        add(message)
        while sum >> 16 != 0 { sum = (sum & 0xffff) + (sum >> 16) }
        let checksum = ~UInt16(sum)
        message[2] = UInt8(checksum >> 8)
        message[3] = UInt8(checksum & 0xff)
        return message
    }
}
