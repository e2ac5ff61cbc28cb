#!/usr/bin/env python3
"""Reads a capture of mn -> cn TCP traffic taken on the router's link to cn
and reports, per change of the (source, destination) address pair, the
handover outage: the time from the last packet with the old pair to the
first packet with the new one (0 when they overlap). Also reports the
IPv6 header bytes (fixed header plus extension headers) that the data
packets of the last pair carry: the steady-path overhead after the moves.
And the longest silence of the transfer: the largest gap between two
consecutive mn -> cn packets that carry payload, whatever their address
pair. With MOVED-AT (the time of the last move, on the capture's clock)
it is the largest such gap that ends after the move and begins less than
1 s after it, and the same is reported for the 1 s window from 0.5 s
after the first data packet, before anything moved (how silent the
transfer is without a move); without MOVED-AT, over the whole transfer.
"at" is when the gap began. The data gap does not depend on how the
pairs change, so it compares a handover between address pairs (the
engine's translation) with one between parallel subflows (Multipath TCP,
where both pairs carry data at once and the pair-change gap says little).

usage: handover_capture.py CAPTURE.pcap MN-ADDRESSES CN-ADDRESSES [PROTOCOL [MOVED-AT]]
  (addresses comma-separated; PROTOCOL the upper layer, 6 TCP by default,
  17 for UDP; MOVED-AT in seconds since the epoch). Output lines:
  pair SRC DST packets N first T last T
  outage-ms OLD-SRC>NEW-SRC OLD-DST>NEW-DST VALUE
  steady-header-bytes N packets=K extension-headers=E
  max-data-gap-ms VALUE at T
  control-data-gap-ms VALUE at T
"""
import struct
import sys


def packets(path):
    with open(path, "rb") as capture:
        header = capture.read(24)
        magic = struct.unpack("<I", header[:4])[0]
        endian, nanos = {0xA1B2C3D4: ("<", False), 0xA1B23C4D: ("<", True),
                         0xD4C3B2A1: (">", False), 0x4D3CB2A1: (">", True)}[magic]
        linktype = struct.unpack(endian + "I", header[20:24])[0]
        while True:
            record = capture.read(16)
            if len(record) < 16:
                return
            seconds, fraction, included, _ = struct.unpack(endian + "IIII", record)
            data = capture.read(included)
            offset = 14 if linktype == 1 else 16 if linktype == 113 else 0
            yield seconds + fraction / (1e9 if nanos else 1e6), data[offset:]


def address(raw):
    import ipaddress
    return str(ipaddress.IPv6Address(raw))


def walk(ipv6):
    """The upper-layer protocol and the bytes before it."""
    next_header, offset = ipv6[6], 40
    while next_header in (0, 43, 60, 51) and offset + 2 <= len(ipv6):
        length = (ipv6[offset + 1] + 2) * 4 if next_header == 51 else (ipv6[offset + 1] + 1) * 8
        next_header, offset = ipv6[offset], offset + length
    return next_header, offset


def payload_bytes(ipv6, protocol, header_bytes):
    """Upper-layer payload bytes, from the IPv6 Payload Length (the capture
    may be truncated) less the extension headers and the TCP or UDP header."""
    total = 40 + struct.unpack("!H", ipv6[4:6])[0]
    if protocol == 6:
        if header_bytes + 13 > len(ipv6):
            return 0
        upper = (ipv6[header_bytes + 12] >> 4) * 4
    else:
        upper = 8
    return total - header_bytes - upper


def main():
    path, mn, cn = sys.argv[1], set(sys.argv[2].split(",")), set(sys.argv[3].split(","))
    wanted = int(sys.argv[4]) if len(sys.argv) > 4 else 6
    moved_at = float(sys.argv[5]) if len(sys.argv) > 5 else None
    order = []    # address pairs in order of first appearance
    times = {}    # pair -> packet times
    headers = {}  # pair -> (IPv6 header bytes seen, packets with extension headers)
    data_times = []  # times of the packets that carry payload, any pair
    for time, ipv6 in packets(path):
        if len(ipv6) < 40 or ipv6[0] >> 4 != 6:
            continue
        src, dst = address(ipv6[8:24]), address(ipv6[24:40])
        if src not in mn or dst not in cn:
            continue
        protocol, header_bytes = walk(ipv6)
        if protocol != wanted:
            continue
        pair = (src, dst)
        if pair not in times:
            order.append(pair)
            times[pair] = []
            headers[pair] = (set(), 0)
        times[pair].append(time)
        if payload_bytes(ipv6, protocol, header_bytes) > 0:
            data_times.append(time)
        seen, extended = headers[pair]
        seen.add(header_bytes)
        headers[pair] = (seen, extended + (header_bytes > 40))
    for pair in order:
        print(f"pair {pair[0]} {pair[1]} packets {len(times[pair])} first {times[pair][0]:.6f} last {times[pair][-1]:.6f}")
    for old, new in zip(order, order[1:]):
        first_new = times[new][0]
        before = [t for t in times[old] if t < first_new]
        gap = (first_new - before[-1]) * 1000 if before else 0.0
        print(f"outage-ms {old[0]}>{new[0]} {old[1]}>{new[1]} {gap:.1f}")
    if order:
        last = order[-1]
        print(f"steady-header-bytes {max(headers[last][0])} packets={len(times[last])} extension-headers={headers[last][1]}")
    data_times.sort()
    def largest_gap(begin, end):
        """The largest gap between consecutive data packets that ends after
        BEGIN and begins before END, and when it began."""
        return max(((b - a, a) for a, b in zip(data_times, data_times[1:]) if b > begin and a < end), default=None)
    if moved_at is None:
        gap = largest_gap(float("-inf"), float("inf"))
    else:
        gap = largest_gap(moved_at, moved_at + 1.0)
    if gap:
        print(f"max-data-gap-ms {gap[0] * 1000:.1f} at {gap[1]:.6f}")
    # The same measure over a 1 s window early in the transfer, before
    # anything moved: what the transfer's silences are without a move.
    if moved_at is not None and data_times and moved_at > data_times[0] + 1.5:
        control = largest_gap(data_times[0] + 0.5, data_times[0] + 1.5)
        if control:
            print(f"control-data-gap-ms {control[0] * 1000:.1f} at {control[1]:.6f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
