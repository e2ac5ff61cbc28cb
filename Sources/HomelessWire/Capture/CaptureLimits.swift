/// Sanity limits that keep a hostile capture from making the reader trust
/// absurd lengths.
public enum CaptureLimits {
    /// The largest captured packet accepted: 256 KiB, the maximum snapshot
    /// length libpcap and Wireshark use (WTAP_MAX_PACKET_SIZE_STANDARD).
    public static let maximumPacketLength = 262_144
}
