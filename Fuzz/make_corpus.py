#!/usr/bin/env python3
"""Regenerates the seed corpora in Fuzz/Corpus/ from the test fixtures.

FrameParser: every packet of Tests/Fixtures/captures/homeless.pcap and
raw-ipv6.pcap, and every golden vector of Tests/Fixtures/wire/golden.json,
one file each (Ethernet frames and raw IPv6 packets alike: the target parses
every input with both link layers).

BindingUpdate: a handful of small programs in the operation encoding of
Fuzz/Sources/FuzzBindingUpdate (see docs/FUZZING.md), each exercising one
area: registration and expiry, deletion, conflicts between entries,
capacity and eviction, local addresses, and a raw Destination Options header
taken from a golden vector.

Signalling: Ethernet frames as the slow path receives them (see
signalling_corpus).

Run from anywhere: python3 Fuzz/make_corpus.py
"""
import json
import pathlib
import struct

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
FIXTURES = ROOT / "Tests" / "Fixtures"


def pcap_packets(path):
    data = path.read_bytes()
    magic = data[:4]
    endian = "<" if magic in (b"\xd4\xc3\xb2\xa1", b"\x4d\x3c\xb2\xa1") else ">"
    offset = 24
    while offset + 16 <= len(data):
        _, _, captured, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
        offset += 16
        yield data[offset:offset + captured]
        offset += captured


def write(directory, name, payload):
    directory.mkdir(parents=True, exist_ok=True)
    (directory / name).write_bytes(bytes(payload))


def frame_parser_corpus():
    out = FUZZ / "Corpus" / "FrameParser"
    for path in out.glob("*"):
        path.unlink()
    for capture in ("homeless.pcap", "raw-ipv6.pcap"):
        stem = capture.rsplit(".", 1)[0]
        for number, packet in enumerate(pcap_packets(FIXTURES / "captures" / capture), 1):
            write(out, f"{stem}-{number:02d}", packet)
    golden = json.loads((FIXTURES / "wire" / "golden.json").read_text())
    for vector in golden["vectors"]:
        write(out, "golden-" + vector["name"], bytes.fromhex(vector["hex"]))


# --- BindingUpdate programs -------------------------------------------------
# Prelude: defaultLifetime, maximumExpiredLifetime, maximumEntries,
# maximumForeignAddresses, maximumLocalAddresses (each taken modulo, see
# CacheProgram.init), random seed. Addresses are pool indices (< 0xF0).
CREATE_FOREIGN, CREATE_LOCAL, ADD_LOCAL, REMOVE_LOCAL = 0, 2, 3, 4
EMITTED_BU, RAW_BU, ADVANCE, LOOKUP = 5, 8, 9, 11
EXPIRE_ALL = [10, 1]  # full sweep; [10, 0, n] sweeps 1 + n % 4 slots
RETAIN_RELEASE, REMOVE_ENTRY, SET_STATE, RECEIVED = 12, 13, 14, 15
# Sub-options: [CARE_OF, address], [HOMELESS], [UNIQUE_ID, high, low],
# [PREFIXES, length code, count, address...] (each prefix: the first bytes of a pool address).
CARE_OF, HOMELESS, UNIQUE_ID, PREFIXES = 0, 2, 3, 4


def prelude(default=10, expired=20, entries=4, foreign=6, local=2, seed=7):
    return [default - 1, expired, entries - 1, foreign - 1, local - 1, seed]


def create_foreign(address, also=(), trusted=False):
    return [CREATE_FOREIGN, address, len(also), *also, 1 if trusted else 0]


def binding_update(sequence, lifetime, sub_options=(), flags=0x80, prefix_length=64):
    body = [flags, sequence >> 8, sequence & 0xFF, lifetime, len(sub_options)]
    for sub in sub_options:
        body += sub
    return body + [prefix_length]


def emitted(updates, source, home=None, by_match=True, entry=0):
    program = [EMITTED_BU, 1 if home is not None else 0] + ([home] if home is not None else [])
    program += [len(updates) - 1]
    for update in updates:
        program += update
    program += [source, 1 if by_match else 0] + ([] if by_match else [entry])
    return program


def binding_update_corpus():
    out = FUZZ / "Corpus" / "BindingUpdate"
    for path in out.glob("*"):
        path.unlink()
    # Register a care-of address plus two Alternate Prefixes, let it expire, purge.
    write(out, "register-expire-purge", prelude() + create_foreign(0) + emitted(
        [binding_update(1, 30, [[CARE_OF, 2], [HOMELESS], [PREFIXES, 1, 2, 4, 6]])], source=0)
        + [ADVANCE, 15, 10, 0, 1, LOOKUP, 2, ADVANCE, 40, *EXPIRE_ALL, LOOKUP, 0])
    # Home Address option match, then a deletion (lifetime 0) and a stale sequence.
    write(out, "hao-delete-stale-sequence", prelude() + create_foreign(0, also=[1], trusted=True) + emitted(
        [binding_update(5, 60, [[CARE_OF, 3]]), binding_update(6, 0xFF, [[CARE_OF, 4]])], source=3, home=0)
        + emitted([binding_update(7, 0, [[CARE_OF, 3]])], source=3, home=0)
        + emitted([binding_update(6, 20, [[UNIQUE_ID, 0, 9]])], source=0) + EXPIRE_ALL)
    # Two entries claim the same address: conflict while live, take-over once expired.
    write(out, "conflict-takeover", prelude() + create_foreign(0) + create_foreign(2) + emitted(
        [binding_update(1, 5, [[CARE_OF, 4]])], source=0)
        + emitted([binding_update(1, 5, [[CARE_OF, 4]])], source=2)
        + [ADVANCE, 6, *EXPIRE_ALL] + emitted([binding_update(2, 20, [[CARE_OF, 4]])], source=2) + [LOOKUP, 4])
    # Capacity: more entries and addresses than fit; random eviction of untrusted entries.
    pressure = prelude(entries=3, foreign=4, seed=3)
    for address in range(0, 10):
        pressure += create_foreign(address, trusted=(address == 1))
    pressure += [RETAIN_RELEASE, 0, 1] + emitted(
        [binding_update(1, 40, [[CARE_OF, 5], [CARE_OF, 6], [PREFIXES, 3, 2, 8, 9]])],
        source=9) + [REMOVE_ENTRY, 0, *EXPIRE_ALL]
    write(out, "capacity-eviction", pressure)
    # Local addresses: a foreign address becomes local, BU claims on it are refused.
    write(out, "local-addresses", prelude() + create_foreign(0) + [CREATE_LOCAL, ADD_LOCAL, 4, 1, ADD_LOCAL, 0, 1]
          + emitted([binding_update(1, 30, [[CARE_OF, 4]])], source=2, by_match=False, entry=0)
          + [REMOVE_LOCAL, 4, 1, RECEIVED, 4, 0, 0, SET_STATE, 0, 1, 0])
    # Raw Destination Options bytes (HAO + BU with every sub-option) from a golden vector.
    golden = json.loads((FIXTURES / "wire" / "golden.json").read_text())
    vector = next(v for v in golden["vectors"] if v["name"] == "raw-destopt-hao-bu-all-suboptions")
    packet = bytes.fromhex(vector["hex"])
    header_length = (packet[41] + 1) * 8
    options = packet[42:40 + header_length]
    source = list(packet[8:24])
    home = list(options[options.index(201) + 2:options.index(201) + 18])
    write(out, "raw-golden-hao-bu", prelude() + [CREATE_FOREIGN, 0xF0, *home, 0, 1]
          + [RAW_BU, 1, len(options), *options, 0xF0, *source, 1] + [ADVANCE, 250, *EXPIRE_ALL])


def signalling_corpus():
    """Ethernet frames as the slow path receives them: the signalling of
    homeless.pcap (Binding Updates and Acknowledgements under AH), and
    hand-made handshake messages 1 and 3 and a Parameter Problem quoting a
    Binding Update under AH (layouts in docs/HANDSHAKE.md, WIRE.md)."""
    out = FUZZ / "Corpus" / "Signalling"
    for path in out.glob("*"):
        path.unlink()
    for number, packet in enumerate(pcap_packets(FIXTURES / "captures" / "homeless.pcap"), 1):
        if b"\xc6" in packet or packet[20:21] == b"\x33":   # a Binding Update option type, or AH
            write(out, f"homeless-{number:02d}", packet)
    ether = bytes([2, 0, 0, 0, 0, 0x20, 2, 0, 0, 0, 0, 0x10, 0x86, 0xDD])
    mn = bytes.fromhex("20010db8000a00000000000000000010")
    cn = bytes.fromhex("20010db8000c00000000000000000020")

    def ipv6(nh, payload, src=mn, dst=cn):
        return ether + struct.pack("!IHBB", 6 << 28, len(payload), nh, 64) + src + dst + payload
    hello = bytes([59, 2, 1, 1, 0, 0, 0, 0]) + bytes(range(16))
    write(out, "handshake-message-1", ipv6(253, hello))
    message3 = bytes([59, 10, 3, 1, 0, 0, 0, 0]) + struct.pack("!II", 1, 0x5000) + bytes(range(16)) + bytes(16) \
        + bytes(8) + bytes(32)
    ah = bytes([253, 4, 0, 0]) + struct.pack("!II", 0x4000, 1) + bytes(12)
    write(out, "handshake-message-3-under-ah", ipv6(51, ah + message3))
    bu = bytes([59, 4, 1, 2, 0, 0, 201, 16]) + mn + bytes([1, 0, 198, 8, 0x80, 0, 0, 1, 0, 0, 2, 88]) \
        + bytes([1, 2, 0, 0])
    quoted = struct.pack("!IHBB", 6 << 28, 24 + len(bu), 51, 64) + mn + cn + bytes([60, 4, 0, 0]) \
        + struct.pack("!II", 0x2001, 1) + bytes(12) + bu
    write(out, "parameter-problem-quoting-bu", ipv6(58, bytes([4, 2, 0, 0]) + struct.pack("!I", 90) + quoted,
                                                    src=cn, dst=mn))
    write(out, "home-address-alone", ipv6(60, bytes([59, 2, 1, 2, 0, 0, 201, 16]) + mn))


if __name__ == "__main__":
    frame_parser_corpus()
    binding_update_corpus()
    signalling_corpus()
