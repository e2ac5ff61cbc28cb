#!/usr/bin/env bash
# Compares AH verification (SecurityAssociation.verify with HMAC-SHA-256-128,
# benchmarked by package-benchmark in this package, target SecurityPaths)
# with OpenSSL's HMAC-SHA256 from precomputed inner/outer state, in one run
# on the same machine, and prints the ratios Swift / OpenSSL.
#
#   HMAC_BENCH=path/to/hmac_bench Bench/ah-vs-openssl.sh
#
# HMAC_BENCH is the project's reference HMAC program (built with
# `cc -O2 ... -lcrypto`); it prints ns/op per message size and mode, and
# runs before and after the Swift benchmarks (the better figure is used).
# Also prints the handshake responder's cost per message 1.
# Run on a quiet machine (check `uptime`).
set -euo pipefail
cd "$(dirname "$0")"
source ../scripts/common.sh
find_swift

[ -n "${HMAC_BENCH:-}" ] || die "set HMAC_BENCH to the reference HMAC program"
[ -x "$HMAC_BENCH" ] || die "HMAC_BENCH=$HMAC_BENCH is not executable"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

log "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
log "OpenSSL reference (first pass)"
"$HMAC_BENCH" | tee "$work/c1.txt"
log "Swift benchmarks (package-benchmark, release)"
swift package --allow-writing-to-package-directory benchmark --target SecurityPaths \
    --no-progress 2>&1 | tee "$work/swift.txt" | grep -E '^(AH|Handshake)\.|wall clock|Malloc' || true
log "OpenSSL reference (second pass)"
"$HMAC_BENCH" | tee "$work/c2.txt"

python3 - "$work" <<'PY'
import re, sys, pathlib
work = pathlib.Path(sys.argv[1])
reference = {}
for name in ("c1.txt", "c2.txt"):
    for line in (work / name).read_text().splitlines():
        fields = line.split()
        if len(fields) >= 3 and fields[0].isdigit():
            key = (int(fields[0]), fields[1])
            reference[key] = min(reference.get(key, float("inf")), float(fields[2]))
swift, mallocs, current = {}, {}, None
units = {"(ns)": 1.0, "(μs)": 1e3, "(us)": 1e3, "(ms)": 1e6, "(s)": 1e9}
for line in (work / "swift.txt").read_text().splitlines():
    match = re.match(r"^((AH|Handshake)\.\S+)\s*$", line.strip())
    if match:
        current = match.group(1)
        continue
    if current is None:
        continue
    cells = [cell.strip() for cell in line.split("│") if cell.strip()]
    if not cells:
        continue
    if "Time (wall clock)" in cells[0]:
        factor = next(value for unit, value in units.items() if unit in cells[0])
        # One measured iteration runs 1000 operations (SecurityPaths.swift).
        swift[current] = [float(cells[column]) * factor / 1000 for column in (1, 3)]
    elif cells[0].startswith("Malloc (total)"):
        mallocs[current] = cells[1]
if not swift:
    sys.exit("error: no Swift benchmark results parsed (see the output above)")
def precomputed(size):
    keys = [key for key in reference if key[0] == size and "precomp" in key[1]]
    return reference[keys[0]] if keys else None
print()
print("ns per operation; Swift best (p0) and median (p50) iteration, OpenSSL precomputed-state HMAC best pass")
print(f"{'benchmark':<30} {'Swift p0':>9} {'Swift p50':>9} {'OpenSSL':>9} {'msg B':>6} {'ratio':>6} {'mallocs':>8}")
for name in sorted(swift):
    best, median = swift[name]
    # Packets of 256 and 1400 octets hash as many octets as the reference's
    # messages of that size. Packet104 needs as many SHA-256 compressions
    # (3) as the 64-octet message; Payload64 (a 136-octet packet, 4) is set
    # beside the 64-octet message too.
    match = re.search(r"(Payload|Packet)(\d+)", name)
    size = {"Payload64": 64, "Packet104": 64}.get(match.group(0), int(match.group(2))) if match else None
    other = precomputed(size) if size else None
    cells = f"{other:9.1f} {size:6d} {best / other:6.2f}" if other else f"{'-':>9} {'-':>6} {'-':>6}"
    print(f"{name:<30} {best:9.1f} {median:9.1f} {cells} {mallocs.get(name, '?'):>8}")
PY
