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
    static func verify(
        _ packet: UnsafeRawBufferPointer, layout: AHPacketLayout, hmac: PrecomputedHMAC
    ) throws(AHPacketError) -> Bool {
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        try computeDigest(packet, layout: layout, hmac: hmac, into: &digest)
        let icvOffset = layout.ahOffset + AuthenticationHeaderLayout.icv
        let icvLength = hmac.algorithm.icvLength
        var difference: UInt8 = 0
        withUnsafeBytes(of: &digest) { digestBytes in
            for index in 0..<icvLength {
                difference |= digestBytes.load(fromByteOffset: index, as: UInt8.self)
                    ^ packet.load(fromByteOffset: icvOffset + index, as: UInt8.self)
            }
        }
        return difference == 0
    }

    /// The full HMAC over the ICV input, into `digest` (32 octets of stack).
    static func computeDigest(
        _ packet: UnsafeRawBufferPointer, layout: AHPacketLayout, hmac: PrecomputedHMAC,
        into digest: inout (UInt64, UInt64, UInt64, UInt64)
    ) throws(AHPacketError) {
        // The SA's algorithm fixes the AH length (RFC 4302 2.2); anything
        // else is a malformed header for this SA, not a bad ICV.
        guard layout.ahLength == hmac.algorithm.headerLength else {
            throw AHPacketError(.badPayloadLength, at: layout.ahOffset + AuthenticationHeaderLayout.payloadLength)
        }
        // The computation does not retain the key states; keep them alive.
        try withExtendedLifetime(hmac.keyStates) { () throws(AHPacketError) in
            var computation = hmac.begin()
            try layout.feedICVInput(from: packet, into: &computation)
            withUnsafeMutableBytes(of: &digest) { computation.finish(into: $0) }
        }
    }
}
