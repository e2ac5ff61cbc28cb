public import HomelessWire

/// Does an outbound packet from the local upper layer open a conversation
/// with a new peer? (draft 2.1.1)
///
/// "It is RECOMMENDED that if the upper layer protocol is a user data
/// oriented protocol (e.g. TCP or UDP), and the sending host is initiating
/// the connection, the corresponding Host Cache Entry is created; however,
/// if the sending host is only responding to a connection request, or if the
/// upper layer protocol is control oriented protocol (e.g. ICMP, ND), no
/// Host Cache Entry is created." Nothing here ever creates an entry for a
/// packet that was *received* (2.3.4).
public enum OutboundInitiation: Equatable, Sendable {
    /// Create a Foreign entry for `peer`; the connection's addresses
    /// (`local` -> `peer`) become its ULIDs, the identifiers the kernel
    /// keeps seeing while the locators move (DESIGN: ULIDs and locators).
    case createEntry(local: IPv6Address, peer: IPv6Address)
    /// Not an initiation: send as it is (or through the existing entry).
    case none(Reason)

    public enum Reason: Equatable, Sendable {
        /// The peer already has an entry.
        case entryExists
        /// ICMPv6, ND and other control traffic bypass the Host Cache (1.4, 2.1.1).
        case controlProtocol
        /// A TCP segment other than an opening SYN: the other side initiated
        /// (SYN+ACK, a reset, data of a connection we did not open through the engine).
        case tcpNotOpening
        /// IPsec: covered by draft 2.4.2, not by this rule.
        case ipsec
        /// A non-first fragment, or an upper layer the engine does not know.
        case unclassifiable
        /// Multicast, unspecified or loopback addresses are never Host Cache addresses.
        case notUnicast
    }

    /// Classifies one outbound packet. `hasEntry` says whether the
    /// destination already belongs to a live Foreign entry (a
    /// `HostCacheIndex.lookupForeign` hit that is not expired).
    /// `tcpFlags` is the TCP flags byte when the upper layer is TCP (read it
    /// with `TCPHeaderView`; nil when the segment was not examined).
    public static func classify(_ packet: ParsedPacket, tcpFlags: UInt8?, hasEntry: Bool) -> OutboundInitiation {
        let source = packet.source, destination = packet.destination
        if destination.isMulticast || destination.isUnspecified || destination.isLoopback
            || source.isUnspecified || source.isMulticast || source.isLoopback {
            return .none(.notUnicast)
        }
        if packet.encapsulatingSecurityPayloadOffset != nil || packet.authenticationHeaderOffset != nil {
            return .none(.ipsec)
        }
        if hasEntry { return .none(.entryExists) }
        if packet.isNonInitialFragment || packet.upperLayerOffset == nil { return .none(.unclassifiable) }
        switch packet.upperLayerProtocol {
        case .tcp:
            // An opening SYN: SYN without ACK (RFC 9293 3.5); SYN+ACK answers.
            guard let flags = tcpFlags,
                  flags & TCPHeaderView.flagSYN != 0, flags & TCPHeaderView.flagACK == 0,
                  flags & TCPHeaderView.flagRST == 0 else { return .none(.tcpNotOpening) }
            return .createEntry(local: source, peer: destination)
        case .udp:
            // UDP has no handshake: the first datagram to a peer without an
            // entry starts the conversation from our side.
            return .createEntry(local: source, peer: destination)
        case .icmpv6:
            return .none(.controlProtocol)
        default:
            return .none(.unclassifiable)
        }
    }

    /// Reads the TCP flags of a parsed packet when its upper layer is TCP
    /// and the header is present; no allocation.
    public static func tcpFlags(of packet: ParsedPacket, in bytes: UnsafeRawBufferPointer) -> UInt8? {
        guard packet.upperLayerProtocol == .tcp, let offset = packet.upperLayerOffset,
              let view = try? TCPHeaderView(checking: bytes, at: offset, limit: packet.packetEnd) else { return nil }
        return view.flags
    }
}
