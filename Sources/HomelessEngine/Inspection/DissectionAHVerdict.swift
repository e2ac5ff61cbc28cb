import HomelessSecurity
import HomelessWire

/// How `homeless inspect --sa` prints a packet's AH verdict. The verdict is
/// spelled exactly as `AHVerdict` (ok, bad-icv, unknown-spi, replay, no-ah,
/// malformed); offsets are absolute, like every other offset inspect prints.
extension PacketDissection {
    /// SPI and sequence number exist once AH was found.
    private static func foundAH(_ verification: AHVerification) -> Bool {
        switch verification.verdict {
        case .ok, .badICV, .unknownSPI, .replay: return true
        case .noAH: return false
        case .malformed: return verification.error == nil
        }
    }

    /// Why: the replay check (`duplicate`, `below-window`) or the packet
    /// error's reason (`truncated`, `bad-payload-length`, ...).
    private static func detail(_ verification: AHVerification) -> String? {
        if let check = verification.replayCheck { return check.rawValue }
        if let error = verification.error, error.reason != .noAuthenticationHeader { return error.reason.rawValue }
        return nil
    }

    private func absoluteErrorOffset(_ verification: AHVerification) -> Int? {
        guard let error = verification.error, error.reason != .noAuthenticationHeader else { return nil }
        return error.offset + (networkOffset ?? 0)
    }

    /// `ok spi=0x1000 seq=7`, `replay (duplicate) spi=0x1000 seq=1`,
    /// `malformed (truncated at offset 74)`, `no-ah`.
    func ahVerdictText(_ verification: AHVerification) -> String {
        var text = verification.verdict.rawValue
        if let detail = Self.detail(verification) {
            if let offset = absoluteErrorOffset(verification) {
                text += " (\(detail) at offset \(offset))"
            } else {
                text += " (\(detail))"
            }
        }
        if Self.foundAH(verification) {
            text += " spi=0x\(String(verification.spi, radix: 16)) seq=\(verification.sequenceNumber)"
        }
        return text
    }

    /// The `ah_*` members documented in docs/INSPECT.md.
    func ahVerdictMembers(_ verification: AHVerification) -> [InspectionMember] {
        let found = Self.foundAH(verification)
        return [
            InspectionMember("ah_verdict", .string(verification.verdict.rawValue)),
            InspectionMember("ah_spi", found ? .integer(Int(verification.spi)) : .null),
            InspectionMember("ah_sequence", found ? .integer(Int(verification.sequenceNumber)) : .null),
            InspectionMember("ah_detail", Self.detail(verification).map { .string($0) } ?? .null),
            InspectionMember("ah_offset", absoluteErrorOffset(verification).map { .integer($0) } ?? .null),
        ]
    }
}
