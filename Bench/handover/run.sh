#!/usr/bin/env bash
# run.sh - handover outage per case, median and maximum over N runs.
#
# Runs Tests/Integration/mobility.sh (an unmodified iperf3 TCP transfer
# mn -> cn in the namespace lab, engines on mn and cn, manual SAs) N times
# for each handover case and collects its "outage-ms" lines: the gap, on
# the router's link to cn, between the last mn -> cn packet with the old
# address pair and the first with the new one. Then N runs of case a with
# the anonymous handshake instead of manual SAs (KEYING=handshake), which
# also give the handshake's completion time ("handshake-ms": message 1 to
# message 3 on cn's link).
#
# usage: sudo Bench/handover/run.sh [RUNS] [CASES]   (default 10 "a b c d e")
#        HOMELESS=path/to/homeless (default .build/release/homeless, built if missing)
# Prints a Markdown table (the one in docs/PERFORMANCE.md) on stdout; the
# per-run values go to stderr.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RUNS="${1:-10}"
CASES="${2:-a b c d e}"
if [[ $(id -u) -ne 0 ]]; then echo "run.sh: needs root (network namespaces)" >&2; exit 77; fi
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then echo "run.sh: RUNS must be a positive number" >&2; exit 2; fi
source "$ROOT/scripts/common.sh"
if [[ -z "${HOMELESS:-}" ]]; then
    SWIFT="$(find_swift)"
    (cd "$ROOT" && "$SWIFT" build -c release --product homeless >/dev/null)
    HOMELESS="$ROOT/.build/release/homeless"
fi
export HOMELESS

declare -A VALUES=()
declare -A FAILURES=()
for handover in $CASES; do
    for run in $(seq "$RUNS"); do
        output="$(LAB_ID="ho$handover$run$$" bash "$ROOT/Tests/Integration/mobility.sh" "$handover" 2>&1)" || {
            FAILURES[$handover]=$(( ${FAILURES[$handover]:-0} + 1 ))
            echo "case $handover run $run: checks failed" >&2
            echo "$output" | grep '^FAIL' >&2 || true
        }
        while read -r _ _ step value _; do
            VALUES[$handover.$step]+="$value "
            echo "case $handover run $run step $step: $value ms" >&2
        done < <(echo "$output" | grep "^outage-ms $handover ")
    done
done

HANDSHAKE_TIMES=""
if [[ "${HANDSHAKE_RUNS:-$RUNS}" -gt 0 ]]; then
    for run in $(seq "${HANDSHAKE_RUNS:-$RUNS}"); do
        output="$(KEYING=handshake LAB_ID="hoh$run$$" bash "$ROOT/Tests/Integration/mobility.sh" a 2>&1)" || {
            FAILURES[h]=$(( ${FAILURES[h]:-0} + 1 ))
            echo "handshake run $run: checks failed" >&2
            echo "$output" | grep '^FAIL' >&2 || true
        }
        while read -r _ _ step value _; do
            VALUES[h.$step]+="$value "
            echo "case a (handshake) run $run step $step: $value ms" >&2
        done < <(echo "$output" | grep "^outage-ms a ")
        value="$(echo "$output" | awk '/^handshake-ms/ {print $2}')"
        if [[ -n "$value" ]]; then
            HANDSHAKE_TIMES+="$value "
            echo "handshake run $run: $value ms" >&2
        fi
    done
fi

describe() {
    case "$1" in
        a.1) echo "(a) mn renumbered on link A" ;;
        b.1) echo "(b) mn moves from link A to link B, A goes down" ;;
        c.1) echo "(c) cn renumbered, mn stays" ;;
        d.1) echo "(d) both move: mn renumbered" ;;
        d.2) echo "(d) both move: then cn renumbered" ;;
        e.1) echo "(e) multi-homed mn loses link A" ;;
        h.1) echo "(a) with SAs from the anonymous handshake" ;;
        *) echo "$1" ;;
    esac
}

echo "| case | runs | median (ms) | max (ms) | failed runs |"
echo "|---|---|---|---|---|"
for key in $(printf '%s\n' "${!VALUES[@]}" | sort); do
    handover="${key%%.*}"
    python3 - "$(describe "$key")" "${FAILURES[$handover]:-0}" ${VALUES[$key]} <<'PY'
import statistics, sys
label, failures, values = sys.argv[1], sys.argv[2], [float(v) for v in sys.argv[3:]]
print(f"| {label} | {len(values)} | {statistics.median(values):.1f} | {max(values):.1f} | {failures} |")
PY
done
if [[ -n "$HANDSHAKE_TIMES" ]]; then
    python3 - ${HANDSHAKE_TIMES} <<'PY'
import statistics, sys
values = [float(v) for v in sys.argv[1:]]
print(f"\nAnonymous handshake, message 1 to message 3 on cn's link: median {statistics.median(values):.2f} ms, "
      f"max {max(values):.2f} ms over {len(values)} runs")
PY
fi
