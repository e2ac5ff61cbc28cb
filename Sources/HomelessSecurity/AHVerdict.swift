/// The outcome of checking an inbound packet's AH, with the spellings that
/// `homeless inspect --sa` prints and drop counters use.
public enum AHVerdict: String, Sendable, CaseIterable, CustomStringConvertible {
    /// The ICV verified and the sequence number was new; the window moved.
    case ok
    /// The ICV did not match.
    case badICV = "bad-icv"
    /// No inbound SA has the packet's SPI.
    case unknownSPI = "unknown-spi"
    /// The sequence number is a duplicate or left of the window (RFC 4302 3.4.3).
    case replay
    /// The packet has no AH before its upper-layer header.
    case noAH = "no-ah"
    /// The packet or its AH is malformed (see the accompanying `AHPacketError`).
    case malformed

    public var description: String { rawValue }
}

/// What the inbound AH check found: the verdict and what the caller needs
/// next (where the protected payload starts, which SA vouched for it).
public struct AHVerification: Sendable, CustomStringConvertible {
    public var verdict: AHVerdict
    /// Why the packet is `malformed` or `noAH`, with the byte offset.
    public var error: AHPacketError?
    /// Why it is `replay`: `.duplicate` or `.belowWindow`.
    public var replayCheck: ReplayWindow.Check?
    public var spi: UInt32 = 0
    public var sequenceNumber: UInt32 = 0
    /// Offset of AH in the packet and of the header after it (valid when AH was found).
    public var ahOffset: Int = 0
    public var payloadOffset: Int = 0
    /// AH's Next Header: the protocol of the protected content.
    public var nextHeader: UInt8 = 0
    /// Class and Host Cache binding of the SA that verified the packet (`ok` only).
    public var associationClass: SecurityAssociationClass?

    public init(verdict: AHVerdict, error: AHPacketError? = nil) {
        self.verdict = verdict
        self.error = error
    }

    /// One line for `homeless inspect --sa`, e.g. `ok spi=0x1000 seq=7`,
    /// `replay (duplicate) spi=0x1000 seq=7`, `malformed (truncated at offset 44)`.
    public var description: String {
        var text = verdict.rawValue
        if let error, verdict == .malformed || verdict == .noAH, error.reason != .noAuthenticationHeader {
            text += " (\(error))"
        }
        if let replayCheck { text += " (\(replayCheck.rawValue))" }
        if verdict != .malformed && verdict != .noAH {
            text += " spi=0x\(String(spi, radix: 16)) seq=\(sequenceNumber)"
        }
        return text
    }

    init(error: AHPacketError) {
        self.init(verdict: error.reason == .noAuthenticationHeader ? .noAH : .malformed, error: error)
    }
}
