import HomelessCore
import HomelessSecurity
import HomelessWire

// libFuzzer target over the slow path's parse of a punted inbound frame
// (HomelessEngine's `MobilityController.handleInbound` / `handleHandshake`
// and the Parameter Problem note), using the same public pieces in the
// same order, without the authorisation gate in front of each decoder so
// that every decoder sees the fuzzer's bytes:
//   1. `ParsedPacket.parse` of the Ethernet frame;
//   2. AH verification (`SecurityAssociationDatabase.verifyInbound`, one
//      manually keyed SA for SPI 0x2001, so the AH layout and replay
//      window code run) and `ProtectedContent.classify` behind it;
//   3. the Destination Options header holding a Binding Update,
//      Acknowledgement or Request: `OptionsHeaderView(checking:)` within
//      the packet and `DestinationOptionsHeader` decoding it;
//   4. the handshake (Next Header 253) at the upper-layer offset: message 1
//      answered by a responder, message 3 handed to it whole (it must drop
//      a forged one before any Diffie-Hellman), the address probe parsed;
//   5. an ICMPv6 message: `InitialBindingUpdateRejection.match`.
// A trap is a crash for libFuzzer; a forged message 3 completing is one too.

nonisolated(unsafe) var database: SecurityAssociationDatabase = {
    var database = SecurityAssociationDatabase()
    let keys = """
        add 2001:db8:a::10 2001:db8:c::20 ah 0x2001 -A hmac-sha256 0x000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f;
        """
    guard let configuration = try? ManualKeyingConfiguration(parsing: keys),
          (try? database.loadManual(configuration, isLocal: { $0 == IPv6Address(high: 0x2001_0db8_000c_0000, low: 0x20) })) != nil
    else { fatalError("the fuzz target's SA does not load") }
    return database
}()

nonisolated(unsafe) var random = SplitMix64(seed: 1)
nonisolated(unsafe) var responder = HandshakeResponder(now: MonotonicInstant(nanoseconds: 1_000_000_000), random: &random)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let frame = UnsafeRawBufferPointer(start: data, count: size)
    guard let packet = try? ParsedPacket.parse(frame) else { return 0 }
    let end = min(packet.packetEnd, frame.count)
    guard packet.ipv6Offset >= 0, packet.ipv6Offset + 40 <= end else { return 0 }
    let ipv6 = UnsafeRawBufferPointer(rebasing: frame[packet.ipv6Offset..<end])

    let verification = database.verifyInbound(ipv6)
    if verification.verdict == .ok || verification.ahOffset > 0 {
        _ = ProtectedContent.classify(ipv6, payloadOffset: verification.payloadOffset, nextHeader: verification.nextHeader)
    }

    let mobility = packet.mobilityOptions
    for offset in [mobility.bindingUpdateHeader, mobility.bindingAcknowledgementHeader, mobility.bindingRequestHeader,
                   mobility.homeAddressHeader].compactMap({ $0 }) {
        if let view = try? OptionsHeaderView(checking: frame, at: offset, limit: packet.packetEnd),
           let header = try? DestinationOptionsHeader(view) {
            // The walker accepted these options: decoding them must agree.
            require(!header.options.isEmpty, "a header with mobility options decoded to none")
        }
    }

    if let upper = packet.upperLayerOffset, upper < end {
        let message = UnsafeRawBufferPointer(rebasing: frame[upper..<end])
        let now = MonotonicInstant(nanoseconds: 2_000_000_000)
        switch packet.upperLayerProtocol.rawValue {
        case 253:
            _ = responder.answer(message: message, initiator: packet.source, responder: packet.destination,
                                 now: now, random: &random)
            _ = try? AddressProbeMessage(parsing: message)
        case IPProtocol.icmpv6.rawValue:
            _ = InitialBindingUpdateRejection.match(icmpMessage: message)
        default:
            break
        }
    }
    if ProtectedContent.classify(ipv6, payloadOffset: 40, nextHeader: ipv6[6]) == .handshake || verification.ahOffset > 0 {
        let completedBefore = responder.counters.completed
        _ = responder.complete(packet: ipv6, now: MonotonicInstant(nanoseconds: 2_000_000_000), random: &random,
                               isInboundSPIInUse: { _ in false })
        // A message 3 needs a cookie from message 2 (128 bits of HMAC): a
        // fuzzer cannot make one.
        require(responder.counters.completed == completedBefore, "a forged message 3 completed a handshake")
    }
    return 0
}

/// Reports a broken invariant: libFuzzer saves the input and stops.
func require(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String,
             file: StaticString = #fileID, line: UInt = #line) {
    if !condition() { fatalError("invariant broken: \(message())", file: file, line: line) }
}
