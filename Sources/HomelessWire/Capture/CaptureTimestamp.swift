/// When a packet was captured: whole seconds since the Unix epoch plus a
/// decimal fraction kept at the resolution the capture recorded, so that
/// microsecond, nanosecond and pcapng `if_tsresol` timestamps print exactly.
public struct CaptureTimestamp: Hashable, Sendable, CustomStringConvertible {
    public var seconds: Int64
    /// The fraction of a second as an integer of `fractionDigits` decimal digits.
    public var fraction: UInt64
    /// How many decimal digits `fraction` has (6 for microseconds, 9 for nanoseconds).
    public var fractionDigits: Int

    public init(seconds: Int64, fraction: UInt64, fractionDigits: Int) {
        self.seconds = seconds
        self.fraction = fraction
        self.fractionDigits = fractionDigits
    }

    /// A timestamp counted in units of a pcapng resolution (pcapng 4.2,
    /// `if_tsresol`): the high bit selects a power of two, the low seven
    /// bits the negative exponent. Binary fractions are converted to
    /// nanoseconds; decimal ones keep their digits.
    public init(units: UInt64, resolution: UInt8, offsetSeconds: Int64) {
        let exponent = Int(resolution & 0x7F)
        var seconds: UInt64
        if resolution & 0x80 == 0 {
            if exponent <= 19 {
                var divisor: UInt64 = 1
                for _ in 0..<exponent { divisor &*= 10 }
                seconds = units / divisor
                fraction = units % divisor
            } else {
                // 10^20 exceeds UInt64: every representable count is below one second.
                seconds = 0
                fraction = units
            }
            fractionDigits = exponent
        } else {
            let remainder: UInt64
            if exponent >= 64 {
                seconds = 0
                remainder = units
            } else {
                seconds = units >> UInt64(exponent)
                remainder = exponent == 0 ? 0 : units & ((1 << UInt64(exponent)) &- 1)
            }
            // nanoseconds = remainder * 10^9 / 2^exponent, computed in 128 bits.
            let product = remainder.multipliedFullWidth(by: 1_000_000_000)
            if exponent == 0 {
                fraction = 0
            } else if exponent < 64 {
                fraction = product.high << UInt64(64 - exponent) | product.low >> UInt64(exponent)
            } else if exponent < 128 {
                fraction = exponent == 64 ? product.high : product.high >> UInt64(exponent - 64)
            } else {
                fraction = 0
            }
            fractionDigits = 9
        }
        let (sum, overflow) = Int64(clamping: seconds).addingReportingOverflow(offsetSeconds)
        self.seconds = overflow ? (offsetSeconds < 0 ? Int64.min : Int64.max) : sum
    }

    /// `seconds.fraction`, with the fraction zero-padded to its resolution
    /// (no fraction when the resolution is whole seconds).
    public var description: String {
        guard fractionDigits > 0 else { return String(seconds) }
        let digits = String(fraction)
        let padding = String(repeating: "0", count: max(0, fractionDigits - digits.count))
        return "\(seconds).\(padding)\(digits)"
    }
}
