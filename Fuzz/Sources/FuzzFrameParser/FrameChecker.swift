import HomelessWire

/// Checks one input under one walker configuration (see FuzzFrameParser.swift).
struct FrameChecker {
    let bytes: UnsafeRawBufferPointer
    let configuration: PacketWalkerConfiguration

    var codePoints: MobileIPv6CodePoints { configuration.codePoints }

    func run() {
        let summary: Result<ParsedPacket, WireError>
        do {
            summary = .success(try ParsedPacket.parse(bytes, configuration: configuration))
        } catch {
            summary = .failure(error)
        }
        let walk = walkAll()
        switch (summary, walk.error) {
        case (.failure(let parseError), let walkError?):
            require(parseError == walkError, "ParsedPacket error \(parseError) != walker error \(walkError)")
            requireErrorOffsetInBuffer(parseError)
        case (.failure(let parseError), nil):
            fatalError("invariant broken: ParsedPacket failed with \(parseError) but the walk succeeded")
        case (.success, let walkError?):
            fatalError("invariant broken: ParsedPacket succeeded but the walk failed with \(walkError)")
        case (.success(let packet), nil):
            checkSummary(packet, against: walk)
        }
    }

    // MARK: - The walk

    struct Walk {
        var records: [HeaderRecord] = []
        var error: WireError?
        var walker: PacketWalker
    }

    /// Walks the frame, checking the record sequence and building every view.
    func walkAll() -> Walk {
        var walk = Walk(walker: PacketWalker(bytes, configuration: configuration))
        var expectedOffset = 0
        while true {
            let record: HeaderRecord?
            do {
                record = try walk.walker.next()
            } catch {
                walk.error = error
                break
            }
            guard let record else { break }
            require(walk.records.count < 64, "walk does not terminate")
            require(record.offset == expectedOffset, "record \(record.kind) at \(record.offset), expected \(expectedOffset)")
            require(record.length >= 0 && record.offset >= 0 && record.end <= bytes.count,
                    "record \(record.kind) \(record.range) outside the buffer of \(bytes.count)")
            if let ipv6 = walk.walker.ipv6, record.kind != .ipv6 {
                require(ipv6.payloadEnd <= bytes.count, "IPv6 payload end \(ipv6.payloadEnd) past the buffer")
                require(record.end <= ipv6.payloadEnd, "record \(record.kind) \(record.range) past the payload end \(ipv6.payloadEnd)")
            }
            if let previous = walk.records.last {
                require(previous.kind.rawValue <= HeaderKind.ipv6.rawValue || previous.nextHeader != nil,
                        "record after \(previous.kind), which ends the walk")
                if previous.kind != .ethernet { require(record.protocolNumber == previous.nextHeader, "protocol chain broken") }
            }
            expectedOffset = record.end
            walk.records.append(record)
            checkRecord(record, walker: walk.walker)
        }
        for _ in 0..<2 {
            let again = try? walk.walker.next()
            require(again == nil, "walker yields \(String(describing: again)) after the end")
        }
        require(walk.walker.extensionHeaderCount == walk.records.filter { $0.kind.isExtensionHeader }.count,
                "extension header count \(walk.walker.extensionHeaderCount) disagrees with the records")
        require(walk.walker.extensionHeaderCount <= configuration.maximumExtensionHeaders, "chain limit ignored")
        return walk
    }

    func requireErrorOffsetInBuffer(_ error: WireError) {
        require(error.offset >= 0 && error.offset <= bytes.count, "error \(error) offset outside the buffer of \(bytes.count)")
    }

    /// Checks the fast-path summary against the walk.
    func checkSummary(_ packet: ParsedPacket, against walk: Walk) {
        let records = walk.records
        func first(_ kind: HeaderKind) -> Int? { records.first { $0.kind == kind }?.offset }
        let count = bytes.count
        require(packet.linkHeaderLength == (first(.ethernet).map { _ in records[0].length } ?? 0), "link header length")
        require(packet.ipv6Offset == packet.linkHeaderLength && first(.ipv6) == packet.ipv6Offset, "IPv6 offset")
        require(packet.packetEnd == packet.ipv6Offset + 40 + packet.payloadLength && packet.packetEnd <= count,
                "packet end \(packet.packetEnd) (payload \(packet.payloadLength), buffer \(count))")
        let payload = (packet.ipv6Offset + 40)...packet.packetEnd
        for (name, offset) in [("hop-by-hop", packet.hopByHopOffset), ("routing", packet.routingHeaderOffset),
                               ("fragment", packet.fragmentHeaderOffset), ("destination options", packet.destinationOptionsOffset),
                               ("AH", packet.authenticationHeaderOffset), ("ESP", packet.encapsulatingSecurityPayloadOffset),
                               ("upper layer", packet.upperLayerOffset), ("mobility header", packet.mobilityOptions.headerOffset)] {
            if let offset { require(payload.contains(offset), "\(name) offset \(offset) outside the payload \(payload)") }
        }
        require(packet.hopByHopOffset == first(.hopByHop), "hop-by-hop offset")
        require(packet.routingHeaderOffset == first(.routing), "routing offset")
        require(packet.fragmentHeaderOffset == first(.fragment), "fragment offset")
        require(packet.destinationOptionsOffset == first(.destinationOptions), "destination options offset")
        require(packet.destinationOptionsCount == records.filter { $0.kind == .destinationOptions }.count, "destination options count")
        require(packet.authenticationHeaderOffset == first(.authentication), "AH offset")
        require(packet.extensionHeaderCount == walk.walker.extensionHeaderCount, "extension header count")
        require(packet.mobilityOptions == walk.walker.mobilityOptions, "mobility option offsets")
        require(packet.unrecognizedOptionCount == walk.walker.unrecognizedOptionCount, "unrecognized option count")
        require(packet.firstActionableOption == walk.walker.firstActionableOption, "first actionable option")
        require(packet.routingFinalDestination == walk.walker.routingFinalDestination, "routing final destination")
        require(packet.isNonInitialFragment == walk.walker.isNonInitialFragment, "non-initial fragment flag")
        if let upper = packet.upperLayerOffset {
            require(upper + packet.upperLayerHeaderLength <= packet.packetEnd, "upper layer header past the packet end")
            require(packet.upperLayerLength >= packet.upperLayerHeaderLength, "upper layer length")
        }
        let mobility = packet.mobilityOptions
        for offset in [mobility.homeAddress, mobility.bindingUpdate, mobility.bindingAcknowledgement, mobility.bindingRequest] {
            guard let offset else { continue }
            require(offset > packet.ipv6Offset + 40 && offset + 2 <= packet.packetEnd, "mobility option offset \(offset)")
            require(records.contains { $0.kind == .destinationOptions && $0.range.contains(offset) },
                    "mobility option offset \(offset) not inside a destination options header")
        }
        if let homeAddressOffset = mobility.homeAddress {
            require(homeAddressOffset + 18 <= packet.packetEnd, "home address option overruns the packet")
            require(packet.homeAddress == IPv6Address(bytes: bytes, at: homeAddressOffset + 2), "home address value")
        } else {
            require(packet.homeAddress == nil, "home address without a Home Address option")
        }
        if let option = packet.firstActionableOption {
            require(option.action != .skip, "first actionable option has the skip action")
            require(records.contains { ($0.kind == .hopByHop || $0.kind == .destinationOptions) && $0.range.contains(option.optionOffset) },
                    "actionable option offset \(option.optionOffset) not inside an options header")
        }
        if let last = records.last {
            require(last.nextHeader == nil, "a complete walk ends with \(last.kind), which announces a further header")
        }
    }

    // MARK: - Views and values per record

    func checkRecord(_ record: HeaderRecord, walker: PacketWalker) {
        let limit = walker.payloadEnd
        switch record.kind {
        case .ethernet:
            let view = mustSucceed("EthernetFrameView") { () throws(WireError) in try EthernetFrameView(checking: bytes, at: 0) }
            require(view.headerLength == record.length && view.payloadOffset == record.end, "ethernet lengths")
            require(view.etherType == .ipv6, "walked past a non-IPv6 ether type")
            let value = EthernetHeader(view)
            roundTrip(value, length: value.bufferLength, emit: { value.emit(into: $0) }) { buffer throws(WireError) in
                EthernetHeader(try EthernetFrameView(checking: buffer, at: 0))
            }
        case .ipv6:
            let view = mustSucceed("IPv6HeaderView") { () throws(WireError) in try IPv6HeaderView(checking: bytes, at: record.offset) }
            require(view.version == 6, "IPv6 version \(view.version)")
            require(view.payloadEnd <= bytes.count, "payload length overruns the buffer")
            _ = (view.trafficClass, view.flowLabel, view.hopLimit, view.source, view.destination)
            let value = IPv6Header(view)
            roundTrip(value, length: value.bufferLength, trailer: view.payloadLength, emit: { value.emit(into: $0) }) { buffer throws(WireError) in
                IPv6Header(try IPv6HeaderView(checking: buffer, at: 0))
            }
        case .hopByHop, .destinationOptions:
            let view = mustSucceed("OptionsHeaderView") { () throws(WireError) in
                try OptionsHeaderView(checking: bytes, at: record.offset, limit: limit)
            }
            require(view.length == record.length && view.nextHeader == record.nextHeader, "options header length/next header")
            checkOptions(view, isDestinationOptions: record.kind == .destinationOptions)
        case .routing:
            let view = mustSucceed("RoutingHeaderView") { () throws(WireError) in
                try RoutingHeaderView(checking: bytes, at: record.offset, limit: limit)
            }
            require(view.length == record.length, "routing length")
            require(view.addressCount * 16 + 8 <= view.length || view.addressCount == 0, "routing addresses overrun the header")
            for index in -1...view.addressCount { _ = view.address(index) }
            require(view.address(view.addressCount) == nil && view.address(-1) == nil, "routing address index bounds")
            let value = RoutingHeader(view)
            if value.bufferLength <= 2048 {
                roundTrip(value, length: value.bufferLength, emit: { value.emit(into: $0) }) { buffer throws(WireError) in
                    RoutingHeader(try RoutingHeaderView(checking: buffer, at: 0))
                }
            }
        case .fragment:
            let view = mustSucceed("FragmentHeaderView") { () throws(WireError) in
                try FragmentHeaderView(checking: bytes, at: record.offset, limit: limit)
            }
            _ = (view.fragmentOffset, view.moreFragments, view.identification, view.isAtomic)
            let value = FragmentHeader(view)
            roundTrip(value, length: value.bufferLength, emit: { value.emit(into: $0) }) { buffer throws(WireError) in
                FragmentHeader(try FragmentHeaderView(checking: buffer, at: 0))
            }
        case .authentication:
            let view = mustSucceed("AuthenticationHeaderView") { () throws(WireError) in
                try AuthenticationHeaderView(checking: bytes, at: record.offset, limit: limit)
            }
            require(view.length == record.length, "AH length")
            require(view.integrityCheckValueRange.lowerBound >= record.offset && view.integrityCheckValueRange.upperBound <= record.end,
                    "AH ICV range \(view.integrityCheckValueRange) outside the header \(record.range)")
            _ = (view.securityParametersIndex, view.sequenceNumber, view.reserved)
            let value = AuthenticationHeader(view)
            roundTrip(value, length: value.bufferLength, emit: { value.emit(into: $0) }) { buffer throws(WireError) in
                AuthenticationHeader(try AuthenticationHeaderView(checking: buffer, at: 0))
            }
        case .encapsulatingSecurityPayload:
            let view = mustSucceed("EncapsulatingSecurityPayloadView") { () throws(WireError) in
                try EncapsulatingSecurityPayloadView(checking: bytes, at: record.offset, limit: limit)
            }
            _ = (view.securityParametersIndex, view.sequenceNumber)
        case .icmpv6:
            let view = mustSucceed("ICMPv6View") { () throws(WireError) in
                try ICMPv6View(checking: bytes, at: record.offset, limit: limit)
            }
            require(view.end <= bytes.count && view.offset + ICMPv6View.headerLength <= view.end, "ICMPv6 bounds")
            _ = (view.type, view.code, view.identifier, view.sequence, view.pointer, view.message.count)
            let (source, destination) = pseudoHeaderAddresses(walker)
            _ = view.verifyChecksum(source: source, destination: destination)
            let value = ICMPv6Message(view)
            roundTrip(value.body, length: value.bufferLength,
                      emit: { value.emit(into: $0, source: source, destination: destination) }) { buffer throws(WireError) in
                let reparsed = try ICMPv6View(checking: buffer, at: 0)
                require(reparsed.verifyChecksum(source: source, destination: destination), "emitted ICMPv6 checksum does not verify")
                return ICMPv6Message(reparsed).body
            }
        case .udp:
            let view = mustSucceed("UDPHeaderView") { () throws(WireError) in
                try UDPHeaderView(checking: bytes, at: record.offset, limit: limit, checksDatagramLength: !walker.isFragment)
            }
            _ = (view.sourcePort, view.destinationPort, view.datagramLength, view.checksum)
            if let datagram = view.datagram { require(datagram.count <= limit - record.offset, "UDP datagram overruns the payload") }
            let (source, destination) = pseudoHeaderAddresses(walker)
            if !walker.isFragment { _ = view.verifyChecksum(source: source, destination: destination) }
            let value = UDPHeader(view)
            roundTrip(value, length: value.bufferLength, emit: { value.emit(into: $0) }) { buffer throws(WireError) in
                UDPHeader(try UDPHeaderView(checking: buffer, at: 0, checksDatagramLength: false))
            }
        case .tcp:
            let view = mustSucceed("TCPHeaderView") { () throws(WireError) in
                try TCPHeaderView(checking: bytes, at: record.offset, limit: limit)
            }
            require(view.headerLength == record.length && view.headerLength >= TCPHeaderView.minimumLength, "TCP header length")
            require(view.end <= bytes.count && view.payloadOffset <= view.end, "TCP bounds")
            _ = (view.sourcePort, view.destinationPort, view.sequenceNumber, view.acknowledgmentNumber, view.flags, view.window,
                 view.urgentPointer, view.segment.count)
            let (source, destination) = pseudoHeaderAddresses(walker)
            if !walker.isFragment { _ = view.verifyChecksum(source: source, destination: destination) }
        case .noNextHeader, .payload:
            break
        }
    }

    func pseudoHeaderAddresses(_ walker: PacketWalker) -> (IPv6Address, IPv6Address) {
        let source = walker.ipv6?.source ?? .unspecified
        let destination = walker.routingFinalDestination ?? walker.ipv6?.destination ?? .unspecified
        return (source, destination)
    }
}
