#!/usr/bin/env python3
"""Verifies AH-protected IPv6 packets with scapy's independent implementation.

Input: a JSON file holding a list of objects
    {"name": str, "algorithm": "hmac-sha256" | "hmac-sha1",
     "key": hex, "spi": int, "packet": hex (from the IPv6 header)}
A packet still carrying a Routing header with segments left is first
routed to its final destination (RFC 2460 4.4 swaps), since scapy checks
packets as the final destination receives them.

Prints one line per packet and exits 1 if any fails, 2 on bad input.
    python3 verify.py FILE
"""

import json
import sys

from scapy.layers.inet6 import IPv6, IPv6ExtHdrRouting
from scapy.layers.ipsec import AH, IPSecIntegrityError, SecurityAssociation
from scapy.packet import raw

ALGORITHMS = {"hmac-sha256": "SHA2-256-128", "hmac-sha1": "HMAC-SHA1-96"}


def route_to_final(packet):
    while packet.haslayer(IPv6ExtHdrRouting) and packet[IPv6ExtHdrRouting].segleft > 0:
        rh = packet[IPv6ExtHdrRouting]
        rh.segleft -= 1
        i = len(rh.addresses) - rh.segleft
        addresses = list(rh.addresses)
        addresses[i - 1], packet.dst = packet.dst, addresses[i - 1]
        rh.addresses = addresses
        packet = IPv6(raw(packet))
    return packet


def main():
    if len(sys.argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    with open(sys.argv[1]) as source:
        items = json.load(source)
    failures = 0
    for item in items:
        packet = route_to_final(IPv6(bytes.fromhex(item["packet"])))
        if not packet.haslayer(AH):
            print(f"FAIL {item['name']}: no AH")
            failures += 1
            continue
        sa = SecurityAssociation(AH, spi=item["spi"], auth_algo=ALGORITHMS[item["algorithm"]],
                                 auth_key=bytes.fromhex(item["key"]))
        try:
            sa.decrypt(packet)
        except IPSecIntegrityError as error:
            print(f"FAIL {item['name']}: {error}")
            failures += 1
            continue
        print(f"ok {item['name']}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
