#!/usr/bin/env python3
"""Verifies the AH of every IPv6 packet carrying AH in a capture with
scapy's SecurityAssociation (an implementation independent of the engine),
using the keys of a setkey-syntax SA file (the subset `homeless run --sa`
reads: `add SRC DST ah SPI -A ALGORITHM 0xKEY;`).

usage: verify_signalling_ah.py SA-FILE CAPTURE.pcap
Prints one line per packet and "N verified, M failed"; exit 0 when every
AH packet verified and there was at least one, 1 otherwise.
"""
import re
import sys

from scapy.all import AH, IPv6, PcapReader
from scapy.layers.ipsec import IPSecIntegrityError, SecurityAssociation

ALGORITHMS = {"hmac-sha256": "SHA2-256-128", "hmac-sha1": "HMAC-SHA1-96"}


def load_keys(path):
    keys = {}
    pattern = re.compile(r"^\s*add\s+\S+\s+\S+\s+ah\s+(\S+)\s+-A\s+(\S+)\s+0x([0-9a-fA-F]+)\s*;")
    for line in open(path):
        match = pattern.match(line)
        if match:
            keys[int(match.group(1), 0)] = (ALGORITHMS[match.group(2)], bytes.fromhex(match.group(3)))
    return keys


def main():
    keys = load_keys(sys.argv[1])
    verified = failed = 0
    for frame in PcapReader(sys.argv[2]):
        if IPv6 not in frame or AH not in frame:
            continue
        packet = IPv6(bytes(frame[IPv6]))
        spi, sequence = packet[AH].spi, packet[AH].seq
        if spi not in keys:
            print(f"FAIL spi 0x{spi:x}: no key")
            failed += 1
            continue
        algorithm, key = keys[spi]
        sa = SecurityAssociation(AH, spi=spi, auth_algo=algorithm, auth_key=key)
        source, destination = packet.src, packet.dst
        try:
            sa.decrypt(packet)
            verified += 1
            print(f"ok   {source} -> {destination} spi 0x{spi:x} seq {sequence}")
        except IPSecIntegrityError as error:
            print(f"FAIL {source} -> {destination} spi 0x{spi:x} seq {sequence}: {error}")
            failed += 1
    print(f"{verified} verified, {failed} failed")
    return 0 if verified > 0 and failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
