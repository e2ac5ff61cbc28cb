public import HomelessWire

/// How the receiver found the Foreign entry a Binding Update applies to
/// (draft 2.1.2: "matches with either the source address of the packet, or
/// the home address in the packet if the Home Address Destination Option is
/// present").
public enum BindingUpdateMatch: Sendable, Equatable {
    case packetSource
    case homeAddressOption
}

/// What happened to one Binding Update of a packet.
public struct BindingUpdateDisposition: Equatable, Sendable {
    public enum Rejection: Equatable, Sendable {
        /// Not newer (modulo 2^16) than the last accepted sequence number
        /// (MIPv6-12 5.1; WIRE.md status 141).
        case sequenceNotNewer(lastAccepted: UInt16)
        /// Not greater than the previous Binding Update in the same packet
        /// (draft 3.2.2: they "MUST all have increasing Sequence Numbers").
        case notIncreasingInPacket(previous: UInt16)
    }

    public var sequence: UInt16
    /// `BindingAcknowledgement.Status` raw value: < 128 accepted.
    public var status: UInt8
    /// Set when the sequence check failed; the BU had no effect.
    public var rejection: Rejection?
    /// Lifetime granted in seconds (after the 5.2 cap); 0 for deletions and rejections.
    public var grantedLifetime: UInt32
    public var acknowledgementRequested: Bool
    /// True when the BU deleted addresses (lifetime 0, or care-of == home).
    public var isDeletion: Bool

    public var isAccepted: Bool { status < 128 }
}

/// Everything the caller must do or log after a packet's Binding Updates.
public struct BindingUpdateOutcome: Equatable, Sendable {
    /// One per Binding Update, in packet order.
    public var dispositions: [BindingUpdateDisposition] = []
    /// Binding Acknowledgements to send, in this order: one negative BA per
    /// refused BU (sent whether or not it asked, as MIPv6 does for
    /// out-of-window sequence numbers so the peer can resynchronise), then at
    /// most one positive BA covering every accepted BU whose A bit was set,
    /// carrying the highest accepted sequence number (draft 3.2.2 shorthand).
    public var acknowledgements: [BindingAcknowledgement] = []
    /// Address-level effects (added, refreshed, removed, conflicts ...).
    public var changes: [AddressChange] = []
    /// Set when the packet's BUs removed the entry's last address and no
    /// connection refers to it (2.1.4): the entry is gone.
    public var entryRemoved: Bool = false
    /// Every entry that went away while applying the packet: untrusted
    /// entries evicted for room (5.2), entries whose last (expired) address
    /// was taken over (5.3), and this entry when `entryRemoved`.
    public var removedEntries: [HostCacheEntryID] = []
}

extension HostCache {
    /// Applies the Binding Updates of one authenticated packet (draft 2.1.2,
    /// 2.3.1, 3.2.2; MIPv6-12 5.1) to Foreign entry `id`. The caller has
    /// verified AH and found the entry through `match`.
    ///
    /// Per Binding Update, in order:
    /// 1. Sequence: a BU not greater than the previous BU in the packet, or
    ///    not newer than the last accepted one, is rejected with status 141
    ///    carrying the last accepted number; it changes nothing.
    /// 2. Capability: a Homeless Support sub-option marks the peer homeless
    ///    (3.1.1); a BU without it from a peer of unknown or standard
    ///    capability marks it a standard mobile host (2.3.3).
    /// 3. Registered addresses: each Alternate Care-of Address sub-option, or
    ///    the packet source when there is none (draft 3.2.2 allows several);
    ///    plus every Alternate Prefixes address, whose suffix comes from the
    ///    nearest preceding Alternate Care-of Address sub-option of the same
    ///    BU, else from the packet source (3.1.2).
    /// 4. Lifetime 0 deletes the registered addresses from this entry (never
    ///    from another). A care-of address equal to the home address in a BU
    ///    without Homeless Support is the MIPv6-12 5.1 binding deletion: all
    ///    BU-registered addresses of the entry except the home address go.
    ///    With Homeless Support it is the Initial Binding Update of 3.2.1 and
    ///    registers addresses like any other BU.
    /// 5. Otherwise each registered address is added or refreshed with an
    ///    absolute lifetime (switching activity-related ones, 2.1.3): receipt
    ///    time + lifetime, 0xFFFFFFFF = never, capped at
    ///    `untrustedLifetimeLimit` (DEFAULT-LIFETIME unless set) for
    ///    untrusted entries, never infinite for them (5.2: "use the DEFAULT-LIFETIME instead"; we take
    ///    the smaller so a peer's short lifetime is still honoured). The
    ///    one-owner rule may refuse an address (`conflict`), capacity may too
    ///    (`noSpace`): the BU then gets status 130 (conflict, invalid) or 131
    ///    (no space) though the addresses that could be applied stay, and its
    ///    sequence number counts as accepted.
    /// Finally the packet source, if live in the entry, becomes the preferred
    /// destination (1.4).
    public func applyBindingUpdates(_ updates: [BindingUpdate], to id: HostCacheEntryID, matchedBy match: BindingUpdateMatch,
                                    packetSource: IPv6Address, homeAddress: IPv6Address?) throws(HostCacheError) -> BindingUpdateOutcome {
        let slot = try requireSlot(id, kind: .foreign)
        let matchedAddress: IPv6Address
        switch match {
        case .packetSource: matchedAddress = packetSource
        case .homeAddressOption:
            guard let homeAddress else { throw .addressNotInEntry(packetSource, id) }
            matchedAddress = homeAddress
        }
        guard slots[slot]?.addresses[matchedAddress] != nil else { throw .addressNotInEntry(matchedAddress, id) }

        let now = clock.now
        var outcome = BindingUpdateOutcome()
        beginRecordingRemovals()
        defer { endRecordingRemovals() }
        var previousInPacket: UInt16?
        var positive: (sequence: UInt16, lifetime: UInt32)?
        var positiveRequested = false

        for update in updates {
            let sequence = update.sequence
            let requested = update.flags.contains(.acknowledge)
            defer { previousInPacket = sequence }
            let lastAccepted = slots[slot]?.lastAcceptedSequence
            var rejection: BindingUpdateDisposition.Rejection?
            if let previous = previousInPacket, !SequenceNumber.isNewer(sequence, than: previous) {
                rejection = .notIncreasingInPacket(previous: previous)
            } else if let lastAccepted, !SequenceNumber.isNewer(sequence, than: lastAccepted) {
                rejection = .sequenceNotNewer(lastAccepted: lastAccepted)
            }
            if let rejection {
                let status = BindingAcknowledgement.Status.sequenceNumberOutOfWindow.rawValue
                outcome.dispositions.append(BindingUpdateDisposition(
                    sequence: sequence, status: status, rejection: rejection, grantedLifetime: 0,
                    acknowledgementRequested: requested, isDeletion: false))
                outcome.acknowledgements.append(BindingAcknowledgement(
                    status: status, sequence: lastAccepted ?? sequence, lifetime: 0, refresh: 0))
                continue
            }
            slots[slot]?.lastAcceptedSequence = sequence
            let disposition = apply(update, slot: slot, packetSource: packetSource, homeAddress: homeAddress,
                                    now: now, changes: &outcome.changes)
            outcome.dispositions.append(disposition)
            if disposition.isAccepted {
                positive = (sequence, disposition.grantedLifetime)
                positiveRequested = positiveRequested || requested
            } else {
                outcome.acknowledgements.append(BindingAcknowledgement(
                    status: disposition.status, sequence: sequence, lifetime: disposition.grantedLifetime,
                    refresh: disposition.grantedLifetime))
            }
        }
        if positiveRequested, let positive {
            outcome.acknowledgements.append(BindingAcknowledgement(
                status: BindingAcknowledgement.Status.accepted.rawValue, sequence: positive.sequence,
                lifetime: positive.lifetime, refresh: positive.lifetime))
        }

        if noteReceived(from: packetSource, entry: id) == false {
            repairPreferredDestination(slot, now: now)
        }
        publishEntry(slot)
        var removed: [AddressChange] = []
        outcome.entryRemoved = removeEntryIfDead(UInt32(slot), into: &removed)
        outcome.changes += removed
        outcome.removedEntries = removedDuringOperation
        return outcome
    }

    /// The addresses a BU registers, in sub-option order, without duplicates.
    public static func registeredAddresses(of update: BindingUpdate, packetSource: IPv6Address) -> [IPv6Address] {
        var careOf: [IPv6Address] = []
        var expanded: [IPv6Address] = []
        var nearestAlternate: IPv6Address?
        for option in update.subOptions {
            switch option {
            case .alternateCareOfAddress(let address):
                careOf.append(address)
                nearestAlternate = address
            case .alternatePrefixes(let prefixes):
                let suffix = nearestAlternate ?? packetSource
                for prefix in prefixes.prefixes {
                    expanded.append(combine(prefix: prefix, byteCount: prefixes.prefixByteCount, suffix: suffix))
                }
            case .uniqueIdentifier, .homelessSupport, .unknown:
                break
            }
        }
        var result: [IPv6Address] = []
        for address in (careOf.isEmpty ? [packetSource] : careOf) + expanded where !result.contains(address) {
            result.append(address)
        }
        return result
    }

    /// The first `byteCount` bytes from `prefix` (P = 4 * (PL + 1), WIRE.md
    /// erratum), the rest from `suffix`. A short prefix contributes what it has.
    static func combine(prefix: [UInt8], byteCount: Int, suffix: IPv6Address) -> IPv6Address {
        var bytes = suffix.bytes
        for position in 0..<min(byteCount, prefix.count, 16) { bytes[position] = prefix[position] }
        var high: UInt64 = 0
        var low: UInt64 = 0
        for position in 0..<8 { high = high << 8 | UInt64(bytes[position]) }
        for position in 8..<16 { low = low << 8 | UInt64(bytes[position]) }
        return IPv6Address(high: high, low: low)
    }

    /// Steps 2-5 for one BU whose sequence number was accepted.
    func apply(_ update: BindingUpdate, slot: Int, packetSource: IPv6Address, homeAddress: IPv6Address?,
               now: MonotonicInstant, changes: inout [AddressChange]) -> BindingUpdateDisposition {
        let homeless = update.subOptions.contains(.homelessSupport)
        if homeless {
            slots[slot]?.capability = .homeless
        } else if let capability = slots[slot]?.capability, capability == .unknown || capability == .standard {
            slots[slot]?.capability = .standardMobile
        }
        let registered = Self.registeredAddresses(of: update, packetSource: packetSource)
        let requested = update.flags.contains(.acknowledge)
        let primaryCareOf = registered.first ?? packetSource
        let accepted = BindingAcknowledgement.Status.accepted.rawValue

        if update.lifetime == 0 {
            // A deleting Binding Update (2.1.3, MIPv6 5.1/8.2) ends the
            // address's lifetime now. It is kept as expired, as 2.1.3
            // recommends for expired addresses, so a late packet from it is
            // still recognised and `homeless show cache` shows it; the sweep
            // purges it after MAXIMUM-EXPIRED-LIFETIME, and another entry
            // may register it at once (5.3).
            for address in registered {
                guard let record = slots[slot]?.addresses[address], record.isLive else { continue }
                changes.append(expireForeignAddress(address, slot: slot, since: now))
            }
            repairPreferredDestination(slot, now: now)
            return BindingUpdateDisposition(sequence: update.sequence, status: accepted, rejection: nil, grantedLifetime: 0,
                                            acknowledgementRequested: requested, isDeletion: true)
        }
        if !homeless, let homeAddress, primaryCareOf == homeAddress {
            var bound: [IPv6Address] = []
            let records = slots[slot].map { Array($0.addresses.values) } ?? []
            for record in records where record.address != homeAddress {
                if case .absolute = record.lifetime { bound.append(record.address) }
            }
            bound.sort()
            for address in bound {
                changes.append(removeForeignAddress(address, slot: UInt32(slot), kind: .removed))
            }
            return BindingUpdateDisposition(sequence: update.sequence, status: accepted, rejection: nil, grantedLifetime: 0,
                                            acknowledgementRequested: requested, isDeletion: true)
        }

        var granted = update.lifetime
        if slots[slot]?.trust == .untrusted {
            granted = UInt32(min(UInt64(granted), parameters.untrustedLifetimeLimit, UInt64(BindingUpdate.infiniteLifetime - 1)))
        }
        let lifetime: AddressLifetime = granted == BindingUpdate.infiniteLifetime
            ? .absolute(expiresAt: nil) : .absolute(expiresAt: now.adding(seconds: UInt64(granted)))
        var status = accepted
        for address in registered {
            let change = addForeignAddress(address, slot: slot, lifetime: lifetime, now: now)
            changes.append(change)
            switch change.kind {
            case .noSpace: status = BindingAcknowledgement.Status.insufficientResources.rawValue
            case .conflict, .invalid:
                if status == accepted { status = BindingAcknowledgement.Status.administrativelyProhibited.rawValue }
            default: break
            }
        }
        return BindingUpdateDisposition(sequence: update.sequence, status: status, rejection: nil, grantedLifetime: granted,
                                        acknowledgementRequested: requested, isDeletion: false)
    }
}
