#!/usr/bin/env python3
"""Test traffic for the host-mode integration tests (standard library only).

  frames.py udp-echo-server ADDRESS PORT COUNT
      answer COUNT datagrams (or stop after 20 s), then exit
  frames.py udp-client ADDRESS PORT COUNT
      send COUNT datagrams one at a time, wait for each echo; print the number
      of echoes received
  frames.py send IFACE DST_MAC KIND COUNT [SIZE]
      send COUNT raw Ethernet frames of KIND on IFACE:
        flood        IPv6/UDP from 2001:db8:a::1 to 2001:db8:a::10 port 9
        bad-version  EtherType IPv6 with a version nibble of 5
        home-address IPv6 with a Destination Options header holding a Home
                     Address option (draft-era type 201) and no Binding
                     Update: punted, then dropped (draft 2.3.1)
"""
import socket
import struct
import sys
import time


def ipv6(text):
    return socket.inet_pton(socket.AF_INET6, text)


def mac(text):
    return bytes(int(part, 16) for part in text.split(":"))


def interface_mac(iface):
    with open(f"/sys/class/net/{iface}/address") as f:
        return mac(f.read().strip())


def checksum(data):
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return (~total) & 0xFFFF


def frame(iface, dst_mac, kind, size):
    src, dst = ipv6("2001:db8:a::1"), ipv6("2001:db8:a::10")
    ether = mac(dst_mac) + interface_mac(iface) + b"\x86\xdd"
    if kind == "flood":
        payload = bytes(max(size - 62, 0))
        udp_len = 8 + len(payload)
        pseudo = src + dst + struct.pack("!IxxxB", udp_len, 17)
        udp = struct.pack("!HHHH", 40000, 9, udp_len, 0) + payload
        csum = checksum(pseudo + udp) or 0xFFFF
        udp = udp[:6] + struct.pack("!H", csum) + udp[8:]
        return ether + struct.pack("!IHBB", 6 << 28, udp_len, 17, 64) + src + dst + udp
    if kind == "bad-version":
        return ether + struct.pack("!IHBB", 5 << 28, 0, 59, 64) + src + dst
    if kind == "home-address":
        home = ipv6("2001:db8:99::1")
        # Next Header 59, Hdr Ext Len 2 (24 bytes), Pad4, then the Home
        # Address option (type 201, length 16) at offset 6 (8n+6 alignment).
        options = struct.pack("!BB", 59, 2) + b"\x01\x02\x00\x00" + struct.pack("!BB", 201, 16) + home
        return ether + struct.pack("!IHBB", 6 << 28, len(options), 60, 64) + src + dst + options
    raise SystemExit(f"unknown frame kind {kind}")


def main(argv):
    command = argv[1]
    if command == "udp-echo-server":
        address, port, count = argv[2], int(argv[3]), int(argv[4])
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.bind((address, port))
        sock.settimeout(20)
        for _ in range(count):
            try:
                data, peer = sock.recvfrom(2048)
            except socket.timeout:
                break
            sock.sendto(data, peer)
    elif command == "udp-client":
        address, port, count = argv[2], int(argv[3]), int(argv[4])
        sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        sock.settimeout(1.0)
        echoed = 0
        for index in range(count):
            message = struct.pack("!I", index) + bytes(100)
            sock.sendto(message, (address, port))
            try:
                data, _ = sock.recvfrom(2048)
                echoed += data == message
            except socket.timeout:
                pass
        print(echoed)
    elif command == "send":
        iface, dst_mac, kind, count = argv[2], argv[3], argv[4], int(argv[5])
        size = int(argv[6]) if len(argv) > 6 else 1000
        data = frame(iface, dst_mac, kind, size)
        sock = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        sock.bind((iface, 0))
        for _ in range(count):
            while True:
                try:
                    sock.send(data)
                    break
                except BlockingIOError:
                    time.sleep(0.0005)
    else:
        raise SystemExit(__doc__)


if __name__ == "__main__":
    main(sys.argv)
