import HomelessCore
import HomelessSecurity
import HomelessWire

/// A frame the slow path sends: complete with its Ethernet header.
struct SlowPathFrame: Equatable, Sendable {
    enum Port: Equatable, Sendable {
        /// Out of the wire interface.
        case wire
        /// Up to the host's kernel through the upper port.
        case upper
    }

    var port: Port
    /// Index of the engine's wire (`--wire` order) to send on.
    var wire: Int = 0
    var bytes: [UInt8]
}

/// Why the slow path dropped a punted frame, for the counters and logs.
enum SignallingDrop: String, Equatable, Sendable {
    /// A Binding Update or Acknowledgement without AH, or whose AH did not
    /// verify (draft 2.4: every Binding Update and Acknowledgement is protected).
    case authenticationFailed = "authentication-failed"
    /// The Destination Options did not decode.
    case malformedSignalling = "malformed-signalling"
    /// A Binding Update for a peer the Host Cache does not know, not covered
    /// by an SA that stands in for the handshake (2.3.4).
    case unknownPeer = "unknown-peer"
    /// The Host Cache refused the update (stale entry, address not in it).
    case hostCacheRefused = "host-cache-refused"
}

/// The mobility half of the slow path (docs/MOBILITY.md section 8): owns
/// the SA database and the per-peer state machines, drives the Host Cache,
/// and turns punted frames, address events and timers into signalling
/// frames. No I/O and no clock of its own: every call takes `now` and
/// returns the frames to send, so tests drive it with a manual clock.
///
/// Single-threaded: only the slow-path thread calls it. The Host Cache is
/// shared with the control thread (`homeless show cache`) through the
/// engine's mutex, taken for each operation; the SA database through a
/// copy published after each change (`homeless show sa`).
final class MobilityController {
    private let hostCache: HostCacheAccess
    /// Every change is published for the control thread (`homeless show sa`).
    private(set) var securityAssociations: SecurityAssociationDatabase {
        didSet { publishedAssociations.publish(securityAssociations) }
    }
    private let publishedAssociations: SecurityAssociationAccess
    private(set) var mobility: PeerMobilityTable
    private var random: SplitMix64
    /// Per peer entry: the Ethernet header (14 octets, addresses already
    /// swapped for sending) of the last frame received from it. Signalling
    /// toward the peer reuses it: the next hop that delivered the peer's
    /// packets is the one to send back through, and the engine keeps no
    /// neighbour cache of its own.
    private var linkHeaders: [HostCacheEntryID: (header: [UInt8], wire: Int)] = [:]
    /// Peers whose first reply is still awaited (2.1.2), by peer ULID.
    private var awaitingReply: [IPv6Address: HostCacheEntryID] = [:]
    private(set) var statistics = MobilityStatistics()

    init(hostCache: HostCacheAccess, securityAssociations: SecurityAssociationDatabase,
         localAddresses: [IPv6Address], parameters: MobilityParameters = MobilityParameters(), seed: UInt64,
         publishingTo publishedAssociations: SecurityAssociationAccess = SecurityAssociationAccess()) {
        self.hostCache = hostCache
        self.securityAssociations = securityAssociations
        self.publishedAssociations = publishedAssociations
        publishedAssociations.publish(securityAssociations)
        mobility = PeerMobilityTable(parameters: parameters, localAddresses: localAddresses)
        random = SplitMix64(seed: seed)
    }

    // MARK: Outbound notes

    /// An outbound frame from the upper port that may open a conversation
    /// (a TCP SYN; the worker forwarded it already). Creates the peer's
    /// Foreign entry and its state machine (2.1.1) when it does.
    func noteOutbound(_ frame: UnsafeRawBufferPointer, now: MonotonicInstant) {
        guard let packet = try? ParsedPacket.parse(frame) else { return }
        let hasEntry = hostCache.read { $0.index.lookupForeign(packet.destination).map { !$0.isExpired } ?? false }
        let flags = OutboundInitiation.tcpFlags(of: packet, in: frame)
        guard case .createEntry(let local, let peer) = OutboundInitiation.classify(packet, tcpFlags: flags, hasEntry: hasEntry)
        else { return }
        // Without an SA for the peer no Binding Update could be sent (2.4.2):
        // the peer stays a plain peer and its packets pass untranslated.
        guard securityAssociations.outbound(entry: nil, destination: peer) != nil else { return }
        let creation: ForeignEntryCreation
        do {
            creation = try hostCache.write { (cache) throws(HostCacheError) in try cache.createForeignEntry(for: peer, trust: .trusted) }
        } catch {
            statistics.entryCreationFailures += 1
            return
        }
        let entry = creation.id
        guard mobility.peers[entry] == nil else { return }
        mobility.addPeer(entry, localIdentifier: local, peerIdentifier: peer,
                         initialSequence: UInt16(truncatingIfNeeded: random.next()))
        _ = securityAssociations.bind(spi: outboundSPI(for: peer) ?? 0, direction: .outbound, to: entry)
        awaitingReply[peer] = entry
        statistics.entriesCreated += 1
    }

    /// An inbound frame from a peer we may be waiting for (2.1.2: the
    /// Initial Binding Update follows the peer's first reply).
    func noteInbound(_ frame: UnsafeRawBufferPointer, wire: Int = 0, now: MonotonicInstant) -> [SlowPathFrame] {
        guard let packet = try? ParsedPacket.parse(frame), let entry = awaitingReply[packet.source] else { return [] }
        awaitingReply[packet.source] = nil
        rememberLinkHeader(of: frame, packet: packet, wire: wire, for: entry)
        return perform(mobility.handle(.firstReplyReceived, for: entry, now: now) ?? [], for: entry)
    }

    // MARK: Inbound signalling

    /// The outcome of one punted inbound frame with Mobile IPv6 options.
    struct InboundResult {
        /// Frames to send (the Binding Acknowledgement, our own updates).
        var frames: [SlowPathFrame] = []
        /// True when the packet was signalling only (Next Header 59) and is
        /// consumed; false when it goes on to the kernel unchanged.
        var consumed = false
        var drop: SignallingDrop?
    }

    /// Verifies and applies a received Binding Update / Acknowledgement
    /// (draft 3.2, 2.4).
    func handleInbound(_ frame: UnsafeRawBufferPointer, wire: Int = 0, now: MonotonicInstant) -> InboundResult {
        var result = InboundResult()
        guard let packet = try? ParsedPacket.parse(frame) else {
            result.drop = .malformedSignalling
            return result
        }
        let signalling = packet.mobilityOptions.bindingUpdate != nil || packet.mobilityOptions.bindingAcknowledgement != nil
        guard signalling else { return result }
        let end = min(packet.packetEnd, frame.count)
        guard packet.ipv6Offset >= 0, packet.ipv6Offset <= end else {
            result.drop = .malformedSignalling
            return result
        }
        let ipv6 = UnsafeRawBufferPointer(rebasing: frame[packet.ipv6Offset..<end])
        let verification = securityAssociations.verifyInbound(ipv6)
        guard verification.verdict == .ok else {
            statistics.authenticationFailures += 1
            result.drop = .authenticationFailed
            return result
        }
        guard let headerOffset = packet.mobilityOptions.bindingUpdateHeader ?? packet.mobilityOptions.bindingAcknowledgementHeader,
              let view = try? OptionsHeaderView(checking: frame, at: headerOffset, limit: packet.packetEnd),
              let options = try? DestinationOptionsHeader(view)
        else {
            result.drop = .malformedSignalling
            return result
        }
        var updates: [BindingUpdate] = []
        var acknowledgements: [BindingAcknowledgement] = []
        for option in options.options {
            switch option {
            case .bindingUpdate(let update): updates.append(update)
            case .bindingAcknowledgement(let acknowledgement): acknowledgements.append(acknowledgement)
            case .homeAddress, .bindingRequest, .other: break
            }
        }
        let identifier = packet.homeAddress ?? packet.source
        let entry: HostCacheEntryID
        if let match = hostCache.read({ $0.foreignMatch(for: identifier) }) {
            entry = match.entry
        } else if !updates.isEmpty, let known = adoptPeer(identifier, localIdentifier: packet.destination, updates: updates) {
            entry = known
        } else {
            statistics.unknownPeers += 1
            result.drop = .unknownPeer
            return result
        }
        rememberLinkHeader(of: frame, packet: packet, wire: wire, for: entry)
        if !updates.isEmpty {
            let outcome: BindingUpdateOutcome
            do {
                outcome = try hostCache.write { (cache) throws(HostCacheError) in
                    try cache.applyBindingUpdates(updates, to: entry, matchedBy: packet.homeAddress == nil ? .packetSource : .homeAddressOption,
                                                  packetSource: packet.source, homeAddress: packet.homeAddress)
                }
            } catch {
                statistics.hostCacheRefusals += 1
                result.drop = .hostCacheRefused
                return result
            }
            statistics.bindingUpdatesApplied += UInt64(updates.count)
            if let peer = mobility.peers[entry]?.peerIdentifier,
               let acknowledgement = signed({ (association) throws(MobilitySignallingError) in
                   try MobilitySignallingPacket.bindingAcknowledgement(outcome.acknowledgements, source: packet.destination,
                                                                      destination: packet.source, association: &association)
               }, peer: peer, entry: entry) {
                result.frames.append(SlowPathFrame(port: .wire, wire: acknowledgement.wire, bytes: acknowledgement.bytes))
                statistics.acknowledgementsSent += 1
            }
            let homeless = updates.first?.subOptions.contains(.homelessSupport) ?? false
            result.frames += perform(mobility.handle(.peerBindingUpdateReceived(homelessSupport: homeless), for: entry, now: now) ?? [],
                                     for: entry)
        }
        for acknowledgement in acknowledgements {
            statistics.acknowledgementsReceived += 1
            result.frames += perform(mobility.handle(.bindingAcknowledgementReceived(
                sequence: acknowledgement.sequence, status: acknowledgement.status, lifetime: acknowledgement.lifetime),
                for: entry, now: now) ?? [], for: entry)
        }
        _ = hostCache.read { cache in cache.noteReceived(from: packet.source, entry: entry) }
        result.consumed = packet.upperLayerProtocol == .noNextHeader
        return result
    }

    /// A Binding Update from a peer without an entry. Nothing creates an
    /// entry because a packet arrived (2.3.4), except an authenticated one:
    /// the anonymous-authentication handshake creates the responder's entry
    /// (2.4.3, A.2) and a manually keyed SA with the peer stands in for it,
    /// the AH having verified. The packet's source (or home address) becomes
    /// the peer's ULID, the address it was sent to ours.
    private func adoptPeer(_ identifier: IPv6Address, localIdentifier: IPv6Address, updates: [BindingUpdate]) -> HostCacheEntryID? {
        guard securityAssociations.outbound(entry: nil, destination: identifier) != nil else { return nil }
        guard let creation = try? hostCache.write({ (cache) throws(HostCacheError) in
            try cache.createForeignEntry(for: identifier, trust: .trusted)
        }) else { return nil }
        let entry = creation.id
        if mobility.peers[entry] == nil {
            mobility.addPeer(entry, localIdentifier: localIdentifier, peerIdentifier: identifier,
                             initialSequence: UInt16(truncatingIfNeeded: random.next()))
        }
        _ = securityAssociations.bind(spi: outboundSPI(for: identifier) ?? 0, direction: .outbound, to: entry)
        statistics.entriesCreated += 1
        return entry
    }

    // MARK: Address events and timers

    func localAddressAdded(_ address: IPv6Address, now: MonotonicInstant) -> [SlowPathFrame] {
        mobility.localAddressAdded(address, now: now).flatMap { perform($0.actions, for: $0.entry) }
    }

    func localAddressRemoved(_ address: IPv6Address, now: MonotonicInstant) -> [SlowPathFrame] {
        mobility.localAddressRemoved(address, now: now).flatMap { perform($0.actions, for: $0.entry) }
    }

    var nextDeadline: MonotonicInstant? { mobility.nextDeadline }

    func fireTimers(now: MonotonicInstant) -> [SlowPathFrame] {
        mobility.fireTimers(now: now).flatMap { perform($0.actions, for: $0.entry) }
    }

    /// Local ULIDs some peer's connection still uses (DESIGN section 1: a
    /// ULID stays a local address for the kernel while an entry refers to it).
    var localIdentifiersInUse: Set<IPv6Address> { Set(mobility.peers.values.map(\.localIdentifier)) }

    // MARK: Translation

    /// The translation each peer needs now: identifiers as the connection
    /// started, locators as the peer's state machine and Host Cache entry
    /// say (our preferred source, 2.2.1; the peer's preferred destination,
    /// 1.4). Only for Homeless peers: for the others the wire addresses are
    /// the connection's (their packets pass untranslated).
    func translations() -> [TranslationRecord] {
        var records: [TranslationRecord] = []
        for (entry, state) in mobility.peers {
            guard let published = hostCache.index.entries.read(entry), published.capability == .homeless else { continue }
            let record = TranslationRecord(
                localIdentifier: state.localIdentifier, peerIdentifier: state.peerIdentifier,
                localLocator: state.preferredSource ?? state.localIdentifier,
                peerLocator: published.preferredDestination ?? state.peerIdentifier)
            records.append(record)
        }
        return records
    }

    /// Publishes `translations()` to the workers' table, withdrawing peers
    /// that are gone.
    func publishTranslations(to table: TranslationTable) {
        let current = translations()
        let peers = Set(current.map(\.peerIdentifier))
        for old in table.publishedRecords where !peers.contains(old.peerIdentifier) {
            table.withdraw(peerIdentifier: old.peerIdentifier)
        }
        for record in current where !table.publish(record) {
            statistics.translationTableFull += 1
        }
    }

    // MARK: Actions

    /// Carries out a peer's actions: Host Cache changes, and the Binding
    /// Updates to send. Piggyback offers are sent standalone: the fast path
    /// does not rewrite data packets to carry options.
    private func perform(_ actions: [PeerMobilityAction], for entry: HostCacheEntryID) -> [SlowPathFrame] {
        _ = try? hostCache.write { (cache) throws(HostCacheError) in try cache.apply(actions, for: entry) }
        var frames: [SlowPathFrame] = []
        guard let peer = mobility.peers[entry]?.peerIdentifier else { return frames }
        for action in actions {
            switch action {
            case .sendStandalone(let spec), .offerPiggyback(let spec):
                if let signalling = signed({ (association) throws(MobilitySignallingError) in
                    try MobilitySignallingPacket.standaloneBindingUpdate(spec, association: &association)
                }, peer: peer, entry: entry) {
                    frames.append(SlowPathFrame(port: .wire, wire: signalling.wire, bytes: signalling.bytes))
                    statistics.bindingUpdatesSent += 1
                }
                if case .offerPiggyback(let spec) = action {
                    _ = mobility.handle(.piggybackSent(firstSequence: spec.firstSequence), for: entry, now: hostCache.now)
                }
            case .withdrawPiggybackOffer, .markCapability, .scheduleTimer:
                break
            }
        }
        return frames
    }

    /// Builds a signalling packet with the peer's outbound SA (whose
    /// sequence counter moves) and puts the peer's link header in front.
    private func signed(_ build: (inout SecurityAssociation) throws(MobilitySignallingError) -> [UInt8]?,
                        peer: IPv6Address, entry: HostCacheEntryID) -> (bytes: [UInt8], wire: Int)? {
        guard var association = securityAssociations.outbound(entry: entry, destination: peer),
              let link = linkHeaders[entry] else {
            statistics.signallingNotSent += 1
            return nil
        }
        let packet: [UInt8]?
        do { packet = try build(&association) } catch {
            statistics.signallingNotSent += 1
            return nil
        }
        // Keep the advanced sequence counter: the peer's replay window
        // refuses a number it has seen (RFC 4302 3.3.3).
        let spi = association.spi
        var updated = securityAssociations
        updated.removeAll { $0.spi == spi && $0.direction == .outbound }
        if (try? updated.add(association)) != nil { securityAssociations = updated }
        guard let packet else { return nil }
        return (link.header + packet, link.wire)
    }

    private func outboundSPI(for destination: IPv6Address) -> UInt32? {
        securityAssociations.outbound(entry: nil, destination: destination)?.spi
    }

    private func rememberLinkHeader(of frame: UnsafeRawBufferPointer, packet: ParsedPacket, wire: Int, for entry: HostCacheEntryID) {
        guard packet.ipv6Offset == 14, frame.count >= 14 else { return }
        var header = [UInt8](repeating: 0, count: 14)
        for index in 0..<6 {
            header[index] = frame[6 + index]
            header[6 + index] = frame[index]
        }
        header[12] = 0x86
        header[13] = 0xDD
        linkHeaders[entry] = (header, wire)
    }
}

/// Counts the slow path's mobility work, for `homeless show stats`.
struct MobilityStatistics: Equatable, Sendable {
    var entriesCreated: UInt64 = 0
    var entryCreationFailures: UInt64 = 0
    var bindingUpdatesApplied: UInt64 = 0
    var bindingUpdatesSent: UInt64 = 0
    var acknowledgementsSent: UInt64 = 0
    var acknowledgementsReceived: UInt64 = 0
    var authenticationFailures: UInt64 = 0
    var unknownPeers: UInt64 = 0
    var hostCacheRefusals: UInt64 = 0
    var signallingNotSent: UInt64 = 0
    var translationTableFull: UInt64 = 0
}
