import HomelessWire

/// What `LocatorTranslation.rewrite` did to a packet.
public enum TranslationOutcome: Equatable, Sendable {
    /// Addresses replaced and the upper-layer checksum fixed incrementally.
    case rewritten
    /// Addresses replaced; no checksum in this packet to fix: a non-first
    /// fragment (the first fragment's checksum covers the reassembled
    /// datagram and is fixed there), ESP (the checksum is encrypted; the
    /// peer's inbound translation restores the addresses it covers), a UDP
    /// datagram sent without checksum, No Next Header or an unknown protocol.
    case addressesOnly
    /// Nothing to change: the packet already carries these addresses.
    case unchanged
    /// Left alone: a Routing header or Home Address option means the
    /// pseudo-header does not use the IPv6 addresses (RFC 8200 8.1); such
    /// packets belong to the Standard Mobile Host emulation (2.2.2), built
    /// by the slow path, never to the steady Homeless path (2.2.1).
    case refusedMobileIPv6Headers
    /// The upper-layer header is not in the buffer as the parse said.
    case refusedTruncated
}

/// ULID <-> locator translation, in place, for packets exchanged with
/// Homeless peers (draft 1.4, 2.2.1; the Shim6 idea of RFC 5533).
///
/// On the way out the kernel's ULIDs become the locators of the Host Cache
/// (destination: the source of the last packet received from the peer, 1.4;
/// source: a local address of the same scope, 2.2.1); on the way in the
/// peer's locators become the ULIDs the kernel's sockets know. Nothing else
/// is added: no Routing header and no Home Address option, so the steady
/// path costs the bare 40-octet IPv6 header.
///
/// TCP, UDP and ICMPv6 checksums cover the pseudo-header addresses (RFC 8200
/// 8.1, RFC 4443 2.3), so each changed address is folded into the checksum
/// with RFC 1624 eqn. 3. A UDP checksum that comes out 0 is sent as 0xFFFF
/// (RFC 768; 0 means "no checksum"), and a UDP datagram without checksum
/// stays without one. Fast path: no allocation, no locks; `packet` must be
/// the parse of the same bytes.
public enum LocatorTranslation {
    /// Replaces the IPv6 source and destination of the packet described by
    /// `packet` in `buffer` and fixes its upper-layer checksum.
    ///
    /// `partialChecksumAt`: the offset of a checksum field that holds only
    /// the uncomplemented pseudo-header sum (checksum offload pending:
    /// CHECKSUM_PARTIAL, virtio_net_hdr NEEDS_CSUM). Where it is the
    /// upper-layer checksum, the update is RFC 1624 eqn. 3 between two
    /// complements (the field is the complement of a complete checksum's
    /// form), UDP's zero rules do not apply (it is not yet a checksum), and
    /// whoever completes it later sums over the new addresses.
    @inlinable
    public static func rewrite(_ buffer: UnsafeMutableRawBufferPointer, packet: ParsedPacket,
                               source newSource: IPv6Address, destination newDestination: IPv6Address,
                               partialChecksumAt: Int? = nil) -> TranslationOutcome {
        if packet.routingFinalDestination != nil || packet.routingHeaderOffset != nil || packet.homeAddress != nil {
            return .refusedMobileIPv6Headers
        }
        let oldSource = packet.source, oldDestination = packet.destination
        if oldSource == newSource && oldDestination == newDestination { return .unchanged }
        let ipv6 = packet.ipv6Offset
        guard ipv6 >= 0, buffer.count - ipv6 >= IPv6HeaderView.length else { return .refusedTruncated }

        var outcome = TranslationOutcome.addressesOnly
        if !packet.isNonInitialFragment, packet.encapsulatingSecurityPayloadOffset == nil,
           let upper = packet.upperLayerOffset {
            let checksumField: Int?
            switch packet.upperLayerProtocol {
            case .tcp: checksumField = TCPHeaderView.Field.checksum
            case .udp: checksumField = UDPHeaderView.Field.checksum
            case .icmpv6: checksumField = ICMPv6View.Field.checksum
            default: checksumField = nil
            }
            if let field = checksumField {
                let at = upper + field
                guard at >= 0, at + 2 <= packet.packetEnd, at + 2 <= buffer.count else { return .refusedTruncated }
                let old = UInt16(bigEndian: UnsafeRawBufferPointer(buffer).loadUnaligned(fromByteOffset: at, as: UInt16.self))
                let partial = partialChecksumAt == at
                if !partial && packet.upperLayerProtocol == .udp && old == 0 {
                    outcome = .addressesOnly  // sent without checksum: keep it so
                } else {
                    var updated = partial ? ~old : old
                    if oldSource != newSource { updated = InternetChecksum.update(updated, replacing: oldSource, with: newSource) }
                    if oldDestination != newDestination {
                        updated = InternetChecksum.update(updated, replacing: oldDestination, with: newDestination)
                    }
                    if partial {
                        updated = ~updated
                    } else if packet.upperLayerProtocol == .udp && updated == 0 {
                        updated = 0xFFFF
                    }
                    buffer.storeBytes(of: updated.bigEndian, toByteOffset: at, as: UInt16.self)
                    outcome = .rewritten
                }
            }
        }
        newSource.write(to: buffer, at: ipv6 + IPv6HeaderView.Field.source)
        newDestination.write(to: buffer, at: ipv6 + IPv6HeaderView.Field.destination)
        return outcome
    }

    /// Outbound (upper port -> wire): ULIDs to locators.
    @inlinable
    public static func translateOutbound(_ buffer: UnsafeMutableRawBufferPointer, packet: ParsedPacket,
                                         sourceLocator: IPv6Address, destinationLocator: IPv6Address) -> TranslationOutcome {
        rewrite(buffer, packet: packet, source: sourceLocator, destination: destinationLocator)
    }

    /// Inbound (wire -> upper port): the peer's locator back to its ULID
    /// (`peerIdentifier`) and our locator to our ULID (`localIdentifier`).
    @inlinable
    public static func translateInbound(_ buffer: UnsafeMutableRawBufferPointer, packet: ParsedPacket,
                                        peerIdentifier: IPv6Address, localIdentifier: IPv6Address) -> TranslationOutcome {
        rewrite(buffer, packet: packet, source: peerIdentifier, destination: localIdentifier)
    }

    /// For an ICMPv6 error (types 1-4: Destination Unreachable, Packet Too
    /// Big, Time Exceeded, Parameter Problem; RFC 4443 2.4 (c)) about a
    /// packet we sent with locators, e.g. Packet Too Big from a router on
    /// the path: rewrites the addresses of the quoted IPv6 header (its
    /// source is our locator, its destination the peer's) to the ULIDs the
    /// kernel's socket knows, so path MTU discovery and error reporting
    /// reach the right connection (RFC 8201 4: the kernel matches the
    /// quoted addresses to its sockets).
    ///
    /// Checksums, all by RFC 1624 eqn. 3: the quoted upper-layer checksum
    /// (TCP, UDP, ICMPv6 directly after the quoted header) covers the
    /// quoted addresses and is fixed when the quote holds it (a quoted UDP
    /// checksum of 0 stays 0); a truncated quote keeps its bytes, which the
    /// kernel does not verify. The message's own checksum covers the
    /// quoted bytes and the outer pseudo-header, so it follows both, and
    /// the outer destination becomes `destination` when given (our ULID
    /// in place of our locator). Returns `.unchanged` when the message is
    /// not an error quoting a whole IPv6 header, or nothing changes;
    /// `.refusedMobileIPv6Headers` for a Routing header or Home Address
    /// option on the outer packet (its pseudo-header is another).
    @inlinable
    public static func rewriteQuotedPacket(_ buffer: UnsafeMutableRawBufferPointer, packet: ParsedPacket,
                                           quotedSource newSource: IPv6Address,
                                           quotedDestination newDestination: IPv6Address,
                                           destination newOuterDestination: IPv6Address? = nil) -> TranslationOutcome {
        guard packet.upperLayerProtocol == .icmpv6, !packet.isFragment, let icmp = packet.upperLayerOffset,
              packet.ipv6Offset >= 0, packet.ipv6Offset + IPv6HeaderView.length <= buffer.count,
              let error = ICMPv6ErrorView(UnsafeRawBufferPointer(buffer), at: icmp, end: packet.packetEnd)
        else { return .unchanged }
        if packet.routingFinalDestination != nil || packet.routingHeaderOffset != nil || packet.homeAddress != nil {
            return .refusedMobileIPv6Headers
        }
        let oldSource = error.quotedSource, oldDestination = error.quotedDestination
        let outerDestination = newOuterDestination ?? packet.destination
        if oldSource == newSource && oldDestination == newDestination && outerDestination == packet.destination {
            return .unchanged
        }
        var checksum = UInt16(bigEndian: UnsafeRawBufferPointer(buffer).loadUnaligned(
            fromByteOffset: error.checksumOffset, as: UInt16.self))
        if let at = error.quotedChecksumOffset {
            let old = UInt16(bigEndian: UnsafeRawBufferPointer(buffer).loadUnaligned(fromByteOffset: at, as: UInt16.self))
            if !(error.quotedNextHeader == .udp && old == 0) {
                var updated = InternetChecksum.update(old, replacing: oldSource, with: newSource)
                updated = InternetChecksum.update(updated, replacing: oldDestination, with: newDestination)
                if error.quotedNextHeader == .udp && updated == 0 { updated = 0xFFFF }
                checksum = InternetChecksum.update(checksum, replacing: old, with: updated)
                buffer.storeBytes(of: updated.bigEndian, toByteOffset: at, as: UInt16.self)
            }
        }
        checksum = InternetChecksum.update(checksum, replacing: oldSource, with: newSource)
        checksum = InternetChecksum.update(checksum, replacing: oldDestination, with: newDestination)
        if outerDestination != packet.destination {
            checksum = InternetChecksum.update(checksum, replacing: packet.destination, with: outerDestination)
            outerDestination.write(to: buffer, at: packet.ipv6Offset + IPv6HeaderView.Field.destination)
        }
        buffer.storeBytes(of: checksum.bigEndian, toByteOffset: error.checksumOffset, as: UInt16.self)
        newSource.write(to: buffer, at: error.quotedSourceOffset)
        newDestination.write(to: buffer, at: error.quotedDestinationOffset)
        return .rewritten
    }
}
