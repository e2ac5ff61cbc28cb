/// The receiver's anti-replay window (RFC 4302 3.4.3, Appendix B; without
/// Extended Sequence Numbers).
///
/// The right edge is the highest sequence number that passed its ICV. A
/// number is new if it is above the edge or inside the window and not yet
/// seen; numbers at or below `highest - size` and duplicates are rejected
/// before the (costly) ICV check, and the window only moves after the ICV
/// passed (`accept`), so a forged packet with a huge sequence number cannot
/// shift it.
///
/// The bitmap is a ring of 64-bit words (RFC 6479): sequence number q lives
/// at bit q mod (64 * words); one spare word beyond the window size lets the
/// edge advance by clearing whole words instead of shifting the map. Storage
/// is inline (no allocation) for every size up to 1024.
public struct ReplayWindow: Sendable {
    public static let defaultSize = 64
    public static let minimumSize = 32
    public static let maximumSize = 1024
    static let maximumWords = maximumSize / 64 + 1

    /// Window size in packets; 0 means anti-replay is disabled (RFC 4302
    /// 3.4.3 lets a receiver disable it, e.g. for manually keyed SAs).
    public let size: Int
    /// Highest authenticated sequence number; 0 before the first packet.
    public private(set) var highest: UInt32 = 0
    let wordCount: Int
    var words: (
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64,
        UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64, UInt64
    ) = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)

    public enum Check: String, Sendable {
        /// Not seen and inside or above the window.
        case fresh
        /// Already accepted.
        case duplicate
        /// Left of the window (or 0, which a sender never uses: RFC 4302 3.3.2).
        case belowWindow = "below-window"
    }

    /// A window of `size` packets, `minimumSize...maximumSize`; nil otherwise.
    public init?(size: Int = ReplayWindow.defaultSize) {
        guard size >= Self.minimumSize, size <= Self.maximumSize else { return nil }
        self.size = size
        self.wordCount = (size + 63) / 64 + 1
    }

    private init(disabledWindow: Void) {
        self.size = 0
        self.wordCount = 0
    }

    /// A window that accepts every sequence number.
    public static let disabled = ReplayWindow(disabledWindow: ())

    public var isEnabled: Bool { size > 0 }

    /// Classifies `sequenceNumber` without changing the window.
    public func check(_ sequenceNumber: UInt32) -> Check {
        var copy = self
        return copy.classify(sequenceNumber)
    }

    /// `check` for the per-packet path: `mutating` (though it changes
    /// nothing) so the caller's window is used in place rather than copied.
    mutating func classify(_ sequenceNumber: UInt32) -> Check {
        guard isEnabled else { return .fresh }
        guard sequenceNumber != 0 else { return .belowWindow }
        if sequenceNumber > highest { return .fresh }
        if UInt64(highest) - UInt64(sequenceNumber) >= UInt64(size) { return .belowWindow }
        let (index, mask) = position(of: sequenceNumber)
        return word(index) & mask != 0 ? .duplicate : .fresh
    }

    /// Records `sequenceNumber` as received. Call only after its ICV verified
    /// and `check` said `.fresh`; stale numbers are ignored.
    public mutating func accept(_ sequenceNumber: UInt32) {
        guard isEnabled, sequenceNumber != 0 else { return }
        if sequenceNumber > highest {
            let oldWord = UInt64(highest) / 64
            let newWord = UInt64(sequenceNumber) / 64
            let words = UInt64(wordCount)
            if newWord - oldWord >= words {
                for index in 0..<wordCount { setWord(index, 0) }
            } else if newWord > oldWord {
                var word = oldWord + 1
                while word <= newWord {
                    setWord(Int(word % words), 0)
                    word += 1
                }
            }
            highest = sequenceNumber
        } else if UInt64(highest) - UInt64(sequenceNumber) >= UInt64(size) {
            return
        }
        let (index, mask) = position(of: sequenceNumber)
        setWord(index, word(index) | mask)
    }

    func position(of sequenceNumber: UInt32) -> (index: Int, mask: UInt64) {
        let value = UInt64(sequenceNumber)
        return (Int((value / 64) % UInt64(wordCount)), 1 << (value % 64))
    }

    mutating func word(_ index: Int) -> UInt64 {
        withUnsafeBytes(of: &words) { $0.load(fromByteOffset: index * 8, as: UInt64.self) }
    }

    mutating func setWord(_ index: Int, _ value: UInt64) {
        withUnsafeMutableBytes(of: &words) { $0.storeBytes(of: value, toByteOffset: index * 8, as: UInt64.self) }
    }
}
