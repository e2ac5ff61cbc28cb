#!/usr/bin/env python3
"""Writes the capture fixtures for `homeless inspect` and what scapy decodes in them.

Run from this directory with a Python that has scapy 2.5 or later:

    python3 make_captures.py

Outputs (committed, so the tests need neither Python nor scapy):

  homeless.pcap     Ethernet (LINKTYPE_ETHERNET), little-endian, microsecond
                    timestamps: TCP, UDP, ICMPv6, Hop-by-Hop, Routing and
                    Fragment headers, draft-era Mobile IPv6 destination options
                    (Home Address, Binding Update with Homeless sub-options,
                    Binding Acknowledgement, Binding Request), IPsec AH, an
                    802.1Q tagged frame and three broken packets.
  homeless.pcapng   The same packets as pcapng (scapy's PcapNgWriter).
  raw-ipv6.pcap     Raw IPv6 packets (LINKTYPE_RAW), big-endian, nanosecond
                    timestamps, written without scapy's writer so the byte
                    order and resolution are the less common ones.
  expected.json     Per file, per packet, the fields `homeless inspect --json`
                    must print. Addresses, header and option offsets and
                    lengths, AH SPI and sequence number, ports and ICMPv6
                    type/code are read back by scapy's own dissectors from
                    the written bytes; the draft-era Mobile IPv6 option bodies
                    (which scapy does not know) and the errors of the broken
                    packets come from how this script built them.

All offsets count from the first byte of the captured packet (the Ethernet
header, or the IPv6 header for raw captures).
"""

import ipaddress
import json
import socket
import struct

from scapy.all import Ether, Dot1Q, Raw, wrpcap, rdpcap, raw
from scapy.layers.inet6 import (IPv6, IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting,
                                IPv6ExtHdrFragment, ICMPv6EchoRequest, ICMPv6EchoReply,
                                ICMPv6ND_NS, ICMPv6Unknown, RouterAlert, HAO, Pad1, PadN,
                                icmp6typescls)
from scapy.layers.inet import TCP, UDP
from scapy.layers.ipsec import AH
from scapy.utils import PcapNgWriter

MOBILE_SRC_MAC = "02:00:00:00:00:01"
CORRESPONDENT_MAC = "02:00:00:00:00:02"
HOME_ADDRESS = "2001:db8:1::100"
CARE_OF_ADDRESS = "2001:db8:2::200"
ALTERNATE_CARE_OF = "2001:db8:3::300"
CORRESPONDENT = "2001:db8:9::9"

# Draft-era Mobile IPv6 code points (WIRE.md section 1).
BINDING_UPDATE = 198
BINDING_ACK = 7
BINDING_REQUEST = 8
HOME_ADDRESS_OPTION = 201
SUB_UNIQUE_ID = 2
SUB_ALTERNATE_COA = 4
SUB_HOMELESS_SUPPORT = 128
SUB_ALTERNATE_PREFIXES = 129

ACTIONS = {0: "skip", 1: "discard", 2: "discard-icmp", 3: "discard-icmp-unicast"}


def ipv6_bytes(text):
    return socket.inet_pton(socket.AF_INET6, text)


def ipv6_text(data):
    return str(ipaddress.IPv6Address(bytes(data)))


class OptionsBuilder:
    """Lays out the options of a Hop-by-Hop or Destination Options header,
    inserting Pad1/PadN for each option's alignment (RFC 8200 4.2), and
    records each option and sub-option (offsets relative to the header)."""

    def __init__(self):
        self.data = bytearray()
        self.records = []  # (offset in header, type, dict of expected extras)

    def offset(self):
        return 2 + len(self.data)

    def pad_to(self, multiple, remainder):
        need = (remainder - self.offset()) % multiple
        self.pad(need)

    def pad(self, count):
        if count == 1:
            self.records.append((self.offset(), 0, {"name": "pad1"}))
            self.data += b"\x00"
        elif count >= 2:
            self.records.append((self.offset(), 1, {"name": "padn", "length": count - 2}))
            self.data += bytes([1, count - 2]) + bytes(count - 2)

    def option(self, option_type, body, extras):
        extras = dict(extras)
        extras["length"] = len(body)
        self.records.append((self.offset(), option_type, extras))
        self.data += bytes([option_type, len(body)]) + body

    def finish(self):
        self.pad_to(8, 0)
        return bytes(self.data)


class SubOptionsBuilder:
    """Lays out the sub-options of a Binding Update/Acknowledgement/Request.
    Alignment counts from the start of the Destination Options header
    (WIRE.md section 1), so the builder knows where its data starts."""

    def __init__(self, start_offset):
        self.start = start_offset
        self.data = bytearray()
        self.records = []

    def offset(self):
        return self.start + len(self.data)

    def align(self, multiple, remainder):
        need = (remainder - self.offset()) % multiple
        if need == 1:
            self.records.append({"type": 0, "name": "pad1", "offset": self.offset(), "length": 0})
            self.data += b"\x00"
        elif need >= 2:
            self.records.append({"type": 1, "name": "padn", "offset": self.offset(), "length": need - 2})
            self.data += bytes([1, need - 2]) + bytes(need - 2)

    def sub_option(self, sub_type, name, body, fields):
        self.records.append({"type": sub_type, "name": name, "offset": self.offset(), "length": len(body),
                             "fields": fields})
        self.data += bytes([sub_type, len(body)]) + body


def binding_update_option(builder, flags, prefix_length, sequence, lifetime, sub_options):
    """Appends a Binding Update (type 198, 4n+2) whose sub-options are built
    by `sub_options(SubOptionsBuilder)`."""
    builder.pad_to(4, 2)
    start = builder.offset()
    subs = SubOptionsBuilder(start + 10)
    sub_options(subs)
    body = struct.pack("!BBHI", flags, prefix_length, sequence, lifetime) + bytes(subs.data)
    builder.option(BINDING_UPDATE, body, {
        "name": "binding-update",
        "fields": {
            "acknowledge": bool(flags & 0x80), "home_registration": bool(flags & 0x40),
            "router": bool(flags & 0x20), "duplicate_address_detection": bool(flags & 0x10),
            "prefix_length": prefix_length, "sequence": sequence, "lifetime": lifetime,
        },
        "sub_options": subs.records,
    })


def home_address_option(builder, address):
    builder.pad_to(8, 6)
    builder.option(HOME_ADDRESS_OPTION, ipv6_bytes(address),
                   {"name": "home-address", "fields": {"home_address": address}})


def destination_options(next_header, fill):
    builder = OptionsBuilder()
    fill(builder)
    options = builder.finish()
    header = bytes([next_header, (2 + len(options)) // 8 - 1]) + options
    return header, builder.records


def mobile_bu_subs(subs):
    # Homeless Support (2n), Alternate Care-of Address (8n+6), Alternate
    # Prefixes (4n+1) with PL = 1: two 8-byte prefixes (WIRE.md erratum: P = 4*(PL+1)).
    subs.align(2, 0)
    subs.sub_option(SUB_HOMELESS_SUPPORT, "homeless-support", b"", {})
    subs.align(8, 6)
    subs.sub_option(SUB_ALTERNATE_COA, "alternate-care-of-address", ipv6_bytes(ALTERNATE_CARE_OF),
                    {"address": ALTERNATE_CARE_OF})
    subs.align(4, 1)
    prefixes = [bytes.fromhex("20010db8000a0000"), bytes.fromhex("20010db8000b0000")]
    suffix = ipv6_bytes(ALTERNATE_CARE_OF)[8:]  # from the preceding Alternate CoA sub-option
    subs.sub_option(SUB_ALTERNATE_PREFIXES, "alternate-prefixes", bytes([(1 << 6) | len(prefixes)]) + b"".join(prefixes), {
        "prefix_length_code": 1, "prefix_bytes": 8,
        "prefixes": [p.hex() for p in prefixes],
        "addresses": [ipv6_text(p + suffix) for p in prefixes],
    })


def bu_header(next_header):
    def fill(builder):
        binding_update_option(builder, 0xC0, 64, 42, 600, mobile_bu_subs)
        home_address_option(builder, HOME_ADDRESS)
    return destination_options(next_header, fill)


def ba_header(next_header):
    def fill(builder):
        builder.pad_to(4, 3)
        builder.option(BINDING_ACK, struct.pack("!BHII", 0, 42, 600, 300), {
            "name": "binding-acknowledgement",
            "fields": {"status": 0, "sequence": 42, "lifetime": 600, "refresh": 300},
            "sub_options": [],
        })
    return destination_options(next_header, fill)


def br_header(next_header):
    def fill(builder):
        start = builder.offset()
        subs = SubOptionsBuilder(start + 2)
        subs.sub_option(SUB_HOMELESS_SUPPORT, "homeless-support", b"", {})
        builder.option(BINDING_REQUEST, bytes(subs.data), {"name": "binding-request", "fields": {},
                                                          "sub_options": subs.records})
    return destination_options(next_header, fill)


def ether(payload, vlan=None):
    frame = Ether(src=MOBILE_SRC_MAC, dst=CORRESPONDENT_MAC)
    if vlan is not None:
        frame = frame / Dot1Q(vlan=vlan, prio=5)
    return frame / payload


# Each entry: (scapy packet or raw bytes, wirelen or None, builder notes)
# Notes carry what scapy cannot know: Mobile IPv6 option bodies and expected errors.
def build_packets():
    packets = []

    def add(packet, notes=None, wirelen=None):
        packets.append((packet, notes or {}, wirelen))

    add(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT, tc=0x28, fl=0x12345)
              / TCP(sport=49152, dport=80, flags="S", seq=1000)))
    add(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT) / UDP(sport=5353, dport=53) / Raw(b"query")))
    add(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT, hlim=255) / ICMPv6EchoRequest(id=0x1234, seq=1, data=b"ping")))

    header, records = bu_header(59)
    add(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT, nh=60) / Raw(header)), {"destination-options": [records]})

    header, records = ba_header(59)
    add(ether(IPv6(src=CORRESPONDENT, dst=CARE_OF_ADDRESS, nh=60) / Raw(header)), {"destination-options": [records]})

    # Draft-era (KAME) order: AH first, then the Destination Options header
    # with BU and HAO, so the ICV covers the packet as sent (WIRE.md section 2).
    header, records = bu_header(59)
    ah = AH(nh=60, payloadlen=4, spi=0x1001, seq=7, icv=bytes(range(0xA0, 0xAC)))
    add(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT, nh=51) / ah / Raw(header)), {"destination-options": [records]})

    ah = AH(nh=58, payloadlen=4, spi=0x1002, seq=8, icv=bytes(12))
    add(ether(IPv6(src=CORRESPONDENT, dst=CARE_OF_ADDRESS) / ah / ICMPv6EchoReply(id=0x1234, seq=1, data=b"pong")))

    header, records = br_header(17)
    add(ether(IPv6(src=CORRESPONDENT, dst=HOME_ADDRESS, nh=60) / Raw(header) / UDP(sport=7, dport=7) / Raw(b"x")),
        {"destination-options": [records]})

    add(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT) / UDP(sport=4000, dport=4001) / Raw(b"tagged"), vlan=42))

    add(ether(IPv6(src="fe80::1", dst="ff02::16", hlim=1)
              / IPv6ExtHdrHopByHop(options=[RouterAlert(value=0), PadN(optdata=b"")])
              / ICMPv6ND_NS(tgt="fe80::2")))

    # Route optimisation to a host away from home (draft era: Type 0, one segment).
    add(ether(IPv6(src=CORRESPONDENT, dst=CARE_OF_ADDRESS)
              / IPv6ExtHdrRouting(type=0, segleft=1, addresses=[HOME_ADDRESS])
              / TCP(sport=80, dport=49152, flags="SA")))

    add(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT)
              / IPv6ExtHdrFragment(id=0xABCDEF01, offset=0, m=1) / UDP(sport=9, dport=9) / Raw(b"F" * 16)))

    # Broken packets: each stays a valid capture record.
    full = raw(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT) / TCP(sport=1, dport=2)))
    cut = full[:14 + 40 + 8]  # snapshot cut inside the TCP header
    add(Ether(cut), {"error": {"reason": "truncated", "offset": 14 + 40}}, wirelen=len(full))

    # A Home Address option whose length runs past its 8-byte header: the
    # error points at the option's length byte.
    overrun = bytes([59, 0, HOME_ADDRESS_OPTION, 16, 0, 0, 0, 0])
    add(ether(IPv6(src=CARE_OF_ADDRESS, dst=CORRESPONDENT, nh=60) / Raw(overrun)),
        {"error": {"reason": "length-overrun", "offset": 14 + 40 + 3}})

    # Not IPv6 at all: version 4 in an IPv6 EtherType.
    add(Ether(src=MOBILE_SRC_MAC, dst=CORRESPONDENT_MAC, type=0x86DD) / Raw(bytes([0x45]) + bytes(39)),
        {"error": {"reason": "bad-version", "offset": 14}})
    return packets


def layer_offset(packet, layer):
    return len(raw(packet)) - len(raw(layer))


def expected_options(packet, header_layer, header_offset, notes_records):
    """Options as scapy dissected them; Mobile IPv6 bodies from the builder."""
    options = []
    cursor = header_offset + 2
    by_offset = {offset + header_offset: extras for offset, _, extras in (notes_records or [])}
    for option in header_layer.options:
        data = raw(option)
        entry = {"type": data[0], "offset": cursor}
        entry["length"] = 0 if data[0] == 0 else data[1]
        entry["action"] = ACTIONS[data[0] >> 6]
        entry["change"] = bool(data[0] & 0x20)
        if isinstance(option, HAO):
            entry["name"] = "home-address"
            entry["fields"] = {"home_address": option.hoa}
        elif isinstance(option, RouterAlert):
            entry["name"] = "router-alert"
            entry["fields"] = {"value": option.value}
        elif isinstance(option, Pad1):
            entry["name"] = "pad1"
        elif isinstance(option, PadN):
            entry["name"] = "padn"
        extras = by_offset.get(cursor)
        if extras is not None:
            assert extras.get("length", entry["length"]) == entry["length"], (extras, entry)
            for key in ("name", "fields"):
                if key in extras:
                    entry[key] = extras[key]
            if "sub_options" in extras:
                entry["sub_options"] = [dict(sub, offset=sub["offset"] + header_offset) for sub in extras["sub_options"]]
        elif notes_records is not None:
            raise AssertionError(f"scapy found an option at {cursor} the builder did not write")
        options.append(entry)
        cursor += len(data)
    return options


def expected_packet(index, packet, notes, link):
    """What inspect must print for `packet`, read back through scapy."""
    frame = packet
    entry = {"index": index, "link": link, "captured": len(raw(frame))}
    if link == "ethernet":
        ethernet = {"src": frame[Ether].src, "dst": frame[Ether].dst}
        if Dot1Q in frame:
            ethernet["vlan"] = frame[Dot1Q].vlan
            ethernet["type"] = "0x%04x" % frame[Dot1Q].type
        else:
            ethernet["vlan"] = None
            ethernet["type"] = "0x%04x" % frame[Ether].type
        entry["ethernet"] = ethernet
    error = notes.get("error")
    entry["error"] = error
    if error is not None and error["reason"] in ("bad-version",):
        entry["ipv6"] = None
        entry["headers"] = []
        entry["upper"] = None
        return entry
    ip = frame[IPv6]
    entry["ipv6"] = {"src": ip.src, "dst": ip.dst, "next_header": ip.nh, "payload_length": ip.plen,
                     "hop_limit": ip.hlim, "traffic_class": ip.tc, "flow_label": ip.fl}
    if error is not None and error["reason"] == "truncated":
        entry["headers"] = []
        entry["upper"] = None
        return entry
    if error is not None:
        # The header whose option is broken is still listed, without options.
        offset = layer_offset(frame, ip) + 40
        raw_header = raw(ip)[40:48]
        entry["headers"] = [{"type": "destination-options", "offset": offset, "length": 8, "next_header": raw_header[0],
                             "options": []}]
        entry["upper"] = None
        return entry

    headers = []
    destination_records = list(notes.get("destination-options", []))
    layer = ip.payload
    upper = None
    while layer is not None and not isinstance(layer, (Raw,)) and layer.name != "NoPayload":
        offset = layer_offset(frame, layer)
        if isinstance(layer, (IPv6ExtHdrHopByHop, IPv6ExtHdrDestOpt)):
            kind = "hop-by-hop" if isinstance(layer, IPv6ExtHdrHopByHop) else "destination-options"
            length = (layer.len + 1) * 8
            records = destination_records.pop(0) if kind == "destination-options" and destination_records else None
            headers.append({"type": kind, "offset": offset, "length": length, "next_header": layer.nh,
                            "options": expected_options(frame, layer, offset, records)})
        elif isinstance(layer, IPv6ExtHdrRouting):
            headers.append({"type": "routing", "offset": offset, "length": (layer.len + 1) * 8, "next_header": layer.nh,
                            "routing_type": layer.type, "segments_left": layer.segleft,
                            "addresses": list(layer.addresses)})
        elif isinstance(layer, IPv6ExtHdrFragment):
            headers.append({"type": "fragment", "offset": offset, "length": 8, "next_header": layer.nh,
                            "fragment_offset": layer.offset, "more_fragments": bool(layer.m),
                            "identification": layer.id})
            if layer.offset != 0:
                break  # only a first fragment starts with the next header
        elif isinstance(layer, AH):
            headers.append({"type": "ah", "offset": offset, "length": (layer.payloadlen + 2) * 4, "next_header": layer.nh,
                            "spi": layer.spi, "sequence": layer.seq, "icv": bytes(layer.icv).hex()})
            if layer.nh == 60:
                # scapy does not dissect what follows AH as IPv6 headers: do it here.
                inner = IPv6ExtHdrDestOpt(bytes(layer.payload))
                inner_offset = offset + (layer.payloadlen + 2) * 4
                records = destination_records.pop(0)
                headers.append({"type": "destination-options", "offset": inner_offset, "length": (inner.len + 1) * 8,
                                "next_header": inner.nh, "options": expected_options(frame, inner, inner_offset, records)})
                break
            if layer.nh == 58 and not layer.payload.name.startswith("ICMPv6"):
                # Nor ICMPv6 after AH.
                data = bytes(layer.payload)
                icmp = icmp6typescls.get(data[0], ICMPv6Unknown)(data)
                upper = {"protocol": "icmpv6", "offset": offset + (layer.payloadlen + 2) * 4,
                         "type": icmp.type, "code": icmp.code}
                break
        elif isinstance(layer, TCP):
            upper = {"protocol": "tcp", "offset": offset, "src_port": layer.sport, "dst_port": layer.dport}
            break
        elif isinstance(layer, UDP):
            upper = {"protocol": "udp", "offset": offset, "src_port": layer.sport, "dst_port": layer.dport}
            break
        elif layer.name.startswith("ICMPv6"):
            upper = {"protocol": "icmpv6", "offset": offset, "type": layer.type, "code": layer.code}
            break
        else:
            break
        layer = layer.payload
    if isinstance(layer, Raw) and headers and headers[-1]["type"] == "destination-options" and upper is None:
        # scapy left the UDP after our hand-built destination options as Raw.
        if headers[-1]["next_header"] == 17:
            offset = layer_offset(frame, layer)
            udp = UDP(bytes(layer))
            upper = {"protocol": "udp", "offset": offset, "src_port": udp.sport, "dst_port": udp.dport}
    entry["headers"] = headers
    entry["upper"] = upper
    return entry


def write_raw_pcap(path, packets):
    """Big-endian, nanosecond-resolution classic pcap with LINKTYPE_RAW (101)."""
    with open(path, "wb") as out:
        out.write(struct.pack(">IHHiIII", 0xA1B23C4D, 2, 4, 0, 0, 262144, 101))
        for index, data in enumerate(packets):
            out.write(struct.pack(">IIII", 1700000000 + index, 123456789, len(data), len(data)))
            out.write(data)


def main():
    packets = build_packets()
    frames = []
    for index, (packet, notes, wirelen) in enumerate(packets):
        packet.time = 1700000000 + index + 0.25
        if wirelen is not None:
            packet.wirelen = wirelen
        frames.append(packet)
    wrpcap("homeless.pcap", frames)
    writer = PcapNgWriter("homeless.pcapng")
    for frame in frames:
        writer.write(frame)
    writer.close()

    read_back = rdpcap("homeless.pcap")
    assert len(read_back) == len(packets)
    expected_ethernet = []
    for index, (frame, (_, notes, wirelen)) in enumerate(zip(read_back, packets), start=1):
        entry = expected_packet(index, frame, notes, "ethernet")
        entry["length"] = wirelen if wirelen is not None else len(raw(frame))
        entry["time"] = "%d.250000" % (1700000000 + index - 1)
        expected_ethernet.append(entry)

    # The raw capture holds the IPv6 part of the intact packets.
    raw_packets = [raw(frame[IPv6]) for frame, (_, notes, _) in zip(read_back, packets) if not notes.get("error")]
    write_raw_pcap("raw-ipv6.pcap", raw_packets)
    expected_raw = []
    ethernet_entries = [entry for entry in expected_ethernet if entry["error"] is None]
    for index, (data, ethernet_entry) in enumerate(zip(raw_packets, ethernet_entries), start=1):
        shift = len(raw(read_back[ethernet_entry["index"] - 1])) - len(data)
        entry = shift_offsets(json.loads(json.dumps(ethernet_entry)), -shift)
        entry.pop("ethernet", None)
        entry.update({"index": index, "link": "raw", "captured": len(data), "length": len(data),
                      "time": "%d.123456789" % (1700000000 + index - 1)})
        expected_raw.append(entry)

    with open("expected.json", "w") as out:
        json.dump({"homeless.pcap": expected_ethernet, "homeless.pcapng": expected_ethernet,
                   "raw-ipv6.pcap": expected_raw}, out, indent=1, sort_keys=True)
        out.write("\n")
    print(f"wrote {len(frames)} packets to homeless.pcap and homeless.pcapng, {len(raw_packets)} to raw-ipv6.pcap")


def shift_offsets(value, delta):
    if isinstance(value, dict):
        return {key: (item + delta if key == "offset" and isinstance(item, int) else shift_offsets(item, delta))
                for key, item in value.items()}
    if isinstance(value, list):
        return [shift_offsets(item, delta) for item in value]
    return value


if __name__ == "__main__":
    main()
