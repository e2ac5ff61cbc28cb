import HomelessWire

/// Decodes the upper-layer header that ends the chain: ports for TCP and
/// UDP, type and code for ICMPv6 (plus identifier/sequence for echo and the
/// pointer of a Parameter Problem, RFC 4443).
enum UpperLayerDecoder {
    /// `isFragment`: the datagram is a first fragment, so its UDP Length
    /// covers the reassembled datagram and cannot be checked against this packet.
    static func decode(_ record: HeaderRecord, bytes: UnsafeRawBufferPointer, limit: Int,
                       isFragment: Bool) throws(WireError) -> DissectedUpperLayer {
        let protocolNumber = record.protocolNumber ?? IPProtocol(0)
        var fields: [InspectionMember] = []
        switch record.kind {
        case .tcp:
            let view = try TCPHeaderView(checking: bytes, at: record.offset, limit: limit)
            fields = [
                InspectionMember("src_port", .integer(Int(view.sourcePort))),
                InspectionMember("dst_port", .integer(Int(view.destinationPort))),
                InspectionMember("sequence", .integer(Int(view.sequenceNumber))),
                InspectionMember("acknowledgement", .integer(Int(view.acknowledgmentNumber))),
                InspectionMember("flags", .string(tcpFlags(view.flags))),
                InspectionMember("window", .integer(Int(view.window))),
                InspectionMember("checksum", .integer(Int(view.checksum))),
            ]
        case .udp:
            let view = try UDPHeaderView(checking: bytes, at: record.offset, limit: limit, checksDatagramLength: !isFragment)
            fields = [
                InspectionMember("src_port", .integer(Int(view.sourcePort))),
                InspectionMember("dst_port", .integer(Int(view.destinationPort))),
                InspectionMember("udp_length", .integer(view.datagramLength)),
                InspectionMember("checksum", .integer(Int(view.checksum))),
            ]
        case .icmpv6:
            let view = try ICMPv6View(checking: bytes, at: record.offset, limit: limit)
            fields = [
                InspectionMember("type", .integer(Int(view.type))),
                InspectionMember("code", .integer(Int(view.code))),
                InspectionMember("name", .string(icmpv6Name(view.type))),
                InspectionMember("checksum", .integer(Int(view.checksum))),
            ]
            if let identifier = view.identifier, let sequence = view.sequence {
                fields.append(InspectionMember("identifier", .integer(Int(identifier))))
                fields.append(InspectionMember("sequence", .integer(Int(sequence))))
            }
            if let pointer = view.pointer {
                fields.append(InspectionMember("pointer", .integer(Int(pointer))))
            }
        default:
            break
        }
        return DissectedUpperLayer(kind: record.kind, protocolNumber: protocolNumber, offset: record.offset,
                                   length: record.length, fields: fields)
    }

    /// "syn,ack": the set flags, lowest bit first, comma-separated (RFC 9293 3.1).
    static func tcpFlags(_ flags: UInt8) -> String {
        let names = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr"]
        let set = names.indices.filter { flags & (1 << UInt8($0)) != 0 }.map { names[$0] }
        return set.joined(separator: ",")
    }

    /// Names of the ICMPv6 types (RFC 4443, RFC 4861, RFC 2710, RFC 3810); "unknown" otherwise.
    static func icmpv6Name(_ type: UInt8) -> String {
        switch type {
        case 1: return "destination-unreachable"
        case 2: return "packet-too-big"
        case 3: return "time-exceeded"
        case 4: return "parameter-problem"
        case 128: return "echo-request"
        case 129: return "echo-reply"
        case 130: return "multicast-listener-query"
        case 131: return "multicast-listener-report"
        case 132: return "multicast-listener-done"
        case 133: return "router-solicitation"
        case 134: return "router-advertisement"
        case 135: return "neighbor-solicitation"
        case 136: return "neighbor-advertisement"
        case 137: return "redirect"
        case 143: return "multicast-listener-report-v2"
        default: return "unknown"
        }
    }
}
