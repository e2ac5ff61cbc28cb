#!/usr/bin/env bash
# expiry.sh - Host Cache lifetimes in the engine (draft 2.1.3, 2.1.4, 2.2).
#
# Builds a lab of its own (scripts/lab.sh, LAB_ID ex<pid>) with an engine
# on mn and one on cn, both with the same manually keyed AH SAs.
#
# Part 1, absolute lifetimes: cn's engine runs with --binding-lifetime 6,
# so the address its Binding Update registers in mn's entry lives 6 s and
# cn must refresh it (at 80 %). Then cn's engine stops (its host becomes a
# plain IPv6 host that refreshes nothing): in mn's entry cn's address
# expires, ping6 mn -> cn is answered by mn's engine with ICMPv6
# Destination Unreachable, address unreachable (2.2), and after
# MAXIMUM-EXPIRED-LIFETIME (--max-expired-lifetime 4 on mn) the entry is
# removed (2.1.4) and ping6 reaches the plain host again.
#
# Part 2, activity-related lifetimes: a new TCP connection makes a new
# entry; cn, plain now, answers the Initial Binding Update with a Parameter
# Problem (a Standard Host), so cn's address keeps its activity-related
# lifetime (--default-lifetime 4 on mn). It stays live while a ping runs
# (the workers record the traffic) and expires after the ping stops.
#
# KEYING=handshake: the engines run `--anonymous-handshake` instead of
# manual SAs, so mn's entry for cn is untrusted (draft 5.2): mn runs with
# --untrusted-lifetime-cap 6 and cn asks for the default 600 s, so the 6 s
# binding (and cn's refreshes at 80 % of it) come from the cap. When the
# entry is removed, the handshake's SAs go with it: `homeless show sa
# --json` on mn no longer lists them (the entry lifecycle,
# docs/MOBILITY.md). Part 2 needs manual keys (cn, plain, answers no
# handshake) and is skipped.
#
# usage: [KEYING=manual|handshake] HOMELESS=path/to/homeless Tests/Integration/expiry.sh
# Exit status: 0 all passed, 1 a check failed, 77 skipped (not root, or a
# tool missing). The last line is "N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOMELESS="${HOMELESS:-$ROOT/.build/debug/homeless}"
KEYING="${KEYING:-manual}"
case "$KEYING" in
    manual|handshake) ;;
    *) echo "expiry.sh: unknown KEYING '$KEYING' (manual or handshake)" >&2; exit 2 ;;
esac

source "$HERE/lib.sh"
require_lab expiry.sh ip ethtool iperf3 python3 ping

export LAB_ID="${LAB_ID:-ex$$}"
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
PING_PID=""
passed=0
failed=0

MN_A=2001:db8:a::10
CN=2001:db8:c::20

ENGINE_LOG_LEVEL=info
cleanup() {
    [[ -n "$PING_PID" ]] && kill "$PING_PID" 2>/dev/null
    stop_engines_and_lab
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Evaluates a Python expression over mn's `show cache --json` as `d`;
# `cn` is the list of mn's entries that hold cn's address (live or expired).
mn_cache() {   # expression
    in_ns mn "$HOMELESS" show cache --json --name mn |
        python3 -c 'import json, sys
d = json.load(sys.stdin)
cn = [e for e in d["entries"] if sys.argv[2] in e["live-addresses"] + e["expired-addresses"]]
sys.exit(0 if eval(sys.argv[1]) else 1)' "$1" "$CN"
}

# Exits 0 when mn's `show stats --json` value at PATH (keys joined by
# '.') is at least MINIMUM.
mn_stat() {   # path minimum
    in_ns mn "$HOMELESS" show stats --json --name mn |
        python3 -c 'import json, sys
value = json.load(sys.stdin)
for key in sys.argv[1].split("."): value = value[key]
sys.exit(0 if value >= int(sys.argv[2]) else 1)' "$1" "$2"
}

# One short TCP transfer mn -> cn (opens a conversation: a new entry).
transfer() {   # port
    in_ns cn iperf3 -s -1 -p "$1" >/dev/null 2>&1 &
    local server=$!
    sleep 0.3
    in_ns mn timeout 15 iperf3 -c "$CN" -p "$1" -t 1 >"$WORK/transfer-$1.txt" 2>&1
    local status=$?
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
    return "$status"
}

lab_up
write_manual_sas "$WORK/sa.conf" "$MN_A" "$CN"

check "a --binding-lifetime below 4 s is refused (exit 64)" \
    bash -c "ip netns exec hl-$LAB_ID-mn '$HOMELESS' run --wire lnk-a --name x --binding-lifetime 2 >/dev/null 2>&1; test \$? -eq 64"
if [[ "$KEYING" == manual ]]; then
    MN_KEYING=(--sa "$WORK/sa.conf"); CN_KEYING=(--sa "$WORK/sa.conf" --binding-lifetime 6)
else
    MN_KEYING=(--anonymous-handshake --untrusted-lifetime-cap 6); CN_KEYING=(--anonymous-handshake)
fi
check "engine starts on mn (--default-lifetime 4 --max-expired-lifetime 4 ${MN_KEYING[*]})" \
    start_engine mn lnk-a --workers 1 --default-lifetime 4 --max-expired-lifetime 4 "${MN_KEYING[@]}"
check "engine starts on cn (${CN_KEYING[*]})" start_engine cn lnk-c --workers 1 "${CN_KEYING[@]}"

# Exits 0 when mn's `show sa --json` lists exactly COUNT SAs with cn
# (source or destination cn's address).
mn_sas_with_cn() {   # count
    in_ns mn "$HOMELESS" show sa --json --name mn |
        python3 -c 'import json, sys
d = json.load(sys.stdin)
n = sum(sys.argv[2] in (a["source"], a["destination"]) for a in d["associations"])
sys.exit(0 if n == int(sys.argv[1]) else 1)' "$1" "$CN"
}

# --- part 1: absolute lifetimes, address unreachable, removal ---------------
check "a TCP transfer mn -> cn opens the conversation" transfer 5401
check "mn's entry for cn is Homeless with cn's address live" \
    wait_for 5 mn_cache "any(e['capability'] == 'homeless' and '$CN' in e['live-addresses'] for e in cn)"
if [[ "$KEYING" == handshake ]]; then
    check "mn's entry for cn is untrusted (draft 5.2: known only through the handshake)" \
        mn_cache "any(e['trust'] == 'untrusted' for e in cn)"
    check "mn holds the handshake's SA pair with cn (homeless show sa)" mn_sas_with_cn 2
fi
sleep 9
check "cn's 6 s binding is still live 9 s later (cn refreshed it)" mn_cache "any('$CN' in e['live-addresses'] for e in cn)"
stop_engine cn
check "without refreshes cn's address expires in mn's entry (kept as expired)" \
    wait_for 10 mn_cache "any('$CN' in e['expired-addresses'] and not e['live-addresses'] for e in cn)"
in_ns mn ping -6 -c 1 -W 2 "$CN" >"$WORK/ping-unreachable.txt" 2>&1
check "ping6 mn -> cn: mn's engine answers 'Address unreachable' (draft 2.2)" \
    grep -q 'Address unreachable' "$WORK/ping-unreachable.txt" || cat "$WORK/ping-unreachable.txt"
check "mn counted the expiry and the ICMPv6 error" \
    bash -c "$(declare -f in_ns mn_stat); HOMELESS='$HOMELESS' LAB_ID='$LAB_ID'
        mn_stat mobility.addresses-expired 1 && mn_stat mobility.address-unreachable-sent 1 &&
        mn_stat totals.drops-by-reason.peer-unreachable 1"
check "after MAXIMUM-EXPIRED-LIFETIME mn removed the entry (2.1.4)" wait_for 10 mn_cache "not cn"
check "mn counted the purge and the removal" \
    bash -c "$(declare -f in_ns mn_stat); HOMELESS='$HOMELESS' LAB_ID='$LAB_ID'
        mn_stat mobility.addresses-purged 1 && mn_stat mobility.entries-removed 1"
check "ping6 mn -> cn reaches the plain host again" in_ns mn ping -6 -q -c 1 -W 2 "$CN" >/dev/null
if [[ "$KEYING" == handshake ]]; then
    check "the retired peer's anonymous SAs are gone (homeless show sa --json)" mn_sas_with_cn 0
    check "mn counted the retired SAs" \
        bash -c "$(declare -f in_ns mn_stat); HOMELESS='$HOMELESS' LAB_ID='$LAB_ID'
            mn_stat mobility.associations-retired 2 && mn_stat mobility.peers-idled 1"
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]]
    exit
fi

# --- part 2: activity-related lifetimes -------------------------------------
check "a new TCP transfer to the plain host works" transfer 5402
check "cn answered with a Parameter Problem: a Standard Host in a new entry" \
    wait_for 5 mn_cache "any(e['capability'] == 'standard' and '$CN' in e['live-addresses'] for e in cn)"
in_ns mn ping -6 -i 0.2 -c 40 "$CN" >/dev/null 2>&1 &
PING_PID=$!
sleep 7
check "cn's address stays live while traffic flows (4 s DEFAULT-LIFETIME, 7 s of ping)" \
    mn_cache "any('$CN' in e['live-addresses'] for e in cn)"
wait "$PING_PID" 2>/dev/null
PING_PID=""
check "without traffic it expires after DEFAULT-LIFETIME" \
    wait_for 8 mn_cache "not cn or any('$CN' in e['expired-addresses'] for e in cn)"

echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
