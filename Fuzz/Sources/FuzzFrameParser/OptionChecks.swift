import HomelessWire

extension FrameChecker {
    /// Walks the options of a Hop-by-Hop or Destination Options header,
    /// builds the Mobile IPv6 views and values of a Destination Options
    /// header, and round-trips them.
    func checkOptions(_ view: OptionsHeaderView, isDestinationOptions: Bool) {
        let headerEnd = view.offset + view.length
        var walker = view.options(checksPadding: configuration.checksPadding)
        var nonPadding = 0
        while let record = mustSucceed("option walk", { () throws(WireError) in try walker.next() }) {
            require(record.offset >= view.offset + 2 && record.dataOffset >= record.offset + 1
                        && record.dataRange.upperBound <= headerEnd,
                    "option \(record.type) at \(record.offset) data \(record.dataRange) outside the header ..<\(headerEnd)")
            require(record.totalLength == (record.type == OptionWalker.pad1 ? 1 : 2 + record.dataLength), "option total length")
            if record.isPadding { continue }
            nonPadding += 1
            guard isDestinationOptions, let kind = codePoints.optionKind(record.type) else { continue }
            checkMobilityOption(record, kind: kind, header: view)
        }
        guard isDestinationOptions else { return }
        let value = mustSucceed("DestinationOptionsHeader") { () throws(WireError) in
            try DestinationOptionsHeader(view, codePoints: codePoints, checksPadding: configuration.checksPadding,
                                         checksAlignment: configuration.checksAlignment)
        }
        require(value.options.count == nonPadding, "decoded \(value.options.count) options, walked \(nonPadding)")
        require(value.nextHeader == view.nextHeader, "decoded next header")
        // Not every valid header re-encodes: canonical padding can differ from
        // the received one and push an option past 255 bytes, so an
        // unencodable value is skipped rather than reported.
        roundTripDestinationOptions(value)
    }

    func checkMobilityOption(_ record: OptionRecord, kind: MobilityOptionKind, header: OptionsHeaderView) {
        let alignment = configuration.checksAlignment
        let padding = configuration.checksPadding
        switch kind {
        case .homeAddress:
            let option = mustSucceed("HomeAddressOptionView") { () throws(WireError) in
                try HomeAddressOptionView(checking: bytes, record: record, headerOffset: header.offset, checksAlignment: alignment)
            }
            require(record.dataLength == 16, "Home Address option length \(record.dataLength)")
            _ = option.homeAddress
        case .bindingUpdate:
            let option = mustSucceed("BindingUpdateOptionView") { () throws(WireError) in
                try BindingUpdateOptionView(checking: bytes, record: record, headerOffset: header.offset, checksAlignment: alignment)
            }
            _ = (option.flags, option.reservedBits, option.prefixLength, option.sequence, option.lifetime)
            let subOptions = checkSubOptions(option.subOptions(codePoints: codePoints, checksPadding: padding, checksAlignment: alignment),
                                             within: record.dataRange)
            let value = mustSucceed("BindingUpdate(view)") { () throws(WireError) in
                try BindingUpdate(option, codePoints: codePoints, checksPadding: padding, checksAlignment: alignment)
            }
            require(value.subOptions == subOptions, "BindingUpdate sub-options differ from the walked ones")
            require(value.sequence == option.sequence && value.lifetime == option.lifetime && value.flags == option.flags
                        && value.reservedBits == option.reservedBits && value.prefixLength == option.prefixLength,
                    "BindingUpdate fields differ from the view")
            roundTripSingle(.bindingUpdate(value))
        case .bindingAcknowledgement:
            let option = mustSucceed("BindingAcknowledgementOptionView") { () throws(WireError) in
                try BindingAcknowledgementOptionView(checking: bytes, record: record, headerOffset: header.offset,
                                                     checksAlignment: alignment)
            }
            _ = (option.status, option.sequence, option.lifetime, option.refresh)
            let subOptions = checkSubOptions(option.subOptions(codePoints: codePoints, checksPadding: padding, checksAlignment: alignment),
                                             within: record.dataRange)
            let value = mustSucceed("BindingAcknowledgement(view)") { () throws(WireError) in
                try BindingAcknowledgement(option, codePoints: codePoints, checksPadding: padding, checksAlignment: alignment)
            }
            require(value.subOptions == subOptions, "BindingAcknowledgement sub-options differ from the walked ones")
            _ = value.isAccepted(codePoints: codePoints)
            roundTripSingle(.bindingAcknowledgement(value))
        case .bindingRequest:
            let option = mustSucceed("BindingRequestOptionView") { () throws(WireError) in
                try BindingRequestOptionView(checking: bytes, record: record, headerOffset: header.offset, checksAlignment: alignment)
            }
            let subOptions = checkSubOptions(option.subOptions(codePoints: codePoints, checksPadding: padding, checksAlignment: alignment),
                                             within: record.dataRange)
            let value = mustSucceed("BindingRequest(view)") { () throws(WireError) in
                try BindingRequest(option, codePoints: codePoints, checksPadding: padding, checksAlignment: alignment)
            }
            require(value.subOptions == subOptions, "BindingRequest sub-options differ from the walked ones")
            roundTripSingle(.bindingRequest(value))
        }
    }

    /// Walks sub-options (the walker already validated them), checks their
    /// offsets, builds Alternate Prefixes views and decodes every non-padding
    /// sub-option.
    func checkSubOptions(_ walker: MobilitySubOptionWalker, within optionData: Range<Int>) -> [MobilitySubOption] {
        var walker = walker
        var decoded: [MobilitySubOption] = []
        let source = IPv6Address(high: 0x2001_0db8_0000_0001, low: 0x0011_2233_4455_6677)
        while let record = mustSucceed("sub-option walk", { () throws(WireError) in try walker.next() }) {
            require(record.offset >= optionData.lowerBound && record.dataRange.upperBound <= optionData.upperBound,
                    "sub-option \(record.type) at \(record.offset) data \(record.dataRange) outside the option data \(optionData)")
            if walker.isPadding(record) { continue }
            let value = MobilitySubOption(record: record, bytes: bytes, codePoints: codePoints)
            require(value.type(codePoints: codePoints) == record.type, "sub-option type changed in decoding")
            require(value.dataLength == record.dataLength, "sub-option \(record.type) data length \(value.dataLength) != \(record.dataLength)")
            if record.type == codePoints.alternatePrefixes {
                let view = mustSucceed("AlternatePrefixesView") { () throws(WireError) in
                    try AlternatePrefixesView(checking: bytes, record: record)
                }
                require(view.prefixOffset(view.count) == record.dataRange.upperBound, "Alternate Prefixes layout")
                guard case .alternatePrefixes(let prefixes) = value else {
                    fatalError("invariant broken: a valid Alternate Prefixes sub-option decoded as \(value)")
                }
                require(prefixes.prefixes.count == view.count && prefixes.prefixByteCount == view.prefixByteCount, "prefix count/size")
                for index in 0..<view.count {
                    let fromView = view.address(index, suffixFrom: source)
                    require(fromView == prefixes.address(at: index, suffixFrom: source),
                            "Alternate Prefixes address \(index): view and value disagree")
                }
                require(view.address(view.count, suffixFrom: source) == nil && view.address(-1, suffixFrom: source) == nil,
                        "Alternate Prefixes index bounds")
            }
            decoded.append(value)
        }
        return decoded
    }
}
