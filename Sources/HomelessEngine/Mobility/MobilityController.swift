import HomelessCore
import HomelessSecurity
import HomelessWire

/// A frame the slow path sends.
struct SlowPathFrame: Equatable, Sendable {
    enum Port: Equatable, Sendable {
        /// Out of the wire interface; `bytes` start with the Ethernet header.
        case wire
        /// Up to the host's kernel through the upper port; `bytes` start
        /// with the Ethernet header.
        case upper
        /// An IPv6 packet (no link header) the host's kernel routes out of
        /// the wire's upper-port kernel side: the kernel picks the next hop
        /// and resolves its link address, then the packet passes the
        /// engine's worker to the wire (`KernelRoutedSocket`).
        case kernelRouted
    }

    var port: Port
    /// Index of the engine's wire (`--wire` order) to send on.
    var wire: Int = 0
    var bytes: [UInt8]
}

/// Why the slow path dropped a punted frame, for the counters and logs.
enum SignallingDrop: String, Error, Equatable, Sendable {
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
    /// The AH verified, but its SA may not change the entry or addresses
    /// the packet names (draft 2.4.2, 3.3.1, 5.3; `SignallingRefusal`).
    case unauthorised = "unauthorised"
    /// A Home Address option without a Binding Update in the packet: draft
    /// 2.3.1 says it MUST come with one (and AH). Passed on, the kernel
    /// would take the option's address as the packet's source (RFC 6275
    /// 9.3.1), an unauthenticated claim to any address.
    case homeAddressWithoutBindingUpdate = "home-address-without-binding-update"
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
    /// Settable inside the module: SAs made outside the controller (tests
    /// install many peers' SAs in one step) are published the same way.
    var securityAssociations: SecurityAssociationDatabase {
        didSet { publishedAssociations.publish(securityAssociations) }
    }
    private let publishedAssociations: SecurityAssociationAccess
    private(set) var mobility: PeerMobilityTable
    private var random: SplitMix64
    /// The wire (`--wire` order) each local address lives on: signalling
    /// leaves through the link its source address belongs to (a Binding
    /// Update from a new link's address must not go out of the old link).
    private var addressWires: [IPv6Address: Int] = [:]
    /// Peers whose Initial Binding Update went out inside message 3.
    private var initialUpdateInMessage3: Set<IPv6Address> = []
    /// Per peer entry: the locator translations use now and the one before
    /// (packets from it may still be in flight after the peer moved).
    private var peerLocatorHistory: [HostCacheEntryID: (current: IPv6Address, previous: IPv6Address)] = [:]
    /// Binding Updates offered for piggybacking, per peer (until a data
    /// packet takes them or the state machine withdraws the offer).
    private var piggybackOffers: [HostCacheEntryID: BindingUpdateSpec] = [:]
    /// Per peer entry: the wire its last packet arrived on, for a source
    /// address of no known wire.
    private var lastHeardWire: [HostCacheEntryID: Int] = [:]
    /// Peers whose first reply is still awaited (2.1.2), by peer ULID.
    private var awaitingReply: [IPv6Address: HostCacheEntryID] = [:]
    private(set) var statistics = MobilityStatistics()
    /// Refusals of verified signalling not yet logged (`takeRefusals`). A
    /// peer with an SA can send them at line rate: at most 10 a second are
    /// recorded (a burst of 10), the rest only counted.
    private var pendingRefusals: [SignallingRefusalRecord] = []
    private var refusalLogBudget: ProbeTokenBucket

    /// The anonymous-authentication handshake (draft 2.4.3, A.2,
    /// docs/HANDSHAKE.md) toward peers without a manually keyed SA; nil
    /// when the engine runs without it (`--anonymous-handshake`).
    private var handshake: AnonymousHandshakeController<SystemRandomNumberGenerator>?
    /// The counters as last published (`homeless show stats`).
    let publishedStatistics = SlowPathStatisticsAccess()
    /// Return routability (beyond the draft, RFC 4225 3.1, docs/HANDSHAKE.md
    /// "Address verification"): a peer's new locator receives data only
    /// after it answered a probe with a nonce.
    private(set) var addressVerification: ReturnRoutability
    /// Upper-layer protocol of the handshake and the address probes.
    private let handshakeNextHeader: UInt8

    init(hostCache: HostCacheAccess, securityAssociations: SecurityAssociationDatabase,
         localAddresses: [IPv6Address], parameters: MobilityParameters = MobilityParameters(), seed: UInt64,
         publishingTo publishedAssociations: SecurityAssociationAccess = SecurityAssociationAccess(),
         handshake: AnonymousHandshakeConfiguration? = nil) {
        self.handshake = handshake.map {
            AnonymousHandshakeController(configuration: $0, now: hostCache.now, random: SystemRandomNumberGenerator())
        }
        handshakeNextHeader = handshake?.nextHeader ?? HandshakeConstants.defaultNextHeader
        addressVerification = ReturnRoutability(now: hostCache.now)
        refusalLogBudget = ProbeTokenBucket(rate: 10, burst: 10, now: hostCache.now)
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
    func noteOutbound(_ frame: UnsafeRawBufferPointer, now: MonotonicInstant) -> [SlowPathFrame] {
        guard let packet = try? ParsedPacket.parse(frame) else { return [] }
        let hasEntry = hostCache.read { $0.index.lookupForeign(packet.destination).map { !$0.isExpired } ?? false }
        let flags = OutboundInitiation.tcpFlags(of: packet, in: frame)
        guard case .createEntry(let local, let peer) = OutboundInitiation.classify(packet, tcpFlags: flags, hasEntry: hasEntry)
        else { return [] }
        // Without an SA for the peer no Binding Update could be sent (2.4.2):
        // the anonymous handshake makes one when it runs; otherwise the
        // peer stays a plain peer and its packets pass untranslated.
        guard securityAssociations.outbound(entry: nil, destination: peer) != nil else {
            return startHandshake(local: local, peer: peer, now: now)
        }
        guard let (entry, isNew) = trackPeer(peer, localIdentifier: local, trust: .trusted), isNew else { return [] }
        _ = securityAssociations.bind(spi: outboundSPI(for: peer) ?? 0, direction: .outbound, to: entry)
        awaitingReply[peer] = entry
        return []
    }

    /// The Foreign entry for a peer this host has an authenticated
    /// conversation with, and the peer's state machine with this
    /// conversation's ULIDs when it has none yet. `isNew`: the state
    /// machine was made now. Nil (counted) when the Host Cache refuses.
    ///
    /// Draft 5.2 policy in force: `trust` is `.trusted` for peers of a
    /// configured (manual) SA, whose keys an operator vouched for, and
    /// `.untrusted` for peers known only through the anonymous handshake,
    /// which proves nothing about who the peer is. Untrusted entries get
    /// capped Binding Update lifetimes and addresses, and when the cache is
    /// full a random one of them is evicted for the new entry (its SAs and
    /// per-peer state go with it, `forgetPeers`); trusted ones never are, so
    /// a cache full of trusted entries refuses the new peer (counted as
    /// `entries-refused-cache-full`).
    private func trackPeer(_ peer: IPv6Address, localIdentifier: IPv6Address,
                           trust: TrustClass) -> (entry: HostCacheEntryID, isNew: Bool)? {
        let creation: ForeignEntryCreation
        do throws(HostCacheError) {
            creation = try hostCache.write { (cache) throws(HostCacheError) in
                try cache.createForeignEntry(for: peer, trust: trust)
            }
        } catch {
            statistics.entryCreationFailures += 1
            if case .cacheFull = error { statistics.entriesRefusedCacheFull += 1 }
            return nil
        }
        if case .created(_, let evicted, _) = creation, !evicted.isEmpty {
            forgetPeers(evicted, reason: .evicted)
        }
        let entry = creation.id
        guard mobility.peers[entry] == nil else { return (entry, false) }
        mobility.addPeer(entry, localIdentifier: localIdentifier, peerIdentifier: peer,
                         initialSequence: UInt16(truncatingIfNeeded: random.next()))
        statistics.entriesCreated += 1
        return (entry, true)
    }

    /// An inbound frame from a peer we may be waiting for (2.1.2: the
    /// Initial Binding Update follows the peer's first reply).
    func noteInbound(_ frame: UnsafeRawBufferPointer, wire: Int = 0, now: MonotonicInstant) -> [SlowPathFrame] {
        guard let packet = try? ParsedPacket.parse(frame) else { return [] }
        if packet.upperLayerProtocol == .icmpv6 { return handleParameterProblem(frame, packet, now: now) }
        guard let entry = awaitingReply[packet.source] else { return [] }
        awaitingReply[packet.source] = nil
        lastHeardWire[entry] = wire
        return perform(mobility.handle(.firstReplyReceived, for: entry, now: now) ?? [], for: entry)
    }

    /// An ICMPv6 Parameter Problem (the worker notes every one it
    /// forwards): when it rejects the Home Address or Binding Update option
    /// of one of our Binding Updates to a peer (draft 2.2.4, 3.2.1), the
    /// peer is a Standard Host and gets no more Binding Updates. ICMPv6 is
    /// not authenticated, so the quoted packet must carry the AH SPI of our
    /// outbound SA for that peer: an attacker off the path cannot know it
    /// (with the handshake it is random) and so cannot switch a Homeless
    /// peer's mobility off with a forged error.
    private func handleParameterProblem(_ frame: UnsafeRawBufferPointer, _ packet: ParsedPacket,
                                        now: MonotonicInstant) -> [SlowPathFrame] {
        let end = min(packet.packetEnd, frame.count)
        guard let offset = packet.upperLayerOffset, offset < end else { return [] }
        let message = UnsafeRawBufferPointer(rebasing: frame[offset..<end])
        guard let rejection = InitialBindingUpdateRejection.match(icmpMessage: message) else { return [] }
        let quoted = ICMPv6View.Field.body
        guard let match = hostCache.read({ $0.foreignMatch(for: rejection.invokingDestination) }),
              mobility.peers[match.entry] != nil,
              let association = securityAssociations.outbound(entry: match.entry, destination: rejection.invokingDestination),
              message.count >= quoted + 48, message[quoted + 6] == IPProtocol.authentication.rawValue,
              UInt32(bigEndian: message.loadUnaligned(fromByteOffset: quoted + 44, as: UInt32.self)) == association.spi
        else {
            statistics.parameterProblemsIgnored += 1
            return []
        }
        statistics.parameterProblemsAccepted += 1
        return perform(mobility.handle(.parameterProblem(pointsAtMobilityOption: true), for: match.entry, now: now) ?? [],
                       for: match.entry)
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
        /// The data packet behind piggybacked Binding Updates, AH and
        /// Destination Options removed and translated to the ULIDs: what
        /// goes up to the kernel instead of the frame (whose AH the kernel
        /// would not know).
        var reinject: [UInt8]?
    }

    /// Verifies and applies a received Binding Update / Acknowledgement
    /// (draft 3.2, 2.4).
    func handleInbound(_ frame: UnsafeRawBufferPointer, wire: Int = 0, now: MonotonicInstant) -> InboundResult {
        var result = InboundResult()
        guard let packet = try? ParsedPacket.parse(frame) else {
            result.drop = .malformedSignalling
            return result
        }
        if packet.homeAddress != nil, packet.mobilityOptions.bindingUpdate == nil {
            statistics.homeAddressWithoutBindingUpdate += 1
            result.drop = .homeAddressWithoutBindingUpdate
            return result
        }
        let signalling = packet.mobilityOptions.bindingUpdate != nil || packet.mobilityOptions.bindingAcknowledgement != nil
            || packet.mobilityOptions.bindingRequest != nil
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
        // An authenticated packet under a handshake's SA confirms the keys
        // to the initiator (message 3 needs no more retransmissions).
        if var controller = handshake {
            _ = controller.confirm(inboundSPI: verification.spi)
            handshake = controller
        }
        guard let headerOffset = packet.mobilityOptions.bindingUpdateHeader ?? packet.mobilityOptions.bindingAcknowledgementHeader
                ?? packet.mobilityOptions.bindingRequestHeader,
              let view = try? OptionsHeaderView(checking: frame, at: headerOffset, limit: packet.packetEnd),
              let options = try? DestinationOptionsHeader(view)
        else {
            result.drop = .malformedSignalling
            return result
        }
        let messages = MobilityMessages(options)
        let updates = messages.updates, acknowledgements = messages.acknowledgements
        let bindingRequested = messages.bindingRequested
        let identifier = packet.homeAddress ?? packet.source
        let content = ProtectedContent.classify(ipv6, payloadOffset: verification.payloadOffset,
                                                nextHeader: verification.nextHeader)
        let entry: HostCacheEntryID
        switch authorise(spi: verification.spi, content: content, claimed: identifier, source: packet.source,
                         updates: updates) {
        case .entry(let known, _):
            entry = known
        case .createEntry:
            guard let created = adoptPeer(identifier, localIdentifier: packet.destination, inboundSPI: verification.spi)
            else {
                statistics.unknownPeers += 1
                result.drop = .unknownPeer
                return result
            }
            entry = created
        case .unknownPeer:
            statistics.unknownPeers += 1
            result.drop = .unknownPeer
            return result
        case .refused:
            result.drop = .unauthorised
            return result
        }
        lastHeardWire[entry] = wire
        if !updates.isEmpty {
            switch applyVerifiedUpdates(updates, to: entry, source: packet.source, destination: packet.destination,
                                        homeAddress: packet.homeAddress, now: now) {
            case .success(let frames): result.frames += frames
            case .failure(let drop):
                result.drop = drop
                return result
            }
        }
        for acknowledgement in acknowledgements {
            statistics.acknowledgementsReceived += 1
            result.frames += perform(mobility.handle(.bindingAcknowledgementReceived(
                sequence: acknowledgement.sequence, status: acknowledgement.status, lifetime: acknowledgement.lifetime),
                for: entry, now: now) ?? [], for: entry)
        }
        if bindingRequested {
            // 2.1.2, 3.2: a Binding Request is answered with a Binding
            // Update registering every address (refreshes forced).
            statistics.bindingRequestsReceived += 1
            result.frames += perform(mobility.handle(.bindingRequestReceived, for: entry, now: now) ?? [], for: entry)
        }
        _ = hostCache.read { cache in cache.noteReceived(from: packet.source, entry: entry) }
        result.consumed = packet.upperLayerProtocol == .noNextHeader
        if !result.consumed, !updates.isEmpty, let data = dataBehindPiggyback(frame, packet) {
            statistics.piggybackedUpdatesReceived += 1
            result.reinject = data
        }
        return result
    }

    /// The data packet of a frame that carried Binding Updates on it
    /// (IPv6 | AH | Destination Options | upper layer, as 2.2.1 sends
    /// them): the two headers removed, Next Header and Payload Length
    /// fixed, and the addresses translated to the ULIDs with the checksum
    /// updated, as the workers do for every other packet of the peer. Nil
    /// for any other layout (the frame then goes on unchanged).
    private func dataBehindPiggyback(_ frame: UnsafeRawBufferPointer, _ packet: ParsedPacket) -> [UInt8]? {
        let ipv6 = packet.ipv6Offset
        guard packet.extensionHeaderCount == 2, packet.authenticationHeaderOffset == ipv6 + IPv6HeaderView.length,
              let options = packet.destinationOptionsOffset, options > ipv6 + IPv6HeaderView.length,
              let upper = packet.upperLayerOffset, upper > options, packet.packetEnd <= frame.count,
              !packet.isFragment, packet.homeAddress == nil else { return nil }
        let payload = packet.packetEnd - upper
        var bytes = Array(frame[0..<(ipv6 + IPv6HeaderView.length)]) + Array(frame[upper..<packet.packetEnd])
        bytes[ipv6 + IPv6HeaderView.Field.nextHeader] = packet.upperLayerProtocol.rawValue
        bytes[ipv6 + IPv6HeaderView.Field.payloadLength] = UInt8(truncatingIfNeeded: payload >> 8)
        bytes[ipv6 + IPv6HeaderView.Field.payloadLength + 1] = UInt8(truncatingIfNeeded: payload)
        guard let stripped = bytes.withUnsafeBytes({ try? ParsedPacket.parse($0) }) else { return nil }
        if let record = translations().first(where: {
            $0.matchesInbound(source: stripped.source, destination: stripped.destination)
        }) {
            bytes.withUnsafeMutableBytes { buffer in
                _ = LocatorTranslation.rewrite(buffer, packet: stripped, source: record.peerIdentifier,
                                               destination: record.localIdentifier)
            }
        }
        return bytes
    }

    /// Applies Binding Updates whose AH verified (draft 3.2.2): the Host
    /// Cache change, the Binding Acknowledgement back with the peer's
    /// outbound SA, and the peer's state machine told.
    private func applyVerifiedUpdates(_ updates: [BindingUpdate], to entry: HostCacheEntryID, source: IPv6Address,
                                      destination: IPv6Address, homeAddress: IPv6Address?,
                                      now: MonotonicInstant) -> Result<[SlowPathFrame], SignallingDrop> {
        let outcome: BindingUpdateOutcome
        do {
            outcome = try hostCache.write { (cache) throws(HostCacheError) in
                try cache.applyBindingUpdates(updates, to: entry, matchedBy: homeAddress == nil ? .packetSource : .homeAddressOption,
                                              packetSource: source, homeAddress: homeAddress)
            }
        } catch {
            statistics.hostCacheRefusals += 1
            return .failure(.hostCacheRefused)
        }
        // A Binding Update whose sequence number is not newer changes
        // nothing (MIPv6-12 5.1, status 141): counted apart, not as applied.
        let stale = outcome.dispositions.count { $0.rejection != nil }
        statistics.bindingUpdatesApplied += UInt64(max(0, updates.count - stale))
        statistics.bindingUpdatesStale += UInt64(stale)
        var frames: [SlowPathFrame] = []
        if let peer = mobility.peers[entry]?.peerIdentifier,
           let acknowledgement = signed({ (association) throws(MobilitySignallingError) in
               try MobilitySignallingPacket.bindingAcknowledgement(outcome.acknowledgements, source: destination,
                                                                  destination: source, association: &association)
           }, peer: peer, entry: entry) {
            frames.append(SlowPathFrame(port: .kernelRouted, wire: acknowledgement.wire, bytes: acknowledgement.bytes))
            statistics.acknowledgementsSent += 1
        }
        // Entries that went while applying the packet: untrusted ones
        // evicted for the addresses (5.2), one whose last expired address
        // was taken over (5.3), or this one (2.1.4).
        let others = outcome.removedEntries.filter { $0 != entry }
        if !others.isEmpty { forgetPeers(others, reason: .evicted) }
        if outcome.entryRemoved {
            forgetPeers([entry], reason: .retired)
            return .success(frames)
        }
        // A peer that went quiet (every address expired) and speaks again.
        if mobility.peers[entry]?.isDormant == true {
            frames += perform(mobility.handle(.activityResumed, for: entry, now: now) ?? [], for: entry)
        }
        let homeless = updates.first?.subOptions.contains(.homelessSupport) ?? false
        frames += perform(mobility.handle(.peerBindingUpdateReceived(homelessSupport: homeless), for: entry, now: now) ?? [],
                          for: entry)
        return .success(frames)
    }

    /// A Binding Update from a peer without an entry. Nothing creates an
    /// entry because a packet arrived (2.3.4), except an authenticated one:
    /// the anonymous-authentication handshake creates the responder's entry
    /// (2.4.3, A.2) and a manually keyed SA with the peer stands in for it,
    /// the AH having verified under the SA made for that address
    /// (`SignallingAuthorisation`). The packet's source (or home address)
    /// becomes the peer's ULID, the address it was sent to ours; both SAs
    /// are bound to the new entry (2.4.2).
    private func adoptPeer(_ identifier: IPv6Address, localIdentifier: IPv6Address, inboundSPI: UInt32) -> HostCacheEntryID? {
        guard let association = securityAssociations.outbound(entry: nil, destination: identifier),
              let (entry, _) = trackPeer(identifier, localIdentifier: localIdentifier,
                                         trust: association.associationClass == .generic ? .trusted : .untrusted)
        else { return nil }
        _ = securityAssociations.bind(spi: outboundSPI(for: identifier) ?? 0, direction: .outbound, to: entry)
        _ = securityAssociations.bind(spi: inboundSPI, direction: .inbound, to: entry)
        return entry
    }

    // MARK: Entry-bound authorisation (draft 2.4.2, 3.3.1, 5.3)

    /// Which entry signalling verified under the inbound SA `spi` may
    /// change (`SignallingAuthorisation.decide`). Binds an unbound SA to
    /// the entry it is allowed to take; counts and records a refusal.
    /// `claimed`: the Home Address option's address, else the source.
    private func authorise(spi: UInt32, content: ProtectedContent, claimed: IPv6Address, source: IPv6Address,
                           updates: [BindingUpdate]) -> SignallingAuthorisation.Decision {
        guard let association = securityAssociations.inbound(spi: spi) else { return .unknownPeer }
        var named: [IPv6Address] = updates.isEmpty ? [] : [source]
        for update in updates {
            for address in HostCache.registeredAddresses(of: update, packetSource: source) where !named.contains(address) {
                named.append(address)
            }
        }
        let associations = securityAssociations.associations
        let (owner, decision) = hostCache.read { cache -> (HostCacheEntryID?, SignallingAuthorisation.Decision) in
            let owner = cache.foreignMatch(for: claimed)?.entry
            let ownerHasOther = owner.map { owner in
                associations.contains { $0.direction == .inbound && $0.hostCacheEntry == owner && $0.spi != spi }
            } ?? false
            return (owner, SignallingAuthorisation.decide(
                association: association, content: content, claimed: claimed, owner: owner,
                ownerHasOtherAssociation: ownerHasOther, mayCreate: !updates.isEmpty, named: named,
                liveOwner: { address in cache.foreignMatch(for: address).flatMap { $0.isLive ? $0.entry : nil } }))
        }
        switch decision {
        case .entry(let entry, bind: true):
            _ = securityAssociations.bind(spi: spi, direction: .inbound, to: entry)
        case .refused(let reason):
            var record = SignallingRefusalRecord(reason: reason, spi: spi, claimed: claimed, owner: owner)
            if case .addressOfAnotherEntry(let address, let other) = reason {
                record.claimed = address
                record.owner = other
            }
            noteRefusal(record)
        default:
            break
        }
        return decision
    }

    private func noteRefusal(_ record: SignallingRefusalRecord) {
        statistics.count(record.reason)
        if refusalLogBudget.take(now: hostCache.now) { pendingRefusals.append(record) }
    }

    /// The refusals since the last call, for the log (the slow path logs
    /// them at warning level).
    func takeRefusals() -> [SignallingRefusalRecord] {
        defer { pendingRefusals.removeAll(keepingCapacity: true) }
        return pendingRefusals
    }

    // MARK: Expiry (2.1.3, 2.1.4, 2.2)

    /// ICMPv6 errors toward the local kernel: at most this many per second
    /// (RFC 4443 2.4 (f)), with a burst of as many.
    static let addressUnreachablePerSecond = 10.0
    private var unreachableTokens = MobilityController.addressUnreachablePerSecond
    private var unreachableRefilledAt: MonotonicInstant?

    /// The periodic sweep: restarts the activity-related lifetimes of
    /// addresses the workers carried traffic for since the last sweep
    /// (2.1.3), expires and purges addresses (`HostCache.expire`), and
    /// retires the peers whose entries went away (2.1.4). Returns the
    /// sweep's report for the log.
    ///
    /// The entry lifecycle (docs/MOBILITY.md "Entry lifecycle"): when every
    /// address of a peer's entry has expired the peer is idle: its state
    /// machine goes dormant (`idleTimeout`: no refresh Binding Updates, no
    /// retransmissions) until the peer's next Binding Update. The entry is
    /// removed when its last expired address is purged,
    /// MAXIMUM-EXPIRED-LIFETIME later, with its reference count zero: the
    /// draft's RECOMMENDED rule (2.1.4). The engine sees no connections
    /// (the host's kernel owns them), so it takes no references and the
    /// rule reduces to the addresses' lifetimes; a conversation keeps an
    /// entry alive through the traffic the workers see (activity
    /// lifetimes) and the peer's refresh Binding Updates. Retiring removes
    /// every per-peer structure (`forgetPeers`).
    func runExpiry(activity: AddressActivity) -> ExpiryReport {
        let used: [IPv6Address] = hostCache.read { cache in
            var used: [IPv6Address] = []
            for id in cache.entryIDs {
                guard let entry = cache.entry(id), entry.kind == .foreign else { continue }
                for record in entry.addresses.values where record.isLive {
                    if case .activity = record.lifetime, activity.wasUsedRecently(record.address) {
                        used.append(record.address)
                    }
                }
            }
            return used
        }
        _ = activity.advance()
        let report = (try? hostCache.write { (cache) throws(HostCacheError) -> ExpiryReport in
            for address in used { cache.touch(address) }
            return cache.expire()
        }) ?? ExpiryReport()
        for change in report.changes {
            switch change.kind {
            case .expired: statistics.addressesExpired += 1
            case .purged: statistics.addressesPurged += 1
            default: break
            }
        }
        // Peers whose entries went some other way (evicted by another
        // operation, removed on request) are retired here too.
        var gone = report.removedEntries
        let removed = Set(gone)
        let vanished: [HostCacheEntryID] = hostCache.read { cache in
            mobility.peers.keys.filter { !removed.contains($0) && cache.entry($0) == nil }
        }
        gone += vanished
        if !gone.isEmpty { forgetPeers(gone, reason: .retired) }
        // Idle peers: every address expired.
        var idle: Set<HostCacheEntryID> = []
        for change in report.changes where change.kind == .expired && mobility.peers[change.entry]?.isDormant == false {
            idle.insert(change.entry)
        }
        for entry in idle where hostCache.read({ $0.entry(entry)?.liveAddresses.isEmpty ?? false }) {
            statistics.peersIdled += 1
            _ = perform(mobility.handle(.idleTimeout, for: entry, now: hostCache.now) ?? [], for: entry)
        }
        return report
    }

    /// Why peers are forgotten.
    enum PeerRemoval {
        /// Their entry went by the lifecycle (2.1.4) or on request.
        case retired
        /// Their untrusted entry was evicted for room (5.2).
        case evicted
    }

    /// Drops everything the engine kept for removed entries: the state
    /// machines (so refresh Binding Updates stop), locator history,
    /// piggyback offers, wires, awaited replies, address verification, and
    /// the SAs: the anonymous handshake's SAs bound to the entries are
    /// deleted (a later conversation runs a new handshake); configured
    /// (generic) SAs stay, unbound, for a later entry of the same peer.
    /// The translation records and, with classifier steering, the peer
    /// routes and classifier entries follow at the next publication
    /// (`publishTranslations`, `peerAddresses`), which the slow path does
    /// after every frame and sweep. One pass over the SA database for the
    /// whole batch.
    func forgetPeers(_ entries: [HostCacheEntryID], reason: PeerRemoval) {
        let batch = Set(entries)
        for entry in batch {
            switch reason {
            case .retired: statistics.entriesRemoved += 1
            case .evicted: statistics.entriesEvicted += 1
            }
            if let peer = mobility.peers[entry]?.peerIdentifier {
                if awaitingReply[peer] == entry { awaitingReply[peer] = nil }
                initialUpdateInMessage3.remove(peer)
            }
            mobility.removePeer(entry)
            peerLocatorHistory[entry] = nil
            piggybackOffers[entry] = nil
            lastHeardWire[entry] = nil
            addressVerification.entryRemoved(entry)
        }
        guard securityAssociations.associations.contains(where: { $0.hostCacheEntry.map { batch.contains($0) } ?? false }) else {
            return
        }
        var database = securityAssociations
        let before = database.count
        database.removeAll { association in
            association.associationClass == .anonymous && (association.hostCacheEntry.map { batch.contains($0) } ?? false)
        }
        statistics.associationsRetired += UInt64(before - database.count)
        for association in database.associations where association.hostCacheEntry.map({ batch.contains($0) }) ?? false {
            _ = database.bind(spi: association.spi, direction: association.direction, to: nil)
        }
        securityAssociations = database
    }

    /// Answers an outbound frame the worker dropped because every address
    /// of its peer's entry expired: "the IP layer behaves as if there was
    /// an ICMP Destination Unreachable received" (draft 2.2). The error
    /// (RFC 4443 3.1, code 3, from the peer's ULID) goes up to the kernel,
    /// which reports it to the socket (EHOSTUNREACH). Rate-limited.
    func addressUnreachable(for frame: UnsafeRawBufferPointer, wire: Int, now: MonotonicInstant) -> [SlowPathFrame] {
        guard let packet = try? ParsedPacket.parse(frame), packet.ipv6Offset == 14,
              packet.packetEnd <= frame.count else { return [] }
        if let last = unreachableRefilledAt {
            let elapsed = Double(now.nanoseconds &- last.nanoseconds) / 1e9
            unreachableTokens = min(Self.addressUnreachablePerSecond, unreachableTokens + elapsed * Self.addressUnreachablePerSecond)
        }
        unreachableRefilledAt = now
        guard unreachableTokens >= 1 else {
            statistics.addressUnreachableRateLimited += 1
            return []
        }
        guard let error = AddressUnreachableMessage.build(
            invoking: UnsafeRawBufferPointer(rebasing: frame[packet.ipv6Offset..<packet.packetEnd])) else { return [] }
        unreachableTokens -= 1
        // Back to the sender: to the MAC it sent from, from the one it sent to.
        var bytes = Array(frame[6..<12]) + Array(frame[0..<6]) + [0x86, 0xDD]
        bytes += error
        statistics.addressUnreachableSent += 1
        return [SlowPathFrame(port: .upper, wire: wire, bytes: bytes)]
    }

    // MARK: Outbound frames the workers hand over

    /// An outbound frame the worker did not send: its peer is unreachable
    /// (every address expired, draft 2.2) or a Binding Update offer waits
    /// for a data packet (2.1.2, 2.2.1). The frame leaves translated, with
    /// the offered Binding Updates in a Destination Options header under AH
    /// when they fit, otherwise as it is; or it is answered with address
    /// unreachable. `records` are the translations the workers hold (the
    /// table's published records): the frame is judged as the worker
    /// judged it. `offerTaken` tells the caller to publish the
    /// translations again (the record's offer mark is gone).
    func outboundFrame(_ frame: UnsafeRawBufferPointer, wire: Int, records: [TranslationRecord],
                       now: MonotonicInstant) -> (frames: [SlowPathFrame], offerTaken: Bool) {
        guard let packet = try? ParsedPacket.parse(frame), packet.ipv6Offset == 14, packet.packetEnd <= frame.count,
              let record = records.first(where: {
                  $0.localIdentifier == packet.source && $0.peerIdentifier == packet.destination
              }) else { return ([], false) }
        if record.isPeerUnreachable { return (addressUnreachable(for: frame, wire: wire, now: now), false) }
        // The frame as the worker would have sent it: checksum complete,
        // addresses translated (RFC 1624 update).
        var bytes = Array(frame[0..<packet.packetEnd])
        bytes.withUnsafeMutableBytes { buffer in
            ForwardingWorker.completeChecksum(in: buffer, of: packet)
            _ = LocatorTranslation.rewrite(buffer, packet: packet, source: record.localLocator,
                                           destination: record.peerLocator)
        }
        let unchanged = SlowPathFrame(port: .wire, wire: wire, bytes: bytes)
        guard let entry = mobility.peers.first(where: {
                  $0.value.localIdentifier == record.localIdentifier && $0.value.peerIdentifier == record.peerIdentifier
              })?.key,
              let spec = piggybackOffers[entry], spec.source == record.localLocator, spec.homeAddress == nil
        else { return ([unchanged], false) }
        let ipv6 = Array(bytes[packet.ipv6Offset...])
        guard let signalling = signed({ (association) throws(MobilitySignallingError) -> [UInt8]? in
            var buffer = ipv6 + [UInt8](repeating: 0, count: Self.piggybackRoom)
            var outcome: Result<Int, MobilitySignallingError> = .success(0)
            buffer.withUnsafeMutableBytes { raw in
                do throws(MobilitySignallingError) {
                    outcome = .success(try MobilitySignallingPacket.piggyback(spec, onto: raw, packetLength: ipv6.count,
                                                                              association: &association))
                } catch {
                    outcome = .failure(error)
                }
            }
            switch outcome {
            case .success(let length): return Array(buffer[0..<length])
            case .failure(let error): throw error
            }
        }, peer: record.peerIdentifier, entry: entry), signalling.bytes.count <= Self.maximumPiggybackedPacket else {
            return ([unchanged], false)
        }
        piggybackOffers[entry] = nil
        statistics.bindingUpdatesPiggybacked += 1
        statistics.bindingUpdatesSent += 1
        var frames = [SlowPathFrame(port: .kernelRouted, wire: signalling.wire, bytes: signalling.bytes)]
        frames += perform(mobility.handle(.piggybackSent(firstSequence: spec.firstSequence), for: entry, now: now) ?? [],
                          for: entry)
        return (frames, true)
    }

    /// Room for AH and the Destination Options header of a piggybacked
    /// Binding Update (nine Alternate Care-of Addresses at most).
    static let piggybackRoom = 512
    /// A piggybacked packet must still fit the IPv6 minimum MTU's
    /// neighbour, a 1500-octet link (the workers hand over small packets only).
    static let maximumPiggybackedPacket = 1500

    // MARK: Address events and timers

    func localAddressAdded(_ address: IPv6Address, now: MonotonicInstant) -> [SlowPathFrame] {
        mobility.localAddressAdded(address, now: now).flatMap { perform($0.actions, for: $0.entry) }
    }

    func localAddressRemoved(_ address: IPv6Address, now: MonotonicInstant) -> [SlowPathFrame] {
        mobility.localAddressRemoved(address, now: now).flatMap { perform($0.actions, for: $0.entry) }
    }

    var nextDeadline: MonotonicInstant? {
        switch (mobility.nextDeadline, handshake?.nextDeadline) {
        case (let a?, let b?): min(a, b)
        case (let a?, nil): a
        case (nil, let b?): b
        case (nil, nil): nil
        }
    }

    func fireTimers(now: MonotonicInstant) -> [SlowPathFrame] {
        var frames: [SlowPathFrame] = []
        if var controller = handshake, let deadline = controller.nextDeadline, deadline <= now {
            var database = securityAssociations
            let result = controller.fireTimers(now: now, database: &database)
            handshake = controller
            securityAssociations = database
            frames += handshakeFrames(result, wire: nil, now: now)
        }
        if let deadline = mobility.nextDeadline, deadline <= now {
            frames += mobility.fireTimers(now: now).flatMap { perform($0.actions, for: $0.entry) }
        }
        return frames
    }

    /// Message 2 just made the SAs (initiator): creates the peer's entry and
    /// state machine now and returns its Initial Binding Update as the
    /// Destination Options header message 3 carries (draft A.2), under the
    /// message's AH. Nil (the update then goes standalone) when the state
    /// machine has nothing to send from `local`.
    private func initialUpdateForMessage3(local: IPv6Address, peer: IPv6Address,
                                          now: MonotonicInstant) -> (nextHeader: UInt8, bytes: [UInt8])? {
        guard let (entry, _) = trackPeer(peer, localIdentifier: local, trust: .untrusted) else { return nil }
        let actions = mobility.handle(.firstReplyReceived, for: entry, now: now) ?? []
        _ = try? hostCache.write { (cache) throws(HostCacheError) in try cache.apply(actions, for: entry) }
        var spec: BindingUpdateSpec?
        for action in actions {
            if case .sendStandalone(let wanted) = action { spec = wanted }
        }
        guard let spec, spec.source == local else { return nil }
        let options = BindingUpdateBuilder.destinationOptions(for: spec, nextHeader: .noNextHeader)
        guard options.isEncodable else { return nil }
        var bytes = [UInt8](repeating: 0, count: options.bufferLength)
        bytes.withUnsafeMutableBytes { options.emit(into: $0) }
        initialUpdateInMessage3.insert(peer)
        statistics.bindingUpdatesSent += 1
        return (IPProtocol.destinationOptions.rawValue, bytes)
    }

    /// The Binding Update behind a responder's verified message 3 (its AH
    /// covered it): applied as any verified update, once the handshake's
    /// entry exists.
    private func applyMessage3Trailer(_ trailer: (offset: Int, nextHeader: UInt8), in packet: UnsafeRawBufferPointer,
                                      now: MonotonicInstant) -> [SlowPathFrame] {
        guard trailer.nextHeader == IPProtocol.destinationOptions.rawValue,
              let header = try? IPv6HeaderView(checking: packet),
              let view = try? OptionsHeaderView(checking: packet, at: trailer.offset, limit: min(header.payloadEnd, packet.count)),
              let options = try? DestinationOptionsHeader(view) else {
            statistics.message3TrailersIgnored += 1
            return []
        }
        let messages = MobilityMessages(options)
        let updates = messages.updates, homeAddress = messages.homeAddress
        let identifier = homeAddress ?? header.source
        // The trailer changes only the entry message 3's SA is bound to
        // (the handshake just bound it, 2.4.2).
        guard !updates.isEmpty,
              let spi = AnonymousHandshakeController<SystemRandomNumberGenerator>.authenticationSPI(of: packet) else {
            statistics.message3TrailersIgnored += 1
            return []
        }
        guard case .entry(let entry, _) = authorise(spi: spi, content: .bindingUpdate, claimed: identifier,
                                                    source: header.source, updates: updates) else {
            statistics.message3TrailersIgnored += 1
            return []
        }
        switch applyVerifiedUpdates(updates, to: entry, source: header.source, destination: header.destination,
                                    homeAddress: homeAddress, now: now) {
        case .success(let frames): return frames
        case .failure: return []
        }
    }

    // MARK: Address verification (return routability, RFC 4225 3.1)

    /// Whether data may go to `address` of the peer: its ULID (the address
    /// the conversation was opened with, which answered it), or an address
    /// that answered a probe.
    private func isVerified(_ address: IPv6Address, of entry: HostCacheEntryID, peerIdentifier: IPv6Address,
                            now: MonotonicInstant) -> Bool {
        address == peerIdentifier || addressVerification.mayReceiveBulkTraffic(entry: entry, address: address, now: now)
    }

    /// Starts verifying the new locators of Homeless peers and returns the
    /// probes due now (first probes, retries; rate-limited by the
    /// ReturnRoutability token bucket). Each probe goes from our current
    /// locator to the address under test, under AH with the peer's SA.
    func verifyPeerLocators(now: MonotonicInstant) -> [SlowPathFrame] {
        for (entry, state) in mobility.peers {
            guard let published = hostCache.index.entries.read(entry), published.capability == .homeless else { continue }
            // Every live address of the peer, not only the one in use: a
            // registered alternative (multi-homing) is then ready when the
            // current one dies.
            var candidates = hostCache.read { $0.entry(entry)?.liveAddresses } ?? []
            if let preferred = published.preferredDestination { candidates.append(preferred) }
            for address in candidates where address != state.peerIdentifier
                && addressVerification.state(entry: entry, address: address) == nil {
                addressVerification.addressAdded(entry: entry, address: address)
            }
        }
        var frames: [SlowPathFrame] = []
        for request in addressVerification.poll(now: now, random: &random) {
            guard let state = mobility.peers[request.entry] else { continue }
            let source = state.dataSource(now: now) ?? state.localIdentifier
            if let probe = addressProbePacket(request.message, from: source, to: request.address,
                                             peer: state.peerIdentifier, entry: request.entry) {
                frames.append(probe)
                statistics.addressProbesSent += 1
            }
        }
        return frames
    }

    private func addressProbePacket(_ message: AddressProbeMessage, from source: IPv6Address, to destination: IPv6Address,
                                    peer: IPv6Address, entry: HostCacheEntryID) -> SlowPathFrame? {
        var bytes = [UInt8](repeating: 0, count: AddressProbeMessage.length)
        bytes.withUnsafeMutableBytes { message.emit(into: $0) }
        let nextHeader = handshakeNextHeader
        guard let signalling = signed({ (association) throws(MobilitySignallingError) -> [UInt8]? in
            try? HandshakePacket.protected(source: source, destination: destination, message: bytes,
                                           with: &association, handshakeNextHeader: nextHeader)
        }, peer: peer, entry: entry) else { return nil }
        return SlowPathFrame(port: .kernelRouted, wire: signalling.wire, bytes: signalling.bytes)
    }

    /// An address probe or reply behind AH (IPv6 | AH | probe), or nil.
    private func addressProbe(in frame: UnsafeRawBufferPointer, _ packet: ParsedPacket) -> AddressProbeMessage? {
        guard packet.authenticationHeaderOffset != nil, packet.upperLayerProtocol.rawValue == handshakeNextHeader,
              let offset = packet.upperLayerOffset, offset + AddressProbeMessage.length <= min(packet.packetEnd, frame.count)
        else { return nil }
        return try? AddressProbeMessage(parsing: UnsafeRawBufferPointer(rebasing: frame[0..<min(packet.packetEnd, frame.count)]),
                                        at: offset)
    }

    /// A probe is answered from the probed address (one of ours) with the
    /// same nonce; a reply verifies the peer's address. Both must verify
    /// under AH with the peer's SA.
    private func handleAddressProbe(_ message: AddressProbeMessage, frame: UnsafeRawBufferPointer, packet: ParsedPacket,
                                    wire: Int, now: MonotonicInstant) -> [SlowPathFrame] {
        let end = min(packet.packetEnd, frame.count)
        let verification = securityAssociations.verifyInbound(UnsafeRawBufferPointer(rebasing: frame[packet.ipv6Offset..<end]))
        guard verification.verdict == .ok else {
            statistics.authenticationFailures += 1
            return []
        }
        // Only the SA bound to the probed entry speaks for it (2.4.2): a
        // reply under another peer's SA verifies nothing.
        switch authorise(spi: verification.spi, content: .handshake, claimed: packet.source, source: packet.source,
                         updates: []) {
        case .refused: return []
        case .entry(let entry, _) where mobility.peers[entry] != nil:
            return answerAddressProbe(message, packet: packet, entry: entry, now: now)
        default:
            statistics.unknownPeers += 1
            return []
        }
    }

    private func answerAddressProbe(_ message: AddressProbeMessage, packet: ParsedPacket, entry: HostCacheEntryID,
                                    now: MonotonicInstant) -> [SlowPathFrame] {
        guard let state = mobility.peers[entry] else { return [] }
        switch message.kind {
        case .probe:
            let reply = AddressProbeMessage(kind: .reply, nonce: message.nonce)
            guard let frame = addressProbePacket(reply, from: packet.destination, to: packet.source,
                                                 peer: state.peerIdentifier, entry: entry) else { return [] }
            statistics.addressProbesAnswered += 1
            return [frame]
        case .reply:
            if addressVerification.receiveReply(message, source: packet.source, entry: entry, now: now) == .verified {
                statistics.addressesVerified += 1
            }
            return []
        }
    }

    // MARK: Anonymous authentication (draft 2.4.3, A.2)

    /// Publishes the counters for the control thread.
    func publishStatistics() {
        publishedStatistics.publish(mobility: statistics.named, handshake: handshake?.statistics)
    }

    private func startHandshake(local: IPv6Address, peer: IPv6Address, now: MonotonicInstant) -> [SlowPathFrame] {
        guard var controller = handshake else { return [] }
        let packets = controller.initiate(local: local, peer: peer, now: now, database: securityAssociations)
        handshake = controller
        return packets.map { SlowPathFrame(port: .kernelRouted, wire: addressWires[local] ?? 0, bytes: $0) }
    }

    /// A punted inbound frame whose upper layer is the handshake's Next
    /// Header (or AH before it): the frames to send, and whether the
    /// packet was the handshake's (consumed) or goes on to the kernel.
    func handleHandshake(_ frame: UnsafeRawBufferPointer, wire: Int = 0, now: MonotonicInstant)
        -> (frames: [SlowPathFrame], consumed: Bool) {
        guard let packet = try? ParsedPacket.parse(frame) else { return ([], false) }
        let end = min(packet.packetEnd, frame.count)
        guard packet.ipv6Offset >= 0, packet.ipv6Offset + 40 <= end else { return ([], false) }
        if let probe = addressProbe(in: frame, packet) {
            return (handleAddressProbe(probe, frame: frame, packet: packet, wire: wire, now: now), true)
        }
        guard var controller = handshake else { return ([], false) }
        var database = securityAssociations
        let ipv6 = UnsafeRawBufferPointer(rebasing: frame[packet.ipv6Offset..<end])
        let result = controller.receive(ipv6Packet: ipv6, now: now, database: &database,
                                        initiatorTrailer: { [self] local, peer in initialUpdateForMessage3(local: local, peer: peer, now: now) })
        handshake = controller
        securityAssociations = database
        var frames = handshakeFrames(result, wire: wire, now: now)
        if let trailer = result.trailer {
            frames += applyMessage3Trailer(trailer, in: ipv6, now: now)
        }
        return (frames, result.disposition == .consumed)
    }

    /// Turns a handshake result into frames and acts on its events: an
    /// established handshake creates the trusted Foreign entry (draft 5.2:
    /// the cookie proved the peer receives at its address), binds the SA
    /// pair to it (2.4.2) and, on the initiator, sends the Initial Binding
    /// Update right after message 3; a failed one leaves the peer plain.
    private func handshakeFrames(_ result: HandshakeControllerResult, wire: Int?, now: MonotonicInstant) -> [SlowPathFrame] {
        var frames: [SlowPathFrame] = []
        for packet in result.packets where packet.count >= 40 {
            let source = packet.withUnsafeBytes { IPv6Address(bytes: $0, at: 8) }
            frames.append(SlowPathFrame(port: .kernelRouted, wire: addressWires[source] ?? wire ?? 0, bytes: packet))
        }
        for event in result.events {
            switch event {
            case .established(let role, let local, let peer, let outboundSPI, let inboundSPI):
                statistics.handshakesEstablished += 1
                guard let (entry, _) = trackPeer(peer, localIdentifier: local, trust: .untrusted) else {
                    // No entry (the cache is full of trusted entries): the
                    // SAs would be bound to nothing, forever.
                    securityAssociations.removeAll {
                        ($0.spi == outboundSPI && $0.direction == .outbound) || ($0.spi == inboundSPI && $0.direction == .inbound)
                    }
                    continue
                }
                // The peer's address is in an entry another SA speaks for
                // (5.3: an address reused by another host): the new SAs stay
                // unbound and cannot change that entry (2.4.2).
                if securityAssociations.associations.contains(where: {
                    $0.direction == .inbound && $0.hostCacheEntry == entry && $0.spi != inboundSPI
                }) {
                    noteRefusal(SignallingRefusalRecord(reason: .entryOfAnotherAssociation(owner: entry),
                                                        spi: inboundSPI, claimed: peer, owner: entry))
                    continue
                }
                _ = securityAssociations.bind(spi: outboundSPI, direction: .outbound, to: entry)
                _ = securityAssociations.bind(spi: inboundSPI, direction: .inbound, to: entry)
                if let wire { lastHeardWire[entry] = wire }
                addressVerification.addressVerifiedByHandshake(entry: entry, address: peer, now: now)
                if role == .initiator {
                    awaitingReply[peer] = nil
                    // Normally the Initial Binding Update rode in message 3.
                    if initialUpdateInMessage3.remove(peer) == nil {
                        frames += perform(mobility.handle(.firstReplyReceived, for: entry, now: now) ?? [], for: entry)
                    }
                }
            case .failed(_, _, let reason, _, _):
                statistics.handshakesFailed += 1
                if reason == .superseded { continue }
            case .confirmed, .responseRetransmitted:
                break
            }
        }
        return frames
    }

    /// Sizes of every per-peer structure the controller keeps, by name:
    /// all of them return to zero when every peer retired (the lifecycle
    /// tests check that memory stays flat while peers come and go).
    var perPeerStructureSizes: [String: Int] {
        ["peers": mobility.peers.count, "peer-deadlines": mobility.nextDeadline == nil ? 0 : 1,
         "locator-history": peerLocatorHistory.count, "piggyback-offers": piggybackOffers.count,
         "last-heard-wire": lastHeardWire.count, "awaiting-reply": awaitingReply.count,
         "initial-update-in-message-3": initialUpdateInMessage3.count,
         "address-verification": addressVerification.trackedCount,
         "security-associations": securityAssociations.count]
    }

    /// Local ULIDs some peer's connection still uses (DESIGN section 1: a
    /// ULID stays a local address for the kernel while an entry refers to it).
    var localIdentifiersInUse: Set<IPv6Address> { Set(mobility.peers.values.map(\.localIdentifier)) }

    /// Every address a peer is known by: the addresses of the foreign Host
    /// Cache entries (live and expired) and the identifiers the peers'
    /// connections use. With classifier steering these are the addresses
    /// the classifier takes from the kernel and the kernel routes through
    /// the upper port.
    var peerAddresses: Set<IPv6Address> {
        var result = Set(mobility.peers.values.map(\.peerIdentifier))
        hostCache.read { cache in
            for id in cache.entryIDs {
                guard let entry = cache.entry(id), entry.kind == .foreign else { continue }
                result.formUnion(entry.addresses.keys)
            }
        }
        return result
    }

    // MARK: Translation

    /// The translation each peer needs now: identifiers as the connection
    /// started, locators as the peer's state machine and Host Cache entry
    /// say (our preferred source, 2.2.1; the peer's preferred destination,
    /// 1.4). Only for Homeless peers: for the others the wire addresses are
    /// the connection's (their packets pass untranslated).
    func translations() -> [TranslationRecord] {
        let now = hostCache.now
        var records: [TranslationRecord] = []
        for (entry, state) in mobility.peers {
            guard let published = hostCache.index.entries.read(entry), published.capability == .homeless else { continue }
            let localLocator = state.dataSource(now: now) ?? state.localIdentifier
            let preferred = published.preferredDestination ?? state.peerIdentifier
            // Bulk traffic goes to a new locator only once it answered a
            // probe (return routability); until then to the last one used.
            var peerLocator = preferred
            if !isVerified(preferred, of: entry, peerIdentifier: state.peerIdentifier, now: now) {
                peerLocator = peerLocatorHistory[entry]?.current ?? state.peerIdentifier
            }
            var history = peerLocatorHistory[entry] ?? (current: peerLocator, previous: peerLocator)
            if history.current != peerLocator { history = (current: peerLocator, previous: history.current) }
            peerLocatorHistory[entry] = history
            let record = TranslationRecord(
                localIdentifier: state.localIdentifier, peerIdentifier: state.peerIdentifier,
                localLocator: localLocator, peerLocator: peerLocator,
                alternateLocalLocator: state.preferredSource ?? localLocator,
                // Packets from the peer's newest address are accepted as
                // soon as its Binding Update is applied: the peer moves its
                // data there when our acknowledgement arrives, before any
                // probe made it our destination.
                alternatePeerLocator: preferred != peerLocator ? preferred
                    : (hostCache.read { $0.entry(entry)?.liveAddresses }?.last { $0 != peerLocator } ?? history.previous),
                previousPeerLocator: history.previous)
            var unreachable = record
            // Draft 2.2: every address of the entry expired (withdrawn, or
            // not refreshed): packets to the peer get address unreachable.
            unreachable.isPeerUnreachable = hostCache.read { cache in
                guard let current = cache.entry(entry) else { return false }
                return current.liveAddresses.isEmpty && !current.expiredAddresses.isEmpty
            }
            unreachable.isPiggybackPending = piggybackOffers[entry] != nil
            records.append(unreachable)
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
            case .sendStandalone(var spec):
                // To where the peer's data goes (its verified locator), not
                // to its ULID: after a move the ULID may be unreachable.
                if let current = peerLocatorHistory[entry]?.current { spec.destination = current }
                if let signalling = signed({ (association) throws(MobilitySignallingError) in
                    try MobilitySignallingPacket.standaloneBindingUpdate(spec, association: &association)
                }, peer: peer, entry: entry) {
                    frames.append(SlowPathFrame(port: .kernelRouted, wire: signalling.wire, bytes: signalling.bytes))
                    statistics.bindingUpdatesSent += 1
                }
            case .offerPiggyback(let spec):
                // Rides on the next small data packet to the peer (2.1.2,
                // 2.2.1): the workers hand such packets here while the
                // offer stands (the translation record says so); the state
                // machine sends it standalone if none comes in time.
                piggybackOffers[entry] = spec
            case .withdrawPiggybackOffer:
                piggybackOffers[entry] = nil
            case .markCapability, .scheduleTimer:
                break
            }
        }
        return frames
    }

    /// Builds a signalling packet with the peer's outbound SA (whose
    /// sequence counter moves) and picks the wire it leaves through: the
    /// one its source address lives on.
    private func signed(_ build: (inout SecurityAssociation) throws(MobilitySignallingError) -> [UInt8]?,
                        peer: IPv6Address, entry: HostCacheEntryID) -> (bytes: [UInt8], wire: Int)? {
        guard var association = securityAssociations.outbound(entry: entry, destination: peer) else {
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
        guard let packet, packet.count >= 40 else { return nil }
        let source = packet.withUnsafeBytes { IPv6Address(bytes: $0, at: 8) }
        return (packet, addressWires[source] ?? lastHeardWire[entry] ?? 0)
    }

    /// Records which wire a local address lives on (from the address
    /// watcher; start-up passes the wires' addresses).
    func noteLocalAddress(_ address: IPv6Address, wire: Int) { addressWires[address] = wire }

    private func outboundSPI(for destination: IPv6Address) -> UInt32? {
        securityAssociations.outbound(entry: nil, destination: destination)?.spi
    }
}

/// The Mobile IPv6 options of one Destination Options header, sorted by
/// kind (draft section 3.2): what both received signalling and the
/// Binding Update behind handshake message 3 are read through.
struct MobilityMessages {
    var updates: [BindingUpdate] = []
    var acknowledgements: [BindingAcknowledgement] = []
    var bindingRequested = false
    var homeAddress: IPv6Address?

    init(_ header: DestinationOptionsHeader) {
        for option in header.options {
            switch option {
            case .bindingUpdate(let update): updates.append(update)
            case .bindingAcknowledgement(let acknowledgement): acknowledgements.append(acknowledgement)
            case .bindingRequest: bindingRequested = true
            case .homeAddress(let address): homeAddress = address
            case .other: break
            }
        }
    }
}

/// Counts the slow path's mobility work, for `homeless show stats`.
struct MobilityStatistics: Equatable, Sendable {
    /// Name and value of every counter, in a fixed order.
    var named: [(name: String, value: UInt64)] {
        [("entries-created", entriesCreated), ("entry-creation-failures", entryCreationFailures),
         ("binding-updates-applied", bindingUpdatesApplied), ("binding-updates-sent", bindingUpdatesSent),
         ("acknowledgements-sent", acknowledgementsSent), ("acknowledgements-received", acknowledgementsReceived),
         ("authentication-failures", authenticationFailures), ("unknown-peers", unknownPeers),
         ("host-cache-refusals", hostCacheRefusals), ("signalling-not-sent", signallingNotSent),
         ("translation-table-full", translationTableFull), ("handshakes-established", handshakesEstablished),
         ("handshakes-failed", handshakesFailed), ("address-probes-sent", addressProbesSent),
         ("address-probes-answered", addressProbesAnswered), ("addresses-verified", addressesVerified),
         ("binding-requests-received", bindingRequestsReceived),
         ("message-3-trailers-ignored", message3TrailersIgnored),
         ("parameter-problems-accepted", parameterProblemsAccepted),
         ("parameter-problems-ignored", parameterProblemsIgnored),
         ("addresses-expired", addressesExpired), ("addresses-purged", addressesPurged),
         ("entries-removed", entriesRemoved), ("entries-evicted", entriesEvicted),
         ("entries-refused-cache-full", entriesRefusedCacheFull), ("peers-idled", peersIdled),
         ("associations-retired", associationsRetired), ("address-unreachable-sent", addressUnreachableSent),
         ("address-unreachable-rate-limited", addressUnreachableRateLimited),
         ("binding-updates-piggybacked", bindingUpdatesPiggybacked),
         ("piggybacked-updates-received", piggybackedUpdatesReceived),
         ("signalling-other-entry-refused", signallingOtherEntryRefused),
         ("signalling-other-address-refused", signallingOtherAddressRefused),
         ("signalling-not-sa-peer-refused", signallingNotAssociationPeerRefused),
         ("signalling-sa-class-refused", signallingAssociationClassRefused),
         ("home-address-without-binding-update", homeAddressWithoutBindingUpdate),
         ("binding-updates-stale", bindingUpdatesStale)]
    }

    /// Verified Binding Updates the Host Cache refused for their sequence
    /// number (not newer than the last accepted, or not increasing within
    /// the packet): answered with status 141, nothing changed.
    var bindingUpdatesStale: UInt64 = 0

    /// Home Address options that came without a Binding Update (draft
    /// 2.3.1), dropped.
    var homeAddressWithoutBindingUpdate: UInt64 = 0

    /// Verified signalling refused by entry-bound authorisation
    /// (`SignallingRefusal`, one counter per reason).
    var signallingOtherEntryRefused: UInt64 = 0
    var signallingOtherAddressRefused: UInt64 = 0
    var signallingNotAssociationPeerRefused: UInt64 = 0
    var signallingAssociationClassRefused: UInt64 = 0

    mutating func count(_ refusal: SignallingRefusal) {
        switch refusal {
        case .entryOfAnotherAssociation: signallingOtherEntryRefused += 1
        case .addressOfAnotherEntry: signallingOtherAddressRefused += 1
        case .notTheAssociationsPeer: signallingNotAssociationPeerRefused += 1
        case .associationClass: signallingAssociationClassRefused += 1
        }
    }

    var bindingUpdatesPiggybacked: UInt64 = 0
    var piggybackedUpdatesReceived: UInt64 = 0

    var addressesExpired: UInt64 = 0
    var addressesPurged: UInt64 = 0
    var entriesRemoved: UInt64 = 0
    /// Untrusted entries evicted to make room (draft 5.2).
    var entriesEvicted: UInt64 = 0
    /// New entries refused: the cache is full and nothing is evictable.
    var entriesRefusedCacheFull: UInt64 = 0
    /// Peers whose every address expired: refreshes stopped (dormant).
    var peersIdled: UInt64 = 0
    /// Anonymous SAs deleted with their retired or evicted entries.
    var associationsRetired: UInt64 = 0
    var addressUnreachableSent: UInt64 = 0
    var addressUnreachableRateLimited: UInt64 = 0

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
    var handshakesEstablished: UInt64 = 0
    var addressProbesSent: UInt64 = 0
    var bindingRequestsReceived: UInt64 = 0
    var message3TrailersIgnored: UInt64 = 0
    var parameterProblemsAccepted: UInt64 = 0
    var parameterProblemsIgnored: UInt64 = 0
    var addressProbesAnswered: UInt64 = 0
    var addressesVerified: UInt64 = 0
    var handshakesFailed: UInt64 = 0
    var translationTableFull: UInt64 = 0
}
