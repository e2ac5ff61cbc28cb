import HomelessCore
import HomelessWire
import Testing
@testable import HomelessSecurity

/// Two hosts running the handshake in memory: Alice initiates, Bob responds.
struct HandshakeLab {
    static let alice = IPv6Address("2001:db8:1::10")!
    static let bob = IPv6Address("2001:db8:2::20")!
    static let mallory = IPv6Address("2001:db8:6::66")!
    static let slot: UInt64 = 60_000_000_000

    var random = SplitMix64(seed: 0x5EED)
    var now = MonotonicInstant(nanoseconds: 1_000 * slot + 5)
    var responder: HandshakeResponder
    var initiator: HandshakeInitiator

    init(difficulty: UInt8 = 8, completedCapacity: Int = 16384,
         configure: (inout HandshakeResponderConfiguration) -> Void = { _ in }) {
        var configuration = HandshakeResponderConfiguration()
        configuration.difficulty = difficulty
        configuration.slotNanoseconds = Self.slot
        configuration.completedCapacity = completedCapacity
        configure(&configuration)
        responder = HandshakeResponder(configuration: configuration, now: now, random: &random)
        initiator = HandshakeInitiator(local: Self.alice, peer: Self.bob)
    }

    /// Messages 1 and 2; returns message 2 as Alice receives it.
    mutating func challenge() -> ResponderChallenge {
        let hello = initiator.start(now: now, random: &random)
        let wire = hello.bytes()
        // Locals: a closure capturing `self` cannot hand out two of its properties inout at once.
        var responder = self.responder
        var random = self.random
        let now = self.now
        let answered = wire.withUnsafeBytes {
            responder.answer(message: $0, initiator: Self.alice, responder: Self.bob, now: now, random: &random)
        }
        self.responder = responder
        self.random = random
        guard case .success(let challenge) = answered else {
            Issue.record("message 1 was not answered")
            return ResponderChallenge(difficulty: 0, timeSlot: 0, responderSPI: 0, initiatorNonce: .zero, cookie: .zero,
                                      responderPublicKey: .zero)
        }
        // Through the wire and back.
        return challenge.bytes().withUnsafeBytes { (try? ResponderChallenge(parsing: $0)) ?? challenge }
    }

    /// Alice's side of message 2: message 3 and her SAs.
    mutating func respond(to challenge: ResponderChallenge) throws -> (InitiatorResponse, HandshakeEstablishment) {
        try initiator.receive(challenge, source: Self.bob, destination: Self.alice, now: now, random: &random,
                              isInboundSPIInUse: { _ in false }).get()
    }

    /// Message 3 as a packet: IPv6 | AH | message 3 | trailer.
    static func packet(_ response: InitiatorResponse, protectedBy association: inout SecurityAssociation,
                       source: IPv6Address = alice, destination: IPv6Address = bob,
                       trailer: [UInt8] = []) throws -> [UInt8] {
        try HandshakePacket.protected(
            source: source, destination: destination,
            message: response.bytes(nextHeader: trailer.isEmpty ? HandshakeConstants.noNextHeader : HandshakeConstants.destinationOptions),
            trailer: trailer, with: &association)
    }

    mutating func complete(_ packet: [UInt8], spiInUse: @escaping (UInt32) -> Bool = { _ in false }) -> HandshakeResponderOutcome {
        var responder = self.responder
        var random = self.random
        let now = self.now
        let outcome = packet.withUnsafeBytes { responder.complete(packet: $0, now: now, random: &random, isInboundSPIInUse: spiInUse) }
        self.responder = responder
        self.random = random
        return outcome
    }
}

extension HandshakeResponderOutcome {
    var drop: HandshakeResponderDrop? {
        if case .dropped(let reason, _) = self { return reason }
        return nil
    }

    var establishment: HandshakeEstablishment? {
        if case .established(let establishment, _, _) = self { return establishment }
        return nil
    }
}
