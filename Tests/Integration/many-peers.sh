#!/usr/bin/env bash
# many-peers.sh - traffic to a peer while the Host Cache holds 10^5 other
# entries, each made through the engine's normal inbound path.
#
# Builds a lab of its own (scripts/lab.sh, LAB_ID mp<pid>). cn's SA file
# holds, besides its SA pair with mn, a manually keyed AH SA pair with each
# of PEERS (default 100000) other hosts 2001:db8:e::1 onwards. A generator
# on rt (many_peers.py: Python with hmac, an AF_PACKET socket; scapy would
# take minutes) sends each of them a Binding Update from its address under
# its SA: cn's engine verifies the AH, adopts the peer (draft 2.4.2, the
# manual SA standing in for the handshake, as for mn's first update),
# creates its Foreign entry and answers with a Binding Acknowledgement,
# which cn's kernel routes to rt, where a blackhole route drops it after
# the generator saw it (that is its "done" signal per peer).
# Then, as mobility.sh case a: an iperf3 transfer mn -> cn during which mn
# is renumbered (gains 2001:db8:a::99, loses its ULID). Checks:
#   * cn loads its 2 x (PEERS + 1) SAs, and answers every peer;
#   * cn's statistics count PEERS + 1 entries created (mn's included) and
#     its Host Cache holds at least PEERS + 1 entries;
#   * the transfer finishes without error and moves data after the move;
#   * cn's entry for mn lists the new address (the old one no longer live);
#   * on link C mn's data packets carry the new locator after the move.
# Prints "entries-created-seconds N": how long the generator took to get
# every peer's entry made (cn's slow path at work; noisy on a loaded host),
# and "sa-loading-seconds N": from cn's start to its control socket
# answering (mostly parsing the 26 MB SA file). With the debug build on a
# loaded 2-vCPU machine the script takes 2 to 3 minutes.
#
# usage: [PEERS=N] HOMELESS=path/to/homeless Tests/Integration/many-peers.sh
# Exit status: 0 all passed, 1 a check failed, 77 skipped (not root, or a
# tool missing). The last line is "N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOMELESS="${HOMELESS:-$ROOT/.build/debug/homeless}"
PEERS="${PEERS:-100000}"

source "$HERE/lib.sh"
require_lab many-peers.sh ip iperf3 python3 tcpdump

export LAB_ID="${LAB_ID:-mp$$}"
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
CAPTURE_PID=""
passed=0
failed=0

MN_A=2001:db8:a::10      # mn's first address: the connection's ULID
MN_A2=2001:db8:a::99     # mn's address after renumbering
CN=2001:db8:c::20
FIRST_PEER=2001:db8:e::1

cleanup() {
    [[ -n "$CAPTURE_PID" ]] && kill -KILL "$CAPTURE_PID" 2>/dev/null
    stop_engines_and_lab
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The Foreign entry of NODE holding ADDRESS, as JSON (`show cache --address`:
# the whole list of 10^5 entries would be large).
entry_json() { in_ns "$1" "$HOMELESS" show cache --json --name "$1" --address "$2"; }
# Evaluates a Python expression over that JSON `d`.
entry_has() {   # node address expression
    entry_json "$1" "$2" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$3"
}
mobility_counter() {   # node name
    stat "$1" "d['mobility']['$2']"
}

echo "$PEERS other peers"
lab_up

# --- SA files: mn's pair with cn; cn's the same plus one pair per peer ------
write_manual_sas "$WORK/mn.conf" "$MN_A" "$CN"
cp "$WORK/mn.conf" "$WORK/cn.conf"
KEY_IN=$(python3 -c 'import os; print("0x" + os.urandom(32).hex())')
KEY_OUT=$(python3 -c 'import os; print("0x" + os.urandom(32).hex())')
python3 "$HERE/many_peers.py" sa-file "$WORK/cn.conf" "$FIRST_PEER" "$PEERS" "$CN" "$KEY_IN" "$KEY_OUT"
echo "cn's SA file: $(wc -l <"$WORK/cn.conf") lines, $(wc -c <"$WORK/cn.conf") bytes"

# The answers to the peers go to rt, which drops them.
in_ns rt ip -6 route add blackhole 2001:db8:e::/64

check "engine starts on mn" start_engine mn lnk-a --workers 1 --sa "$WORK/mn.conf"
loading_started=$(date +%s.%N)
ENGINE_LOG_LEVEL=info ENGINE_START_SECONDS=150 check "engine starts on cn with $((2 * PEERS + 2)) SAs (--max-peers 131072)" \
    start_engine cn lnk-c --workers 1 --sa "$WORK/cn.conf" --max-peers 131072
echo "sa-loading-seconds $(python3 -c "print(round($(date +%s.%N) - $loading_started, 1))")"
check "cn loaded every SA" grep -q "count=$((2 * PEERS + 2)) .*security associations loaded" "$WORK/cn.log"

# rt's frames to cn go to the MAC rt's kernel uses for cn's address.
in_ns rt ping -6 -c 1 -W 2 "$CN" >/dev/null 2>&1
CN_MAC=$(in_ns rt ip -6 neigh show "$CN" dev lnk-c | awk '/lladdr/ { print $3; exit }')
check "rt knows cn's MAC ($CN_MAC)" test -n "$CN_MAC"

# --- 10^5 peers' Binding Updates --------------------------------------------
in_ns rt python3 "$HERE/many_peers.py" flood lnk-c "$CN_MAC" "$FIRST_PEER" "$PEERS" "$CN" "$KEY_IN" \
    >"$WORK/flood.json" 2>"$WORK/flood.err"
flood_status=$?
cat "$WORK/flood.err"; cat "$WORK/flood.json"
check "cn answered every peer's Binding Update" test "$flood_status" -eq 0
echo "entries-created-seconds $(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["seconds"])' "$WORK/flood.json" 2>/dev/null)"
created=$(mobility_counter cn entries-created)
check "cn counts $PEERS entries created ($created)" test "${created:-0}" -ge "$PEERS"
check "cn's Host Cache holds at least $PEERS entries" \
    entry_has cn "$FIRST_PEER" "d['entry-count'] >= $PEERS and d['entries'][0]['kind'] == 'foreign'"
check "cn's entry for the last peer exists" \
    entry_has cn "$(python3 -c "import ipaddress; print(ipaddress.IPv6Address('$FIRST_PEER') + $PEERS - 1)")" "len(d['entries']) == 1"

# --- mn's transfer and renumbering, with the peers in the cache ------------
ip netns exec "hl-$LAB_ID-rt" tcpdump -i lnk-c -n -U -s 128 -w "$WORK/data.pcap" "ip6 and tcp" >/dev/null 2>&1 &
CAPTURE_PID=$!
sleep 1
in_ns cn iperf3 -s -1 -B "$CN" -p 5301 >/dev/null 2>&1 &
sleep 0.5
in_ns mn timeout 40 iperf3 -c "$CN" -p 5301 -t 6 -i 0.5 -J >"$WORK/iperf.json" 2>"$WORK/iperf.err" &
IPERF=$!
STARTED=$(date +%s.%N)
sleep 2
check "cn adopted mn (its entry for mn is Homeless)" \
    wait_for 3 entry_has cn "$MN_A" "d['entries'] and d['entries'][0]['capability'] == 'homeless'"
in_ns mn ip -6 addr add "$MN_A2/64" dev hl0 nodad
in_ns mn ip -6 addr del "$MN_A/64" dev hl0
MOVED=$(date +%s.%N)
wait "$IPERF"
iperf_status=$?
read -r after received < <(python3 - "$WORK/iperf.json" "$(python3 -c "print($MOVED - $STARTED)")" <<'PY'
import json, re, sys
text = re.sub(r"(?<=[:\s\[,])-?(nan|inf)\b", "null", open(sys.argv[1]).read())
try:
    d = json.loads(text)
except ValueError:
    print(-1, -2); sys.exit()
if "error" in d:
    print(-1, -2); sys.exit()
start = float(sys.argv[2]) + 1.0
print(sum(i["sum"]["bytes"] for i in d["intervals"] if i["sum"]["start"] >= start), d["end"]["sum_received"]["bytes"])
PY
)
check "iperf3 finished without error (exit status $iperf_status)" test "$iperf_status" -eq 0 -a "${received:--2}" != -2
if ! check "data moved after the move (${after:-?} bytes)" test "${after:--1}" -gt 0; then
    cat "$WORK/iperf.err"; tail -c 2000 "$WORK/iperf.json"
fi
check "cn's entry for mn lists the new address" \
    wait_for 3 entry_has cn "$MN_A2" "'$MN_A2' in d['entries'][0]['live-addresses']"
check "cn's entry for mn no longer lists the old address as live" \
    entry_has cn "$MN_A2" "'$MN_A' not in d['entries'][0]['live-addresses']"
sleep 0.3
kill -KILL "$CAPTURE_PID" 2>/dev/null
wait "$CAPTURE_PID" 2>/dev/null
CAPTURE_PID=""
python3 "$HERE/handover_capture.py" "$WORK/data.pcap" "$MN_A,$MN_A2" "$CN" >"$WORK/handover.txt"
grep -E '^(pair|outage-ms)' "$WORK/handover.txt"
check "on link C mn's data packets carry the new locator after the move" grep -q "^pair $MN_A2 $CN" "$WORK/handover.txt"
translated=$(total cn translated)
check "cn's workers translated mn's packets ($translated)" test "${translated:-0}" -gt 0
check "cn still holds every peer's entry" entry_has cn "$FIRST_PEER" "d['entry-count'] >= $PEERS + 1"

check "cn's engine stops cleanly" stop_engine cn
check "mn's engine stops cleanly" stop_engine mn
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
