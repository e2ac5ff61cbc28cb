import Testing
@testable import HomelessEngine
import HomelessWire
import HomelessSystem

/// A frame handed over with checksum offload pending carries a partial
/// checksum; the worker computes the real one. Expected values from scapy.
@Suite struct ChecksumCompletionTests {
    static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16) ?? 0)
            index = next
        }
        return result
    }

    static let udp = bytes("02000000000202000000000186dd600000000010114020010db8000a0000000000000000001020010db8000c000000000000000000209c40138900103e9f686f6d656c657373")
    static let tcp = bytes("02000000000202000000000186dd600000000032064020010db8000a0000000000000000001020010db8000c000000000000000000209c401451000003e800000005501802008e690000787878787878787878787878787878787878787878787878787878787878")

    func completed(_ original: [UInt8], checksumAt field: Int, garbage: UInt16) throws -> [UInt8] {
        var frame = original
        frame[field] = UInt8(garbage >> 8)
        frame[field + 1] = UInt8(garbage & 0xFF)
        let packet = try frame.withUnsafeBytes { try ParsedPacket.parse($0) }
        frame.withUnsafeMutableBytes { ForwardingWorker.completeChecksum(in: $0, of: packet) }
        return frame
    }

    @Test func udpChecksumIsCompleted() throws {
        let field = 14 + 40 + 6
        #expect(try completed(Self.udp, checksumAt: field, garbage: 0xDEAD) == Self.udp)
        #expect(try completed(Self.udp, checksumAt: field, garbage: 0) == Self.udp)
    }

    @Test func tcpChecksumIsCompleted() throws {
        let field = 14 + 40 + 16
        #expect(try completed(Self.tcp, checksumAt: field, garbage: 0x1234) == Self.tcp)
        #expect(Self.tcp[field] == 0x8E && Self.tcp[field + 1] == 0x69)
    }

    @Test func otherProtocolsAreLeftAlone() throws {
        // Same frame announced as protocol 59 (No Next Header): no checksum field.
        var frame = Self.udp
        frame[14 + 6] = 59
        let packet = try frame.withUnsafeBytes { try ParsedPacket.parse($0) }
        let before = frame
        frame.withUnsafeMutableBytes { ForwardingWorker.completeChecksum(in: $0, of: packet) }
        #expect(frame == before)
    }
}

/// With checksum offload pending (virtio_net_hdr NEEDS_CSUM) the field
/// holds the uncomplemented pseudo-header sum, and the kernel or device
/// completes it later by summing the upper-layer message over it. A
/// translation must leave it so that this completion gives what a full
/// computation over the translated packet gives.
@Suite struct PartialChecksumTests {
    static let locatorSource = IPv6Address("2001:db8:77::1")!
    static let locatorDestination = IPv6Address("2001:db8:99:1::abcd")!

    /// What the kernel does for CHECKSUM_PARTIAL (skb_checksum_help): sum
    /// from the checksum start to the end, fold, complement.
    static func completeLikeTheKernel(_ frame: inout [UInt8], start: Int, field: Int) {
        let checksum = frame.withUnsafeBytes { bytes in
            InternetChecksum.finish(InternetChecksum.sum(UnsafeRawBufferPointer(rebasing: bytes[start...])))
        }
        frame[field] = UInt8(checksum >> 8)
        frame[field + 1] = UInt8(checksum & 0xFF)
    }

    /// The frame with its checksum field replaced by the pseudo-header sum
    /// (tcp_v6_send_check / udp6_hwcsum_outgoing leave this).
    static func partial(_ complete: [UInt8], nextHeader: IPProtocol, field: Int) throws -> [UInt8] {
        var frame = complete
        let packet = try frame.withUnsafeBytes { try ParsedPacket.parse($0) }
        let pseudo = InternetChecksum.pseudoHeaderSum(
            source: packet.source, destination: packet.destination,
            upperLayerLength: UInt32(frame.count - 54), nextHeader: nextHeader)
        let folded = InternetChecksum.fold(pseudo)
        frame[field] = UInt8(folded >> 8)
        frame[field + 1] = UInt8(folded & 0xFF)
        return frame
    }

    func check(_ complete: [UInt8], nextHeader: IPProtocol, fieldOffset: Int) throws {
        let start = 14 + 40, field = start + fieldOffset
        var partial = try Self.partial(complete, nextHeader: nextHeader, field: field)
        let packet = try partial.withUnsafeBytes { try ParsedPacket.parse($0) }
        let outcome = partial.withUnsafeMutableBytes {
            LocatorTranslation.rewrite($0, packet: packet, source: Self.locatorSource,
                                       destination: Self.locatorDestination, partialChecksumAt: field)
        }
        #expect(outcome == .rewritten)
        Self.completeLikeTheKernel(&partial, start: start, field: field)

        // Full computation: translate the complete frame's addresses,
        // then compute its checksum from scratch.
        var full = complete
        full.withUnsafeMutableBytes { bytes in
            Self.locatorSource.write(to: bytes, at: 14 + IPv6HeaderView.Field.source)
            Self.locatorDestination.write(to: bytes, at: 14 + IPv6HeaderView.Field.destination)
        }
        let translated = try full.withUnsafeBytes { try ParsedPacket.parse($0) }
        full.withUnsafeMutableBytes { ForwardingWorker.completeChecksum(in: $0, of: translated) }
        #expect(partial == full)
        #expect(partial.withUnsafeBytes {
            InternetChecksum.verifyUpperLayer(source: Self.locatorSource, destination: Self.locatorDestination,
                                              nextHeader: nextHeader,
                                              message: UnsafeRawBufferPointer(rebasing: $0[start...]))
        })

        // The same update applied as to a complete checksum (RFC 1624
        // alone) would not survive the completion.
        var wrong = try Self.partial(complete, nextHeader: nextHeader, field: field)
        _ = wrong.withUnsafeMutableBytes {
            LocatorTranslation.rewrite($0, packet: packet, source: Self.locatorSource, destination: Self.locatorDestination)
        }
        Self.completeLikeTheKernel(&wrong, start: start, field: field)
        #expect(wrong != full)
    }

    @Test func tcpPartialChecksumTranslatesLikeAFullComputation() throws {
        try check(ChecksumCompletionTests.tcp, nextHeader: .tcp, fieldOffset: 16)
    }

    @Test func udpPartialChecksumTranslatesLikeAFullComputation() throws {
        try check(ChecksumCompletionTests.udp, nextHeader: .udp, fieldOffset: 6)
    }

    /// A GRO super-frame (checksums verified, first segment's checksum in
    /// the field) leaves with the pseudo-header sum and NEEDS_CSUM, so the
    /// kernel computes the right checksum for whatever it sends.
    @Test func mergedSuperFrameGetsAPartialChecksum() throws {
        var frame = ChecksumCompletionTests.tcp
        let field = 14 + 40 + 16
        frame[field] = 0x12
        frame[field + 1] = 0x34
        let packet = try frame.withUnsafeBytes { try ParsedPacket.parse($0) }
        let merged = PacketOffload(flags: PacketOffload.dataValidFlag, segmentationType: PacketOffload.tcpIPv6,
                                   headerLength: 86, segmentSize: 1440)
        let offload = frame.withUnsafeMutableBytes {
            ForwardingWorker.deferChecksum(in: $0, of: packet, source: packet.source, destination: packet.destination,
                                           offload: merged)
        }
        #expect(offload.needsChecksum && offload.isSuperFrame)
        #expect(offload.checksumStart == 54 && offload.checksumOffset == 16 && offload.segmentSize == 1440)
        PartialChecksumTests.completeLikeTheKernel(&frame, start: 54, field: field)
        #expect(frame == ChecksumCompletionTests.tcp)
    }
}
