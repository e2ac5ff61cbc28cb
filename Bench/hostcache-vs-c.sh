#!/usr/bin/env bash
# Compares the Swift Host Cache index lookup (AddressIndex, benchmarked by
# package-benchmark in this package) with the plain C reference table in
# Reference/hash_table_reference.c, in one run on the same machine, and
# prints the ratios Swift / C (1.00 = as fast as C).
#
#   [HASH_BENCH=path] Bench/hostcache-vs-c.sh [--extra-command 'CMD ...']
#
# HASH_BENCH, when set, is the project's reference hash-table program
# (`hash_bench [entries]`, built with cc -O2); it runs at 1M entries
# between the C passes and its independent / batch16 figures are printed
# in an extra column with the ratio Swift / it.
# --extra-command runs one more command between the two C passes (e.g.
# another reference implementation) and prints its output with the rest.
# The C reference runs before and after the Swift benchmarks; the better of
# the two figures is used, so a burst of background load on one side does
# not skew the ratio. Run on a quiet machine (check `uptime`).
set -euo pipefail
cd "$(dirname "$0")"
source ../scripts/common.sh
find_swift

extra=""
while [ $# -gt 0 ]; do
    case "$1" in
        --extra-command) extra="$2"; shift 2 ;;
        *) die "unknown argument: $1" ;;
    esac
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cc -O2 -o "$work/hash_table_reference" Reference/hash_table_reference.c

log "machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2- | sed 's/^ *//'), $(nproc) CPUs; load: $(cut -d' ' -f1-3 /proc/loadavg)"
log "C reference (first pass)"
"$work/hash_table_reference" | tee "$work/c1.txt"
log "Swift AddressIndex benchmarks (package-benchmark, release)"
swift package --allow-writing-to-package-directory benchmark --filter 'AddressIndex\..*' \
    --no-progress 2>&1 | tee "$work/swift.txt" | grep -E '^AddressIndex|wall clock' || true
if [ -n "$extra" ]; then
    log "extra command: $extra"
    bash -c "$extra" | tee "$work/extra.txt"
fi
if [ -n "${HASH_BENCH:-}" ]; then
    log "reference program: $HASH_BENCH 1048576"
    "$HASH_BENCH" 1048576 | tee "$work/reference-table.txt"
fi
log "C reference (second pass)"
"$work/hash_table_reference" | tee "$work/c2.txt"

python3 - "$work" <<'EOF'
import re, sys, pathlib
work = pathlib.Path(sys.argv[1])
c = {}
for name in ("c1.txt", "c2.txt"):
    for line in (work / name).read_text().splitlines():
        fields = dict(part.split("=") for part in line.split()[1:])
        key = (int(fields["entries"]), fields["kind"], fields["mode"])
        c[key] = min(c.get(key, float("inf")), float(fields["ns"]))
swift = {}
current = None
for line in (work / "swift.txt").read_text().splitlines():
    match = re.match(r"^(AddressIndex\.(Lookup|ReaderLookup|BatchLookup)\.(Hit|Miss)\.(1K|1M))\s*$", line.strip())
    if match:
        current = (1024 if match.group(4) == "1K" else 1048576, match.group(3).lower(),
                   {"Lookup": "single", "ReaderLookup": "reader", "BatchLookup": "batch16"}[match.group(2)])
        continue
    if current and "Time (wall clock)" in line:
        cells = [cell.strip() for cell in line.split("│") if cell.strip()]
        # Columns: metric, p0, p25, p50, ...: times of one measured iteration,
        # which runs 2^20 lookups (see WireAndCache.swift).
        # p0, the best iteration, is compared with the C reference's best
        # pass; p50 is shown too.
        label = cells[0]
        unit = {"(ns)": 1.0, "(μs)": 1e3, "(us)": 1e3, "(ms)": 1e6, "(s)": 1e9}
        factor = next(value for name, value in unit.items() if name in label)
        per_lookup = [float(cells[column]) * factor / (1 << 20) for column in (1, 3)]
        swift[current] = per_lookup
        current = None
reference_table = {}
reference_file = work / "reference-table.txt"
if reference_file.exists():
    for line in reference_file.read_text().splitlines():
        fields = line.split()
        if len(fields) >= 4 and fields[0].isdigit() and fields[1] in ("indep", "batch16"):
            reference_table[(int(fields[0]), fields[2], fields[1])] = float(fields[3])
if not swift:
    sys.exit("error: no Swift benchmark results parsed (see the output above)")
print()
print("ns per lookup; Swift best (p0) and median (p50) iteration, C best pass; ratio = Swift best / C best")
print(f"{'entries':>8} {'kind':>5} {'mode':>8} {'Swift p0':>9} {'Swift p50':>9} {'C':>7} {'Swift/C':>8} {'ref':>7} {'Swift/ref':>9}")
for key in sorted(swift):
    entries, kind, mode = key
    best, median = swift[key]
    # The reader loop is the single-lookup loop with the fields hoisted: C's single.
    reference = c.get(key) or c.get((entries, kind, "single"))
    ratio = f"{best / reference:8.2f}" if reference else "       -"
    shown = f"{reference:7.1f}" if reference else "      -"
    other = reference_table.get((entries, kind, "batch16" if mode == "batch16" else "indep"))
    other_cells = f"{other:7.1f} {best / other:9.2f}" if other else f"{'-':>7} {'-':>9}"
    print(f"{entries:>8} {kind:>5} {mode:>8} {best:9.1f} {median:9.1f} {shown} {ratio} {other_cells}")
EOF
