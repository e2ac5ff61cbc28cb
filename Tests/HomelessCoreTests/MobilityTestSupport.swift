import HomelessCore
import HomelessWire

/// Addresses and packets shared by the mobility tests.
enum MobilityFixture {
    static func address(_ text: String) -> IPv6Address {
        guard let value = IPv6Address(text) else { fatalError("bad test address \(text)") }
        return value
    }

    static let linkA = address("2001:db8:a::10")
    static let linkB = address("2001:db8:b::10")
    static let linkC = address("2001:db8:c::77")
    static let peer = address("2001:db8:c::20")
    static let linkLocal = address("fe80::10")

    static func at(seconds: UInt64, milliseconds: UInt64 = 0) -> MonotonicInstant {
        MonotonicInstant.origin.adding(seconds: seconds).adding(milliseconds: milliseconds)
    }

    /// A raw IPv6 packet (no link header) with `nextHeader` and `payload`.
    static func packet(source: IPv6Address, destination: IPv6Address, nextHeader: IPProtocol, payload: [UInt8]) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: 40 + payload.count)
        bytes.withUnsafeMutableBytes { raw in
            IPv6Header(payloadLength: UInt16(payload.count), nextHeader: nextHeader, source: source, destination: destination)
                .emit(into: raw)
        }
        bytes.replaceSubrange(40..., with: payload)
        return bytes
    }

    /// A 20-octet TCP header with `flags`.
    static func tcp(flags: UInt8) -> [UInt8] {
        var header = [UInt8](repeating: 0, count: 20)
        header[0] = 0x9C; header[1] = 0x40; header[2] = 0x00; header[3] = 0x50
        header[12] = 5 << 4
        header[13] = flags
        return header
    }

    static func parse(_ bytes: [UInt8]) throws -> ParsedPacket {
        try bytes.withUnsafeBytes { raw in try ParsedPacket.parse(raw, configuration: .init(linkLayer: .rawIPv6)) }
    }

    /// Every `.sendStandalone` spec in `actions`.
    static func standalone(_ actions: [PeerMobilityAction]) -> [BindingUpdateSpec] {
        actions.compactMap { if case .sendStandalone(let spec) = $0 { return spec } else { return nil } }
    }

    static func offers(_ actions: [PeerMobilityAction]) -> [BindingUpdateSpec] {
        actions.compactMap { if case .offerPiggyback(let spec) = $0 { return spec } else { return nil } }
    }

    static func timer(_ actions: [PeerMobilityAction]) -> MonotonicInstant?? {
        for action in actions { if case .scheduleTimer(let at) = action { return .some(at) } }
        return .none
    }
}
