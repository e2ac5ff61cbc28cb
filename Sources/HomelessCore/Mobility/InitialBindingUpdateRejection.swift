public import HomelessWire

/// Recognises the ICMPv6 Parameter Problem a Standard Host returns for our
/// Initial Binding Update (draft 2.2.4, 3.2.1).
///
/// The Home Address (201) and Binding Update (198) options both have
/// action bits 11: a host that does not know them discards the packet and
/// answers "unrecognized IPv6 option" (RFC 4443 3.4 code 2) with a pointer
/// to the first one it met. Our options come first in the Destination
/// Options header, so the pointer lands on one of them. Because the Initial
/// Binding Update travels standalone with No Next Header, the peer lost no
/// data by dropping it.
///
/// A host without IPsec AH does not get that far: it answers
/// "unrecognized Next Header type" (code 1) pointing at the Next Header
/// field that names our AH (or, without AH, our Destination Options
/// header). Such a peer cannot process Binding Updates at all and is a
/// Standard Host too.
public struct InitialBindingUpdateRejection: Equatable, Sendable {
    /// Source of the invoking packet (ours).
    public var invokingSource: IPv6Address
    /// Destination of the invoking packet: the peer that rejected the option.
    public var invokingDestination: IPv6Address
    /// Which of our options the pointer names (code 2); nil for code 1.
    public var option: MobilityOptionKind?
    /// The protocol number of our header the peer does not know (code 1:
    /// AH or Destination Options); nil for code 2.
    public var unrecognizedHeader: UInt8?

    public init(invokingSource: IPv6Address, invokingDestination: IPv6Address, option: MobilityOptionKind) {
        self.invokingSource = invokingSource
        self.invokingDestination = invokingDestination
        self.option = option
    }

    public init(invokingSource: IPv6Address, invokingDestination: IPv6Address, unrecognizedHeader: UInt8) {
        self.invokingSource = invokingSource
        self.invokingDestination = invokingDestination
        self.unrecognizedHeader = unrecognizedHeader
    }

    /// Parses the ICMPv6 message `message` (type, code, checksum, pointer,
    /// invoking packet). Returns nil unless it is a Parameter Problem, code
    /// 2, whose pointer lies inside the quoted packet on a Home Address or
    /// Binding Update option type byte that is inside a Destination
    /// Options header of that packet. Never traps on hostile input.
    public static func match(icmpMessage message: UnsafeRawBufferPointer,
                             codePoints: MobileIPv6CodePoints = .draftEra) -> InitialBindingUpdateRejection? {
        guard let view = try? ICMPv6View(checking: message, at: 0),
              view.type == ICMPv6View.typeParameterProblem,
              view.code == ICMPv6View.codeUnrecognizedOption || view.code == ICMPv6View.codeUnrecognizedNextHeader,
              let pointer = view.pointer else { return nil }
        let invoking = UnsafeRawBufferPointer(rebasing: message[ICMPv6View.Field.body...])
        guard invoking.count >= IPv6HeaderView.length, pointer < UInt32(invoking.count) else { return nil }
        let target = Int(pointer)
        if view.code == ICMPv6View.codeUnrecognizedNextHeader {
            return matchUnrecognizedHeader(at: target, in: invoking)
        }
        // Walk the quoted chain (it may be truncated) to the header holding the pointer.
        var nextHeader = invoking[IPv6HeaderView.Field.nextHeader]
        var offset = IPv6HeaderView.length
        var headers = 0
        while headers < 8, offset + 2 <= invoking.count {
            // AH counts its length in 4-octet units minus 2 (RFC 4302 2.2).
            let length = nextHeader == IPProtocol.authentication.rawValue
                ? (Int(invoking[offset + 1]) + 2) * 4 : (Int(invoking[offset + 1]) + 1) * 8
            let isOptionsHeader = nextHeader == IPProtocol.destinationOptions.rawValue || nextHeader == IPProtocol.hopByHop.rawValue
            let isExtension = isOptionsHeader || nextHeader == IPProtocol.routing.rawValue
                || nextHeader == IPProtocol.authentication.rawValue
            guard isExtension else { return nil }
            if target >= offset && target < offset + length {
                guard nextHeader == IPProtocol.destinationOptions.rawValue, target >= offset + 2 else { return nil }
                guard isOptionStart(target, headerOffset: offset, headerEnd: min(offset + length, invoking.count), in: invoking),
                      let kind = codePoints.optionKind(invoking[target]) else { return nil }
                switch kind {
                case .homeAddress, .bindingUpdate:
                    return InitialBindingUpdateRejection(
                        invokingSource: IPv6Address(bytes: invoking, at: IPv6HeaderView.Field.source),
                        invokingDestination: IPv6Address(bytes: invoking, at: IPv6HeaderView.Field.destination),
                        option: kind)
                case .bindingAcknowledgement, .bindingRequest:
                    return nil
                }
            }
            nextHeader = invoking[offset]
            offset += length
            headers += 1
        }
        return nil
    }

    /// Code 1: the pointer must land on a Next Header field of the quoted
    /// chain (the IPv6 header's, or the first octet of an extension header)
    /// whose value is AH or Destination Options, the headers our Binding
    /// Updates start with.
    static func matchUnrecognizedHeader(at target: Int, in invoking: UnsafeRawBufferPointer) -> InitialBindingUpdateRejection? {
        var field = IPv6HeaderView.Field.nextHeader
        var offset = IPv6HeaderView.length
        var headers = 0
        while headers < 8 {
            let nextHeader = invoking[field]
            if target == field {
                guard nextHeader == IPProtocol.authentication.rawValue || nextHeader == IPProtocol.destinationOptions.rawValue
                else { return nil }
                return InitialBindingUpdateRejection(
                    invokingSource: IPv6Address(bytes: invoking, at: IPv6HeaderView.Field.source),
                    invokingDestination: IPv6Address(bytes: invoking, at: IPv6HeaderView.Field.destination),
                    unrecognizedHeader: nextHeader)
            }
            let isExtension = nextHeader == IPProtocol.destinationOptions.rawValue || nextHeader == IPProtocol.hopByHop.rawValue
                || nextHeader == IPProtocol.routing.rawValue || nextHeader == IPProtocol.authentication.rawValue
            guard isExtension, offset + 2 <= invoking.count, target > field else { return nil }
            let length = nextHeader == IPProtocol.authentication.rawValue
                ? (Int(invoking[offset + 1]) + 2) * 4 : (Int(invoking[offset + 1]) + 1) * 8
            field = offset
            offset += length
            headers += 1
        }
        return nil
    }

    /// True when an option (not option data or padding content) starts at
    /// `target` in the options header at `headerOffset` (RFC 8200 4.2).
    static func isOptionStart(_ target: Int, headerOffset: Int, headerEnd: Int, in bytes: UnsafeRawBufferPointer) -> Bool {
        var position = headerOffset + 2
        while position < headerEnd {
            if position == target { return true }
            if position > target { return false }
            if bytes[position] == 0 { position += 1; continue }  // Pad1
            guard position + 1 < headerEnd else { return false }
            position += 2 + Int(bytes[position + 1])
        }
        return false
    }
}
