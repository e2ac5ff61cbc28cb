import Testing
@testable import HomelessWire

/// The fast-path types hold no references: copying them never retains and
/// building them cannot allocate. (`_isPOD` is the standard library's
/// trivially-copyable check.) Parse entry points use typed throws, so errors
/// are returned in registers instead of boxed `any Error` values.
@Suite struct AllocationFreedomTests {
    @Test func fastPathTypesAreTrivial() {
        #expect(_isPOD(ParsedPacket.self))
        #expect(_isPOD(PacketWalker.self))
        #expect(_isPOD(PacketWalkerConfiguration.self))
        #expect(_isPOD(MobileIPv6CodePoints.self))
        #expect(_isPOD(HeaderRecord.self))
        #expect(_isPOD(OptionRecord.self))
        #expect(_isPOD(OptionWalker.self))
        #expect(_isPOD(MobilitySubOptionWalker.self))
        #expect(_isPOD(WireError.self))
        #expect(_isPOD(EthernetFrameView.self))
        #expect(_isPOD(IPv6HeaderView.self))
        #expect(_isPOD(OptionsHeaderView.self))
        #expect(_isPOD(RoutingHeaderView.self))
        #expect(_isPOD(FragmentHeaderView.self))
        #expect(_isPOD(AuthenticationHeaderView.self))
        #expect(_isPOD(HomeAddressOptionView.self))
        #expect(_isPOD(BindingUpdateOptionView.self))
        #expect(_isPOD(BindingAcknowledgementOptionView.self))
        #expect(_isPOD(BindingRequestOptionView.self))
        #expect(_isPOD(AlternatePrefixesView.self))
        #expect(_isPOD(ICMPv6View.self))
        #expect(_isPOD(UDPHeaderView.self))
        #expect(_isPOD(TCPHeaderView.self))
        // Value types with arrays (slow path) are, as expected, not trivial.
        #expect(!_isPOD(BindingUpdate.self))
    }
}
