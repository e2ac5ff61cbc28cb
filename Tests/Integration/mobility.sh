#!/usr/bin/env bash
# mobility.sh - a TCP transfer survives renumbering (draft sections 2.1-2.3).
#
# Builds a lab of its own (scripts/lab.sh, LAB_ID mb<pid>) and runs an
# engine on mn (wire lnk-a) and one on cn (wire lnk-c), both with the same
# manually keyed AH SAs (keys made here). An unmodified iperf3 TCP transfer
# runs mn -> cn; two seconds in, mn gets a new address on link A and loses
# the old one (its ULID). Checks:
#   * the Initial Binding Update and its Acknowledgement made cn's entry for
#     mn, and mn's entry for cn is Homeless;
#   * iperf3 finishes without error and moves data after the renumbering;
#   * cn's Host Cache lists mn's new address, and the old one is gone;
#   * on link A, after the move, mn's packets carry the new address (the
#     engine translates), and tshark dissects a Binding Update as IPv6 + AH;
#   * a bad SA file is refused with its line number, before any change.
# Prints the outage seen on rt: the gap between the last TCP packet from
# the old address and the first from the new one.
#
# usage: HOMELESS=path/to/homeless Tests/Integration/mobility.sh
# Exit status: 0 all passed, 1 a check failed, 77 skipped (not root, or a
# tool missing). The last line is "N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOMELESS="${HOMELESS:-$ROOT/.build/debug/homeless}"
LAB="$ROOT/scripts/lab.sh"

if [[ $(id -u) -ne 0 ]]; then
    echo "mobility.sh: skipped (needs root for network namespaces)"
    exit 77
fi
for tool in ip ethtool iperf3 python3 tcpdump; do
    if ! command -v "$tool" >/dev/null; then
        echo "mobility.sh: skipped ($tool is not installed)"
        exit 77
    fi
done
if [[ ! -x "$HOMELESS" ]]; then
    echo "mobility.sh: no homeless binary at $HOMELESS (set HOMELESS)" >&2
    exit 1
fi

export LAB_ID="${LAB_ID:-mb$$}"
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
CAPTURE_PID=""
SIGNALLING_PID=""
passed=0
failed=0

OLD=2001:db8:a::10
NEW=2001:db8:a::99
CN=2001:db8:c::20

ENGINE_LOG_LEVEL=info
source "$HERE/lib.sh"

cleanup() {
    local node
    [[ -n "$CAPTURE_PID" ]] && kill -KILL "$CAPTURE_PID" 2>/dev/null
    [[ -n "$SIGNALLING_PID" ]] && kill -KILL "$SIGNALLING_PID" 2>/dev/null
    for node in "${!ENGINE_PID[@]}"; do stop_engine "$node" || true; done
    bash "$LAB" down >/dev/null 2>&1 || true
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() {   # description command...
    local description="$1"; shift
    if "$@"; then pass "$description"; else fail "$description"; return 1; fi
}

cache_json() { in_ns "$1" "$HOMELESS" show cache --json --name "$1"; }

# Evaluates a Python expression over the cache JSON `d`.
cache_has() {   # node expression
    cache_json "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}

wait_for() {   # seconds command...
    local tries=$(( $1 * 10 )); shift
    for _ in $(seq "$tries"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

bash "$LAB" up >"$WORK/lab.log" 2>&1 || { cat "$WORK/lab.log"; exit 1; }

# --- SA file: one SA each way, HMAC-SHA-256, keys made for this run --------
key() { python3 -c 'import os; print("0x" + os.urandom(32).hex())'; }
cat >"$WORK/sa.conf" <<CONF
# mn <-> cn, manually keyed (draft 2.4)
add $OLD $CN ah 0x2001 -A hmac-sha256 $(key);
add $CN $OLD ah 0x2002 -A hmac-sha256 $(key);
CONF
printf 'add %s %s ah 0x10 -A hmac-sha256 0x1234;\nbogus line;\n' "$OLD" "$CN" >"$WORK/bad.conf"

in_ns mn "$HOMELESS" run --wire lnk-a --name mn --sa "$WORK/bad.conf" >"$WORK/out" 2>"$WORK/err"
status=$?
check "a bad SA file is refused (exit 64)" test "$status" -eq 64
check "the error names the file and line 2" grep -q "bad.conf: line 2" "$WORK/err"
check "the refused engine left lnk-a alone" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 addr show dev lnk-a | grep -q $OLD"

check "engine with SAs starts on mn" start_engine mn lnk-a --workers 1 --sa "$WORK/sa.conf"
check "engine with SAs starts on cn" start_engine cn lnk-c --workers 1 --sa "$WORK/sa.conf"
check "mn loaded its two SAs" grep -q 'count=2 .*security associations loaded' "$WORK/mn.log"

# Capture link A on rt (both addresses of mn travel there).
# TCP headers only (for the outage), and the AH-protected signalling whole.
# `ip netns exec` execs tcpdump, so $! is tcpdump itself. It is stopped
# with SIGKILL: a test runner may start this script with SIGTERM and SIGINT
# blocked, which tcpdump inherits; -U has written every packet already.
ip netns exec "hl-$LAB_ID-rt" tcpdump -i lnk-a -n -U -s 96 -w "$WORK/lnk-a.pcap" 'ip6 and tcp' >/dev/null 2>&1 &
CAPTURE_PID=$!
ip netns exec "hl-$LAB_ID-rt" tcpdump -i lnk-a -n -U -w "$WORK/signalling.pcap" 'ip6 proto 51' >/dev/null 2>&1 &
SIGNALLING_PID=$!
sleep 1

# --- the transfer and the renumbering ---------------------------------------
in_ns cn iperf3 -s -1 -B "$CN" -p 5301 >/dev/null 2>&1 &
sleep 0.5
in_ns mn timeout 40 iperf3 -c "$CN" -p 5301 -t 8 -i 0.5 -J >"$WORK/iperf.json" 2>"$WORK/iperf.err" &
IPERF=$!
sleep 2
check "cn adopted mn after its Initial Binding Update" \
    wait_for 3 cache_has cn "any('$OLD' in e['live-addresses'] and e['capability'] == 'homeless' for e in d['entries'])"
check "mn's entry for cn is Homeless (Binding Acknowledgement received)" \
    cache_has mn "any('$CN' in e['live-addresses'] and e['capability'] == 'homeless' for e in d['entries'])"
# Exits 0 when `homeless show sa --json` on the node lists every SPI given.
sa_lists() {   # node spi...
    local node=$1; shift
    in_ns "$node" "$HOMELESS" show sa --json --name "$node" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if set(sys.argv[1:]) <= {a["spi"] for a in d["associations"]} else 1)' "$@"
}
check "cn lists its SAs 0x2001 and 0x2002 (homeless show sa)" sa_lists cn 0x2001 0x2002
MOVED_AT=$(date +%s.%N)
in_ns mn ip -6 addr add "$NEW/64" dev hl0 nodad
in_ns mn ip -6 addr del "$OLD/64" dev hl0
wait "$IPERF"
iperf_status=$?
check "iperf3 finished without error" test "$iperf_status" -eq 0
after=$(python3 - "$WORK/iperf.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
if "error" in d: print(-1); sys.exit()
# Intervals that start 1 s after the move (2 s into the run) and later.
print(sum(i["sum"]["bytes"] for i in d["intervals"] if i["sum"]["start"] >= 3.0))
PY
)
if ! check "data moved after the renumbering ($after bytes)" test "${after:--1}" -gt 0; then
    cat "$WORK/iperf.err"; tail -c 2000 "$WORK/iperf.json"
fi
check "cn's entry for mn lists the new address" \
    wait_for 3 cache_has cn "any('$NEW' in e['live-addresses'] for e in d['entries'])"
check "cn's entry for mn no longer lists the old address as live" \
    cache_has cn "all('$OLD' not in e['live-addresses'] for e in d['entries'] if '$NEW' in e['live-addresses'])"
check "mn kept its ULID for the connection (deprecated)" \
    bash -c "ip netns exec hl-$LAB_ID-mn ip -6 addr show dev hl0 | grep -A1 '$OLD' | grep -q 'preferred_lft 0sec'"

sleep 0.5
kill -KILL "$CAPTURE_PID" "$SIGNALLING_PID" 2>/dev/null
wait "$CAPTURE_PID" "$SIGNALLING_PID" 2>/dev/null
CAPTURE_PID=""; SIGNALLING_PID=""
# Outage: last TCP segment from the old address, first from the new one.
last_old=$(tcpdump -r "$WORK/lnk-a.pcap" -n -tt "ip6 and tcp and src $OLD" 2>/dev/null | tail -1 | cut -d' ' -f1)
first_new=$(tcpdump -r "$WORK/lnk-a.pcap" -n -tt "ip6 and tcp and src $NEW" 2>/dev/null | head -1 | cut -d' ' -f1)
check "mn's TCP packets carry the new address on the wire after the move" test -n "$first_new"
if [[ -n "$last_old" && -n "$first_new" ]]; then
    echo "outage: last TCP packet from $OLD at $last_old, first from $NEW at $first_new:" \
         "$(python3 -c "print(f'{($first_new - $last_old) * 1000:.1f} ms')")" \
         "(address change at $MOVED_AT)"
fi
if command -v tshark >/dev/null; then
    check "tshark dissects a Binding Update as IPv6 + AH + Destination Options" \
        bash -c "tshark -r '$WORK/signalling.pcap' -Y ah -T fields -e frame.protocols 2>/dev/null | grep -q 'ipv6:ah:ipv6.dstopts'"
fi

stop_engine mn
stop_engine cn
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
