import HomelessEngine
import HomelessWire
import Testing

/// Inbound ICMPv6 errors quoting a packet we sent translated (RFC 4443 2.4
/// (c)): the worker turns the quote back into the ULIDs so the kernel's
/// socket gets the error (RFC 8201 path MTU discovery after a move).
extension ForwardingWorkerTests {
    static let router = TranslationTests.address("2001:db8:b::1")

    /// A Packet Too Big (MTU 1280) from `router` to `destination` quoting
    /// the first `quoteLength` bytes of `invoking` (an IPv6 packet); by
    /// default as much as fits in the minimum MTU (RFC 4443 2.4 (c)).
    static func packetTooBig(to destination: IPv6Address, quoting invoking: [UInt8], quoteLength: Int = 1280 - 48) -> [UInt8] {
        let quote = Array(invoking.prefix(quoteLength))
        var frame = TranslationTests.frame(source: router, destination: destination, protocol: .icmpv6,
                                           upper: [2, 0, 0, 0, 0, 0, 0x05, 0x00] + quote)
        frame.withUnsafeMutableBytes { wireAddress.write(to: $0, at: 0) }
        return frame
    }

    /// A TCP segment with data, as we sent it translated (IPv6 packet only).
    static func sentSegment(source: IPv6Address, destination: IPv6Address) -> [UInt8] {
        var upper = TranslationTests.tcp(payload: Array(repeating: 0x5A, count: 1400))
        upper[0...3] = [0x9C, 0x40, 0x14, 0x51]  // 40000 -> 5201
        return Array(TranslationTests.frame(source: source, destination: destination, protocol: .tcp, upper: upper)[14...])
    }

    /// Offset of the quoted IPv6 header in a frame built by `packetTooBig`.
    static let quoteOffset = 14 + 40 + 8

    static func quotedAddresses(_ frame: [UInt8]) -> (source: IPv6Address, destination: IPv6Address) {
        frame.withUnsafeBytes {
            (IPv6Address(bytes: $0, at: quoteOffset + 8), IPv6Address(bytes: $0, at: quoteOffset + 24))
        }
    }

    @Test func aPacketTooBigQuotingATranslatedSegmentReachesTheKernelInULIDs() throws {
        let lab = try Lab()
        let record = Self.record
        let segment = Self.sentSegment(source: record.localLocator, destination: record.peerLocator)
        let error = Self.packetTooBig(to: record.localLocator, quoting: segment)
        lab.handle(error, direction: .inbound)
        let up = try #require(try lab.frames(on: lab.sentUp).first)
        #expect(up.count == error.count)
        #expect(Self.addresses(up).source == Self.router)
        #expect(Self.addresses(up).destination == record.localIdentifier)
        #expect(Self.quotedAddresses(up).source == record.localIdentifier)
        #expect(Self.quotedAddresses(up).destination == record.peerIdentifier)
        // The ICMPv6 checksum equals a full recomputation over the new
        // pseudo-header and the rewritten quote.
        #expect(try TranslationTests.checksumIsExact(up, protocol: .icmpv6))
        // The quoted TCP checksum is what the kernel computed for the
        // segment under the ULIDs (over the whole original segment).
        let original = Self.sentSegment(source: record.localIdentifier, destination: record.peerIdentifier)
        let tcpChecksum = Self.quoteOffset + 40 + 16
        #expect(Array(up[tcpChecksum..<(tcpChecksum + 2)]) == Array(original[56..<58]))
        #expect(Array(up[(Self.quoteOffset + 40)...]) == Array(original[40..<(up.count - Self.quoteOffset)]))
        #expect(lab.worker.counters[.icmpErrorsTranslated] == 1)
        #expect(lab.worker.counters[.inboundForwarded] == 1)
        #expect(lab.worker.counters.totalDrops == 0)
    }

    @Test func aQuoteCutBeforeTheTransportChecksumHasOnlyItsAddressesRewritten() throws {
        let lab = try Lab()
        let record = Self.record
        let segment = Self.sentSegment(source: record.localLocator, destination: record.peerLocator)
        let error = Self.packetTooBig(to: record.localLocator, quoting: segment, quoteLength: 40 + 8)
        lab.handle(error, direction: .inbound)
        let up = try #require(try lab.frames(on: lab.sentUp).first)
        #expect(Self.quotedAddresses(up) == (record.localIdentifier, record.peerIdentifier))
        #expect(Self.addresses(up).destination == record.localIdentifier)
        #expect(Array(up[(Self.quoteOffset + 40)...]) == Array(error[(Self.quoteOffset + 40)...]))
        #expect(try TranslationTests.checksumIsExact(up, protocol: .icmpv6))
        #expect(lab.worker.counters[.icmpErrorsTranslated] == 1)

        // Less than a whole quoted IPv6 header: passed as it came.
        let stub = Self.packetTooBig(to: record.localLocator, quoting: segment, quoteLength: 39)
        lab.handle(stub, direction: .inbound)
        #expect(try lab.frames(on: lab.sentUp).first == stub)
        #expect(lab.worker.counters[.icmpErrorsTranslated] == 1)
        #expect(lab.worker.counters.totalDrops == 0)
    }

    @Test func anErrorAboutAnUntranslatedFlowPassesUnchanged() throws {
        let lab = try Lab()
        let record = Self.record
        // Quoting a packet between addresses no record translates to.
        let foreign = Self.packetTooBig(to: Self.host, quoting: Self.sentSegment(source: Self.host, destination: Self.peer))
        // Quoting our ULIDs (a packet that left untranslated).
        let plain = Self.packetTooBig(to: record.localIdentifier, quoting: Self.sentSegment(
            source: record.localIdentifier, destination: record.peerIdentifier))
        // Quoting our locator but another peer's address (forged or stale).
        let forged = Self.packetTooBig(to: record.localLocator, quoting: Self.sentSegment(
            source: record.localLocator, destination: Self.peer))
        for error in [foreign, plain, forged] {
            lab.handle(error, direction: .inbound)
            #expect(try lab.frames(on: lab.sentUp).first == error)
        }
        #expect(lab.worker.counters[.icmpErrorsTranslated] == 0)
        #expect(lab.worker.counters[.inboundForwarded] == 3)
    }

    /// A conversation the kernel opened from our locator (after a move):
    /// its socket knows the locators, so the quote stays as it is.
    @Test func anErrorAboutALocatorConversationKeepsItsQuote() throws {
        let lab = try Lab()
        let record = Self.record
        lab.handle(Self.tcpFrame(source: record.localLocator, destination: record.peerLocator, destinationMAC: .broadcast,
                                 ports: (40000, 5201), flags: 0x02), direction: .outbound)
        _ = try lab.frames(on: lab.sentToWire)
        let error = Self.packetTooBig(to: record.localLocator, quoting: Self.sentSegment(
            source: record.localLocator, destination: record.peerLocator))
        lab.handle(error, direction: .inbound)
        #expect(try lab.frames(on: lab.sentUp).first == error)
        #expect(lab.worker.counters[.icmpErrorsTranslated] == 0)
    }
}
