public import HomelessWire

/// What an AH-protected packet carries, as far as SA classes care (draft 3.3.1).
public enum ProtectedContent: Sendable, Equatable {
    /// A Binding Update: a draft-era destination option (it may ride on any
    /// packet, so the rest of the packet is not vouched for by an anonymous
    /// SA) or an RFC 6275 Mobility Header BU.
    case bindingUpdate
    case bindingAcknowledgement
    /// A message of the Anonymous Authentication Protocol (draft 2.4.3).
    case handshake
    /// Anything else: upper-layer data, other options.
    case other

    /// Classifies what follows AH: `payloadOffset` and `nextHeader` as
    /// reported by `AHVerification`. Looks through Destination Options
    /// headers after AH for Binding Update / Acknowledgement options, and at
    /// the Mobility Header type (RFC 6275 6.1: BU 5, BA 6). Malformed
    /// headers classify as `.other`.
    public static func classify(
        _ packet: UnsafeRawBufferPointer, payloadOffset: Int, nextHeader: UInt8,
        codePoints: MobileIPv6CodePoints = .draftEra
    ) -> ProtectedContent {
        var offset = payloadOffset
        var header = nextHeader
        var found = ProtectedContent.other
        var headers = 0
        while headers < AHPacketLayout.maximumHeadersBeforeAH, offset >= 0, packet.count - offset >= 2 {
            headers += 1
            if header == codePoints.anonymousAuthenticationNextHeader.rawValue { return .handshake }
            if header == codePoints.mobilityHeaderNextHeader.rawValue {
                guard packet.count - offset >= 3 else { return found }
                switch packet.load(fromByteOffset: offset + 2, as: UInt8.self) {
                case 5: return .bindingUpdate
                case 6: return .bindingAcknowledgement
                default: return found
                }
            }
            guard header == AHPacketLayout.destinationOptions else { return found }
            let length = (Int(packet.load(fromByteOffset: offset + 1, as: UInt8.self)) + 1) * 8
            guard packet.count - offset >= length else { return found }
            var option = offset + 2
            while option < offset + length {
                let type = packet.load(fromByteOffset: option, as: UInt8.self)
                if type == 0 {
                    option += 1
                    continue
                }
                guard offset + length - option >= 2 else { break }
                if type == codePoints.bindingUpdate { return .bindingUpdate }
                if type == codePoints.bindingAcknowledgement { found = .bindingAcknowledgement }
                option += 2 + Int(packet.load(fromByteOffset: option + 1, as: UInt8.self))
            }
            header = packet.load(fromByteOffset: offset, as: UInt8.self)
            offset += length
        }
        return found
    }
}
