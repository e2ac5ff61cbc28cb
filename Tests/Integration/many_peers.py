#!/usr/bin/env python3
"""Many peers for one engine (many-peers.sh): a setkey file with an SA pair
per peer, and a generator that makes each peer send its Binding Update.

usage: many_peers.py sa-file OUT FIRST COUNT ENGINE KEY-IN KEY-OUT
    appends to OUT, for COUNT peers from address FIRST on, one HMAC-SHA-256
    AH SA each way between the peer and ENGINE: peer -> ENGINE SPI
    0x1000000 + n with KEY-IN, ENGINE -> peer SPI 0x2000000 + n with KEY-OUT
    (keys as setkey writes them, 0x...).

       many_peers.py flood INTERFACE DST-MAC FIRST COUNT ENGINE KEY-IN
    sends, on INTERFACE (an AF_PACKET socket: scapy is far too slow for
    10^5 packets), each peer's Binding Update to ENGINE from the peer's
    address, under AH with its SA, and watches the same interface for the
    engine's answers: a packet under AH from ENGINE to the peer (its
    Binding Acknowledgement) means the engine made the peer's entry.
    At most WINDOW updates are unanswered at a time (the engine's punt
    queue holds 1024 frames); unanswered ones are sent again (new AH and
    Binding Update sequence numbers) up to three times. Prints one JSON
    line: sent, answered, seconds. Exit status 0 when every peer answered.

Each Binding Update (draft 3.2, WIRE.md section 1), 88 octets of IPv6:
    IPv6 (NH 51) | AH (NH 60, SPI, sequence, 16-octet ICV, 4 octets padding)
    | Destination Options (NH 59): Binding Update at offset 2 (4n+2: A flag,
    prefix length 0, sequence, lifetime 3600 s, no sub-options: the care-of
    address is the packet's source) | PadN(2).
The ICV is HMAC-SHA-256-128 (RFC 4868) over the packet with the IPv6
header's mutable fields (traffic class, flow label, hop limit) and the ICV
zeroed (RFC 4302 3.3.3.1); the options are all immutable (their type's
third bit is 0).
"""
import hashlib
import hmac
import ipaddress
import json
import select
import socket
import struct
import sys
import time

IN_SPI_BASE = 0x1000000
OUT_SPI_BASE = 0x2000000
WINDOW = 512
ROUNDS = 4
LIFETIME = 3600


def addresses(first, count):
    base = int(ipaddress.IPv6Address(first))
    return [ipaddress.IPv6Address(base + n) for n in range(count)]


def sa_file(out, first, count, engine, key_in, key_out):
    with open(out, "a") as file:
        file.write(f"# {count} peers from {first}, one SA pair each with {engine}\n")
        for n, peer in enumerate(addresses(first, int(count))):
            file.write(f"add {peer} {engine} ah {IN_SPI_BASE + n:#x} -A hmac-sha256 {key_in};\n"
                       f"add {engine} {peer} ah {OUT_SPI_BASE + n:#x} -A hmac-sha256 {key_out};\n")


def binding_update(key, spi, ah_sequence, source, destination, bu_sequence):
    options = bytes([59, 1, 198, 8, 0x80, 0]) + struct.pack("!HI", bu_sequence, LIFETIME) + bytes([1, 2, 0, 0])
    ah_zeroed = struct.pack("!BBHII", 60, 6, 0, spi, ah_sequence) + bytes(20)   # ICV and padding zero
    payload_length = len(ah_zeroed) + len(options)
    header = struct.pack("!IHBB", 0x60000000, payload_length, 51, 64) + source + destination
    header_zeroed = struct.pack("!IHBB", 0x60000000, payload_length, 51, 0) + source + destination
    icv = hmac.new(key, header_zeroed + ah_zeroed + options, hashlib.sha256).digest()[:16]
    return header + ah_zeroed[:12] + icv + bytes(4) + options


def flood(interface, destination_mac, first, count, engine, key_in):
    key = bytes.fromhex(key_in[2:] if key_in.startswith("0x") else key_in)
    peers = [address.packed for address in addresses(first, int(count))]
    engine_address = ipaddress.IPv6Address(engine).packed
    sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x86DD))
    sock.bind((interface, 0))
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16 << 20)
    sock.setblocking(False)
    link = bytes.fromhex(destination_mac.replace(":", "")) + sock.getsockname()[4][:6] + b"\x86\xdd"
    index = {peer: n for n, peer in enumerate(peers)}
    answered = bytearray(len(peers))
    answered_count = 0
    sent = 0
    started = time.monotonic()

    def drain(wait):
        nonlocal answered_count
        readable, _, _ = select.select([sock], [], [], wait)
        if not readable:
            return
        while True:
            try:
                frame = sock.recv(256)
            except BlockingIOError:
                return
            # IPv6 from the engine under AH (the peers' answers).
            if len(frame) >= 54 and frame[20] == 51 and frame[22:38] == engine_address:
                n = index.get(frame[38:54])
                if n is not None and not answered[n]:
                    answered[n] = 1
                    answered_count += 1

    for attempt in range(1, ROUNDS + 1):
        pending = [n for n in range(len(peers)) if not answered[n]]
        if not pending:
            break
        window_start = sent
        for position, n in enumerate(pending):
            # Unanswered ones of this round so far, at most WINDOW.
            while position - (answered_count - (len(peers) - len(pending))) >= WINDOW:
                before = answered_count
                drain(0.2)
                if answered_count == before:
                    break   # the engine fell behind or dropped some: go on
            frame = link + binding_update(key, IN_SPI_BASE + n, attempt, peers[n], engine_address, attempt)
            sock.send(frame)
            sent += 1
        deadline = time.monotonic() + 3
        while answered_count < len(peers) and time.monotonic() < deadline:
            drain(0.1)
        print(f"round {attempt}: sent {sent - window_start}, answered {answered_count} of {len(peers)}",
              file=sys.stderr, flush=True)
    print(json.dumps({"sent": sent, "answered": answered_count, "peers": len(peers),
                      "seconds": round(time.monotonic() - started, 2)}), flush=True)
    return 0 if answered_count == len(peers) else 1


def main(argv):
    if len(argv) == 8 and argv[1] == "sa-file":
        sa_file(*argv[2:])
        return 0
    if len(argv) == 8 and argv[1] == "flood":
        return flood(*argv[2:])
    sys.exit(__doc__)


if __name__ == "__main__":
    sys.exit(main(sys.argv))
