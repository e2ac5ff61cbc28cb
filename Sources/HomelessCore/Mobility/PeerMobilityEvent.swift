public import HomelessWire

/// Something the engine observed about one peer, fed to `PeerMobilityState.handle`.
public enum PeerMobilityEvent: Equatable, Sendable {
    /// The first packet from the peer arrived on a conversation we
    /// initiated (2.1.2: "an Initial Binding Update is sent only after
    /// getting a reply from the host").
    case firstReplyReceived
    /// The peer's current locator (the source of its last packet, 1.4):
    /// Binding Updates go there.
    case peerLocatorObserved(IPv6Address)
    /// ICMPv6 Parameter Problem for one of our packets. `pointsAtMobilityOption`
    /// is true when its pointer lands on the Binding Update or Home Address
    /// option we sent (`InitialBindingUpdateRejection`): the peer does not
    /// implement Mobile IPv6 (2.2.4).
    case parameterProblem(pointsAtMobilityOption: Bool)
    /// A Binding Acknowledgement from the peer (after AH verification).
    case bindingAcknowledgementReceived(sequence: UInt16, status: UInt8, lifetime: UInt32)
    /// A Binding Update from the peer (after AH verification and
    /// `HostCache.applyBindingUpdates`); `homelessSupport` when one of its
    /// BUs carried the Homeless Support sub-option (3.1.1, 2.3.3).
    case peerBindingUpdateReceived(homelessSupport: Bool)
    /// A Binding Request from the peer: answer with a Binding Update.
    case bindingRequestReceived
    /// A local address appeared (netlink); ignored unless it has the scope
    /// of the peer (2.1.2: "hosts ... that belong to the same scope").
    case localAddressAdded(IPv6Address)
    /// A local address went away (2.1.3: MUST send a deleting Binding Update).
    case localAddressRemoved(IPv6Address)
    /// The engine attached the offered Binding Updates (`offerPiggyback`)
    /// whose first sequence number is this one to a data packet it sent.
    case piggybackSent(firstSequence: UInt16)
    /// The deadline last given with `scheduleTimer` has passed.
    case timerFired
    /// No traffic with the peer for a while: stop refreshing and
    /// retransmitting (bindings then lapse at the peer, 2.1.3).
    case idleTimeout
    /// Traffic with the peer started again after `idleTimeout`.
    case activityResumed
}

/// What the engine must do for one peer, returned by `PeerMobilityState.handle`.
public enum PeerMobilityAction: Equatable, Sendable {
    /// Build and send a standalone Binding Update packet (IPv6, AH,
    /// Destination Options with the options of `BindingUpdateBuilder`, No
    /// Next Header, 2.2.4 / 3.2.1) protected with the SA of the peer's entry.
    case sendStandalone(BindingUpdateSpec)
    /// Attach these Binding Updates to the next data packet to the peer
    /// (2.1.2, 2.2.1: "include a Binding Update in the next packets"), sent
    /// from `spec.source` with AH; report it with `piggybackSent`.
    /// Replaces any earlier offer.
    case offerPiggyback(BindingUpdateSpec)
    /// Forget the offer: it was sent standalone or is obsolete.
    case withdrawPiggybackOffer
    /// Record the peer's capability in its Host Cache Entry (`HostCache.setCapability`).
    case markCapability(PeerCapability)
    /// Call `handle(.timerFired)` at this instant (nil: no timer needed).
    /// Replaces the previous deadline.
    case scheduleTimer(at: MonotonicInstant?)
}
