#!/usr/bin/env python3
"""A UDP echo pair for the lab: a server that sends every datagram back,
and a client that sends numbered datagrams at a fixed pace from a
connected socket (so its source address stays the one it started with,
like any connected UDP application) and reports what came back.

usage: udp_echo.py server ADDRESS PORT SECONDS
       udp_echo.py client ADDRESS PORT COUNT INTERVAL-MS REPORT.json
The client's report: sent, echoed, and the monotonic time (s since its
start) of each echo, so a caller can tell what came back after a move.
"""
import json
import socket
import sys
import time


def server(address, port, seconds):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.bind((address, port))
    sock.settimeout(0.2)
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            data, peer = sock.recvfrom(2048)
        except socket.timeout:
            continue
        sock.sendto(data, peer)


def client(address, port, count, interval_ms, report):
    sock = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
    sock.connect((address, port))
    sock.setblocking(False)
    start = time.monotonic()
    echoes = {}
    for number in range(count):
        try:
            sock.send(number.to_bytes(4, "big") + b"homeless udp echo")
        except OSError:
            pass
        deadline = start + (number + 1) * interval_ms / 1000
        while True:
            try:
                data = sock.recv(2048)
                echoes.setdefault(int.from_bytes(data[:4], "big"), time.monotonic() - start)
            except (BlockingIOError, ConnectionRefusedError):
                pass
            if time.monotonic() >= deadline:
                break
            time.sleep(0.001)
    time.sleep(0.3)
    while True:
        try:
            data = sock.recv(2048)
            echoes.setdefault(int.from_bytes(data[:4], "big"), time.monotonic() - start)
        except (BlockingIOError, ConnectionRefusedError):
            break
    json.dump({"sent": count, "echoed": len(echoes), "times": sorted(echoes.values())}, open(report, "w"))


if __name__ == "__main__":
    if sys.argv[1] == "server":
        server(sys.argv[2], int(sys.argv[3]), float(sys.argv[4]))
    else:
        client(sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), float(sys.argv[5]), sys.argv[6])
