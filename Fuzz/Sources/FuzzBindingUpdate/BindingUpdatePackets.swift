import HomelessCore
import HomelessWire

extension CacheProgram {
    /// Builds Binding Updates from fuzzer-chosen fields, emits them (with an
    /// optional Home Address option) as a Destination Options header, parses
    /// the bytes back and applies what was parsed.
    mutating func applyEmittedBindingUpdates(_ input: inout FuzzInput) {
        var options: [DestinationOption] = []
        if input.bool() { options.append(.homeAddress(input.address())) }
        for _ in 0..<(1 + input.byte() % 3) {
            options.append(.bindingUpdate(bindingUpdate(&input)))
        }
        let header = DestinationOptionsHeader(nextHeader: .noNextHeader, options: options)
        guard header.isEncodable else { return }
        var bytes = [UInt8](repeating: 0, count: header.bufferLength)
        bytes.withUnsafeMutableBytes { header.emit(into: $0) }
        apply(headerBytes: bytes, strict: true, &input)
    }

    /// Takes the option area of a Destination Options header from the input
    /// verbatim (Next Header and Hdr Ext Len are filled in), parses it and
    /// applies whatever Binding Updates it holds.
    mutating func applyRawBindingUpdates(_ input: inout FuzzInput) {
        let strict = input.bool()
        let body = input.bytes(Int(input.byte()))
        let length = (2 + body.count + 7) / 8 * 8
        var bytes = [UInt8](repeating: 0, count: length)
        bytes[0] = IPProtocol.noNextHeader.rawValue
        bytes[1] = UInt8(length / 8 - 1)
        bytes.replaceSubrange(2..<(2 + body.count), with: body)
        apply(headerBytes: bytes, strict: strict, &input)
    }

    func bindingUpdate(_ input: inout FuzzInput) -> BindingUpdate {
        let flags = BindingUpdateFlags(rawValue: input.byte() & 0xF0)
        let sequence = input.uint16()
        let lifetimeCode = input.byte()
        let lifetime: UInt32 = switch lifetimeCode {
        case 0xFF: BindingUpdate.infiniteLifetime
        case 0xF0..<0xFF: UInt32(lifetimeCode) << 20
        default: UInt32(lifetimeCode % 64)
        }
        var subOptions: [MobilitySubOption] = []
        for _ in 0..<(input.byte() % 5) {
            switch input.byte() % 5 {
            case 0, 1: subOptions.append(.alternateCareOfAddress(input.address()))
            case 2: subOptions.append(.homelessSupport)
            case 3: subOptions.append(.uniqueIdentifier(input.uint16()))
            default:
                let code = input.byte() % 4
                let byteCount = 4 * (Int(code) + 1)
                var prefixes: [[UInt8]] = []
                for _ in 0..<(input.byte() % 3) { prefixes.append(Array(input.address().bytes.prefix(byteCount))) }
                subOptions.append(.alternatePrefixes(AlternatePrefixes(prefixLengthCode: code, prefixes: prefixes)))
            }
        }
        return BindingUpdate(flags: flags, prefixLength: input.byte(), sequence: sequence, lifetime: lifetime,
                             subOptions: subOptions)
    }

    /// Parses a Destination Options header and applies its Binding Updates
    /// as the receive path does: the entry is the one owning the Home
    /// Address option's address or else the packet source (draft 2.1.2), or,
    /// to reach the error paths, an arbitrary known entry.
    mutating func apply(headerBytes: [UInt8], strict: Bool, _ input: inout FuzzInput) {
        let parsed: DestinationOptionsHeader? = headerBytes.withUnsafeBytes { bytes in
            do throws(WireError) {
                let view = try OptionsHeaderView(checking: bytes, at: 0)
                return try DestinationOptionsHeader(view, checksPadding: strict, checksAlignment: strict)
            } catch {
                require(error.offset >= 0 && error.offset <= bytes.count, "error offset \(error.offset) outside the header")
                return nil
            }
        }
        guard let parsed else { return }
        var updates: [BindingUpdate] = []
        var homeAddress: IPv6Address?
        for option in parsed.options {
            switch option {
            case .bindingUpdate(let update): updates.append(update)
            case .homeAddress(let address): if homeAddress == nil { homeAddress = address }
            default: break
            }
        }
        let source = input.address()
        let byMatch = input.bool()
        let id: HostCacheEntryID
        if byMatch {
            guard let match = cache.foreignMatch(for: homeAddress ?? source) else { return }
            id = match.entry
        } else {
            id = entry(&input)
        }
        let match: BindingUpdateMatch = homeAddress != nil ? .homeAddressOption : .packetSource
        let before = cache.entry(id)
        let outcome: BindingUpdateOutcome
        do {
            outcome = try cache.applyBindingUpdates(updates, to: id, matchedBy: match, packetSource: source, homeAddress: homeAddress)
        } catch {
            require(cache.entry(id)?.lastAcceptedSequence == before?.lastAcceptedSequence, "a refused packet changed the sequence state")
            return
        }
        checkOutcome(outcome, updates: updates, entry: id, trustBefore: before?.trust)
    }

    func checkOutcome(_ outcome: BindingUpdateOutcome, updates: [BindingUpdate], entry id: HostCacheEntryID,
                      trustBefore: TrustClass?) {
        require(outcome.dispositions.count == updates.count, "\(outcome.dispositions.count) dispositions for \(updates.count) BUs")
        require(outcome.acknowledgements.count <= updates.count + 1, "too many acknowledgements")
        var lastAccepted: UInt16?
        for (update, disposition) in zip(updates, outcome.dispositions) {
            require(update.sequence == disposition.sequence, "disposition out of order")
            if disposition.rejection == nil { lastAccepted = disposition.sequence }
            if disposition.rejection != nil || disposition.isDeletion {
                require(disposition.grantedLifetime == 0, "rejected/deleting BU granted a lifetime")
            } else if trustBefore == .untrusted {
                require(UInt64(disposition.grantedLifetime) <= cache.parameters.defaultLifetime,
                        "untrusted entry granted \(disposition.grantedLifetime) s (5.2 cap)")
            } else {
                require(disposition.grantedLifetime == update.lifetime, "trusted entry's lifetime changed")
            }
        }
        for removed in outcome.removedEntries { require(cache.entry(removed) == nil, "removed \(removed) still present") }
        if outcome.entryRemoved {
            require(cache.entry(id) == nil && outcome.removedEntries.contains(id), "entryRemoved but \(id) present or unlisted")
        } else if let entry = cache.entry(id), let lastAccepted {
            require(entry.lastAcceptedSequence == lastAccepted, "last accepted sequence not recorded")
        }
    }
}
