public import HomelessCore
public import HomelessWire

/// One AH Security Association (RFC 4301 4.1) as Homeless Mobile IPv6 uses
/// it: a key with its precomputed HMAC state, the peers' addresses, the
/// anti-replay state, the draft 3.3.1 class and, optionally, the Foreign Host
/// Cache Entry it belongs to (draft 2.4.2: Binding Updates to a peer are
/// protected with the SA associated with its entry).
public struct SecurityAssociation: Sendable {
    public let spi: UInt32
    public let direction: SecurityAssociationDirection
    public let source: IPv6Address
    public let destination: IPv6Address
    public var associationClass: SecurityAssociationClass
    public var hostCacheEntry: HostCacheEntryID?
    /// Receiver state (inbound SAs).
    public private(set) var replayWindow: ReplayWindow
    /// The last sequence number sent (outbound SAs): 0 until the first
    /// packet, which carries 1 (RFC 4302 3.3.2).
    public internal(set) var lastSentSequenceNumber: UInt32 = 0
    /// From this sequence number on the SA reports `needsRekey`, leaving
    /// room to set up a new SA before the counter runs out.
    public var rekeyThreshold: UInt32 = SecurityAssociation.defaultRekeyThreshold
    /// The line of the manual keying file this SA came from; nil for SAs
    /// created otherwise (reloading the file replaces only manual SAs).
    public var manualLine: Int?
    let hmac: PrecomputedHMAC

    /// 2^32 - 2^20: about a million packets of warning before the counter ends.
    public static let defaultRekeyThreshold: UInt32 = 0xFFF0_0000

    public var algorithm: AuthenticationAlgorithm { hmac.algorithm }

    /// Creates an SA. The key length must be the algorithm's (RFC 2404 2,
    /// RFC 4868 2.1.1); SPIs 0...255 are reserved (RFC 4302 2.4).
    public init(
        spi: UInt32, direction: SecurityAssociationDirection, algorithm: AuthenticationAlgorithm, key: [UInt8],
        source: IPv6Address, destination: IPv6Address, associationClass: SecurityAssociationClass = .generic,
        replayWindow: ReplayWindow = ReplayWindow(size: ReplayWindow.defaultSize) ?? .disabled,
        hostCacheEntry: HostCacheEntryID? = nil
    ) throws(SecurityAssociationError) {
        guard spi > 255 else { throw .reservedSPI(spi) }
        guard key.count == algorithm.keyLength else {
            throw .badKeyLength(algorithm: algorithm, expected: algorithm.keyLength, actual: key.count)
        }
        self.spi = spi
        self.direction = direction
        self.source = source
        self.destination = destination
        self.associationClass = associationClass
        self.hostCacheEntry = hostCacheEntry
        self.replayWindow = replayWindow
        self.hmac = PrecomputedHMAC(algorithm: algorithm, key: key)
    }

    // MARK: Outbound (RFC 4302 3.3)

    /// The counter is near its end; a new SA should replace this one.
    public var needsRekey: Bool { lastSentSequenceNumber >= rekeyThreshold }
    /// The counter reached 2^32 - 1: the SA must not send again (RFC 4302 3.3.2: no cycling).
    public var isExhausted: Bool { lastSentSequenceNumber == .max }

    /// Inserts AH into the packet in `buffer` (first `packetLength` octets)
    /// at `insertionOffset` (see `AHPlacement.transportInsertionOffset`),
    /// with the next sequence number, and signs it. Returns the new length.
    /// The counter only advances when the packet was protected.
    public mutating func protect(
        _ buffer: UnsafeMutableRawBufferPointer, packetLength: Int, insertingAt insertionOffset: Int
    ) throws(AHProtectError) -> Int {
        guard direction == .outbound else { throw .notOutbound }
        guard !isExhausted else { throw .sequenceNumberExhausted }
        let sequenceNumber = lastSentSequenceNumber + 1
        let newLength: Int
        do {
            newLength = try AHPlacement.insert(
                into: buffer, packetLength: packetLength, at: insertionOffset, algorithm: algorithm, spi: spi,
                sequenceNumber: sequenceNumber)
            let packet = UnsafeRawBufferPointer(rebasing: buffer[0..<newLength])
            let layout = try AHPacketLayout.locate(in: packet)
            try AHAuthenticator.sign(UnsafeMutableRawBufferPointer(rebasing: buffer[0..<newLength]), layout: layout, hmac: hmac)
        } catch {
            throw .packet(error)
        }
        lastSentSequenceNumber = sequenceNumber
        return newLength
    }

    // MARK: Inbound (RFC 4302 3.4)

    /// Checks a whole IPv6 packet against this SA: AH present with this SPI,
    /// sequence number new, ICV valid; only then the window moves.
    public mutating func verify(_ packet: UnsafeRawBufferPointer) -> AHVerification {
        let layout: AHPacketLayout
        do { layout = try AHPacketLayout.locate(in: packet) } catch { return AHVerification(error: error) }
        guard packet.loadBigEndianUInt32(at: layout.ahOffset + AuthenticationHeaderLayout.spi) == spi else {
            var result = AHVerification(verdict: .unknownSPI)
            result.spi = packet.loadBigEndianUInt32(at: layout.ahOffset + AuthenticationHeaderLayout.spi)
            return result
        }
        return verify(packet, layout: layout)
    }

    /// The inbound steps after the SA was found (RFC 4302 3.4.3, 3.4.4):
    /// replay check before the ICV, window update after it.
    @inline(__always)
    mutating func verify(_ packet: UnsafeRawBufferPointer, layout: AHPacketLayout) -> AHVerification {
        var result = AHVerification(verdict: .ok)
        result.spi = spi
        result.ahOffset = layout.ahOffset
        result.payloadOffset = layout.ahOffset + layout.ahLength
        result.nextHeader = packet.load(fromByteOffset: layout.ahOffset, as: UInt8.self)
        let sequenceNumber = packet.loadBigEndianUInt32(at: layout.ahOffset + AuthenticationHeaderLayout.sequenceNumber)
        result.sequenceNumber = sequenceNumber
        guard direction == .inbound else {
            result.verdict = .unknownSPI
            return result
        }
        let check = replayWindow.classify(sequenceNumber)
        guard check == .fresh else {
            result.verdict = .replay
            result.replayCheck = check
            return result
        }
        do {
            guard try AHAuthenticator.verify(packet, layout: layout, hmac: hmac) else {
                result.verdict = .badICV
                return result
            }
        } catch {
            result.verdict = .malformed
            result.error = error
            return result
        }
        replayWindow.accept(sequenceNumber)
        result.associationClass = associationClass
        return result
    }
}

extension SecurityAssociation {
    /// The ICV this SA computes for a packet carrying AH (slow path, for
    /// `homeless inspect`): compare it with the packet's ICV field.
    public func expectedICV(for packet: UnsafeRawBufferPointer) throws(AHPacketError) -> [UInt8] {
        let layout = try AHPacketLayout.locate(in: packet)
        var digest: (UInt64, UInt64, UInt64, UInt64) = (0, 0, 0, 0)
        try AHAuthenticator.computeDigest(packet, layout: layout, hmac: hmac, into: &digest)
        return withUnsafeBytes(of: &digest) { Array($0[0..<algorithm.icvLength]) }
    }
}

/// Why an SA could not be created.
public enum SecurityAssociationError: Error, Equatable, Sendable, CustomStringConvertible {
    case reservedSPI(UInt32)
    case badKeyLength(algorithm: AuthenticationAlgorithm, expected: Int, actual: Int)
    case duplicateSPI(UInt32)

    public var description: String {
        switch self {
        case .reservedSPI(let spi): return "SPI \(spi) is reserved (0-255, RFC 4302 2.4)"
        case .badKeyLength(let algorithm, let expected, let actual):
            return "\(algorithm.setkeyName) needs a \(expected * 8)-bit key, got \(actual * 8) bits"
        case .duplicateSPI(let spi): return "inbound SPI 0x\(String(spi, radix: 16)) is already in use"
        }
    }
}

/// Why an outbound packet could not be protected.
public enum AHProtectError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The SA's sequence counter reached 2^32 - 1 (RFC 4302 3.3.2): rekey.
    case sequenceNumberExhausted
    case notOutbound
    /// No outbound SA for the destination or Host Cache Entry.
    case noAssociation
    case packet(AHPacketError)

    public var description: String {
        switch self {
        case .sequenceNumberExhausted: return "sequence-number-exhausted"
        case .notOutbound: return "not-outbound"
        case .noAssociation: return "no-association"
        case .packet(let error): return error.description
        }
    }
}
