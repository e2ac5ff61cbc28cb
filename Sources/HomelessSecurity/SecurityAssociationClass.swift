/// The two kinds of AH SA of draft section 3.3.1.
public enum SecurityAssociationClass: String, Sendable, CaseIterable {
    /// Host-to-host SAs created by manual keying or a key exchange with
    /// credentials; they may protect any traffic.
    case generic
    /// SAs created by the Anonymous Authentication Protocol (draft 2.4.3):
    /// they only show that later packets come from the same peer, so they
    /// SHOULD NOT authenticate anything but Binding Updates, Binding
    /// Acknowledgements and the handshake that created them (draft 3.3.1).
    case anonymous

    /// Whether a packet verified with an SA of this class may be treated as
    /// authenticating `content`.
    public func mayAuthenticate(_ content: ProtectedContent) -> Bool {
        switch self {
        case .generic: return true
        case .anonymous: return content != .other
        }
    }
}

/// Which way an SA protects traffic. Inbound SAs are looked up by SPI alone
/// (draft 2.4.2: any local address with a valid SPI), outbound SAs through
/// the peer's Foreign Host Cache Entry or the destination address.
public enum SecurityAssociationDirection: String, Sendable, CaseIterable {
    case inbound
    case outbound
}
