import HomelessCore
import HomelessSecurity
import HomelessWire

/// Why verified signalling was refused: its AH verified, but the SA that
/// verified it may not change what the packet names (draft 2.4.2, 3.3.1,
/// 5.3). Verifying under *some* SA is not enough: with the anonymous
/// handshake anyone can hold one.
enum SignallingRefusal: Equatable, Sendable {
    /// The SA's class may not authenticate what the packet carries (3.3.1:
    /// an anonymous SA authenticates Binding Updates, Acknowledgements and
    /// its own handshake only).
    case associationClass
    /// The claimed address (Home Address option, else the source) belongs
    /// to an entry the SA is not bound to: another peer's (2.4.2).
    case entryOfAnotherAssociation(owner: HostCacheEntryID)
    /// An SA bound to no entry claims an address that is not its peer's:
    /// it may create or bind only the entry of the address it was made
    /// for (manual keying names it; the handshake ran with it).
    case notTheAssociationsPeer
    /// An address the Binding Update registers or deletes (its source,
    /// an Alternate Care-of Address, an Alternate Prefix) is live in another
    /// peer's entry (5.3: address confusion).
    case addressOfAnotherEntry(address: IPv6Address, owner: HostCacheEntryID)

    /// For the log line.
    var summary: String {
        switch self {
        case .associationClass: "the SA's class may not authenticate this content (3.3.1)"
        case .entryOfAnotherAssociation: "the claimed address belongs to an entry bound to another SA"
        case .notTheAssociationsPeer: "an unbound SA claims an address it was not made for"
        case .addressOfAnotherEntry: "a registered address is live in another entry"
        }
    }
}

/// One refusal, for the log: the SA's SPI, the address the packet claimed
/// and the entry that owns it.
struct SignallingRefusalRecord: Equatable, Sendable {
    var reason: SignallingRefusal
    var spi: UInt32
    var claimed: IPv6Address
    var owner: HostCacheEntryID?
}

/// Entry-bound authorisation of signalling (draft 2.4.2: "the specific AH
/// SA is directly associated with the Host Cache entry"): which Foreign
/// entry a packet verified under `association` may change. A plain
/// function of its inputs; the controller looks the owners up.
enum SignallingAuthorisation {
    enum Decision: Equatable {
        /// Apply to this entry; `bind`: the SA was bound to no entry and is
        /// bound to this one now (its first signalling).
        case entry(HostCacheEntryID, bind: Bool)
        /// No entry holds the claimed address and the SA is its peer's: the
        /// first Binding Update creates the entry, bound to the SA (2.3.4:
        /// the SA stands in for the handshake).
        case createEntry
        /// Nothing names an entry and nothing may create one.
        case unknownPeer
        case refused(SignallingRefusal)
    }

    /// - Parameters:
    ///   - association: the inbound SA the packet's AH verified under.
    ///   - content: what the AH covers (`ProtectedContent.classify`).
    ///   - claimed: the Home Address option's address, else the source.
    ///   - owner: the Foreign entry holding `claimed` (live or expired).
    ///   - ownerHasOtherAssociation: another inbound SA is bound to `owner`.
    ///   - mayCreate: the packet carries Binding Updates.
    ///   - named: every address the packet's Binding Updates register or
    ///     delete, and its source.
    ///   - liveOwner: the Foreign entry an address is live in.
    static func decide(association: SecurityAssociation, content: ProtectedContent, claimed: IPv6Address,
                       owner: HostCacheEntryID?, ownerHasOtherAssociation: Bool, mayCreate: Bool,
                       named: [IPv6Address], liveOwner: (IPv6Address) -> HostCacheEntryID?) -> Decision {
        guard association.associationClass.mayAuthenticate(content) else { return .refused(.associationClass) }
        let decision: Decision
        if let bound = association.hostCacheEntry {
            // A bound SA speaks for its entry only. A claimed address in no
            // entry goes on to the bound entry, whose Host Cache step then
            // refuses a Binding Update for an address it does not hold.
            // One exception: the entry this host made when it opened a new
            // conversation to the very address the SA was made for, after
            // the peer withdrew it (5.3: a new connection to an expired
            // address gets a new entry), as long as no SA speaks for it.
            if let owner, owner != bound {
                guard !ownerHasOtherAssociation, association.source == claimed else {
                    return .refused(.entryOfAnotherAssociation(owner: owner))
                }
                decision = .entry(owner, bind: false)
            } else {
                decision = .entry(bound, bind: false)
            }
        } else if let owner {
            // An unbound SA may take over an entry only when it was made for
            // the entry's address and no other SA speaks for the entry (the
            // entry this host made when it opened the conversation).
            if ownerHasOtherAssociation { return .refused(.entryOfAnotherAssociation(owner: owner)) }
            guard association.source == claimed else { return .refused(.notTheAssociationsPeer) }
            decision = .entry(owner, bind: true)
        } else {
            guard mayCreate else { return .unknownPeer }
            guard association.source == claimed else { return .refused(.notTheAssociationsPeer) }
            decision = .createEntry
        }
        let target: HostCacheEntryID? = if case .entry(let entry, _) = decision { entry } else { nil }
        for address in named {
            if let other = liveOwner(address), other != target {
                return .refused(.addressOfAnotherEntry(address: address, owner: other))
            }
        }
        return decision
    }
}
