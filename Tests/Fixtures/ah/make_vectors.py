#!/usr/bin/env python3
"""Builds AH-over-IPv6 test vectors with scapy's independent implementation.

Each vector is an IPv6 packet protected by scapy's
`scapy.layers.ipsec.SecurityAssociation` (AH transport mode) with
HMAC-SHA-256-128 or HMAC-SHA1-96, together with the key, SPI, sequence
number, the expected ICV and the ICV input as scapy computes it
(`zero_mutable_fields`). Run from anywhere; writes vectors.json beside
this script:

    python3 make_vectors.py
"""

import json
import os
import sys

from scapy.layers.inet import UDP
from scapy.layers.inet6 import (
    ICMPv6EchoRequest,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    HBHOptUnknown,
    Pad1,
    PadN,
)
from scapy.layers.ipsec import AH, SecurityAssociation, zero_mutable_fields
from scapy.packet import Raw, raw

ALGORITHMS = {
    "hmac-sha256": ("SHA2-256-128", bytes(range(0x40, 0x60)), 16),
    "hmac-sha1": ("HMAC-SHA1-96", bytes(range(0xA0, 0xB4)), 12),
}

SOURCE = "2001:db8:1::10"
DESTINATION = "2001:db8:2::20"
CARE_OF = "2001:db8:3::30"
HOME = "2001:db8:4::40"

# Option type 0x3E: act 00, chg 1 (data may change en route, RFC 8200 4.2);
# 0x1E: act 00, chg 0 (covered by the ICV). Both are RFC 4727 experiment values.
MUTABLE_OPTION = 0x3E
IMMUTABLE_OPTION = 0x1E


def base(tc=0xB8, fl=0xABCDE, hlim=57, src=SOURCE, dst=DESTINATION):
    return IPv6(src=src, dst=dst, tc=tc, fl=fl, hlim=hlim)


def options(*items):
    """A Destination/Hop-by-Hop option list padded to a multiple of 8 octets."""
    opts = list(items)
    pad = -(2 + sum(2 + len(o.optdata) for o in opts)) % 8
    if pad == 1:
        opts.append(Pad1())
    elif pad >= 2:
        opts.append(PadN(optdata=b"\x00" * (pad - 2)))
    return opts


def mutable(data):
    return HBHOptUnknown(otype=MUTABLE_OPTION, optdata=data)


def immutable(data):
    return HBHOptUnknown(otype=IMMUTABLE_OPTION, optdata=data)


def protect(algorithm, spi, seq, packet):
    """scapy inserts AH where Linux does (after HbH, Routing, and
    Destination Options before a Routing header) and signs it."""
    name, key, _ = ALGORITHMS[algorithm]
    sa = SecurityAssociation(AH, spi=spi, seq_num=seq, auth_algo=name, auth_key=key)
    return sa, sa.encrypt(packet)


def sign_in_place(algorithm, spi, seq, packet):
    """For layouts scapy's encrypt does not produce (AH before a
    Destination Options header without a Routing header): AH already
    placed in `packet`, scapy computes the ICV."""
    name, key, icv_size = ALGORITHMS[algorithm]
    sa = SecurityAssociation(AH, spi=spi, seq_num=seq, auth_algo=name, auth_key=key)
    packet = IPv6(raw(packet))
    # A dissected AH knows only Payload Len: split its ICV field into ICV
    # and padding as scapy's own verify does.
    ah = packet[AH]
    ah.padding = ah.icv[icv_size:]
    ah.icv = ah.icv[:icv_size]
    signed = sa.auth_algo.sign(packet, key)
    return sa, IPv6(raw(signed))


def ah_layer(spi, seq, algorithm):
    _, _, icv_size = ALGORITHMS[algorithm]
    padding = -(12 + icv_size) % 8
    return AH(spi=spi, seq=seq, icv=b"\x00" * icv_size, padding=b"\x00" * padding,
              payloadlen=(12 + icv_size + padding) // 4 - 2)


def route_one_hop(packet):
    """One RFC 2460 4.4 Routing header hop: decrement Segments Left and
    swap the destination with the next address. Independent of the engine."""
    packet = IPv6(raw(packet))
    rh = packet[IPv6ExtHdrRouting]
    n = len(rh.addresses)
    rh.segleft -= 1
    i = n - rh.segleft  # 1-based
    addresses = list(rh.addresses)
    addresses[i - 1], packet.dst = packet.dst, addresses[i - 1]
    rh.addresses = addresses
    return IPv6(raw(packet))


def route_to_final(packet):
    packet = IPv6(raw(packet))
    while packet.haslayer(IPv6ExtHdrRouting) and packet[IPv6ExtHdrRouting].segleft > 0:
        packet = route_one_hop(packet)
    return packet


def icv_input(packet, sending):
    """scapy's ICV input: the packet with mutable fields zeroed; a dissected
    AH's ICV field includes the padding, which is zeroed with it."""
    return raw(zero_mutable_fields(IPv6(raw(packet)), sending=sending))


def uncovered_offsets(packet, icv_offset, icv_size):
    """Offsets where flipping the low bit leaves scapy's ICV input unchanged
    (mutable fields, chg-bit option data, AH padding), excluding the ICV
    itself, which the input zeroes but the comparison checks."""
    data = raw(packet)
    reference = icv_input(packet, sending=False)
    result = []
    for offset in range(len(data)):
        if icv_offset <= offset < icv_offset + icv_size:
            continue
        flipped = bytearray(data)
        flipped[offset] ^= 0x01
        try:
            same = icv_input(IPv6(bytes(flipped)), sending=False) == reference
        except Exception:
            same = False
        if same:
            result.append(offset)
    return result


def record(vectors, name, algorithm, sa, packet, note, sending_form):
    """`sending_form`: the packet is as the sender emitted it (Routing
    header with segments left); its ICV input is scapy's sending view."""
    packet = IPv6(raw(packet))
    _, key, icv_size = ALGORITHMS[algorithm]
    received = route_to_final(packet)
    # scapy's own check on the packet as it arrives at the final destination.
    sa.decrypt(IPv6(raw(received)))
    ah = packet[AH]
    ah_offset = len(raw(packet)) - len(raw(ah))
    vectors.append({
        "name": name,
        "note": note,
        "algorithm": algorithm,
        "key": key.hex(),
        "spi": ah.spi,
        "sequence_number": ah.seq,
        "icv": bytes(ah.icv)[:icv_size].hex(),
        "ah_offset": ah_offset,
        "packet": raw(packet).hex(),
        "icv_input": icv_input(packet, sending=sending_form).hex(),
        # Only for packets as received (no Routing header segments left).
        "uncovered_offsets": None if sending_form else uncovered_offsets(packet, ah_offset + 12, icv_size),
    })


def main():
    vectors = []
    udp = UDP(sport=4000, dport=5000) / Raw(b"homeless mobile ipv6 payload")

    for algorithm, spi in (("hmac-sha256", 0x1000), ("hmac-sha1", 0x2001)):
        sa, packet = protect(algorithm, spi, 1, base() / udp)
        record(vectors, f"{algorithm}-udp", algorithm, sa, packet,
               "plain UDP; traffic class, flow label and hop limit non-zero", False)

        sa, packet = protect(algorithm, spi, 7, base() / IPv6ExtHdrDestOpt(options=options(
            mutable(b"\x11\x22\x33\x44\x55"), immutable(b"\x66\x77"))) / udp)
        record(vectors, f"{algorithm}-destopt-before-ah", algorithm, sa, packet,
               "Destination Options before AH with a chg-bit option (data zeroed) and a fixed one", False)

        packet = (base() / ah_layer(spi, 9, algorithm) / IPv6ExtHdrDestOpt(options=options(
            mutable(b"\xAA\xBB\xCC"), immutable(b"\x01\x02\x03\x04"))) / udp)
        sa, packet = sign_in_place(algorithm, spi, 9, packet)
        record(vectors, f"{algorithm}-destopt-after-ah", algorithm, sa, packet,
               "Destination Options after AH (draft-era KAME placement): covered as sent, chg bit or not", False)

        sa, packet = protect(algorithm, spi, 0x1234567, base() / IPv6ExtHdrHopByHop(options=options(
            mutable(b"\x99" * 6))) / IPv6ExtHdrDestOpt(options=options(immutable(b"\x42" * 4))) / udp)
        record(vectors, f"{algorithm}-hop-by-hop-destopt", algorithm, sa, packet,
               "Hop-by-Hop with a chg-bit option, Destination Options, both before AH", False)

        # Route optimisation to a Standard Mobile Host (WIRE.md section 1):
        # destination = care-of address, Routing header type 2 with the home address.
        sa, packet = protect(algorithm, spi, 42, base(dst=CARE_OF) /
                             IPv6ExtHdrRouting(type=2, addresses=[HOME]) / udp)
        record(vectors, f"{algorithm}-routing-type2-sent", algorithm, sa, packet,
               "Routing header type 2, Segments Left 1, as sent (ICV over the swapped form)", True)
        record(vectors, f"{algorithm}-routing-type2-received", algorithm, sa, route_to_final(packet),
               "the same packet at its final destination (Segments Left 0)", False)

        rh0 = IPv6ExtHdrRouting(type=0, addresses=["2001:db8:5::1", "2001:db8:5::2", HOME])
        sa, packet = protect(algorithm, spi, 43, base(dst="2001:db8:5::99") / rh0 /
                             ICMPv6EchoRequest(id=7, seq=8, data=b"x" * 40))
        record(vectors, f"{algorithm}-routing-type0-sent", algorithm, sa, packet,
               "Routing header type 0 with 3 addresses, Segments Left 3, as sent", True)
        midway = route_one_hop(packet)
        vectors.append(dict(vectors[-1], name=f"{algorithm}-routing-type0-midway",
                            note="the same packet after one hop (Segments Left 2); ICV unchanged",
                            uncovered_offsets=None,
                            packet=raw(midway).hex(), icv_input=vectors[-1]["icv_input"]))
        record(vectors, f"{algorithm}-routing-type0-received", algorithm, sa, route_to_final(packet),
               "the same packet at its final destination", False)

        sa, packet = protect(algorithm, spi, 0xFFFFFFFF, base(tc=0, fl=0, hlim=255) /
                             UDP(sport=1, dport=2) / Raw(bytes(range(256)) * 5 + b"tail"))
        record(vectors, f"{algorithm}-large", algorithm, sa, packet,
               "1300-byte payload, last usable sequence number", False)

    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "vectors.json")
    with open(path, "w") as out:
        json.dump({"generator": "make_vectors.py (scapy " + __import__("scapy").__version__ + ")",
                   "vectors": vectors}, out, indent=1)
        out.write("\n")
    print(f"{len(vectors)} vectors written to vectors.json", file=sys.stderr)


if __name__ == "__main__":
    main()
