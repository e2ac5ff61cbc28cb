/// Computes and checks AH ICVs over packets in place (RFC 4302 3.3.3, 3.4.4).
///
/// The packet is never copied: the precomputed HMAC state is copied (a
/// fixed-size value) and fed the ICV input in pieces; digests live in stack
/// words. Nothing here allocates.
enum AHAuthenticator {
    /// Writes the truncated ICV for the packet into the AH ICV field and
    /// zeroes the padding after it (the sender's side, RFC 4302 3.3.3.2).
    static func sign(
        _ packet: UnsafeMutableRawBufferPointer, layout: AHPacketLayout, hmac: PrecomputedHMAC
    ) throws(AHPacketError) {
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        try computeDigest(UnsafeRawBufferPointer(packet), layout: layout, hmac: hmac, into: &digest)
        let icvOffset = layout.ahOffset + AuthenticationHeaderLayout.icv
        let icvLength = hmac.algorithm.icvLength
        withUnsafeBytes(of: &digest) { digestBytes in
            guard let source = digestBytes.baseAddress, let destination = packet.baseAddress else { return }
            (destination + icvOffset).copyMemory(from: source, byteCount: icvLength)
        }
        let paddingLength = layout.ahLength - AuthenticationHeaderLayout.fixedLength - icvLength
        if paddingLength > 0, let destination = packet.baseAddress {
            (destination + icvOffset + icvLength).initializeMemory(as: UInt8.self, repeating: 0, count: paddingLength)
        }
    }

    /// Whether the packet's ICV matches, compared in constant time over all
    /// ICV octets (no early exit that would leak how many octets matched).
    @inline(__always)
    static func verify(
        _ packet: UnsafeRawBufferPointer, layout: AHPacketLayout, hmac: PrecomputedHMAC
    ) throws(AHPacketError) -> Bool {
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        try computeDigest(packet, layout: layout, hmac: hmac, into: &digest)
        let icvOffset = layout.ahOffset + AuthenticationHeaderLayout.icv
        let icvLength = hmac.algorithm.icvLength
        // `computeDigest` checked that AH (ICV included) lies inside the packet.
        // Word-wide for the two ICV lengths (16 and 12 octets); both digest and
        // packet are read in memory order, so the words compare like the bytes.
        switch icvLength {
        case 16:
            let difference = (digest.0 ^ packet.loadUnaligned(fromByteOffset: icvOffset, as: UInt64.self))
                | (digest.1 ^ packet.loadUnaligned(fromByteOffset: icvOffset + 8, as: UInt64.self))
            return difference == 0
        case 12:
            let difference = (digest.0 ^ packet.loadUnaligned(fromByteOffset: icvOffset, as: UInt64.self))
                | UInt64(withUnsafeBytes(of: &digest) { $0.load(fromByteOffset: 8, as: UInt32.self) }
                    ^ packet.loadUnaligned(fromByteOffset: icvOffset + 8, as: UInt32.self))
            return difference == 0
        default:
            var difference: UInt8 = 0
            withUnsafeBytes(of: &digest) { digestBytes in
                for index in 0..<icvLength {
                    difference |= digestBytes.load(fromByteOffset: index, as: UInt8.self)
                        ^ packet.load(fromByteOffset: icvOffset + index, as: UInt8.self)
                }
            }
            return difference == 0
        }
    }

    /// The full HMAC over the ICV input, into `digest` (32 octets of stack).
    @inline(__always)
    static func computeDigest(
        _ packet: UnsafeRawBufferPointer, layout: AHPacketLayout, hmac: PrecomputedHMAC,
        into digest: inout (UInt64, UInt64, UInt64, UInt64)
    ) throws(AHPacketError) {
        // The SA's algorithm fixes the AH length (RFC 4302 2.2); anything
        // else is a malformed header for this SA, not a bad ICV.
        guard layout.ahLength == hmac.algorithm.headerLength else {
            throw AHPacketError(.badPayloadLength, at: layout.ahOffset + AuthenticationHeaderLayout.payloadLength)
        }
        if layout.ahOffset == AHPacketLayout.ipv6HeaderLength,
           computeDigestDirectlyAfterIPv6Header(packet, layout: layout, hmac: hmac, into: &digest) {
            return
        }
        // The computation does not retain the key states; keep them alive.
        try withExtendedLifetime(hmac.keyStates) { () throws(AHPacketError) in
            var computation = hmac.begin()
            try layout.feedICVInput(from: packet, into: &computation)
            withUnsafeMutableBytes(of: &digest) { computation.finish(into: $0) }
        }
    }

    /// The fast path for the common layout IPv6 | AH | ... (every AH packet
    /// the engine itself sends, draft A.2): no extension header before AH,
    /// so no Routing header either and the destination is the packet's. The
    /// ICV input (RFC 4302 3.3.3.1) is then exactly two pieces: the IPv6
    /// header with its mutable fields zeroed followed by AH with its ICV
    /// field zeroed, built in 128 octets of stack (AH of either algorithm is
    /// at most 32 octets), and everything after AH as sent, straight from
    /// the packet. Both go to one C call, instead of one call per piece
    /// through a staging block. `feedICVInput` feeds the same octets.
    /// Returns false, having written nothing, when the layout does not fit
    /// (the general path then runs).
    @inline(__always)
    static func computeDigestDirectlyAfterIPv6Header(
        _ packet: UnsafeRawBufferPointer, layout: AHPacketLayout, hmac: PrecomputedHMAC,
        into digest: inout (UInt64, UInt64, UInt64, UInt64)
    ) -> Bool {
        var headers: (UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
                      UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64) =
            (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        let headersLength = AHPacketLayout.ipv6HeaderLength + layout.ahLength
        // `computeDigest` checked ahLength against the algorithm's (24 or 32).
        guard headersLength <= MemoryLayout.size(ofValue: headers),
              layout.ahOffset + layout.ahLength <= layout.packetLength,
              layout.packetLength <= packet.count else { return false }
        withUnsafeMutableBytes(of: &headers) { bytes in
            // Version kept; Traffic Class, Flow Label zero; Payload Length and
            // Next Header kept; Hop Limit zero; both addresses kept.
            bytes.storeBytes(of: packet.load(fromByteOffset: 0, as: UInt8.self) & 0xF0, toByteOffset: 0, as: UInt8.self)
            bytes.storeBytes(of: packet.loadUnaligned(fromByteOffset: 4, as: UInt16.self), toByteOffset: 4, as: UInt16.self)
            bytes.storeBytes(of: packet.load(fromByteOffset: 6, as: UInt8.self), toByteOffset: 6, as: UInt8.self)
            for word in 1..<5 {
                bytes.storeBytes(of: packet.loadUnaligned(fromByteOffset: word * 8, as: UInt64.self),
                                 toByteOffset: word * 8, as: UInt64.self)
            }
            // AH: Next Header, Payload Len, Reserved, SPI, Sequence Number kept;
            // ICV and padding stay zero.
            let ah = AHPacketLayout.ipv6HeaderLength
            bytes.storeBytes(of: packet.loadUnaligned(fromByteOffset: ah, as: UInt64.self), toByteOffset: ah, as: UInt64.self)
            bytes.storeBytes(of: packet.loadUnaligned(fromByteOffset: ah + 8, as: UInt32.self),
                             toByteOffset: ah + 8, as: UInt32.self)
            let rest = UnsafeRawBufferPointer(rebasing: packet[headersLength..<layout.packetLength])
            withUnsafeMutableBytes(of: &digest) { output in
                hmac.authenticate(UnsafeRawBufferPointer(rebasing: bytes[0..<headersLength]), rest, into: output)
            }
        }
        return true
    }
}
