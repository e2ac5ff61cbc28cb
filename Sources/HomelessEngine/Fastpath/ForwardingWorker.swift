#if canImport(Glibc)
import Glibc
#endif
import CHomeless
import HomelessSystem
import HomelessWire

/// The four rings one worker owns for one wire: it receives on the wire and
/// the upper port and transmits on both. Ownership moves to the worker's
/// thread as a whole; the rings are then used by that thread only (except
/// for the statistics read, which touches only the socket).
public struct LaneRings: @unchecked Sendable {
    public let wireReceive: PacketRXRing
    public let wireTransmit: PacketTXRing
    public let upperReceive: PacketRXRing
    public let upperTransmit: PacketTXRing

    public init(wireReceive: PacketRXRing, wireTransmit: PacketTXRing, upperReceive: PacketRXRing,
                upperTransmit: PacketTXRing) {
        self.wireReceive = wireReceive
        self.wireTransmit = wireTransmit
        self.upperReceive = upperReceive
        self.upperTransmit = upperTransmit
    }
}

/// How a worker behaves, fixed for its lifetime.
public struct WorkerPolicy: Hashable, Sendable {
    /// Empty polls of both rings before the worker sleeps in poll(): 0
    /// sleeps at once (least CPU), larger values trade CPU for latency.
    public var busyPollIterations: Int
    /// poll() timeout; bounds how late a stop request is noticed.
    public var idleTimeoutMilliseconds: Int32
    /// Upper-layer protocol of the engine's handshake (punted).
    public var handshakeNextHeader: UInt8
    /// Classifier steering: the upper port carries only the kernel's
    /// unicast traffic for peers; its multicast (the kernel side's own
    /// MLD and ND) is dropped instead of reaching the wire.
    public var upperCarriesPeerTrafficOnly: Bool

    public init(busyPollIterations: Int = 2000, idleTimeoutMilliseconds: Int32 = 50, handshakeNextHeader: UInt8 = 253,
                upperCarriesPeerTrafficOnly: Bool = false) {
        self.upperCarriesPeerTrafficOnly = upperCarriesPeerTrafficOnly
        self.busyPollIterations = busyPollIterations
        self.idleTimeoutMilliseconds = idleTimeoutMilliseconds
        self.handshakeNextHeader = handshakeNextHeader
    }
}

/// Which way a frame travels through host mode.
public enum FrameDirection: UInt32, Sendable {
    /// From the wire interface up to the host's kernel (via the upper port).
    case inbound = 0
    /// From the host's kernel (upper port) out of the wire interface.
    case outbound = 1
}

/// One fast-path worker of one wire: moves frames between the wire port and
/// the upper port, a ring block at a time. Per frame it does a
/// non-allocating parse (`ParsedPacket.parse`), hands Mobile IPv6 signalling
/// and the engine's handshake to the slow path through its `PuntQueue`, and
/// copies everything else unchanged into the other port's TX ring. Every
/// frame ends in exactly one counter: forwarded, punted, or dropped for one
/// reason. No locks, no allocation, no `await` in the loop.
public final class ForwardingWorker: @unchecked Sendable {
    public let id: Int
    public let wireIndex: Int
    public let counters = WorkerCounters()
    public let punt: PuntQueue
    let rings: LaneRings
    let wireAddress: EthernetAddress
    let policy: WorkerPolicy
    /// Longest frame either port may send: the Ethernet header plus the
    /// wire's MTU, and no more than a TX slot holds.
    let maximumFrameLength: Int

    /// Per-peer ULID <-> locator translations (read-only here).
    let translations: TranslationTable
    /// When each peer address last carried traffic (activity lifetimes).
    let activity: AddressActivity
    /// UDP destinations (outbound) and sources (inbound) noted lately: the
    /// first datagram of a UDP conversation is noted, not every one.
    let udpDestinationsNoted = RecentAddressFilter()
    let udpSourcesNoted = RecentAddressFilter()

    /// A worker that translates nothing (every peer plain).
    public convenience init(id: Int, wireIndex: Int, rings: LaneRings, wireAddress: EthernetAddress, mtu: Int,
                            policy: WorkerPolicy, punt: PuntQueue) {
        self.init(id: id, wireIndex: wireIndex, rings: rings, wireAddress: wireAddress, mtu: mtu, policy: policy,
                  punt: punt, translations: TranslationTable(capacity: 1))
    }

    /// A worker that translates the peers `translations` holds (the slow
    /// path publishes them; workers only read).
    public init(id: Int, wireIndex: Int, rings: LaneRings, wireAddress: EthernetAddress, mtu: Int,
                policy: WorkerPolicy, punt: PuntQueue, translations: TranslationTable,
                activity: AddressActivity = AddressActivity()) {
        self.translations = translations
        self.activity = activity
        maximumFrameLength = min(14 + mtu, rings.wireTransmit.maximumFrameLength,
                                 rings.upperTransmit.maximumFrameLength)
        self.id = id
        self.wireIndex = wireIndex
        self.rings = rings
        self.wireAddress = wireAddress
        self.policy = policy
        self.punt = punt
    }

    /// Punt tag: direction in bit 0, bit 1 set for a note (a copy of a
    /// frame the worker forwarded anyway), wire index above. Punted
    /// without the note bit, an inbound frame is signalling for the slow
    /// path; an outbound one was sent to a peer whose addresses have all
    /// expired, and the slow path answers it (draft 2.2).
    @inline(__always)
    static func tag(wireIndex: Int, direction: FrameDirection, note: Bool = false) -> UInt32 {
        UInt32(truncatingIfNeeded: wireIndex) << 2 | (note ? 2 : 0) | direction.rawValue
    }

    /// A TCP segment that opens a conversation (outbound SYN, draft 2.1.1)
    /// or may be the first reply to one (inbound SYN+ACK, 2.1.2): the slow
    /// path gets a copy to create the peer's entry or send the Initial
    /// Binding Update. The frame itself is not delayed.
    ///
    /// UDP has no such flags: the first datagram to a destination (outbound)
    /// or from a source (inbound) that the worker did not note lately is
    /// noted (`RecentAddressFilter`); the slow path ignores it when the
    /// peer already has an entry or is not awaited.
    @inline(__always)
    func noteIfConversationStart(_ bytes: UnsafeRawBufferPointer, _ packet: ParsedPacket, direction: FrameDirection) {
        if packet.upperLayerProtocol == .udp {
            guard !packet.destination.isMulticast else { return }
            let fresh = direction == .outbound ? udpDestinationsNoted.insert(packet.destination)
                : udpSourcesNoted.insert(packet.source)
            if fresh { _ = punt.push(bytes, tag: Self.tag(wireIndex: wireIndex, direction: direction, note: true)) }
            return
        }
        guard !packet.isFragment, let flags = Self.tcpFlags(bytes, packet) else { return }
        let syn: UInt8 = 0x02, ack: UInt8 = 0x10, rst: UInt8 = 0x04
        guard flags & syn != 0, flags & rst == 0 else { return }
        let wanted: UInt8 = direction == .outbound ? 0 : ack
        guard flags & ack == wanted else { return }
        // A full queue loses only the note: the conversation goes on
        // without mobility, as with a plain peer.
        _ = punt.push(bytes, tag: Self.tag(wireIndex: wireIndex, direction: direction, note: true))
    }

    /// An inbound ICMPv6 Parameter Problem may reject the options of one of
    /// the engine's Binding Updates (draft 2.2.4): the slow path gets a
    /// copy; the frame itself goes on to the kernel.
    @inline(__always)
    func noteIfParameterProblem(_ bytes: UnsafeRawBufferPointer, _ packet: ParsedPacket) {
        guard packet.upperLayerProtocol == .icmpv6, !packet.isFragment, let offset = packet.upperLayerOffset,
              offset < packet.packetEnd, offset < bytes.count, bytes[offset] == 4 else { return }
        _ = punt.push(bytes, tag: Self.tag(wireIndex: wireIndex, direction: .inbound, note: true))
    }

    /// An inbound ICMPv6 error (RFC 4443 2.4 (c)) quoting a packet we sent
    /// translated (our locator to the peer's, as a router on the path saw
    /// it) goes to the kernel with the quote turned back into the ULIDs
    /// and our locator as destination into our ULID, checksums fixed
    /// (`LocatorTranslation.rewriteQuotedPacket`), in its TX slot: the
    /// kernel then finds the socket (RFC 8201 path MTU discovery, error
    /// reporting). Only quotes of a live record's translation qualify;
    /// a conversation the kernel opened between the locators themselves
    /// keeps its quote. False: not such an error, the frame goes on as
    /// any other.
    @inline(__always)
    func forwardIfQuotingTranslatedPacket(_ frame: RXFrame, _ packet: ParsedPacket, to transmit: PacketTXRing) -> Bool {
        guard packet.upperLayerProtocol == .icmpv6, !packet.isFragment, !frame.checksumNotReady,
              let icmp = packet.upperLayerOffset,
              let error = ICMPv6ErrorView(frame.bytes, at: icmp, end: packet.packetEnd),
              let match = translations.matchQuotedOutbound(source: error.quotedSource,
                                                           destination: error.quotedDestination)
        else { return false }
        if let ports = error.quotedPorts {
            let bit = TranslationTable.flowBit(protocolNumber: error.quotedNextHeader.rawValue,
                                               localPort: ports.source, peerPort: ports.destination)
            if translations.hasFlow(.locators, slot: match.slot, bit: bit),
               !translations.hasFlow(.identifiers, slot: match.slot, bit: bit) { return false }
        }
        let record = match.record
        let destination = packet.destination == error.quotedSource ? record.localIdentifier : packet.destination
        for attempt in 0..<2 {
            if attempt == 1 { flush(transmit) }
            guard let slot = transmit.reserveSlot() else { continue }
            guard let source = frame.bytes.baseAddress, let target = slot.buffer.baseAddress,
                  frame.bytes.count <= slot.buffer.count else {
                transmit.abandon(slot)
                return false
            }
            target.copyMemory(from: source, byteCount: frame.bytes.count)
            let outcome = LocatorTranslation.rewriteQuotedPacket(
                UnsafeMutableRawBufferPointer(start: target, count: frame.bytes.count), packet: packet,
                quotedSource: record.localIdentifier, quotedDestination: record.peerIdentifier, destination: destination)
            guard transmit.submit(slot, length: frame.bytes.count) else { break }
            if outcome == .rewritten { counters.add(.icmpErrorsTranslated) }
            counters.add(.inboundForwarded)
            return true
        }
        counters.drop(DropReason(.transmitRingFull))
        return true
    }

    /// The worker loop; returns when `stop` is raised.
    public func run(until stop: StopSignal) {
        let pollSet = UnsafeMutablePointer<pollfd>.allocate(capacity: 2)
        defer { pollSet.deallocate() }
        pollSet[0] = pollfd(fd: rings.wireReceive.descriptor, events: Int16(POLLIN), revents: 0)
        pollSet[1] = pollfd(fd: rings.upperReceive.descriptor, events: Int16(POLLIN), revents: 0)
        var emptyPolls = 0
        while !stop.isRaised {
            var worked = false
            if drainOneBlock(from: rings.wireReceive, to: rings.upperTransmit, direction: .inbound) { worked = true }
            if drainOneBlock(from: rings.upperReceive, to: rings.wireTransmit, direction: .outbound) { worked = true }
            if worked {
                emptyPolls = 0
                continue
            }
            emptyPolls += 1
            if emptyPolls <= policy.busyPollIterations {
                hl_cpu_relax()
                continue
            }
            emptyPolls = 0
            counters.add(.idleWaits)
            flush(rings.upperTransmit)
            flush(rings.wireTransmit)
            pollSet[0].revents = 0
            pollSet[1].revents = 0
            let ready = poll(pollSet, 2, policy.idleTimeoutMilliseconds)
            // A socket whose interface went away reports an error at once on
            // every poll: sleep instead of spinning until the engine stops.
            let failed = Int16(POLLERR | POLLHUP | POLLNVAL)
            if ready > 0, (pollSet[0].revents | pollSet[1].revents) & failed != 0 {
                // A device that went down leaves ENETDOWN pending on the
                // socket, and poll() reports POLLERR until it is read: read
                // it, so the worker sleeps in poll() again once the device
                // is back up (a wire's carrier returning).
                for index in 0..<2 where pollSet[index].revents & Int16(POLLERR) != 0 {
                    _ = hl_socket_take_error(pollSet[index].fd)
                }
                usleep(UInt32(policy.idleTimeoutMilliseconds) * 1000)
            }
        }
        flush(rings.upperTransmit)
        flush(rings.wireTransmit)
    }

    /// Handles every frame of the next block, flushes the TX ring, then
    /// hands the block back; false when the ring had no block ready.
    @inline(__always)
    func drainOneBlock(from receive: PacketRXRing, to transmit: PacketTXRing, direction: FrameDirection) -> Bool {
        guard var block = receive.nextBlock() else { return false }
        counters.add(.blocks)
        block.forEachFrame { frame in handle(frame, to: transmit, direction: direction) }
        flush(transmit)
        receive.release(block)
        return true
    }

    @inline(__always)
    func flush(_ transmit: PacketTXRing) {
        do {
            if case .wouldBlock = try transmit.flush() { counters.add(.transmitBusy) }
        } catch {
            // The device refused (down, gone): frames stay queued and the
            // next flush retries; the count shows it.
            counters.add(.transmitBusy)
        }
    }

    /// Handles one received frame exactly as the worker loop does (parse,
    /// punt or note, translate, copy into the other port's TX ring), for a
    /// caller that receives frames itself: one frame from the wire
    /// (`.inbound`) goes to the upper port's TX ring, one from the upper
    /// port (`.outbound`) to the wire's. Submitted frames leave at the next
    /// `flushTransmitRings()` (or when the ring is full). Same thread rules
    /// as `run(until:)`: one thread at a time, never concurrently with it.
    @inline(__always)
    public func handle(_ frame: RXFrame, direction: FrameDirection) {
        // One call per branch, each borrowing its ring from `rings`: a ring
        // chosen by a conditional expression would be retained and released
        // around every frame.
        if direction == .inbound {
            handle(frame, to: rings.upperTransmit, direction: .inbound)
        } else {
            handle(frame, to: rings.wireTransmit, direction: .outbound)
        }
    }

    /// Asks the kernel to send every frame submitted to either TX ring.
    public func flushTransmitRings() {
        flush(rings.upperTransmit)
        flush(rings.wireTransmit)
    }

    @inline(__always)
    func handle(_ frame: RXFrame, to transmit: PacketTXRing, direction: FrameDirection) {
        let bytes = frame.bytes
        if direction == .inbound {
            counters.add(.inboundPackets)
            counters.add(.inboundBytes, UInt64(truncatingIfNeeded: frame.wireLength))
        } else {
            counters.add(.outboundPackets)
            counters.add(.outboundBytes, UInt64(truncatingIfNeeded: frame.wireLength))
        }
        if frame.truncated { return counters.drop(DropReason(.frameTruncated)) }
        if frame.vlanTag != nil { return counters.drop(DropReason(.vlanTagged)) }
        let packet: ParsedPacket
        do {
            packet = try ParsedPacket.parse(bytes)
        } catch {
            return counters.drop(DropReason(error.reason))
        }
        if direction == .inbound, let destination = packet.ethernetDestination,
           !destination.isMulticast, destination != wireAddress {
            return counters.drop(DropReason(.notForHost))
        }
        if direction == .outbound, policy.upperCarriesPeerTrafficOnly, packet.destination.isMulticast {
            return counters.drop(DropReason(.kernelSideMulticast))
        }
        // Draft section 4: Binding Updates/Acknowledgements/Requests and the
        // Home Address option travel in Destination Options; they, and the
        // engine's handshake, belong to the slow path.
        if packet.mobilityOptions.count > 0 || packet.upperLayerProtocol.rawValue == policy.handshakeNextHeader {
            // Outbound, such a frame is the engine's own signalling, sent
            // through the kernel side (KernelRoutedSocket) with its final
            // addresses: it goes to the wire as it is, without a detour
            // through the slow path.
            if direction == .outbound {
                guard forward(frame, packet, to: transmit, addresses: nil) else {
                    return counters.drop(DropReason(.transmitRingFull))
                }
                counters.add(.signallingPassed)
                return counters.add(.outboundForwarded)
            }
            if punt.push(completedForSlowPath(frame, packet), tag: Self.tag(wireIndex: wireIndex, direction: direction)) {
                counters.add(.punted)
            } else {
                counters.drop(DropReason(.puntQueueFull))
            }
            return
        }
        let addresses: (source: IPv6Address, destination: IPv6Address)?
        switch translation(bytes, packet, direction: direction) {
        case .unchanged: addresses = nil
        case .rewrite(let source, let destination): addresses = (source, destination)
        case .peerUnreachable:
            // Draft 2.2: as if an ICMP Destination Unreachable had come
            // back. The slow path builds it from this copy (rate-limited).
            _ = punt.push(completedForSlowPath(frame, packet), tag: Self.tag(wireIndex: wireIndex, direction: .outbound))
            return counters.drop(DropReason(.peerUnreachable))
        case .carryBindingUpdate(let source, let destination):
            // The slow path sends it, translated, with the offered Binding
            // Updates on it (2.2.1). A full queue: it goes on translated,
            // and the update follows standalone.
            if punt.push(completedForSlowPath(frame, packet), tag: Self.tag(wireIndex: wireIndex, direction: .outbound)) {
                return counters.add(.punted)
            }
            addresses = source == packet.source && destination == packet.destination ? nil : (source, destination)
        }
        // After the unreachable check: a SYN to such a peer opens nothing.
        noteIfConversationStart(bytes, packet, direction: direction)
        if direction == .inbound { noteIfParameterProblem(bytes, packet) }
        if direction == .inbound, addresses == nil, forwardIfQuotingTranslatedPacket(frame, packet, to: transmit) {
            return
        }
        // Activity-related lifetimes (2.1.3): the peer's wire address and,
        // when translated, its ULID were used now.
        let peerOnWire = direction == .inbound ? packet.source : (addresses?.destination ?? packet.destination)
        activity.noteUse(of: peerOnWire)
        if let addresses {
            activity.noteUse(of: direction == .inbound ? addresses.source : packet.destination)
        }
        let leavesWhole = frame.offload.isSuperFrame && transmit.sendsOffloads
            && bytes.count <= transmit.maximumFrameLength
        if bytes.count > maximumFrameLength, !leavesWhole {
            // A TCP super-frame that the TX ring cannot hand to the kernel
            // whole (no virtio_net_hdr there, or none came with it) is cut
            // into wire-size segments here.
            if packet.upperLayerProtocol == .tcp, segmentTCP(bytes, packet, to: transmit, addresses: addresses) {
                if addresses != nil { counters.add(.translated) }
                return counters.add(direction == .inbound ? .inboundForwarded : .outboundForwarded)
            }
            return counters.drop(DropReason(.frameTooLong))
        }
        guard forward(frame, packet, to: transmit, addresses: addresses) else {
            return counters.drop(DropReason(.transmitRingFull))
        }
        if addresses != nil { counters.add(.translated) }
        counters.add(direction == .inbound ? .inboundForwarded : .outboundForwarded)
    }

    /// Sends the frame (translated when `addresses` are given) into one TX
    /// slot, flushing once if the ring is full; false when it stays full.
    ///
    /// A TX ring with a virtio_net_hdr takes the frame's offload metadata
    /// along: a super-frame leaves whole (the kernel segments it only where
    /// the egress device cannot), a partial checksum stays partial (the
    /// kernel or the device completes it, or the receiving kernel accepts
    /// it as CHECKSUM_PARTIAL) and is translated as one. Without, the
    /// worker completes a pending checksum itself (TP_STATUS_CSUMNOTREADY).
    @inline(__always)
    func forward(_ frame: RXFrame, _ packet: ParsedPacket, to transmit: PacketTXRing,
                 addresses: (source: IPv6Address, destination: IPv6Address)?) -> Bool {
        let offload = transmit.sendsOffloads ? frame.offload : .none
        let completing = frame.checksumNotReady && !offload.needsChecksum
        if !send(frame.bytes, to: transmit, completingChecksumOf: completing ? packet : nil, packet: packet,
                 addresses: addresses, offload: offload) {
            flush(transmit)
            if !send(frame.bytes, to: transmit, completingChecksumOf: completing ? packet : nil, packet: packet,
                     addresses: addresses, offload: offload) {
                return false
            }
        }
        if completing { counters.add(.checksumsCompleted) }
        if offload.needsChecksum { counters.add(.partialChecksumsPassed) }
        if offload.isSuperFrame { counters.add(.superFramesPassed) }
        return true
    }

    /// The frame's bytes for the slow path, which builds and checks packets
    /// as they appear on the wire: a pending checksum (offload) is
    /// completed in place in the RX ring first (the ring is mapped
    /// writable and the frame is the worker's until it releases the batch).
    @inline(__always)
    func completedForSlowPath(_ frame: RXFrame, _ packet: ParsedPacket) -> UnsafeRawBufferPointer {
        if frame.checksumNotReady {
            Self.completeChecksum(in: UnsafeMutableRawBufferPointer(mutating: frame.bytes), of: packet)
        }
        return frame.bytes
    }

    /// What becomes of a frame's addresses (DESIGN: ULIDs and locators):
    /// outbound the kernel's identifiers become the current locators,
    /// inbound the locators become the identifiers the kernel's connection
    /// knows. `unchanged`: no translation, the wire addresses are the
    /// identifiers, or an inbound TCP/UDP flow of a conversation the
    /// kernels opened between the locators themselves ("Flow marks" in
    /// `TranslationTable`).
    enum TranslationDecision {
        case unchanged
        case rewrite(source: IPv6Address, destination: IPv6Address)
        /// Outbound to a peer whose Host Cache addresses have all expired.
        case peerUnreachable
        /// Outbound to a peer with Binding Updates waiting for a data
        /// packet; the addresses it leaves with if the slow path cannot take it.
        case carryBindingUpdate(source: IPv6Address, destination: IPv6Address)
    }

    /// Room a frame must leave for AH and a Destination Options header
    /// with Binding Updates to be handed over for piggybacking.
    static let piggybackHeadroom = 256

    @inline(__always)
    func translation(_ bytes: UnsafeRawBufferPointer, _ packet: ParsedPacket,
                     direction: FrameDirection) -> TranslationDecision {
        if direction == .outbound {
            let bit = Self.flowBit(bytes, packet, localIsSource: true)
            if let match = translations.matchOutbound(source: packet.source, destination: packet.destination) {
                let record = match.record
                if record.isPeerUnreachable { return .peerUnreachable }
                if let bit { translations.noteFlow(.identifiers, slot: match.slot, bit: bit) }
                // A small steady-path packet can carry the offered Binding
                // Updates (2.2.1); a full-size one could not grow by them.
                if record.isPiggybackPending, packet.extensionHeaderCount == 0, !packet.isFragment,
                   bytes.count + Self.piggybackHeadroom <= maximumFrameLength {
                    return .carryBindingUpdate(source: record.localLocator, destination: record.peerLocator)
                }
                guard !record.isIdentity else { return .unchanged }
                return .rewrite(source: record.localLocator, destination: record.peerLocator)
            }
            // The kernel talking to a Homeless peer from one of our
            // locators (a conversation it opened after a move): its
            // replies must not be translated.
            if let bit, let match = translations.matchLocatorConversation(source: packet.source, destination: packet.destination) {
                translations.noteFlow(.locators, slot: match.slot, bit: bit)
            }
            return .unchanged
        }
        // Inbound the packet may use an alternate locator of the record,
        // so compare its own addresses with the identifiers.
        guard let match = translations.matchInbound(source: packet.source, destination: packet.destination),
              packet.source != match.record.peerIdentifier || packet.destination != match.record.localIdentifier
        else { return .unchanged }
        if let bit = Self.flowBit(bytes, packet, localIsSource: false),
           !translations.hasFlow(.identifiers, slot: match.slot, bit: bit) {
            if translations.hasFlow(.locators, slot: match.slot, bit: bit) {
                counters.add(.newFlowsNotTranslated)
                return .unchanged
            }
            if Self.isConnectionRequest(bytes, packet) {
                translations.noteFlow(.locators, slot: match.slot, bit: bit)
                counters.add(.newFlowsNotTranslated)
                return .unchanged
            }
        }
        return .rewrite(source: match.record.peerIdentifier, destination: match.record.localIdentifier)
    }

    /// The flags octet of a TCP segment (RFC 9293 3.1), or nil when the
    /// packet is not TCP or too short to hold it.
    @inline(__always)
    static func tcpFlags(_ bytes: UnsafeRawBufferPointer, _ packet: ParsedPacket) -> UInt8? {
        guard packet.upperLayerProtocol == .tcp, let offset = packet.upperLayerOffset,
              offset + 14 <= packet.packetEnd, offset + 14 <= bytes.count else { return nil }
        return bytes[offset + 13]
    }

    /// A TCP SYN without ACK: the first packet of a new conversation.
    @inline(__always)
    static func isConnectionRequest(_ bytes: UnsafeRawBufferPointer, _ packet: ParsedPacket) -> Bool {
        guard let flags = tcpFlags(bytes, packet) else { return false }
        return flags & 0x12 == 0x02
    }

    /// The flow-mark bit of a TCP or UDP packet (ports as the local
    /// kernel's socket sees them), or nil for other protocols and for
    /// fragments after the first (no ports).
    @inline(__always)
    static func flowBit(_ bytes: UnsafeRawBufferPointer, _ packet: ParsedPacket, localIsSource: Bool) -> UInt32? {
        let protocolNumber = packet.upperLayerProtocol
        guard protocolNumber == .tcp || protocolNumber == .udp, !packet.isNonInitialFragment,
              let offset = packet.upperLayerOffset, offset + 4 <= packet.packetEnd, offset + 4 <= bytes.count
        else { return nil }
        let sourcePort = UInt16(bytes[offset]) << 8 | UInt16(bytes[offset + 1])
        let destinationPort = UInt16(bytes[offset + 2]) << 8 | UInt16(bytes[offset + 3])
        return TranslationTable.flowBit(protocolNumber: protocolNumber.rawValue,
                                        localPort: localIsSource ? sourcePort : destinationPort,
                                        peerPort: localIsSource ? destinationPort : sourcePort)
    }

    /// Cuts a TCP segment larger than the MTU into segments that fit, each
    /// in its own TX slot, the way the sender's segmentation offload would
    /// have (RFC 9293 section 3.7: sequence numbers advance by the payload
    /// sent; FIN and PSH only on the last segment, CWR only on the first),
    /// with a complete checksum. False (nothing sent) when the frame is not
    /// a segmentable TCP segment or the ring has too few free slots.
    @inline(__always)
    func segmentTCP(_ bytes: UnsafeRawBufferPointer, _ packet: ParsedPacket, to transmit: PacketTXRing,
                    addresses: (source: IPv6Address, destination: IPv6Address)? = nil) -> Bool {
        guard !packet.isFragment, let tcpOffset = packet.upperLayerOffset, packet.ipv6Offset >= 14 else { return false }
        let end = packet.packetEnd
        guard tcpOffset + 20 <= end, end <= bytes.count else { return false }
        let headerLength = Int(bytes[tcpOffset + 12] >> 4) * 4
        let payloadStart = tcpOffset + headerLength
        guard headerLength >= 20, payloadStart <= end else { return false }
        let chunk = maximumFrameLength - payloadStart
        guard chunk >= 8 else { return false }
        let payloadLength = end - payloadStart
        let segments = (payloadLength + chunk - 1) / chunk
        guard segments > 1 else { return false }
        let sequence = UInt32(bigEndian: bytes.loadUnaligned(fromByteOffset: tcpOffset + 4, as: UInt32.self))
        let flags = bytes[tcpOffset + 13]
        let fin: UInt8 = 0x01, psh: UInt8 = 0x08, cwr: UInt8 = 0x80
        var sent = 0
        var position = 0
        while position < payloadLength {
            let length = min(chunk, payloadLength - position)
            guard let slot = transmit.reserveSlot() else {
                // The segments already queued go out; the rest is lost the way
                // a congested link loses it (TCP retransmits). The frame
                // counts as forwarded; the shortfall shows as transmit-busy.
                flush(transmit)
                counters.add(.transmitBusy)
                counters.add(.segmentsCut, UInt64(sent))
                return true
            }
            guard let source = bytes.baseAddress, let destination = slot.buffer.baseAddress,
                  payloadStart + length <= slot.buffer.count else {
                transmit.abandon(slot)
                return sent > 0
            }
            destination.copyMemory(from: source, byteCount: payloadStart)
            (destination + payloadStart).copyMemory(from: source + payloadStart + position, byteCount: length)
            let frame = UnsafeMutableRawBufferPointer(start: destination, count: payloadStart + length)
            let ipv6PayloadLength = payloadStart + length - (packet.ipv6Offset + 40)
            frame.storeBytes(of: UInt16(truncatingIfNeeded: ipv6PayloadLength).bigEndian,
                             toByteOffset: packet.ipv6Offset + 4, as: UInt16.self)
            frame.storeBytes(of: (sequence &+ UInt32(truncatingIfNeeded: position)).bigEndian,
                             toByteOffset: tcpOffset + 4, as: UInt32.self)
            var segmentFlags = flags
            if position + length < payloadLength { segmentFlags &= ~(fin | psh) }
            if position > 0 { segmentFlags &= ~cwr }
            frame[tcpOffset + 13] = segmentFlags
            frame.storeBytes(of: 0, toByteOffset: tcpOffset + 16, as: UInt16.self)
            if let addresses {
                addresses.source.write(to: frame, at: packet.ipv6Offset + IPv6HeaderView.Field.source)
                addresses.destination.write(to: frame, at: packet.ipv6Offset + IPv6HeaderView.Field.destination)
            }
            let checksum = InternetChecksum.upperLayerChecksum(
                source: addresses?.source ?? packet.pseudoHeaderSource,
                destination: addresses?.destination ?? packet.pseudoHeaderDestination, nextHeader: .tcp,
                message: UnsafeRawBufferPointer(rebasing: frame[tcpOffset...]))
            frame.storeBytes(of: checksum.bigEndian, toByteOffset: tcpOffset + 16, as: UInt16.self)
            guard transmit.submit(slot, length: payloadStart + length) else { return sent > 0 }
            sent += 1
            position += length
        }
        counters.add(.segmentsCut, UInt64(sent))
        counters.add(.superFramesSegmented)
        return true
    }

    /// Copies the frame into the next TX slot (the caller checked it fits);
    /// with a packet given, completes its TCP or UDP checksum in the copy.
    /// `offload` goes into the slot's virtio_net_hdr (a ring that has one).
    @inline(__always)
    func send(_ bytes: UnsafeRawBufferPointer, to transmit: PacketTXRing,
              completingChecksumOf packet: ParsedPacket?, packet parsed: ParsedPacket? = nil,
              addresses: (source: IPv6Address, destination: IPv6Address)? = nil,
              offload: PacketOffload = .none) -> Bool {
        guard let slot = transmit.reserveSlot() else { return false }
        guard let source = bytes.baseAddress, let destination = slot.buffer.baseAddress,
              bytes.count <= slot.buffer.count else {
            transmit.abandon(slot)
            return false
        }
        destination.copyMemory(from: source, byteCount: bytes.count)
        if let packet {
            Self.completeChecksum(in: UnsafeMutableRawBufferPointer(start: destination, count: bytes.count), of: packet)
        }
        // After the checksum is complete: the translation fixes it
        // incrementally (RFC 1624), or the partial one the kernel completes.
        if let addresses, let parsed {
            _ = LocatorTranslation.rewrite(UnsafeMutableRawBufferPointer(start: destination, count: bytes.count),
                                           packet: parsed, source: addresses.source, destination: addresses.destination,
                                           partialChecksumAt: offload.needsChecksum ? offload.checksumField : nil)
        }
        var offload = offload
        if offload.isSuperFrame, !offload.needsChecksum, let parsed {
            offload = Self.deferChecksum(in: UnsafeMutableRawBufferPointer(start: destination, count: bytes.count),
                                         of: parsed, source: addresses?.source ?? parsed.pseudoHeaderSource,
                                         destination: addresses?.destination ?? parsed.pseudoHeaderDestination,
                                         offload: offload)
        }
        return transmit.submit(slot, length: bytes.count, offload: offload)
    }

    /// A super-frame merged by receive offload (GRO, LRO) comes with its
    /// segments' checksums verified (DATA_VALID, no NEEDS_CSUM) and the
    /// first segment's checksum in the field, not one over the merged
    /// payload: whoever segments or receives it must compute them. The
    /// field gets the pseudo-header sum over the final addresses and the
    /// whole upper-layer length, uncomplemented, which is what the kernel's
    /// TCP leaves there for CHECKSUM_PARTIAL (tcp_v6_send_check; GSO
    /// adjusts the length per segment), and the offload asks for the
    /// checksum (NEEDS_CSUM). Other protocols keep the offload as it is.
    @inline(__always)
    static func deferChecksum(in frame: UnsafeMutableRawBufferPointer, of packet: ParsedPacket, source: IPv6Address,
                              destination: IPv6Address, offload: PacketOffload) -> PacketOffload {
        guard !packet.isFragment, let offset = packet.upperLayerOffset else { return offload }
        let field: Int
        switch packet.upperLayerProtocol {
        case .tcp: field = TCPHeaderView.Field.checksum
        case .udp: field = UDPHeaderView.Field.checksum
        default: return offload
        }
        let end = packet.packetEnd
        guard offset + field + 2 <= end, end <= frame.count, offset <= Int(UInt16.max) else { return offload }
        let pseudo = InternetChecksum.pseudoHeaderSum(
            source: source, destination: destination, upperLayerLength: UInt32(truncatingIfNeeded: end - offset),
            nextHeader: packet.upperLayerProtocol)
        frame.storeBytes(of: InternetChecksum.fold(pseudo).bigEndian, toByteOffset: offset + field, as: UInt16.self)
        var deferred = offload
        deferred.flags |= PacketOffload.needsChecksumFlag
        deferred.checksumStart = UInt16(offset)
        deferred.checksumOffset = UInt16(field)
        return deferred
    }

    /// A frame the sender handed over with checksum offload pending
    /// (TP_STATUS_CSUMNOTREADY: CHECKSUM_PARTIAL, as a veth peer's stack
    /// sends them) carries only a partial TCP/UDP checksum; the host's
    /// kernel behind the upper port would reject it. The checksum is
    /// computed over the pseudo-header and the whole upper-layer message
    /// (RFC 8200 section 8.1; a UDP result of zero is sent as 0xFFFF).
    /// Fragments and other protocols are left alone.
    @inline(__always)
    static func completeChecksum(in frame: UnsafeMutableRawBufferPointer, of packet: ParsedPacket) {
        guard !packet.isFragment, let offset = packet.upperLayerOffset else { return }
        let field: Int
        switch packet.upperLayerProtocol {
        case .tcp: field = offset + 16
        case .udp: field = offset + 6
        default: return
        }
        let end = packet.packetEnd
        guard offset < end, field + 2 <= end, end <= frame.count else { return }
        frame.storeBytes(of: 0, toByteOffset: field, as: UInt16.self)
        var checksum = InternetChecksum.upperLayerChecksum(
            source: packet.pseudoHeaderSource, destination: packet.pseudoHeaderDestination,
            nextHeader: packet.upperLayerProtocol, message: UnsafeRawBufferPointer(rebasing: frame[offset..<end]))
        if checksum == 0 && packet.upperLayerProtocol == .udp { checksum = 0xFFFF }
        frame.storeBytes(of: checksum.bigEndian, toByteOffset: field, as: UInt16.self)
    }
}
