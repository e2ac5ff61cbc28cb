#!/usr/bin/env bash
# run.sh - the data path beside no engine and beside Linux Multipath TCP.
#
# In the namespace lab (scripts/lab.sh: mn on links A and B to the router
# rt, cn on link C), in one run:
#   1. throughput and round trip, for each of: no engine; Homeless engines
#      on mn (wire lnk-a) and cn (wire lnk-c) with manually keyed SAs, bridge
#      steering with --workers 1, then --workers 2, then classifier steering
#      (default workers); no engine with the kernel's Multipath TCP
#      (`mptcpize run iperf3`, one subflow). Each: iperf3 TCP mn -> cn with
#      1 stream and with 4 (-P 4), SECONDS each, and 200 pings mn -> cn
#      10 ms apart (average and 99th percentile); ratios to no engine, and
#      the round trip added. The engines' conversation (Initial Binding
#      Update, Acknowledgement) is opened before the measurements. Then
#      plain TCP and Multipath TCP again with 16 KiB writes (iperf3 -l 16K):
#      with iperf3's default 128 KiB writes Multipath TCP stalls on some
#      kernels, with 16 KiB writes far less (the MPTCP-level
#      retransmission counts are printed);
#   2. handover, RUNS runs of each case: (a) mn renumbered on link A (gains
#      2001:db8:a::99, loses 2001:db8:a::10), (b) mn gains an address on
#      link B, then link A goes down, (e) multi-homed mn (both links up from
#      the start) loses link A -- with Multipath TCP here, and with the
#      engines by Tests/Integration/mobility.sh (the cases of
#      Bench/handover/run.sh). Both are measured alike: an 8 s iperf3 mn -> cn,
#      the move 2 s in, a capture on rt's link C read by
#      Tests/Integration/handover_capture.py: "outage" is the gap between the
#      last mn -> cn packet of the old address pair and the first of the new
#      one, "data gap" the longest silence of mn's data packets (any pair)
#      in the second after the move, "no move" the same over a second early
#      in the transfer (how silent the transfer is anyway). With Multipath TCP both pairs carry data at once
#      (subflows), so only the data gap compares the two. Multipath TCP's
#      transfer writes 16 KiB at a time (above), the engines' 128 KiB.
#
# Multipath TCP is set up as a path-manager daemon (mptcpd) would do it:
# subflow and ADD_ADDR limits on both ends, source routing per link on mn,
# and on each move, in the same instant (one `ip -batch`), an endpoint
# (`ip mptcp endpoint add ADDR dev DEV subflow`) for a new address and the
# removal of the old address's endpoint (`ip mptcp endpoint delete id 0
# ADDR`, the initial subflow's). Needs `mptcpize` (Debian package
# mptcpize, installed with the project's packages when missing) and a
# kernel with net.mptcp.enabled; without them the Multipath TCP rows say
# why they are missing and the rest runs.
#
# usage: sudo Bench/mptcp/run.sh [SECONDS] [RUNS]   (default 3 s per transfer, 1 run per case:
#                                                     4 to 5 min on a loaded 2-CPU machine)
#        HOMELESS=path/to/homeless (default .build/release/homeless, built if missing)
#        LAB_ID=name (default mp<pid>; the handover runs use LAB_ID + case + run)
# Progress goes to stderr; the Markdown tables (docs/PERFORMANCE.md, "Data
# path and MPTCP") to stdout. Exit status: 0 when every measurement was
# taken, 1 when one failed (its cell says so), 77 without root.
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
SECONDS_PER_TRANSFER="${1:-3}"
RUNS="${2:-1}"
if [[ $(id -u) -ne 0 ]]; then echo "run.sh: needs root (network namespaces)" >&2; exit 77; fi
if ! [[ "$SECONDS_PER_TRANSFER" =~ ^[1-9][0-9]*$ ]]; then echo "run.sh: SECONDS must be a positive number" >&2; exit 2; fi
if ! [[ "$RUNS" =~ ^[1-9][0-9]*$ ]]; then echo "run.sh: RUNS must be a positive number" >&2; exit 2; fi
source "$ROOT/scripts/common.sh"
if [[ -z "${HOMELESS:-}" ]]; then
    SWIFT="$(find_swift && command -v swift)"
    (cd "$ROOT" && "$SWIFT" build -c release --product homeless >/dev/null) || { echo "run.sh: build failed" >&2; exit 1; }
    HOMELESS="$ROOT/.build/release/homeless"
fi
HOMELESS="$(cd "$(dirname "$HOMELESS")" && pwd)/$(basename "$HOMELESS")"
export HOMELESS
source "$ROOT/Tests/Integration/lib.sh"
require_lab mptcp/run.sh ip ethtool iperf3 python3 tcpdump ping

# Multipath TCP: mptcpize from the project's package list, and the kernel.
MPTCP_MISSING=""
if ! command -v mptcpize >/dev/null; then
    (install_packages) >&2 || true
fi
if ! command -v mptcpize >/dev/null; then
    MPTCP_MISSING="mptcpize is not installed (apt-get install mptcpize)"
elif [[ "$(cat /proc/sys/net/mptcp/enabled 2>/dev/null)" != 1 ]]; then
    MPTCP_MISSING="the kernel has no Multipath TCP enabled (net.mptcp.enabled)"
fi
[[ -n "$MPTCP_MISSING" ]] && echo "run.sh: Multipath TCP rows skipped: $MPTCP_MISSING" >&2

export LAB_ID="${LAB_ID:-mp$$}"
if ! [[ "$LAB_ID" =~ ^[A-Za-z0-9_-]{1,18}$ ]]; then echo "run.sh: LAB_ID must be 1-18 characters of [A-Za-z0-9_-]" >&2; exit 2; fi
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
passed=0
failed=0
BACKGROUND=()   # iperf3 servers and captures: they would outlive their namespace
cleanup() {
    local pid
    for pid in "${BACKGROUND[@]}"; do kill -KILL "$pid" 2>/dev/null; done
    stop_engines_and_lab
}
trap cleanup EXIT
trap 'exit 130' INT TERM

MN_A=2001:db8:a::10
MN_A2=2001:db8:a::99
MN_B=2001:db8:b::10
CN=2001:db8:c::20
FAILURES=0
note() { echo "$*" >&2; }

# Runs a command in NODE, through mptcpize when MPTCP is set.
MPTCP=""
app() {   # node command...
    local node="$1"; shift
    if [[ -n "$MPTCP" ]]; then in_ns "$node" mptcpize run "$@"; else in_ns "$node" "$@"; fi
}

# Subflow and ADD_ADDR limits on both ends (the kernel allows no
# additional subflow by default).
mptcp_limits() {
    in_ns mn ip mptcp limits set subflows 4 add_addr_accepted 4 &&
        in_ns cn ip mptcp limits set subflows 4 add_addr_accepted 4
}

# An MPTCP counter (/proc/net/netstat, MPTcpExt) of NODE.
mptcp_counter() {   # node name
    in_ns "$1" cat /proc/net/netstat | python3 -c '
import sys
lines = [l.split() for l in sys.stdin if l.startswith("MPTcpExt:")]
print(dict(zip(lines[0], lines[1])).get(sys.argv[1], 0) if len(lines) == 2 else 0)' "$2"
}

# Mbit/s received by cn in an iperf3 TCP transfer mn -> cn with STREAMS
# parallel streams for SECONDS (default SECONDS_PER_TRANSFER), writes of
# WRITE_SIZE bytes if set (iperf3 -l; its default is 128 KiB); "fail" when
# it failed.
rate() {   # streams [seconds]
    local json="$WORK/iperf.json" server seconds="${2:-$SECONDS_PER_TRANSFER}"
    app cn iperf3 -s -1 -B "$CN" -p 5301 >/dev/null 2>&1 &
    server=$!
    BACKGROUND+=("$server")
    sleep 0.3
    if app mn timeout $((seconds + 20)) iperf3 -c "$CN" -p 5301 -t "$seconds" -P "$1" ${WRITE_SIZE:+-l "$WRITE_SIZE"} -J >"$json" 2>&1 &&
        python3 -c 'import json, sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$json" 2>/dev/null; then
        :
    else
        echo fail
        note "iperf3 -P $1 failed: $(tail -c 300 "$json")"
    fi
    kill "$server" 2>/dev/null
    wait "$server" 2>/dev/null
}

# Average and 99th percentile RTT (ms) of 200 pings mn -> cn 10 ms apart,
# and how many were lost.
rtt() {
    in_ns mn ping -6 -c 200 -i 0.01 -W 1 "$CN" 2>/dev/null | python3 -c '
import re, sys
times = sorted(float(m) for m in re.findall(r"time=([0-9.]+) ms", sys.stdin.read()))
if not times:
    print("fail fail 200")
else:
    p99 = times[min(len(times) - 1, int(0.99 * len(times)))]
    print(f"{sum(times) / len(times):.3f} {p99:.3f} {200 - len(times)}")'
}

# --- 1. throughput and round trip ------------------------------------------
CPUS=$(nproc)
# One line per arrangement: label TAB the label of the row its ratios
# refer to TAB "1-stream 4-streams rtt-avg rtt-p99 pings-lost" (or why
# there is no measurement).
result() { printf '%s\t%s\t%s\n' "$1" "$REFERENCE" "$2" >>"$WORK/throughput.tsv"; }
REFERENCE="no engine"

# Measures one arrangement. KIND: none, mptcp, or engine (then ARGS are the
# engines' extra `homeless run` arguments). With WRITE_SIZE set, iperf3
# writes that many bytes at a time and the pings are left out.
measure() {   # label kind args...
    local label="$1" kind="$2"; shift 2
    local one four avg p99 lost capable_before capable_after retransmitted_before duplicate_before
    note "== $label"
    MPTCP=""
    case "$kind" in
        mptcp)
            if [[ -n "$MPTCP_MISSING" ]]; then result "$label" "skipped: $MPTCP_MISSING"; return; fi
            mptcp_limits || { result "$label" "failed: ip mptcp limits"; FAILURES=$((FAILURES + 1)); return; }
            MPTCP=1
            capable_before=$(mptcp_counter cn MPCapableACKRX)
            retransmitted_before=$(mptcp_counter mn MPTCPRetrans)
            duplicate_before=$(mptcp_counter cn DuplicateData) ;;
        engine)
            if ! start_engine mn lnk-a --sa "$WORK/sa.conf" "$@" >&2 || ! start_engine cn lnk-c --sa "$WORK/sa.conf" "$@" >&2; then
                result "$label" "failed: an engine did not start"
                FAILURES=$((FAILURES + 1))
                stop_engine mn; stop_engine cn
                return
            fi
            # Open the conversation (Initial Binding Update and its
            # Acknowledgement, translation records) before measuring.
            in_ns mn ping -6 -c 3 -i 0.2 -q "$CN" >/dev/null
            rate 1 1 >/dev/null
            sleep 0.3 ;;
    esac
    one=$(rate 1)
    four=$(rate 4)
    if [[ -n "${WRITE_SIZE:-}" ]]; then avg=- p99=- lost=-; else read -r avg p99 lost < <(rtt); fi
    if [[ "$kind" == mptcp ]]; then
        capable_after=$(mptcp_counter cn MPCapableACKRX)
        # Every iperf3 connection (control and data) must have been MPTCP,
        # not a fallback to TCP: 1 + 1 and 1 + 4 of them.
        if (( capable_after - capable_before < 7 )); then
            note "only $((capable_after - capable_before)) of 7 connections were Multipath TCP"
            one=fail-fallback; four=fail-fallback
        fi
        note "   MPTCP-level retransmissions on mn: $(( $(mptcp_counter mn MPTCPRetrans) - retransmitted_before )), duplicate data on cn: $(( $(mptcp_counter cn DuplicateData) - duplicate_before ))"
    fi
    if [[ "$kind" == engine ]]; then
        stop_engine mn || note "mn's engine did not stop cleanly"
        stop_engine cn || note "cn's engine did not stop cleanly"
    fi
    [[ "$one $four $avg" == *fail* ]] && FAILURES=$((FAILURES + 1))
    result "$label" "$one $four $avg $p99 $lost"
    note "   1 stream $one Mbit/s, 4 streams $four Mbit/s, RTT avg $avg ms p99 $p99 ms, $lost lost"
}

START_LOAD=$(cut -d' ' -f1-3 /proc/loadavg)
START_TIME=$(date -u +%FT%TZ)
lab_up
write_manual_sas "$WORK/sa.conf" "$MN_A" "$CN"
default_workers=""
[[ "$CPUS" -eq 2 ]] && default_workers=", the default here"
measure "no engine" none
measure "engines, bridge, --workers 1" engine --workers 1
measure "engines, bridge, --workers 2$default_workers" engine --workers 2
measure "engines, classifier (default: $CPUS workers)" engine --steering classifier
measure "Linux MPTCP, no engine (1 subflow)" mptcp
# Multipath TCP stalls with iperf3's 128 KiB writes on some kernels
# (MPTCP-level retransmission timeouts, MPTcpExtMPTCPRetrans on mn, with
# DuplicateData on cn); with 16 KiB writes far less often. Both, each
# against plain TCP with the same writes.
WRITE_SIZE=16K measure "no engine, 16 KiB writes" none
REFERENCE="no engine, 16 KiB writes" WRITE_SIZE=16K measure "Linux MPTCP, 16 KiB writes" mptcp
note "throughput done after $SECONDS s"

# --- 2. handover -----------------------------------------------------------
CASES=(a b e)
declare -A VALUES=()   # "who.case.what" -> values
declare -A HANDOVER_FAILURES=()
describe() {
    case "$1" in
        a) echo "(a) mn renumbered on link A" ;;
        b) echo "(b) mn gains an address on link B, then link A goes down" ;;
        e) echo "(e) multi-homed mn loses link A" ;;
    esac
}

# One Multipath TCP handover run of CASE in a fresh lab; adds its outage
# and data gap to VALUES, or counts a failure.
mptcp_handover() {   # case
    local case="$1" server client capture moved started mn_addresses output after status
    lab_up
    mptcp_limits || return 1
    # Source routing: each link's addresses leave through that link, as
    # on a host with two providers.
    in_ns mn ip -6 rule add from 2001:db8:a::/64 table 100 priority 100
    in_ns mn ip -6 route add default via 2001:db8:a::1 dev lnk-a table 100
    in_ns mn ip -6 rule add from 2001:db8:b::/64 table 200 priority 200
    in_ns mn ip -6 route add default via 2001:db8:b::1 dev lnk-b table 200
    case "$case" in
        a) mn_addresses="$MN_A,$MN_A2" ;;
        b) # mn is on link A only at first (as in mobility.sh).
           in_ns mn ip -6 route del default via 2001:db8:b::1 dev lnk-b
           in_ns mn ip -6 addr del "$MN_B/64" dev lnk-b
           mn_addresses="$MN_A,$MN_B" ;;
        e) # Multi-homed from the start: a second subflow over link B.
           in_ns mn ip mptcp endpoint add "$MN_B" dev lnk-b subflow
           mn_addresses="$MN_A,$MN_B" ;;
    esac
    ip netns exec "hl-$LAB_ID-rt" tcpdump -i lnk-c -n -U -s 128 -w "$WORK/mptcp.pcap" "ip6 and tcp" >/dev/null 2>&1 &
    capture=$!
    BACKGROUND+=("$capture")
    in_ns cn mptcpize run iperf3 -s -1 -B "$CN" -p 5301 >/dev/null 2>&1 &
    server=$!
    BACKGROUND+=("$server")
    sleep 1
    in_ns mn timeout 40 mptcpize run iperf3 -c "$CN" -p 5301 -t 8 -i 0.5 -l 16K -J >"$WORK/mptcp.json" 2>&1 &
    client=$!
    started=$(date +%s.%N)
    sleep 2
    case "$case" in
        a) printf '%s\n' "address add $MN_A2/64 dev lnk-a nodad" "mptcp endpoint add $MN_A2 dev lnk-a subflow" \
               "address del $MN_A/64 dev lnk-a" "mptcp endpoint delete id 0 $MN_A" | in_ns mn ip -batch - ;;
        b) printf '%s\n' "address add $MN_B/64 dev lnk-b nodad" "route add default via 2001:db8:b::1 dev lnk-b metric 200" \
               "mptcp endpoint add $MN_B dev lnk-b subflow" | in_ns mn ip -batch -
           # The link B subflow is up before link A goes (mobility.sh waits
           # for cn to know the link B address).
           wait_for 3 bash -c "[[ -n \"\$(ip netns exec hl-$LAB_ID-mn ss -tnH state established src '[$MN_B]')\" ]]" ||
               note "case b: no subflow from $MN_B after 3 s"
           printf '%s\n' "link set lnk-a down" "mptcp endpoint delete id 0 $MN_A" | in_ns mn ip -batch - ;;
        e) printf '%s\n' "link set lnk-a down" "mptcp endpoint delete id 0 $MN_A" | in_ns mn ip -batch - ;;
    esac
    moved=$(date +%s.%N)
    wait "$client"
    status=$?
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
    sleep 0.3
    kill -KILL "$capture" 2>/dev/null; wait "$capture" 2>/dev/null
    # Data after the move (intervals from 1 s after it), as mobility.sh checks.
    after=$(python3 - "$WORK/mptcp.json" "$(python3 -c "print($moved - $started + 1.0)")" <<'PY' 2>/dev/null
import json, re, sys
d = json.loads(re.sub(r"(?<=[:\s\[,])-?(nan|inf)\b", "null", open(sys.argv[1]).read()))
print(sum(i["sum"]["bytes"] for i in d["intervals"] if i["sum"]["start"] >= float(sys.argv[2])) if "error" not in d else -1)
PY
)
    if [[ $status -ne 0 || "${after:--1}" -le 0 ]]; then
        note "MPTCP case $case: iperf3 exit $status, ${after:-?} bytes after the move"
        tail -c 300 "$WORK/mptcp.json" >&2
        return 1
    fi
    if (( $(mptcp_counter cn MPJoinAckRx) < 1 )); then
        note "MPTCP case $case: no subflow joined (MPJoinAckRx 0)"
        return 1
    fi
    output=$(python3 "$ROOT/Tests/Integration/handover_capture.py" "$WORK/mptcp.pcap" "$mn_addresses" "$CN" 6 "$moved")
    # (outage-ms OLD>NEW OLD>NEW VALUE; max-data-gap-ms VALUE at T). In
    # cases b and e the link B subflow carries data before the move, so
    # the change of pair is no handover there: only the data gap counts.
    collect mptcp "$case" "$([[ "$case" == a ]] && awk '/^outage-ms/ {print $NF; exit}' <<<"$output")" \
        "$(awk '/^max-data-gap-ms/ {print $2}' <<<"$output")" "$(awk '/^control-data-gap-ms/ {print $2}' <<<"$output")"
}

# Adds a run's outage, data gap around the move and data gap early in the
# transfer (ms; any may be empty) to VALUES.
collect() {   # who case outage gap control-gap
    [[ -n "$3" ]] && VALUES[$1.$2.outage]+="$3 "
    [[ -n "$4" ]] && VALUES[$1.$2.gap]+="$4 "
    [[ -n "$5" ]] && VALUES[$1.$2.control]+="$5 "
    note "$1 case $2: outage ${VALUES[$1.$2.outage]:-}ms, data gap ${VALUES[$1.$2.gap]:-}ms, without a move ${VALUES[$1.$2.control]:-}ms (so far)"
}

if [[ -z "$MPTCP_MISSING" ]]; then
    for case in "${CASES[@]}"; do
        for run in $(seq "$RUNS"); do
            if ! mptcp_handover "$case"; then
                HANDOVER_FAILURES[mptcp.$case]=$(( ${HANDOVER_FAILURES[mptcp.$case]:-0} + 1 ))
            fi
        done
    done
fi
bash "$LAB_SCRIPT" down >/dev/null 2>&1
note "Multipath TCP handovers done after $SECONDS s"

for case in "${CASES[@]}"; do
    for run in $(seq "$RUNS"); do
        output="$(LAB_ID="${LAB_ID}e$case$run" bash "$ROOT/Tests/Integration/mobility.sh" "$case" 2>&1)" || {
            HANDOVER_FAILURES[engine.$case]=$(( ${HANDOVER_FAILURES[engine.$case]:-0} + 1 ))
            note "engines case $case run $run: checks failed"
            grep '^FAIL' <<<"$output" >&2
        }
        # (mobility.sh: outage-ms CASE STEP VALUE (...); max-data-gap-ms VALUE at T)
        collect engine "$case" "$(awk -v case="$case" '$1 == "outage-ms" && $2 == case && $3 == 1 {print $4}' <<<"$output")" \
            "$(awk '/^max-data-gap-ms/ {print $2}' <<<"$output")" "$(awk '/^control-data-gap-ms/ {print $2}' <<<"$output")"
    done
done
note "engine handovers done after $SECONDS s"

# --- the tables ------------------------------------------------------------
revision="$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)"
[[ -n "$(git -C "$ROOT" status --porcelain --untracked-files=no 2>/dev/null)" ]] && revision+=" (with uncommitted changes)"
echo "Machine: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'), $CPUS CPUs, Linux $(uname -r);" \
    "load average $START_LOAD at the start, $(cut -d' ' -f1-3 /proc/loadavg) at the end ($START_TIME)."
echo "Commit: $revision; homeless: $HOMELESS."
echo
echo "iperf3 TCP mn -> cn for $SECONDS_PER_TRANSFER s, 200 pings mn -> cn 10 ms apart; engines with manually keyed SAs."
echo
python3 - "$WORK/throughput.tsv" <<'PY'
import sys
rows = [line.rstrip("\n").split("\t") for line in open(sys.argv[1])]
measured = {label: values.split() for label, _, values in rows}
def number(text):
    try:
        return float(text)
    except ValueError:
        return None
def ratio(value, reference):
    v, r = number(value), number(reference)
    return f"{v / r:.3f}" if v is not None and r else "-"
print("| mn -> cn | 1 stream Mbit/s | x no engine | 4 streams Mbit/s | x no engine | RTT avg ms | RTT p99 ms | RTT added ms | pings lost |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for label, reference, result in rows:
    cells = result.split()
    if len(cells) != 5:   # skipped, or no measurement at all
        print(f"| {label} | {result} | | | | | | | |")
        continue
    one, four, avg, p99, lost = cells
    base = measured.get(reference, [])
    if len(base) != 5:
        base = ["-"] * 5
    added = f"{number(avg) - number(base[2]):+.3f}" if number(avg) is not None and number(base[2]) is not None else "-"
    print(f"| {label} | {one} | {ratio(one, base[0])} | {four} | {ratio(four, base[1])} | {avg} | {p99} | {added} | {lost} |")
PY
echo
echo "Handover: iperf3 TCP mn -> cn for 8 s (Multipath TCP: 16 KiB writes), one move 2 s in, $RUNS run(s) per case; median (max) in ms, from a capture on rt's link to cn."
echo "Outage: last mn -> cn packet of the old address pair to the first of the new one (n/a for MPTCP in b and e: both pairs carry data before the move)."
echo "Data gap: the longest silence of mn's data packets from the move to 1 s after it; \"no move\": the same over a 1 s window early in the transfer."
echo
echo "| case | engines: outage | engines: data gap | engines: no move | engines: failed runs | MPTCP: outage | MPTCP: data gap | MPTCP: no move | MPTCP: failed runs |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
summary() {   # values...
    if [[ $# -eq 0 ]]; then echo "-"; return; fi
    python3 -c 'import statistics, sys; v = [float(x) for x in sys.argv[1:]]; print(f"{statistics.median(v):.1f} ({max(v):.1f})")' "$@"
}
for case in "${CASES[@]}"; do
    mptcp_outage="skipped"; mptcp_gap="skipped"; mptcp_control="skipped"; mptcp_failed="-"
    if [[ -z "$MPTCP_MISSING" ]]; then
        mptcp_outage=$(summary ${VALUES[mptcp.$case.outage]:-})
        [[ "$case" != a ]] && mptcp_outage="n/a"
        mptcp_gap=$(summary ${VALUES[mptcp.$case.gap]:-})
        mptcp_control=$(summary ${VALUES[mptcp.$case.control]:-})
        mptcp_failed=${HANDOVER_FAILURES[mptcp.$case]:-0}
    fi
    echo "| $(describe "$case") | $(summary ${VALUES[engine.$case.outage]:-}) | $(summary ${VALUES[engine.$case.gap]:-}) |" \
        "$(summary ${VALUES[engine.$case.control]:-}) | ${HANDOVER_FAILURES[engine.$case]:-0} | $mptcp_outage | $mptcp_gap | $mptcp_control | $mptcp_failed |"
done
[[ -n "$MPTCP_MISSING" ]] && echo && echo "Multipath TCP skipped: $MPTCP_MISSING."
total_failures=$FAILURES
for count in "${HANDOVER_FAILURES[@]}"; do total_failures=$((total_failures + count)); done
[[ $total_failures -eq 0 ]]
