/// Why an IPv6 packet could not be authenticated or protected with AH, with
/// the byte offset (from the start of the IPv6 header) of the offending field.
public struct AHPacketError: Error, Equatable, Sendable, CustomStringConvertible {
    public enum Reason: String, Sendable, CaseIterable {
        /// The packet carries no AH before its upper-layer header.
        case noAuthenticationHeader = "no-ah"
        /// Version field is not 6.
        case notIPv6 = "not-ipv6"
        /// The buffer ends before a header does, or Payload Length overruns it.
        case truncated
        /// IPv6 Payload Length 0 with a Hop-by-Hop header (jumbogram, RFC 2675): not supported with AH.
        case jumbogram
        /// AH Payload Len is not (header octets / 4) - 2 for a multiple-of-8 header
        /// the SA's algorithm accepts (RFC 4302 2.2).
        case badPayloadLength = "bad-payload-length"
        /// Hop-by-Hop Options not directly after the IPv6 header (RFC 8200 4.1).
        case hopByHopNotFirst = "hop-by-hop-not-first"
        /// An option's length runs past its header.
        case malformedOption = "malformed-option"
        /// More than one Routing header before AH (RFC 8200 4.1).
        case duplicateRoutingHeader = "duplicate-routing-header"
        /// A Routing header whose final-destination form cannot be computed:
        /// Segments Left beyond the address count, an odd Hdr Ext Len, or a
        /// type other than 0 and 2 with Segments Left > 0 (RFC 4302 3.3.3.1.2.2).
        case unpredictableRoutingHeader = "unpredictable-routing-header"
        /// A Fragment header before AH: AH is verified on reassembled packets (RFC 4302 3.4.1).
        case fragmented
        /// More extension headers before AH than the walker allows.
        case chainTooLong = "chain-too-long"
        /// The insertion point given for a new AH is not a header boundary.
        case badInsertionPoint = "bad-insertion-point"
        /// The buffer cannot hold the packet with AH, or Payload Length would exceed 65535.
        case noRoom = "no-room"
    }

    public var reason: Reason
    public var offset: Int

    public init(_ reason: Reason, at offset: Int) {
        self.reason = reason
        self.offset = offset
    }

    public var description: String { "\(reason.rawValue) at offset \(offset)" }
}
