#!/usr/bin/env python3
"""Sends one draft-era Binding Update under AH that a hostile peer with an
SA of its own can make: valid AH (scapy's implementation, the key of a
setkey-syntax SA file), any Home Address option, one Alternate Care-of
Address sub-option (WIRE.md section 1 layouts).

usage: forge_binding_update.py [--after FILE] SA-FILE SPI SOURCE DESTINATION UPDATE...
    UPDATE = AH-SEQ,HOME,CARE-OF,LIFETIME,BU-SEQUENCE (sent in order, 0.3 s apart:
    one interpreter start, so they land while a short transfer runs)
    --after FILE: scapy loaded, wait (60 s at most) until FILE exists, then send

    IPv6 (NH 51) | AH (NH 60) | Destination Options (NH 59):
        PadN(2) | Home Address (8n+6) | PadN(0) | Binding Update (4n+2)
        [A flag, lifetime, sequence | PadN sub-option | Alternate Care-of Address (8n+6)]

AH goes before the Destination Options header (the engine's placement),
so scapy signs it in place (as Tests/Fixtures/ah/make_vectors.py does).
"""
import ipaddress
import os
import struct
import sys
import time

from scapy.all import send
from scapy.layers.inet6 import IPv6
from scapy.layers.ipsec import AH, SecurityAssociation
from scapy.packet import Raw, raw

sys.path.insert(0, os.path.dirname(__file__))
from verify_signalling_ah import load_keys  # noqa: E402

ICV_SIZES = {"SHA2-256-128": 16, "HMAC-SHA1-96": 12}


def destination_options(home, care_of, lifetime, sequence):
    address = lambda text: ipaddress.IPv6Address(text).packed  # noqa: E731
    options = bytes([1, 2, 0, 0])                              # PadN: HAO at 6 (8n+6)
    options += bytes([201, 16]) + address(home)                # Home Address, ends at 24
    options += bytes([1, 0])                                   # PadN: BU at 26 (4n+2)
    body = struct.pack("!BBHI", 0x80, 0, sequence, lifetime)   # A flag, prefix length 0
    body += bytes([1, 0])                                      # PadN sub-option: CoA at 38 (8n+6)
    body += bytes([4, 16]) + address(care_of)                  # Alternate Care-of Address
    options += bytes([198, len(body)]) + body                  # ends at 56
    assert (2 + len(options)) % 8 == 0
    return bytes([59, (2 + len(options)) // 8 - 1]) + options


def signed_update(algorithm, key, spi, seq, source, destination, home, care_of, lifetime, sequence):
    icv_size = ICV_SIZES[algorithm]
    padding = -(12 + icv_size) % 8
    header = AH(nh=60, spi=spi, seq=seq, icv=b"\x00" * icv_size, padding=b"\x00" * padding,
                payloadlen=(12 + icv_size + padding) // 4 - 2)
    packet = IPv6(src=source, dst=destination, nh=51, hlim=64) / header / Raw(
        destination_options(home, care_of, int(lifetime, 0), int(sequence, 0)))
    packet = IPv6(raw(packet))
    sa = SecurityAssociation(AH, spi=spi, seq_num=seq, auth_algo=algorithm, auth_key=key)
    ah = packet[AH]
    ah.padding = ah.icv[icv_size:]
    ah.icv = ah.icv[:icv_size]
    return IPv6(raw(sa.auth_algo.sign(packet, key)))


def main(argv):
    trigger = None
    if len(argv) > 2 and argv[1] == "--after":
        trigger, argv = argv[2], argv[:1] + argv[3:]
    if len(argv) < 6:
        sys.exit(__doc__)
    if trigger:
        deadline = time.monotonic() + 60
        while not os.path.exists(trigger):
            if time.monotonic() > deadline:
                sys.exit(f"{trigger} did not appear within 60 s")
            time.sleep(0.05)
    sa_file, spi, source, destination = argv[1:5]
    spi = int(spi, 0)
    algorithm, key = load_keys(sa_file)[spi]
    for number, update in enumerate(argv[5:]):
        seq, home, care_of, lifetime, sequence = update.split(",")
        if number:
            time.sleep(0.3)
        send(signed_update(algorithm, key, spi, int(seq, 0), source, destination, home, care_of, lifetime, sequence),
             verbose=False)
        print(f"sent BU spi 0x{spi:x} seq {seq}: {source} -> {destination} home {home} care-of {care_of} lifetime {lifetime}",
              flush=True)


if __name__ == "__main__":
    main(sys.argv)
