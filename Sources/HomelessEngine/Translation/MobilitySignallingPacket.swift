import HomelessCore
import HomelessSecurity
import HomelessWire

/// Why a signalling packet could not be built.
public enum MobilitySignallingError: Error, Equatable, Sendable {
    /// An option would exceed 255 octets of data (too many addresses).
    case notEncodable
    /// The buffer needs at least this many octets from the offset.
    case bufferTooSmall(needed: Int)
    /// The packet to carry piggybacked Binding Updates has extension
    /// headers, another source than the spec, or needs a Home Address
    /// option (which would change the receiver's pseudo-header source):
    /// send the Binding Updates standalone instead.
    case cannotPiggyback
    /// AH could not be applied (no room, exhausted counter, not outbound).
    case protection(AHProtectError)
}

/// Builds the AH-protected Mobile IPv6 signalling packets of the draft:
///
/// ```
/// +------------+----------------+-------------------------------+
/// | IPv6 (40)  | AH (24 or 32)  | Destination Options           |
/// | NH = 51    | NH = 60        | [HAO] BU [BU] or BA ...       |
/// |            |                | NH = 59 (No Next Header)      |
/// +------------+----------------+-------------------------------+
/// ```
/// A standalone Binding Update carries no upper layer (2.2.4, 3.2.1: a peer
/// that rejects it with a Parameter Problem loses no data). AH precedes the
/// Destination Options header, the draft-era (KAME) placement, so the ICV
/// covers the options exactly as sent (docs/SECURITY.md); every Binding
/// Update and Acknowledgement is protected (2.4). The bytes start with the
/// IPv6 header: the caller adds the link-layer header.
public enum MobilitySignallingPacket {
    /// Octets `emit` writes for `options` under `association`.
    public static func length(of options: DestinationOptionsHeader, association: SecurityAssociation) -> Int {
        IPv6HeaderView.length + association.algorithm.headerLength + options.bufferLength
    }

    /// Writes IPv6 + AH + `options` at `offset` of `buffer`, signs it with
    /// `association` (its sequence counter advances) and returns the length.
    public static func emit(options: DestinationOptionsHeader, source: IPv6Address, destination: IPv6Address,
                            association: inout SecurityAssociation, hopLimit: UInt8 = 64,
                            into buffer: UnsafeMutableRawBufferPointer, at offset: Int = 0) throws(MobilitySignallingError) -> Int {
        guard options.isEncodable else { throw .notEncodable }
        let needed = length(of: options, association: association)
        guard offset >= 0, buffer.count - offset >= needed else { throw .bufferTooSmall(needed: needed) }
        let packet = UnsafeMutableRawBufferPointer(rebasing: buffer[offset..<(offset + needed)])
        let unprotected = IPv6HeaderView.length + options.bufferLength
        IPv6Header(payloadLength: UInt16(options.bufferLength), nextHeader: .destinationOptions, hopLimit: hopLimit,
                   source: source, destination: destination).emit(into: packet)
        options.emit(into: packet, at: IPv6HeaderView.length)
        do {
            // The Destination Options header is for the final destination,
            // so AH goes right after the IPv6 header (RFC 4302 3.1.1).
            let insertion = try AHPlacement.transportInsertionOffset(in: UnsafeRawBufferPointer(rebasing: packet[0..<unprotected]))
            return try association.protect(packet, packetLength: unprotected, insertingAt: insertion)
        } catch let error as AHProtectError {
            throw .protection(error)
        } catch let error as AHPacketError {
            throw .protection(.packet(error))
        } catch {
            throw .protection(.noAssociation)
        }
    }

    /// A standalone Binding Update for `spec` (the Initial Binding Update
    /// of 3.2.1 or a consecutive one, 3.2.2), as a new array.
    public static func standaloneBindingUpdate(_ spec: BindingUpdateSpec, association: inout SecurityAssociation,
                                               codePoints: MobileIPv6CodePoints = .draftEra) throws(MobilitySignallingError) -> [UInt8] {
        let options = BindingUpdateBuilder.destinationOptions(for: spec, nextHeader: .noNextHeader, codePoints: codePoints)
        return try build(options: options, source: spec.source, destination: spec.destination, association: &association)
    }

    /// The Binding Acknowledgement packet for one received packet's Binding
    /// Updates (`BindingUpdateOutcome.acknowledgements`: negative ones, then
    /// at most one positive covering all, 3.2.2). Nil when there is nothing
    /// to acknowledge. `source` is the local address the BU arrived on,
    /// `destination` the peer's locator (the BU's source).
    public static func bindingAcknowledgement(_ acknowledgements: [BindingAcknowledgement], source: IPv6Address,
                                              destination: IPv6Address, association: inout SecurityAssociation,
                                              codePoints: MobileIPv6CodePoints = .draftEra) throws(MobilitySignallingError) -> [UInt8]? {
        guard !acknowledgements.isEmpty else { return nil }
        let options = DestinationOptionsHeader(nextHeader: .noNextHeader,
                                               options: acknowledgements.map { .bindingAcknowledgement($0) }, codePoints: codePoints)
        return try build(options: options, source: source, destination: destination, association: &association)
    }

    static func build(options: DestinationOptionsHeader, source: IPv6Address, destination: IPv6Address,
                      association: inout SecurityAssociation) throws(MobilitySignallingError) -> [UInt8] {
        guard options.isEncodable else { throw .notEncodable }
        var bytes = [UInt8](repeating: 0, count: length(of: options, association: association))
        var result: Result<Int, MobilitySignallingError> = .success(0)
        bytes.withUnsafeMutableBytes { raw in
            do throws(MobilitySignallingError) {
                result = .success(try emit(options: options, source: source, destination: destination,
                                           association: &association, into: raw))
            } catch {
                result = .failure(error)
            }
        }
        switch result {
        case .success(let length): return Array(bytes.prefix(length))
        case .failure(let error): throw error
        }
    }

    /// Piggybacks the Binding Updates of `spec` on a data packet (2.1.2,
    /// 2.2.1): inserts a Destination Options header (Binding Updates, Next
    /// Header = the upper layer) after the IPv6 header and protects the
    /// packet with AH. `buffer` holds the IPv6 packet (first `packetLength`
    /// octets, no link header) with room behind it. Only for steady-path
    /// packets: no extension headers, source = `spec.source`, no Home
    /// Address option needed. Returns the new length.
    public static func piggyback(_ spec: BindingUpdateSpec, onto buffer: UnsafeMutableRawBufferPointer, packetLength: Int,
                                 association: inout SecurityAssociation,
                                 codePoints: MobileIPv6CodePoints = .draftEra) throws(MobilitySignallingError) -> Int {
        guard spec.homeAddress == nil, packetLength >= IPv6HeaderView.length, packetLength <= buffer.count else {
            throw .cannotPiggyback
        }
        let view = UnsafeRawBufferPointer(buffer)
        let header: IPv6HeaderView
        do { header = try IPv6HeaderView(checking: UnsafeRawBufferPointer(rebasing: view[0..<packetLength])) } catch { throw .cannotPiggyback }
        let upper = header.nextHeader
        let isExtension = upper == .hopByHop || upper == .routing || upper == .fragment || upper == .destinationOptions
            || upper == .authentication || upper == .encapsulatingSecurityPayload
        guard !isExtension, header.source == spec.source, header.payloadEnd == packetLength else { throw .cannotPiggyback }
        let options = BindingUpdateBuilder.destinationOptions(for: spec, nextHeader: upper, codePoints: codePoints)
        guard options.isEncodable else { throw .notEncodable }
        let optionsLength = options.bufferLength
        let needed = packetLength + optionsLength + association.algorithm.headerLength
        guard buffer.count >= needed, needed - IPv6HeaderView.length <= 0xFFFF, let base = buffer.baseAddress else {
            throw .bufferTooSmall(needed: needed)
        }
        let payload = packetLength - IPv6HeaderView.length
        (base + IPv6HeaderView.length + optionsLength).copyMemory(from: base + IPv6HeaderView.length, byteCount: payload)
        options.emit(into: buffer, at: IPv6HeaderView.length)
        buffer.storeBytes(of: IPProtocol.destinationOptions.rawValue, toByteOffset: IPv6HeaderView.Field.nextHeader, as: UInt8.self)
        buffer.storeBytes(of: UInt16(payload + optionsLength).bigEndian, toByteOffset: IPv6HeaderView.Field.payloadLength,
                          as: UInt16.self)
        do {
            return try association.protect(buffer, packetLength: packetLength + optionsLength,
                                           insertingAt: IPv6HeaderView.length)
        } catch {
            throw .protection(error)
        }
    }
}
