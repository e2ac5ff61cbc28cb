#!/usr/bin/env bash
# run.sh - what the engine costs a host, bridge against classifier steering.
#
# In the namespace lab, with engines on mn (wire lnk-a) and cn (wire
# lnk-c) sharing manually keyed SAs, for each arrangement -- no engine,
# `--steering bridge`, `--steering classifier` -- in one run:
#   * plain: an iperf3 TCP transfer mn -> rt (a host that runs nothing
#     special) and 200 pings mn -> rt;
#   * peer: an iperf3 TCP transfer mn -> cn (a Homeless peer: Initial
#     Binding Update, AH, translation ready) and 200 pings mn -> cn.
# Reports throughput, median ping RTT, the frames mn's engine handled and
# its CPU time (/proc/PID/schedstat, all threads) during the transfer, per
# frame. The figures for `bridge` and `classifier` are comparable within
# one run only (same machine state).
#
# usage: sudo Bench/steering/run.sh [SECONDS]   (default 5 s per transfer)
#        HOMELESS=path/to/homeless (default .build/release/homeless, built if missing)
# Prints a Markdown table (the one in docs/PERFORMANCE.md) on stdout.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SECONDS_PER_TRANSFER="${1:-5}"
if [[ $(id -u) -ne 0 ]]; then echo "run.sh: needs root (network namespaces)" >&2; exit 77; fi
if ! [[ "$SECONDS_PER_TRANSFER" =~ ^[1-9][0-9]*$ ]]; then echo "run.sh: SECONDS must be a positive number" >&2; exit 2; fi
source "$ROOT/scripts/common.sh"
if [[ -z "${HOMELESS:-}" ]]; then
    SWIFT="$(find_swift)"
    (cd "$ROOT" && "$SWIFT" build -c release --product homeless >/dev/null)
    HOMELESS="$ROOT/.build/release/homeless"
fi
source "$ROOT/Tests/Integration/lib.sh"
require_lab steering/run.sh ip ethtool iperf3 python3

export LAB_ID="st$$"
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
passed=0
failed=0
trap stop_engines_and_lab EXIT
trap 'exit 130' INT TERM

RT=2001:db8:a::1
CN=2001:db8:c::20
lab_up
write_manual_sas "$WORK/sa.conf" 2001:db8:a::10 "$CN"

# CPU time (ns) of every thread of PID so far.
cpu_ns() {   # pid
    local total=0 task
    for task in /proc/"$1"/task/*/schedstat; do
        total=$(( total + $(cut -d' ' -f1 "$task") ))
    done
    echo "$total"
}
frames() {   # total frames mn's engine handled so far (0 without one)
    [[ -n "${ENGINE_PID[mn]:-}" ]] || { echo 0; return; }
    stat mn "d['totals']['inbound-packets'] + d['totals']['outbound-packets']"
}
median_rtt() {   # destination
    in_ns mn ping -6 -c 200 -i 0.005 -q "$1" 2>/dev/null |
        python3 -c 'import sys, re; m = re.search(r"= ([0-9.]+)/([0-9.]+)/([0-9.]+)", sys.stdin.read()); print(m.group(2) if m else "?")'
}
# One transfer: Mbit/s, frames the engine handled, its CPU ns per frame.
measure() {   # destination
    local server pid before_cpu before_frames json mbits after_frames cpu per_frame
    in_ns "$([[ "$1" == "$RT" ]] && echo rt || echo cn)" iperf3 -s -1 -B "$1" -p 5301 >/dev/null 2>&1 &
    server=$!
    sleep 0.3
    pid="${ENGINE_PID[mn]:-}"
    before_cpu=$([[ -n "$pid" ]] && cpu_ns "$pid" || echo 0)
    before_frames=$(frames)
    json="$(in_ns mn iperf3 -c "$1" -p 5301 -t "$SECONDS_PER_TRANSFER" -J)"
    wait "$server" 2>/dev/null || true
    mbits=$(python3 -c 'import json, sys; print(round(json.loads(sys.argv[1])["end"]["sum_received"]["bits_per_second"] / 1e6))' "$json")
    after_frames=$(frames)
    cpu=$(( $([[ -n "$pid" ]] && cpu_ns "$pid" || echo 0) - before_cpu ))
    local handled=$(( after_frames - before_frames ))
    if (( handled > 0 )); then per_frame=$(python3 -c "print(f'{$cpu / $handled:.0f}')"); else per_frame="-"; fi
    echo "$mbits $handled $(( cpu / 1000000 )) $per_frame"
}

declare -A ROW=()
for mode in none bridge classifier; do
    if [[ "$mode" != none ]]; then
        start_engine mn lnk-a --workers 1 --sa "$WORK/sa.conf" --steering "$mode" || exit 1
        start_engine cn lnk-c --workers 1 --sa "$WORK/sa.conf" --steering "$mode" || exit 1
        # The conversation with cn exists before the measurements (Initial
        # Binding Update, acknowledgement, translation records).
        in_ns mn ping -6 -c 3 -i 0.2 -q "$CN" >/dev/null
        in_ns cn iperf3 -s -1 -B "$CN" -p 5300 >/dev/null 2>&1 &
        sleep 0.3
        in_ns mn iperf3 -c "$CN" -p 5300 -t 1 >/dev/null
        sleep 0.5
    fi
    read -r plain_mbits plain_frames plain_ms plain_ns < <(measure "$RT")
    plain_rtt=$(median_rtt "$RT")
    read -r peer_mbits peer_frames peer_ms peer_ns < <(measure "$CN")
    peer_rtt=$(median_rtt "$CN")
    ROW[$mode]="| $mode | $plain_mbits | $plain_rtt | $plain_frames | $plain_ms | $plain_ns | $peer_mbits | $peer_rtt | $peer_frames | $peer_ms | $peer_ns |"
    echo "$mode: ${ROW[$mode]}" >&2
    if [[ "$mode" != none ]]; then
        stop_engine mn
        stop_engine cn
    fi
done

echo "iperf3 TCP for ${SECONDS_PER_TRANSFER} s and 200 pings (5 ms apart) from mn; engines with one worker, manual SAs."
echo "Frames and CPU: mn's engine during the transfer (all threads, /proc/PID/schedstat)."
echo
echo "| mn runs | to rt (plain): Mbit/s | avg RTT ms | engine frames | engine CPU ms | ns/frame | to cn (peer): Mbit/s | avg RTT ms | engine frames | engine CPU ms | ns/frame |"
echo "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"
for mode in none bridge classifier; do echo "${ROW[$mode]}"; done
