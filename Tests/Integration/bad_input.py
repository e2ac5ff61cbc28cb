#!/usr/bin/env python3
"""The crafted frames of the bad-input suite (Tests/Integration/bad-input.sh)
and their checks, run inside the lab's router rt: each case's frames are
built first (scapy signs the AH ones with the keys of the SA file), sent at
a live engine with one raw packet socket, and then the engine's counters
(`homeless show stats --json`) must have moved by exactly the expected
amounts, the engine must be alive, and after each group mn must still
ping cn through both engines.

usage: bad_input.py LAB_ID HOMELESS SA_FILE MN_PID CN_PID
Prints "ok   ..." / "FAIL ..." per check (lib.sh's format) and the last line
"N passed, M failed".

Targets: cn's engine (wire lnk-c, frames from rt's lnk-c) and, for the
forged Parameter Problems, mn's engine (wire lnk-a). Addresses as in
scripts/lab.sh; X = 2001:db8:c::99 is a peer with an SA of its own in cn's
file (SPI 0x3001), whose AH-valid Binding Updates exercise the lifetime,
sequence-number and sub-option edge cases.
"""
import ipaddress
import json
import os
import socket
import struct
import subprocess
import sys
import time

from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import AH, SecurityAssociation
from scapy.packet import Raw, raw

sys.path.insert(0, os.path.dirname(__file__))
from verify_signalling_ah import load_keys  # noqa: E402

LAB_ID, HOMELESS, SA_FILE, MN_PID, CN_PID = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), int(sys.argv[5])
MN, CN, X, RT_C = "2001:db8:a::10", "2001:db8:c::20", "2001:db8:c::99", "2001:db8:c::1"
ICV_SIZES = {"SHA2-256-128": 16, "HMAC-SHA1-96": 12}
KEYS = load_keys(SA_FILE)
passed = failed = 0


def report(ok, text):
    global passed, failed
    if ok:
        passed += 1
    else:
        failed += 1
    print(("ok   " if ok else "FAIL ") + text, flush=True)


def in_ns(node, *command):
    return subprocess.run(["ip", "netns", "exec", f"hl-{LAB_ID}-{node}", *command],
                          capture_output=True, text=True, timeout=20)


def stats(node):
    result = in_ns(node, HOMELESS, "show", "stats", "--json", "--name", node)
    d = json.loads(result.stdout)
    d["kernel"] = kernel_counters(node)
    return d


def everything_moved(before, after):
    """Every engine counter that moved (for a failing case's report)."""
    moved = []
    for section, table in (("drop", lambda d: d["totals"]["drops-by-reason"]), ("slow", lambda d: d["slow-path"]),
                           ("mobility", lambda d: d["mobility"]), ("handshake", lambda d: d.get("handshake") or {})):
        for name, value in table(after).items():
            delta = value - table(before).get(name, 0)
            if delta:
                moved.append(f"{section}.{name} +{delta}")
    return ", ".join(moved) or "nothing"


def kernel_counters(node):
    """The node's kernel IPv6 counters (/proc/net/snmp6 of its namespace)."""
    lines = in_ns(node, "cat", "/proc/net/snmp6").stdout.split("\n")
    return dict((parts[0], int(parts[1])) for parts in (line.split() for line in lines) if len(parts) == 2)


def counter(d, path):
    """`section.name`: totals.X, drop.X (drops by reason), slow.X
    (slow-path), mobility.X, handshake.X, kernel.X (the node's
    /proc/net/snmp6, in d["kernel"])."""
    section, name = path.split(".", 1)
    if section == "kernel":
        return d["kernel"].get(name, 0)
    if section == "drop":
        return d["totals"]["drops-by-reason"].get(name, 0)
    table = {"totals": d["totals"], "slow": d["slow-path"], "mobility": d["mobility"],
             "handshake": d.get("handshake") or {}}[section]
    return table.get(name, 0)


def mac_of(node, iface):
    return in_ns(node, "cat", f"/sys/class/net/{iface}/address").stdout.strip()


def a(text):
    return ipaddress.IPv6Address(text).packed


# --- building blocks ----------------------------------------------------------

def ipv6(src, dst, nh, payload, plen=None, version=6):
    length = len(payload) if plen is None else plen
    return struct.pack("!IHBB", version << 28, length, nh, 64) + a(src) + a(dst) + payload


def ether(dst_mac, src_mac, packet):
    mac = lambda t: bytes(int(x, 16) for x in t.split(":"))  # noqa: E731
    return mac(dst_mac) + mac(src_mac) + b"\x86\xdd" + packet


def header(nh, body):
    """An extension header (Destination Options, Hop-by-Hop) around option
    bytes that already respect their alignment, padded to 8n with PadN."""
    pad = -(2 + len(body)) % 8
    if pad == 1:
        body += b"\x00"
    elif pad:
        body += bytes([1, pad - 2]) + bytes(pad - 2)
    return bytes([nh, (2 + len(body)) // 8 - 1]) + body


def hao(home):
    return bytes([1, 2, 0, 0, 201, 16]) + a(home)           # PadN(2) then HAO at 8n+6


def bu_body(sequence, lifetime, subs=b"", flags=0x80):
    return struct.pack("!BBHI", flags, 0, sequence & 0xFFFF, lifetime) + subs


def bu_option(body):
    return bytes([198, len(body)]) + body


def hao_bu(home, sequence, lifetime, subs=b""):
    # HAO ends at 24, PadN(0) puts the BU at 26 (4n+2).
    return hao(home) + bytes([1, 0]) + bu_option(bu_body(sequence, lifetime, subs))


def udp(src, dst, payload=b"bad-input"):
    length = 8 + len(payload)
    pseudo = a(src) + a(dst) + struct.pack("!IxxxB", length, 17)
    segment = struct.pack("!HHHH", 40001, 9, length, 0) + payload
    data = pseudo + segment + (b"\0" if len(segment) % 2 else b"")
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return segment[:6] + struct.pack("!H", (~total & 0xFFFF) or 0xFFFF) + segment[8:]


def signed(spi, seq, src, dst, inner_nh, inner, key=None, corrupt=False):
    """IPv6 | AH(spi, seq) | inner, the ICV computed by scapy with the SA
    file's key (or KEY), one ICV bit flipped when CORRUPT."""
    algorithm, real_key = KEYS.get(spi, KEYS[0x3001])
    icv_size = ICV_SIZES[algorithm]
    padding = -(12 + icv_size) % 8
    ah = AH(nh=inner_nh, spi=spi, seq=seq, icv=b"\x00" * icv_size, padding=b"\x00" * padding,
            payloadlen=(12 + icv_size + padding) // 4 - 2)
    packet = IPv6(raw(IPv6(src=src, dst=dst, nh=51, hlim=64) / ah / Raw(inner)))
    sa = SecurityAssociation(AH, spi=spi, seq_num=seq, auth_algo=algorithm, auth_key=key or real_key)
    header_ = packet[AH]
    header_.padding = header_.icv[icv_size:]
    header_.icv = header_.icv[:icv_size]
    data = bytearray(raw(sa.auth_algo.sign(packet, key or real_key)))
    if corrupt:
        data[40 + 12] ^= 0x01
    return bytes(data)


# --- sending and checking -----------------------------------------------------

class Target:
    def __init__(self, node, wire, rt_iface, pid):
        self.node, self.pid = node, pid
        self.mac, self.rt_mac = mac_of(node, wire), mac_of("rt", rt_iface)
        self.sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        self.sock.bind((rt_iface, 0))

    def send(self, packets):
        for packet in packets:
            frame = packet if packet[:1] == b"\xff" else ether(self.mac, self.rt_mac, packet)
            while True:
                try:
                    self.sock.send(frame)
                    break
                except BlockingIOError:
                    time.sleep(0.0005)


def alive(pid):
    try:
        os.kill(pid, 0)
        return True
    except ProcessLookupError:
        return False


def case(target, name, packets, expect, spacing=0.0):
    """Sends PACKETS to TARGET and checks that every counter in EXPECT
    (path -> delta) moved by exactly that amount, and the engine lives."""
    before = stats(target.node)
    if spacing:
        for packet in packets:
            target.send([packet])
            time.sleep(spacing)
    else:
        target.send(packets)
    deadline = time.monotonic() + 3
    while True:
        time.sleep(0.15)
        after = stats(target.node)
        moved = {path: counter(after, path) - counter(before, path) for path in expect}
        if all(moved[path] >= want for path, want in expect.items()) or time.monotonic() > deadline:
            break
    time.sleep(0.1)
    after = stats(target.node)
    moved = {path: counter(after, path) - counter(before, path) for path in expect}
    shown = ", ".join(f"{path} +{moved[path]} (want +{want})" for path, want in expect.items())
    ok = moved == expect and alive(target.pid)
    report(ok, f"{name}: {len(packets)} frame(s) -> {shown}")
    if not ok:
        print(f"     moved: {everything_moved(before, after)}", flush=True)
    return after


def challenge_for(target, source, nonce):
    """Sends message 1 from SOURCE (an address of rt's) and returns the
    fields of the message 2 that comes back: (K, slot, Responder SPI,
    cookie), or None."""
    listener = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
    listener.bind(("lnk-c", 0))
    listener.settimeout(0.5)
    hello = bytes([59, 2, 1, 1]) + bytes(4) + nonce
    for _ in range(3):
        target.send([ipv6(source, CN, 253, hello)])
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            try:
                frame = listener.recv(2048)
            except socket.timeout:
                continue
            packet = frame[14:]
            message = packet[40:]
            if len(message) >= 80 and packet[6] == 253 and message[2] == 2 and message[16:32] == nonce:
                difficulty = message[4]
                slot, spi = struct.unpack("!II", message[8:16])
                return difficulty, slot, spi, message[32:48]
    return None


def wrong_solution(cookie, initiator, responder, difficulty):
    """A puzzle solution J that does not solve it: the leftmost K bits of
    SHA-256(cookie, initiator, responder, J) are not all zero."""
    import hashlib
    for candidate in range(1000):
        digest = hashlib.sha256(cookie + a(initiator) + a(responder) + struct.pack("!Q", candidate)).digest()
        if int.from_bytes(digest, "big") >> (256 - difficulty):
            return candidate
    raise SystemExit("no wrong puzzle solution found")


def ping_after(group):
    result = in_ns("mn", "ping", "-6", "-c", "1", "-W", "2", CN)
    if result.returncode != 0:
        result = in_ns("mn", "ping", "-6", "-c", "2", "-W", "2", CN)
    report(result.returncode == 0 and alive(MN_PID) and alive(CN_PID),
           f"after {group}: both engines alive, ping mn -> cn through them")


def main():
    cn = Target("cn", "lnk-c", "lnk-c", CN_PID)
    mn = Target("mn", "lnk-a", "lnk-a", MN_PID)
    rt_c = RT_C
    data = udp(MN, CN)

    # --- 1. malformed headers and options: dropped by the worker's parser ----
    group = "malformed headers and options"
    case(cn, "IPv6 header cut at 20 octets", [ipv6(MN, CN, 59, b"")[:20]], {"drop.truncated": 1})
    case(cn, "version 5 in an IPv6 EtherType", [ipv6(MN, CN, 59, b"", version=5)], {"drop.bad-version": 1})
    case(cn, "Payload Length beyond the frame", [ipv6(MN, CN, 17, data, plen=1200)], {"drop.length-overrun": 1})
    case(cn, "Destination Options Hdr Ext Len beyond the packet",
         [ipv6(MN, CN, 60, bytes([17, 30]) + bytes(6) + data)], {"drop.length-overrun": 1})
    case(cn, "option length overrunning its header",
         [ipv6(MN, CN, 60, bytes([17, 0, 0x1e, 40, 0, 0, 0, 0]) + data)], {"drop.length-overrun": 1})
    case(cn, "Home Address option truncated (Len 8)",
         [ipv6(MN, CN, 60, header(59, bytes([1, 2, 0, 0, 201, 8]) + bytes(8)))], {"drop.bad-length": 1})
    case(cn, "Home Address option overlong (Len 24)",
         [ipv6(MN, CN, 60, header(59, bytes([1, 2, 0, 0, 201, 24]) + bytes(24)))], {"drop.bad-length": 1})
    case(cn, "Home Address option misaligned (8n+4)",
         [ipv6(MN, CN, 60, header(59, bytes([1, 0, 201, 16]) + a(MN)))], {"drop.misaligned": 1})
    case(cn, "Binding Update truncated (Len 4)",
         [ipv6(MN, CN, 60, header(59, bytes([1, 0, 198, 4, 0x80, 0, 0, 1])))], {"drop.bad-length": 1})
    case(cn, "Binding Update sub-option overrunning the option",
         [ipv6(MN, CN, 60, header(59, bu_option(bu_body(1, 60, bytes([1, 0, 4, 16]) + bytes(4)))))],
         {"drop.length-overrun": 1})
    case(cn, "Binding Acknowledgement truncated (Len 3)",
         [ipv6(MN, CN, 60, header(59, bytes([1, 1, 0, 7, 3, 0, 0, 1])))], {"drop.bad-length": 1})
    case(cn, "PadN with non-zero padding",
         [ipv6(MN, CN, 60, bytes([17, 0, 1, 4, 1, 2, 3, 4]) + data)], {"drop.bad-padding": 1})
    case(cn, "Hop-by-Hop after Destination Options",
         [ipv6(MN, CN, 60, bytes([0, 0, 1, 4, 0, 0, 0, 0]) + bytes([17, 0, 1, 4, 0, 0, 0, 0]) + data)],
         {"drop.hop-by-hop-not-first": 1})
    case(cn, "a chain of 40 Destination Options headers",
         [ipv6(MN, CN, 60, b"".join(bytes([60, 0, 1, 4, 0, 0, 0, 0]) for _ in range(39))
               + bytes([17, 0, 1, 4, 0, 0, 0, 0]) + data)], {"drop.chain-too-long": 1})
    case(cn, "UDP length beyond the payload", [ipv6(MN, CN, 17, data[:4] + struct.pack("!H", 400) + data[6:])],
         {"drop.length-overrun": 1})
    ping_after(group)

    # --- 2. signalling without valid AH, and the Home Address option alone ---
    group = "unauthenticated signalling"
    case(cn, "Home Address option alone (draft 2.3.1)",
         [ipv6(MN, CN, 60, header(59, hao(MN)))],
         {"mobility.home-address-without-binding-update": 1, "slow.signalling-rejected": 1, "slow.reinjected": 0})
    case(cn, "Home Address option on UDP data",
         [ipv6(X, CN, 60, header(17, hao(MN)) + udp(MN, CN))],
         {"mobility.home-address-without-binding-update": 1, "slow.signalling-rejected": 1, "slow.reinjected": 0})
    case(cn, "Binding Update without AH",
         [ipv6(MN, CN, 60, header(59, hao_bu(MN, 7, 600)))], {"mobility.authentication-failures": 1})
    case(cn, "Binding Acknowledgement without AH",
         [ipv6(MN, CN, 60, header(59, bytes([1, 3, 0, 0, 0, 7, 11, 0]) + struct.pack("!HII", 1, 600, 600)))],
         {"mobility.authentication-failures": 1})
    case(cn, "Binding Request without AH",
         [ipv6(MN, CN, 60, header(59, bytes([8, 0])))], {"mobility.authentication-failures": 1})
    bu = header(59, hao_bu(X, 1, 600))
    case(cn, "AH with a wrong ICV", [signed(0x3001, 1, X, CN, 60, bu, corrupt=True)],
         {"mobility.authentication-failures": 1, "mobility.binding-updates-applied": 0})
    case(cn, "AH with a wrong key", [signed(0x3001, 2, X, CN, 60, bu, key=bytes(32))],
         {"mobility.authentication-failures": 1})
    case(cn, "AH with an unknown SPI", [signed(0x7777, 1, X, CN, 60, bu)], {"mobility.authentication-failures": 1})
    case(cn, "AH truncated (Payload Len 1)",
         [ipv6(X, CN, 51, bytes([60, 1, 0, 0]) + struct.pack("!II", 0x3001, 3) + bu)],
         {"drop.bad-length": 1})
    case(cn, "Binding Update under mn's SPI from another source",
         [signed(0x2001, 1 << 30, X, CN, 60, header(59, hao_bu(MN, 9, 600)), key=bytes(32))],
         {"mobility.authentication-failures": 1})
    ping_after(group)

    # --- 3. AH-valid updates of X: lifetimes, sequence numbers, replay ------
    group = "sequence numbers and lifetimes"
    first = signed(0x3001, 10, X, CN, 60, header(59, hao_bu(X, 100, 600)))
    case(cn, "X's Initial Binding Update (valid AH, adopted)", [first],
         {"mobility.binding-updates-applied": 1, "mobility.entries-created": 1})
    case(cn, "the same packet replayed (AH sequence number seen)", [first], {"mobility.authentication-failures": 1})
    case(cn, "an older AH sequence number (below the window)",
         [signed(0x3001, 100000, X, CN, 60, header(59, hao_bu(X, 101, 600))),
          signed(0x3001, 5, X, CN, 60, header(59, hao_bu(X, 102, 600)))],
         {"mobility.binding-updates-applied": 1, "mobility.authentication-failures": 1}, spacing=0.05)
    case(cn, "lifetime 0xFFFFFFFF (infinity)", [signed(0x3001, 100012, X, CN, 60, header(59, hao_bu(X, 103, 0xFFFFFFFF)))],
         {"mobility.binding-updates-applied": 1})
    case(cn, "BU sequence number older than the last (stale)",
         [signed(0x3001, 100013, X, CN, 60, header(59, hao_bu(X, 50, 600)))],
         {"mobility.binding-updates-applied": 0, "mobility.binding-updates-stale": 1})
    case(cn, "BU sequence number 0x8000 ahead (ambiguous half-way point)",
         [signed(0x3001, 100014, X, CN, 60, header(59, hao_bu(X, 103 + 0x8000, 600)))],
         {"mobility.binding-updates-applied": 0, "mobility.binding-updates-stale": 1})
    # Steps below 2^15 are newer (modulo 2^16): 103 -> 0x7FFF -> 0xFFF0 -> 0xFFFF -> 0.
    case(cn, "BU sequence numbers up to 65535, then 0 (wraparound is newer)",
         [signed(0x3001, 100015, X, CN, 60, header(59, hao_bu(X, 0x7FFF, 600))),
          signed(0x3001, 100016, X, CN, 60, header(59, hao_bu(X, 0xFFF0, 600))),
          signed(0x3001, 100017, X, CN, 60, header(59, hao_bu(X, 0xFFFF, 600))),
          signed(0x3001, 100018, X, CN, 60, header(59, hao_bu(X, 0, 600)))],
         {"mobility.binding-updates-applied": 4, "mobility.binding-updates-stale": 0}, spacing=0.05)
    case(cn, "BU lifetime 0 for an address not registered (deletion of nothing)",
         [signed(0x3001, 100019, X, CN, 60, header(59, hao_bu(X, 1, 0, bytes([1, 0, 4, 16]) + a("2001:db8:c::98"))))],
         {"mobility.binding-updates-applied": 1, "mobility.entries-removed": 0})
    case(cn, "AH sequence number 2^32-1 (the last one)",
         [signed(0x3001, 0xFFFFFFFF, X, CN, 60, header(59, hao_bu(X, 2, 600)))],
         {"mobility.binding-updates-applied": 1})
    case(cn, "AH sequence number wrapped to 0 after 2^32-1",
         [signed(0x3001, 0, X, CN, 60, header(59, hao_bu(X, 3, 600)))],
         {"mobility.authentication-failures": 1})
    ping_after(group)

    # --- 4. Alternate Prefixes at every sub-option length 0..128 -------------
    # Sub-option 129 (4n+1): PL(2) | Count(6), then Count prefixes of
    # P = 4 * (PL + 1) octets (WIRE.md erratum); its Len must be 1 + P * Count.
    # Unsigned (no valid AH needed to reach the parser): a length that fits
    # is well formed and goes to the slow path (then fails AH), any other
    # length is a malformed sub-option the worker drops.
    group = "Alternate Prefixes"
    valid = malformed = empty = 0
    frames = []
    for length in range(129):
        pl = length % 4
        p = 4 * (pl + 1)
        count = max(0, (length - 1) // p)
        body = bytes([(pl << 6) | (count & 0x3F)]) + bytes(max(0, length - 1)) if length else b""
        sub = bytes([129, length]) + body
        # The BU at 4n+2 (offset 2), fixed part ends at 12, PadN(3)=5 octets puts the sub-option at 17 (4n+1).
        option = bu_option(bu_body(200 + length, 600, bytes([1, 3, 0, 0, 0]) + sub))
        frames.append(ipv6(MN, CN, 60, header(59, option)))
        if length == 0:
            empty += 1                  # no PL/Count octet at all: bad-length
        elif length == 1 + p * count:
            valid += 1
        else:
            malformed += 1
    case(cn, f"Alternate Prefixes, Len 0..128 ({valid} well formed, {malformed + empty} not)", frames,
         {"mobility.authentication-failures": valid, "drop.malformed-option": malformed, "drop.bad-length": empty})
    ping_after(group)

    # --- 5. Routing headers and fragments --------------------------------------
    group = "Routing headers and fragments"
    case(cn, "Routing header type 0 (deprecated, RFC 5095)",
         [ipv6(MN, CN, 43, bytes([17, 2, 0, 1, 0, 0, 0, 0]) + a(X) + data)], {"kernel.Ip6InHdrErrors": 1})
    case(cn, "Routing header type 2 with Hdr Ext Len 4",
         [ipv6(MN, CN, 43, bytes([17, 4, 2, 1, 0, 0, 0, 0]) + a(X) + a(X) + data)], {"drop.bad-length": 1})
    case(cn, "Routing header type 2 with Segments Left 2",
         [ipv6(MN, CN, 43, bytes([17, 2, 2, 2, 0, 0, 0, 0]) + a(X) + data)], {"drop.bad-value": 1})
    case(cn, "Routing header overrunning the packet",
         [ipv6(MN, CN, 43, bytes([17, 8, 2, 1, 0, 0, 0, 0]) + a(X))], {"drop.length-overrun": 1})
    signalling = header(59, hao_bu(MN, 11, 600))
    case(cn, "fragmented signalling: first fragment holding a Binding Update",
         [ipv6(MN, CN, 44, bytes([60, 0, 0, 1]) + struct.pack("!I", 77) + signalling[:16])],
         {"mobility.binding-updates-applied": 0})
    case(cn, "fragmented signalling: the second fragment alone",
         [ipv6(MN, CN, 44, bytes([60, 0, 0, 16]) + struct.pack("!I", 77) + signalling[16:])],
         {"mobility.binding-updates-applied": 0})
    ping_after(group)

    # --- 6. ICMPv6 errors quoting forged packets --------------------------------
    group = "ICMPv6 errors"

    def icmp(src, dst, kind, code, rest, quoted):
        body = bytes([kind, code, 0, 0]) + rest + quoted
        pseudo = a(src) + a(dst) + struct.pack("!IxxxB", len(body), 58)
        data_ = pseudo + body + (b"\0" if len(body) % 2 else b"")
        total = sum(struct.unpack(f"!{len(data_) // 2}H", data_))
        while total >> 16:
            total = (total & 0xFFFF) + (total >> 16)
        return ipv6(src, dst, 58, body[:2] + struct.pack("!H", ~total & 0xFFFF) + body[4:])

    # mn's Binding Update to cn as a Parameter Problem would quote it:
    # IPv6 | AH(SPI) | Destination Options(HAO, BU), the pointer at the BU.
    def quoted_bu(spi):
        inner = header(59, hao_bu(MN, 1, 600))
        return ipv6(MN, CN, 51, bytes([60, 4, 0, 0]) + struct.pack("!II", spi, 1) + bytes(12) + inner)
    pointer = struct.pack("!I", 40 + 24 + 26)              # at the BU option
    case(mn, "forged Parameter Problem quoting a BU with another SPI",
         [icmp(CN, MN, 4, 2, pointer, quoted_bu(0x4242))],
         {"mobility.parameter-problems-ignored": 1, "mobility.parameter-problems-accepted": 0})
    case(mn, "forged Parameter Problem quoting a BU without AH",
         [icmp(CN, MN, 4, 2, struct.pack("!I", 40 + 26), ipv6(MN, CN, 60, header(59, hao_bu(MN, 1, 600))))],
         {"mobility.parameter-problems-accepted": 0})
    case(mn, "Parameter Problem quoting a truncated packet",
         [icmp(CN, MN, 4, 2, pointer, quoted_bu(0x4242)[:30])], {"mobility.parameter-problems-accepted": 0})
    case(cn, "Destination Unreachable quoting a forged Binding Update",
         [icmp(rt_c, CN, 1, 3, bytes(4), ipv6(CN, MN, 60, header(59, hao_bu(CN, 5, 600))))],
         {"mobility.binding-updates-applied": 0, "mobility.authentication-failures": 0})
    case(cn, "Packet Too Big quoting a forged packet with a Home Address option",
         [icmp(rt_c, CN, 2, 0, struct.pack("!I", 1280), ipv6(CN, MN, 60, header(17, hao(X)) + data))],
         {"mobility.binding-updates-applied": 0, "mobility.home-address-without-binding-update": 0})
    ping_after(group)

    # --- 7. the anonymous handshake: bad versions, lengths, cookies -----------
    group = "handshake messages"
    nonce = bytes(range(16))
    hello = bytes([59, 2, 1, 1]) + bytes(4) + nonce
    case(cn, "message 1 with version 2", [ipv6(X, CN, 253, hello[:3] + b"\x02" + hello[4:])],
         {"handshake.malformed": 1, "handshake.responder-challenges-sent": 0})
    case(cn, "message 1 with Header Len 3", [ipv6(X, CN, 253, hello[:1] + b"\x03" + hello[2:] + bytes(8))],
         {"handshake.responder-malformed-hellos": 1, "handshake.responder-challenges-sent": 0})
    case(cn, "message 1 truncated to 12 octets", [ipv6(X, CN, 253, hello[:12])], {"handshake.malformed": 1})
    message3 = (bytes([59, 10, 3, 1]) + bytes(4) + struct.pack("!II", 0, 0x5000) + nonce + bytes(16) + bytes(8)
                + bytes(32))
    case(cn, "message 3 without AH", [ipv6(X, CN, 253, message3)], {"handshake.responder-drop-missing-ah": 1})
    case(cn, "message 3 with a time slot long gone",
         [ipv6(X, CN, 51, bytes([253, 4, 0, 0]) + struct.pack("!II", 0x4000, 1) + bytes(12) + message3)],
         {"handshake.responder-drop-stale-cookie": 1})
    # A real message 2 for rt's own address: its cookie, then message 3
    # with a forged cookie, and with the real cookie but a wrong puzzle
    # solution.
    challenge = challenge_for(cn, RT_C, nonce)
    if challenge is None:
        report(False, "cn answered message 1 from rt's address with message 2")
    else:
        difficulty, slot, responder_spi, cookie = challenge
        report(True, f"cn answered message 1 with message 2 (K={difficulty}, slot {slot})")

        def response(cookie_, solution):
            body = (bytes([59, 10, 3, 1]) + bytes(4) + struct.pack("!II", slot, 0x5000) + nonce + cookie_
                    + struct.pack("!Q", solution) + bytes(range(32)))
            return ipv6(RT_C, CN, 51, bytes([253, 4, 0, 0]) + struct.pack("!II", responder_spi, 1) + bytes(12) + body)
        case(cn, "message 3 with a forged cookie", [response(bytes(16), 0)],
             {"handshake.responder-drop-bad-cookie": 1, "handshake.established-as-responder": 0})
        if difficulty:
            case(cn, f"message 3 with the real cookie and a wrong puzzle solution (K={difficulty})",
                 [response(cookie, wrong_solution(cookie, RT_C, CN, difficulty))],
                 {"handshake.responder-drop-bad-puzzle": 1, "handshake.established-as-responder": 0})
    ping_after(group)
    print(f"{passed} passed, {failed} failed", flush=True)
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
