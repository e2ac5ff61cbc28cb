#!/usr/bin/env python3
"""Builds the golden wire vectors for HomelessWireTests with scapy.

Run from anywhere with a Python that has scapy (Debian: python3-scapy):

    python3 make_golden.py            # rewrites golden.json beside this file

The output is committed; the Swift tests read golden.json and need no scapy.
Each vector records its bytes (hex), how it was built, the header chain the
walker must find (kind, offset, length) and field values taken from scapy's
own dissection, so the Swift codecs are checked against an independent
implementation.

Scapy knows the Home Address option (RFC 6275 layout, identical to the
draft-era one) but not the draft-era Binding Update / Acknowledgement /
Request destination options. Those are laid out here, independently of the
Swift emitter, from the project's wire specification (WIRE.md section 1):
BU 198 at 4n+2, BA 7 at 4n+3, BR 8 unaligned, HAO 201 at 8n+6; sub-options
Unique Identifier 2 (2n), Alternate Care-of Address 4 (8n+6), Homeless
Support 128 (2n), Alternate Prefixes 129 (4n+1, P = 4 * (PL + 1)). Padding is
minimal (Pad1 for one byte, else one PadN) and counted from the start of the
Destination Options header. Scapy then wraps those option bytes
(HBHOptUnknown, autopad off) and computes the upper-layer checksums.
"""
import hashlib
import hmac
import json
import os
import struct
import sys

from scapy.all import Ether, Dot1Q, Raw, Padding, IPv6, UDP, TCP, fragment6  # noqa: F401
from scapy.layers.inet6 import (
    IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrFragment,
    HAO, HBHOptUnknown, Pad1, PadN, RouterAlert,
    ICMPv6EchoRequest, ICMPv6EchoReply, ICMPv6ParamProblem, ICMPv6Unknown, in6_chksum,
)
from scapy.layers.ipsec import SecurityAssociation, AH, ESP
from scapy.utils6 import inet_pton
import socket

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "golden.json")

MN_COA = "2001:db8:2::100"      # care-of address (packet source)
MN_HOME = "2001:db8:1::5"       # home address
CN = "2001:db8:3::7"            # correspondent
HA = "2001:db8:1::1"            # home agent
MAC_A = "02:00:00:00:00:0a"
MAC_B = "02:00:00:00:00:0b"


def a16(text):
    return inet_pton(socket.AF_INET6, text)


# ---- Independent draft-era option layout (WIRE.md section 1) ----------------

def pad_bytes(count):
    if count == 0:
        return b""
    if count == 1:
        return b"\x00"
    return bytes([1, count - 2]) + b"\x00" * (count - 2)


def align_pad(position, multiple, remainder):
    return (remainder - position) % multiple


def sub_options(position, subs):
    """Lays out sub-options starting at header-relative `position`."""
    out = b""
    for kind, value in subs:
        if kind == "uid":
            body, typ, align = struct.pack("!H", value), 2, (2, 0)
        elif kind == "acoa":
            body, typ, align = a16(value), 4, (8, 6)
        elif kind == "homeless":
            body, typ, align = b"", 128, (2, 0)
        elif kind == "altprefixes":
            pl, prefixes = value
            p = 4 * (pl + 1)
            body = bytes([(pl << 6) | len(prefixes)]) + b"".join(x[:p].ljust(p, b"\x00") for x in prefixes)
            typ, align = 129, (4, 1)
        else:
            raise ValueError(kind)
        pad = pad_bytes(align_pad(position + len(out), *align))
        out += pad + bytes([typ, len(body)]) + body
    return out


def mip_options(options):
    """Returns the options area (after Next Header / Hdr Ext Len) of a
    Destination Options header, padded so the header is a multiple of 8."""
    out = b""
    for kind, value in options:
        pos = 2 + len(out)
        if kind == "hao":
            pad = pad_bytes(align_pad(pos, 8, 6))
            out += pad + bytes([201, 16]) + a16(value)
        elif kind == "bu":
            pad = pad_bytes(align_pad(pos, 4, 2))
            start = pos + len(pad)
            fixed = bytes([value["flags"] | value.get("reserved", 0), value["prefix"]]) + struct.pack("!HI", value["seq"], value["lifetime"])
            subs = sub_options(start + 2 + len(fixed), value.get("subs", []))
            data = fixed + subs
            out += pad + bytes([198, len(data)]) + data
        elif kind == "ba":
            pad = pad_bytes(align_pad(pos, 4, 3))
            start = pos + len(pad)
            fixed = bytes([value["status"]]) + struct.pack("!HII", value["seq"], value["lifetime"], value["refresh"])
            data = fixed + sub_options(start + 2 + len(fixed), value.get("subs", []))
            out += pad + bytes([7, len(data)]) + data
        elif kind == "br":
            data = sub_options(pos + 2, value.get("subs", []))
            out += bytes([8, len(data)]) + data
        else:
            raise ValueError(kind)
    out += pad_bytes((8 - (2 + len(out)) % 8) % 8)
    return out


def destopt_from_area(area, **kw):
    """Wraps a laid-out options area into scapy options (raw TLVs, no autopad)."""
    opts = []
    i = 0
    while i < len(area):
        if area[i] == 0:
            opts.append(Pad1())
            i += 1
            continue
        typ, length = area[i], area[i + 1]
        data = area[i + 2:i + 2 + length]
        if typ == 1:
            opts.append(PadN(optdata=data))
        else:
            opts.append(HBHOptUnknown(otype=typ, optlen=length, optdata=data))
        i += 2 + length
    return IPv6ExtHdrDestOpt(options=opts, autopad=0, **kw)


# ---- Header chain and expectations from scapy's dissection -----------------

KIND = {
    Ether: "ethernet", IPv6: "ipv6", IPv6ExtHdrHopByHop: "hop-by-hop", IPv6ExtHdrRouting: "routing",
    IPv6ExtHdrFragment: "fragment", IPv6ExtHdrDestOpt: "destination-options", AH: "ah", ESP: "esp",
    UDP: "udp", TCP: "tcp",
}


def chain(raw_bytes, link):
    """Dissects the bytes again (as a receiver would) and lists the headers."""
    pkt = Ether(raw_bytes) if link == "ethernet" else IPv6(raw_bytes)
    headers = []
    offset = 0
    layer = pkt
    ipv6_end = None
    previous_nh = None
    while layer is not None and not isinstance(layer, Padding) and layer.__class__.__name__ != "NoPayload":
        if isinstance(layer, Raw):
            # scapy leaves what follows an AH undissected: dissect it by Next Header.
            follow = {60: IPv6ExtHdrDestOpt, 6: TCP, 17: UDP}.get(previous_nh)
            if follow is None:
                break
            layer = follow(bytes(layer))
        cls = layer.__class__
        total = len(layer)
        rest = len(layer.payload)
        if cls is Dot1Q:
            headers[-1][2] += total - rest
        elif cls is IPv6:
            ipv6_end = offset + 40 + layer.plen
            headers.append(["ipv6", offset, 40])
        elif cls in KIND and cls not in (ESP,):
            length = total - rest
            if cls is TCP:
                length = layer.dataofs * 4
            headers.append([KIND[cls], offset, length])
        elif cls is ESP:
            headers.append(["esp", offset, ipv6_end - offset])
            break
        elif cls.__name__.startswith("ICMPv6"):
            headers.append(["icmpv6", offset, 4])
            break
        else:
            raise ValueError("unexpected layer %s" % cls.__name__)
        if cls in (UDP, TCP):
            break
        if cls is IPv6ExtHdrFragment and layer.offset != 0:
            headers.append(["payload", offset + 8, ipv6_end - offset - 8])
            break
        if cls in (IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrHopByHop, IPv6ExtHdrRouting, IPv6ExtHdrFragment, AH) and layer.nh == 59:
            headers.append(["no-next-header", offset + (total - rest), ipv6_end - offset - (total - rest)])
            break
        offset += total - rest
        previous_nh = getattr(layer, "nh", None)
        layer = layer.payload
    return pkt, headers


vectors = []


def add(name, origin, pkt, link, expect=None):
    raw_bytes = bytes(pkt)
    dissected, headers = chain(raw_bytes, link)
    vectors.append({
        "name": name,
        "origin": origin,
        "link": link,
        "hex": raw_bytes.hex(),
        "headers": headers,
        "expect": expect or {},
    })
    return dissected


def upper_expect(p):
    ip = p[IPv6]
    e = {"source": ip.src, "destination": ip.dst, "hopLimit": ip.hlim, "trafficClass": ip.tc, "flowLabel": ip.fl}
    if UDP in p:
        e.update(upperProtocol=17, sourcePort=p[UDP].sport, destinationPort=p[UDP].dport, checksum=p[UDP].chksum)
    if TCP in p:
        e.update(upperProtocol=6, sourcePort=p[TCP].sport, destinationPort=p[TCP].dport, checksum=p[TCP].chksum,
                 tcpDataOffset=p[TCP].dataofs, tcpSequence=p[TCP].seq, tcpAcknowledgment=p[TCP].ack,
                 tcpFlags=int(p[TCP].flags), tcpWindow=p[TCP].window)
    return e


def main():
    # 1. Home Address option built by scapy's own HAO class (scapy pads it to 8n+6).
    p = IPv6(src=MN_COA, dst=CN, hlim=64) / IPv6ExtHdrDestOpt(options=[HAO(hoa=MN_HOME)]) / UDP(sport=7000, dport=53) / b"homeless"
    d = add("raw-destopt-hao-udp", "scapy: IPv6/IPv6ExtHdrDestOpt(options=[HAO(hoa)])/UDP/payload; "
            "scapy computes the UDP checksum with the home address as pseudo-header source (RFC 6275 6.3)",
            p, "raw")
    e = upper_expect(d)
    e.update(homeAddress=MN_HOME, homeAddressOptionOffset=40 + 6, pseudoHeaderSource=MN_HOME)
    vectors[-1]["expect"] = e

    # 2. Ethernet + 802.1Q + IPv6 + TCP with options.
    p = (Ether(dst=MAC_B, src=MAC_A) / Dot1Q(vlan=42, prio=5) /
         IPv6(src=CN, dst=MN_HOME, tc=0x28, fl=0x12345, hlim=61) /
         TCP(sport=443, dport=51000, seq=0x01020304, ack=0x0A0B0C0D, flags="PA", window=502,
             options=[("MSS", 1440), ("NOP", None), ("WScale", 7)]) / b"GET / HTTP/1.0\r\n\r\n")
    d = add("eth-vlan-ipv6-tcp", "scapy: Ether/Dot1Q(vlan=42,prio=5)/IPv6(tc,fl)/TCP(options MSS,NOP,WScale)/payload", p, "ethernet")
    e = upper_expect(d)
    e.update(vlan=42, vlanPriority=5, ethernetSource=MAC_A, ethernetDestination=MAC_B)
    vectors[-1]["expect"] = e

    # 3. Untagged Ethernet + IPv6 + UDP.
    p = Ether(dst=MAC_A, src=MAC_B) / IPv6(src=HA, dst=MN_COA) / UDP(sport=5353, dport=5353) / (b"x" * 33)
    d = add("eth-ipv6-udp", "scapy: Ether/IPv6/UDP/33-byte payload (odd length exercises checksum padding)", p, "ethernet")
    vectors[-1]["expect"] = upper_expect(d)

    # 4. ICMPv6 Echo Request over Ethernet.
    p = Ether(dst=MAC_B, src=MAC_A) / IPv6(src=MN_COA, dst=CN) / ICMPv6EchoRequest(id=0x4242, seq=7, data=b"ping-data")
    d = add("eth-ipv6-icmpv6-echo-request", "scapy: Ether/IPv6/ICMPv6EchoRequest(id,seq,data)", p, "ethernet")
    vectors[-1]["expect"] = {"source": MN_COA, "destination": CN, "upperProtocol": 58, "icmpType": 128, "icmpCode": 0,
                             "icmpIdentifier": 0x4242, "icmpSequence": 7, "checksum": d[ICMPv6EchoRequest].cksum}

    # 5. ICMPv6 Parameter Problem (unrecognized option, pointer 42) quoting an invoking packet.
    invoking = bytes(IPv6(src=CN, dst=MN_COA) / IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9E, optdata=b"\x01\x02")]) / UDP(sport=1, dport=2))
    p = IPv6(src=MN_COA, dst=CN) / ICMPv6ParamProblem(code=2, ptr=42) / Raw(invoking)
    d = add("raw-icmpv6-param-problem", "scapy: IPv6/ICMPv6ParamProblem(code=2, ptr=42)/invoking packet", p, "raw")
    vectors[-1]["expect"] = {"source": MN_COA, "destination": CN, "upperProtocol": 58, "icmpType": 4, "icmpCode": 2,
                             "icmpPointer": 42, "checksum": d[ICMPv6ParamProblem].cksum, "invokingLength": len(invoking)}

    # 6. Binding Update with every sub-option, HAO first, No Next Header.
    bu = {"flags": 0xC0, "prefix": 64, "seq": 0x1234, "lifetime": 600,
          "subs": [("uid", 0xBEEF), ("homeless", None), ("acoa", "2001:db8:4::44"),
                   ("altprefixes", (1, [a16("2001:db8:5::")[:8], a16("2001:db8:6::")[:8]]))]}
    area = mip_options([("hao", MN_HOME), ("bu", bu)])
    p = IPv6(src=MN_COA, dst=CN, nh=60) / destopt_from_area(area, nh=59)
    d = add("raw-destopt-hao-bu-all-suboptions",
            "scapy: IPv6/IPv6ExtHdrDestOpt(raw TLVs, autopad=0); HAO + BU (A|H, prefix 64, seq 0x1234, lifetime 600) with "
            "Unique Identifier, Homeless Support, Alternate Care-of Address, Alternate Prefixes (PL=1, 2 prefixes) laid out per WIRE.md",
            p, "raw")
    vectors[-1]["expect"] = {"source": MN_COA, "destination": CN, "homeAddress": MN_HOME, "upperProtocol": 59,
                             "buFlags": 0xC0, "buPrefixLength": 64, "buSequence": 0x1234, "buLifetime": 600,
                             "uniqueIdentifier": 0xBEEF, "alternateCareOfAddress": "2001:db8:4::44",
                             "alternatePrefixCount": 2, "alternatePrefixLengthCode": 1,
                             "alternatePrefix0": "2001:db8:5::44", "alternatePrefix1": "2001:db8:6::44",
                             "destinationOptionsLength": 2 + len(area)}

    # 7. Same BU behind AH (HMAC-SHA1-96), draft-era order IPv6/AH/DestOpt(HAO, BU)/TCP.
    area = mip_options([("hao", MN_HOME), ("bu", {"flags": 0x80, "prefix": 0, "seq": 7, "lifetime": 0xFFFFFFFF,
                                                  "subs": [("homeless", None)]})])
    # scapy substitutes the home address into the pseudo-header only when HAO is
    # the sole option of its header, so the checksum is taken from the same
    # segment sent from the home address (MIPv6: the upper layer uses the home address).
    syn = TCP(sport=40000, dport=22, flags="S", seq=1)
    home_checksum = IPv6(bytes(IPv6(src=MN_HOME, dst=CN) / syn))[TCP].chksum
    inner = IPv6(src=MN_COA, dst=CN) / destopt_from_area(area) / TCP(sport=40000, dport=22, flags="S", seq=1, chksum=home_checksum)
    sa = SecurityAssociation(AH, spi=0x00001001, auth_algo="HMAC-SHA1-96", auth_key=b"\x0b" * 20)
    p = sa.encrypt(inner)
    d = add("raw-ah-sha1-destopt-bu-tcp",
            "scapy.layers.ipsec SecurityAssociation(AH, spi=0x1001, HMAC-SHA1-96).encrypt(IPv6/DestOpt(HAO,BU+Homeless Support)/TCP SYN)",
            p, "raw")
    e = upper_expect(IPv6(bytes(inner)))
    e.update(homeAddress=MN_HOME, pseudoHeaderSource=MN_HOME, ahSPI=0x1001, ahSequence=d[AH].seq, ahPayloadLength=d[AH].payloadlen,
             ahICVLength=len(d[AH].icv) + len(d[AH].padding or b""), buSequence=7, buLifetime=0xFFFFFFFF, buFlags=0x80)
    vectors[-1]["expect"] = e

    # 7b. Draft-era order (KAME, WIRE.md section 2): IPv6/AH/DestOpt(HAO, BU)/TCP, the ICV
    # covering the Destination Options as sent. scapy's SecurityAssociation
    # always inserts AH after a leading Destination Options header, so this
    # AH is assembled here: HMAC-SHA1-96 (RFC 2404) over the packet with
    # Traffic Class, Flow Label and Hop Limit zeroed and the ICV zeroed
    # (RFC 4302 3.3.3), computed with Python's hmac module.
    laid_out = bytes(inner)[40:]
    key = b"\x0b" * 20
    ah_fixed = struct.pack("!BBHII", 60, 4, 0, 0x1001, 1)
    payload_length = len(ah_fixed) + 12 + len(laid_out)
    ip_zeroed = struct.pack("!IHBB", 6 << 28, payload_length, 51, 0) + a16(MN_COA) + a16(CN)
    icv = hmac.new(key, ip_zeroed + ah_fixed + b"\x00" * 12 + laid_out, hashlib.sha1).digest()[:12]
    p = IPv6(src=MN_COA, dst=CN, nh=51, hlim=64) / Raw(ah_fixed + icv + laid_out)
    # Cross-check: scapy's own AH implementation accepts this ICV (raises otherwise).
    SecurityAssociation(AH, spi=0x1001, auth_algo="HMAC-SHA1-96", auth_key=key).decrypt(IPv6(bytes(p)))
    d = add("raw-ah-sha1-then-destopt-bu-tcp",
            "IPv6/AH(spi=0x1001, seq 1, HMAC-SHA1-96 computed with Python hmac over the zeroed-mutable packet, key 20 x 0x0b, "
            "accepted by scapy's SecurityAssociation.decrypt)/"
            "DestOpt(HAO, BU + Homeless Support)/TCP SYN: draft-era order; chain bytes after AH taken from the scapy packet above",
            p, "raw")
    e = upper_expect(IPv6(bytes(inner)))
    e.update(homeAddress=MN_HOME, pseudoHeaderSource=MN_HOME, ahSPI=0x1001, ahSequence=1, ahPayloadLength=4,
             ahICVLength=12, ahICV=icv.hex(), buSequence=7, buLifetime=0xFFFFFFFF, buFlags=0x80)
    vectors[-1]["expect"] = e

    # 8. AH with HMAC-SHA-256-128 (16-byte ICV + 4 padding) over UDP.
    sa = SecurityAssociation(AH, spi=0xCAFE0001, auth_algo="SHA2-256-128", auth_key=b"\x0c" * 32)
    sa.seq_num = 41
    plain = IPv6(src=HA, dst=MN_COA) / UDP(sport=434, dport=434) / b"ah-sha256"
    p = sa.encrypt(plain)
    d = add("raw-ah-sha256-udp", "scapy.layers.ipsec SecurityAssociation(AH, SHA2-256-128, seq 41).encrypt(IPv6/UDP)", p, "raw")
    e = upper_expect(IPv6(bytes(plain)))
    e.update(ahSPI=0xCAFE0001, ahSequence=d[AH].seq, ahPayloadLength=d[AH].payloadlen,
             ahICVLength=len(d[AH].icv) + len(d[AH].padding or b""))
    vectors[-1]["expect"] = e

    # 9. Binding Acknowledgement (status 0) and Binding Request (UID + Homeless Support).
    area = mip_options([("ba", {"status": 0, "seq": 0x1234, "lifetime": 600, "refresh": 300})])
    p = IPv6(src=CN, dst=MN_COA) / destopt_from_area(area, nh=59)
    add("raw-destopt-ba", "scapy: IPv6/IPv6ExtHdrDestOpt(raw TLVs) with a BA (status 0, seq 0x1234, lifetime 600, refresh 300) at 4n+3",
        p, "raw")
    vectors[-1]["expect"] = {"source": CN, "destination": MN_COA, "upperProtocol": 59, "baStatus": 0, "baSequence": 0x1234,
                             "baLifetime": 600, "baRefresh": 300, "bindingAcknowledgementOptionOffset": 43}
    area = mip_options([("br", {"subs": [("uid", 0x0102), ("homeless", None)]})])
    p = IPv6(src=CN, dst=MN_HOME) / destopt_from_area(area) / ICMPv6EchoReply(id=1, seq=1)
    d = add("raw-destopt-br-echo-reply", "scapy: IPv6/IPv6ExtHdrDestOpt(raw TLVs: BR with Unique Identifier + Homeless Support)/ICMPv6EchoReply",
            p, "raw")
    vectors[-1]["expect"] = {"source": CN, "destination": MN_HOME, "upperProtocol": 58, "icmpType": 129,
                             "uniqueIdentifier": 0x0102, "checksum": d[ICMPv6EchoReply].cksum}

    # 10. Type 0 routing header (draft-era route optimisation) and Type 2 (RFC 6275).
    p = IPv6(src=CN, dst=MN_COA) / IPv6ExtHdrRouting(type=0, segleft=1, addresses=[MN_HOME]) / TCP(sport=22, dport=40000, flags="SA")
    d = add("raw-routing-type0-tcp", "scapy: IPv6(dst=care-of)/IPv6ExtHdrRouting(type=0, segleft=1, addresses=[home])/TCP; "
            "checksum over the final destination (RFC 8200 8.1)", p, "raw")
    e = upper_expect(d)
    e.update(routingType=0, segmentsLeft=1, routingAddress0=MN_HOME, pseudoHeaderDestination=MN_HOME)
    vectors[-1]["expect"] = e
    p = IPv6(src=CN, dst=MN_COA) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[MN_HOME]) / UDP(sport=9, dport=9) / b"rt2"
    d = add("raw-routing-type2-udp", "scapy: IPv6/IPv6ExtHdrRouting(type=2, segleft=1, addresses=[home])/UDP", p, "raw")
    e = upper_expect(d)
    e.update(routingType=2, segmentsLeft=1, routingAddress0=MN_HOME, pseudoHeaderDestination=MN_HOME)
    vectors[-1]["expect"] = e

    # 11. Fragments: first and a later one.
    frags = fragment6(IPv6(src=MN_COA, dst=CN) / IPv6ExtHdrFragment(id=0xABCDEF01) / UDP(sport=1111, dport=2222) / (b"F" * 300), 200)
    add("raw-fragment-first", "scapy: fragment6(IPv6/IPv6ExtHdrFragment(id)/UDP/300 bytes, 200)[0]", frags[0], "raw")
    vectors[-1]["expect"] = {"fragmentOffset": 0, "moreFragments": 1, "fragmentIdentification": 0xABCDEF01, "upperProtocol": 17}
    add("raw-fragment-later", "scapy: fragment6(..., 200)[1] (non-first fragment: no upper-layer header)", frags[1], "raw")
    vectors[-1]["expect"] = {"fragmentOffset": frags[1][IPv6ExtHdrFragment].offset, "moreFragments": frags[1][IPv6ExtHdrFragment].m,
                             "fragmentIdentification": 0xABCDEF01, "nonInitialFragment": 1}

    # 12. Hop-by-Hop Router Alert, then an unrecognized destination option with action 10.
    p = IPv6(src=MN_COA, dst="ff02::16") / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0)]) / \
        IPv6ExtHdrDestOpt(options=[HBHOptUnknown(otype=0x9E, optdata=b"\x01\x02")]) / UDP(sport=5, dport=6)
    d = add("raw-hbh-router-alert-unknown-option", "scapy: IPv6/HopByHop(RouterAlert)/DestOpt(unknown option 0x9E, action 10)/UDP", p, "raw")
    e = upper_expect(d)
    e.update(unrecognizedOptionCount=1, actionableOptionType=0x9E, actionableOptionOffset=48 + 2, actionableOptionAction=2)
    vectors[-1]["expect"] = e

    # 13. Minimum-size Ethernet frame: IPv6 with No Next Header and 6 bytes of
    # Ethernet padding after the IPv6 payload (Payload Length 0).
    p = Ether(dst=MAC_B, src=MAC_A) / IPv6(src=MN_COA, dst=CN, nh=59, plen=0) / Padding(b"\x00" * 6)
    add("eth-ipv6-no-next-header-padded", "scapy: Ether/IPv6(nh=59, plen=0)/Padding(6 bytes) (60-byte minimum frame)", p, "ethernet")
    vectors[-1]["expect"] = {"upperProtocol": 59, "packetEnd": 54}

    # 14. ESP stops the walk.
    sa = SecurityAssociation(ESP, spi=0x2002, crypt_algo="NULL", auth_algo="NULL")
    p = sa.encrypt(IPv6(src=MN_COA, dst=CN) / UDP(sport=1, dport=2) / b"esp")
    add("raw-esp", "scapy.layers.ipsec SecurityAssociation(ESP, NULL, NULL).encrypt(IPv6/UDP)", p, "raw")
    vectors[-1]["expect"] = {"espSPI": 0x2002, "upperProtocol": 50}

    with open(OUT, "w") as f:
        json.dump({"generator": "make_golden.py (scapy %s)" % __import__("scapy").VERSION, "vectors": vectors}, f, indent=1)
        f.write("\n")
    print("wrote %d vectors to %s" % (len(vectors), os.path.basename(OUT)), file=sys.stderr)


if __name__ == "__main__":
    main()
