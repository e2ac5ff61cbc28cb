/// Receives the AH ICV input (RFC 4302 3.3.3.1) in pieces, so the packet is
/// never copied: runs of packet bytes are passed as they are and mutable
/// fields as runs of zeros or small replacement values.
protocol ICVInputSink {
    mutating func absorb(_ bytes: UnsafeRawBufferPointer)
    mutating func absorbZeros(_ count: Int)
}

/// Collects the ICV input into an array: lets tests and `inspect` compare it
/// byte for byte with an independent implementation (slow path only).
struct ICVInputRecorder: ICVInputSink {
    var bytes: [UInt8] = []

    mutating func absorb(_ bytes: UnsafeRawBufferPointer) { self.bytes.append(contentsOf: bytes) }
    mutating func absorbZeros(_ count: Int) { bytes.append(contentsOf: repeatElement(0, count: count)) }
}
