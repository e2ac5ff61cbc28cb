public import HomelessWire

/// Turns a `BindingUpdateSpec` into the Binding Update option values and
/// the Destination Options header that carries them (draft 3.2.1, 3.2.2).
///
/// Encoding of the registered addresses (the receiver's rule, MIPv6-12 5.1 and
/// draft 3.1.2, implemented by `HostCache.applyBindingUpdates`: the care-of
/// addresses are the Alternate Care-of Address sub-options, or the packet
/// source when there is none, plus every Alternate Prefixes address):
/// * When the packet source is among the registrations, the BU carries no
///   Alternate Care-of Address, so the source is the care-of address, and
///   the other addresses travel in Alternate Prefixes sub-options whose
///   suffix is the source's. This is exactly the Initial Binding Update of
///   3.2.1: a Standard Mobile Host sees care-of = home address (a no-op
///   deletion) and skips the unknown sub-options; a Homeless Host learns
///   every address.
/// * Otherwise each registered address gets an Alternate Care-of Address
///   sub-option (the source is then not registered).
/// * Withdrawals always name their addresses in Alternate Care-of Address
///   sub-options, so a lifetime-0 BU never deletes the packet source by accident.
/// Every BU has the A bit set (2.1.2, 2.2.1: acknowledgement requested).
public enum BindingUpdateBuilder {
    /// The Binding Update options of `spec`, in packet order.
    public static func bindingUpdates(for spec: BindingUpdateSpec) -> [BindingUpdate] {
        var updates: [BindingUpdate] = []
        var sequence = spec.firstSequence
        let support: [MobilitySubOption] = spec.announcesHomelessSupport ? [.homelessSupport] : []
        if !spec.withdrawals.isEmpty {
            updates.append(BindingUpdate(flags: [.acknowledge], sequence: sequence, lifetime: 0,
                                         subOptions: support + spec.withdrawals.map { .alternateCareOfAddress($0) }))
            sequence &+= 1
        }
        if !spec.registrations.isEmpty {
            let subOptions: [MobilitySubOption]
            if spec.registrations.contains(spec.source) {
                let others = spec.registrations.filter { $0 != spec.source }
                subOptions = support + alternatePrefixes(for: others, suffixSource: spec.source)
            } else {
                subOptions = support + spec.registrations.map { .alternateCareOfAddress($0) }
            }
            updates.append(BindingUpdate(flags: [.acknowledge], sequence: sequence, lifetime: spec.lifetime,
                                         subOptions: subOptions))
        }
        return updates
    }

    /// The Destination Options header for a packet carrying `spec`:
    /// the Home Address option (if any) then the Binding Updates (MIPv6-12
    /// 5.1 "Any packet that includes a Binding Update option MUST also
    /// include a Home Address option" is relaxed for Homeless peers whose
    /// entry already holds the source, 3.2.2). `nextHeader` is 59 for a
    /// standalone Binding Update (2.2.4) or the upper layer when piggybacked.
    public static func destinationOptions(for spec: BindingUpdateSpec, nextHeader: IPProtocol,
                                          codePoints: MobileIPv6CodePoints = .draftEra) -> DestinationOptionsHeader {
        var options: [DestinationOption] = []
        if let home = spec.homeAddress { options.append(.homeAddress(home)) }
        options += bindingUpdates(for: spec).map { .bindingUpdate($0) }
        return DestinationOptionsHeader(nextHeader: nextHeader, options: options, codePoints: codePoints)
    }

    /// Alternate Prefixes sub-options (3.1.2, P = 4 * (PL + 1), WIRE.md
    /// erratum) for `addresses`, each combined by the receiver with the low
    /// bytes of `suffixSource`. Addresses are grouped by the shortest prefix
    /// length that reproduces them; a group holds at most 254 / P prefixes
    /// so the sub-option's Len fits.
    public static func alternatePrefixes(for addresses: [IPv6Address], suffixSource: IPv6Address) -> [MobilitySubOption] {
        var groups: [[[UInt8]]] = [[], [], [], []]
        let suffixBytes = suffixSource.bytes
        for address in addresses {
            let bytes = address.bytes
            var code = 3
            for candidate in 0..<3 {
                let length = 4 * (candidate + 1)
                if bytes[length...] == suffixBytes[length...] { code = candidate; break }
            }
            groups[code].append(Array(bytes[0..<(4 * (code + 1))]))
        }
        var result: [MobilitySubOption] = []
        for code in 0..<4 where !groups[code].isEmpty {
            let perOption = min(63, 254 / (4 * (code + 1)))
            var start = 0
            while start < groups[code].count {
                let end = min(start + perOption, groups[code].count)
                result.append(.alternatePrefixes(AlternatePrefixes(prefixLengthCode: UInt8(code),
                                                                   prefixes: Array(groups[code][start..<end]))))
                start = end
            }
        }
        return result
    }
}
