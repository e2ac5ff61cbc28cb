#!/usr/bin/env bash
# hijack.sh - a peer with a valid SA of its own cannot take over or cut off
# another peer's connections (entry-bound authorisation, draft 2.4.2,
# 3.3.1, 5.3; docs/SECURITY.md).
#
# Builds a lab of its own with the hostile node ev (scripts/lab.sh with
# LAB_HOSTILE=1, LAB_ID hj<pid>): engines on mn and cn, an iperf3 TCP
# transfer mn -> cn, and while it runs ev attacks cn's entry for mn:
#   KEYING=manual (default): cn has manually keyed SAs with mn and with ev
#     (ev's key distinct). ev (scapy, Tests/Integration/forge_binding_update.py)
#     first registers its own address (accepted: the AH is valid, cn makes
#     an entry for ev), then sends AH-valid Binding Updates with mn's
#     address in the Home Address option: moving mn to another address of
#     ev's, deleting mn's address (lifetime 0), and one registering mn's
#     address in ev's own entry (address confusion, 5.3).
#   KEYING=handshake: all three run `--anonymous-handshake`. ev's engine
#     opens a TCP connection to cn (its handshake makes its anonymous SA
#     with cn), then gains mn's address on its wire: ev's engine announces
#     it to cn in an AH-valid Binding Update under ev's SA.
# Checks: cn's entry for mn keeps mn's address live (homeless show cache
# --json) and holds no address of ev; the transfer completes (iperf3 exits
# 0: its connection was never reset) and moves data after the attack with
# no outage longer than 3 s; cn counts the refusals
# (homeless show stats, mobility section) and logs each at warning level
# with the SA's SPI, the claimed address and the owning entry.
#
# usage: [KEYING=manual|handshake] HOMELESS=path/to/homeless Tests/Integration/hijack.sh
# Exit status: 0 all passed, 1 a check failed, 2 bad usage, 77 skipped (not
# root, or a tool missing). The last line is "N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOMELESS="${HOMELESS:-$ROOT/.build/debug/homeless}"
KEYING="${KEYING:-manual}"
case "$KEYING" in
    manual|handshake) ;;
    *) echo "hijack.sh: unknown KEYING '$KEYING' (manual or handshake)" >&2; exit 2 ;;
esac

source "$HERE/lib.sh"
require_lab hijack.sh ip iperf3 python3
SCAPY_PYTHON=""
for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c 'import scapy.all' 2>/dev/null; then SCAPY_PYTHON="$candidate"; break; fi
done
if [[ "$KEYING" == manual && -z "$SCAPY_PYTHON" ]]; then
    echo "hijack.sh: skipped (scapy is not installed)"
    exit 77
fi

export LAB_ID="${LAB_ID:-hj$$}"
export LAB_HOSTILE=1
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
passed=0
failed=0

MN=2001:db8:a::10   # mn's address: its connection's ULID
CN=2001:db8:c::20
EV=2001:db8:d::66
EV2=2001:db8:d::67  # another address on ev's link, where ev would move mn

forger=""
cleanup() {
    [[ -n "$forger" ]] && kill "$forger" 2>/dev/null
    stop_engines_and_lab
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cache_has() {   # node expression over `homeless show cache --json` as d
    in_ns "$1" "$HOMELESS" show cache --json --name "$1" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}
mobility() {   # node counter: prints the mobility counter
    stat "$1" "d['mobility'].get('$2', 0)"
}
# cn's entry for mn: mn's address live, none of ev's addresses in it.
mn_entry_intact() {
    cache_has cn "any('$MN' in e['live-addresses'] and not {'$EV', '$EV2'} & set(e['live-addresses'] + e['expired-addresses']) for e in d['entries'])"
}

lab_up
if [[ "$KEYING" == manual ]]; then
    write_manual_sas "$WORK/mn.conf" "$MN" "$CN"
    key=$(python3 -c 'import os; print("0x" + os.urandom(32).hex())')
    key2=$(python3 -c 'import os; print("0x" + os.urandom(32).hex())')
    printf '# ev <-> cn, its own keys\nadd %s %s ah 0x3001 -A hmac-sha256 %s;\nadd %s %s ah 0x3002 -A hmac-sha256 %s;\n' \
        "$EV" "$CN" "$key" "$CN" "$EV" "$key2" >"$WORK/ev.conf"
    cat "$WORK/mn.conf" "$WORK/ev.conf" >"$WORK/cn.conf"
    MN_KEYING=(--sa "$WORK/mn.conf"); CN_KEYING=(--sa "$WORK/cn.conf")
else
    MN_KEYING=(--anonymous-handshake); CN_KEYING=(--anonymous-handshake)
fi
check "engine starts on mn (${MN_KEYING[*]})" start_engine mn lnk-a --workers 1 "${MN_KEYING[@]}"
check "engine starts on cn (${CN_KEYING[*]})" start_engine cn lnk-c --workers 1 "${CN_KEYING[@]}"
if [[ "$KEYING" == handshake ]]; then
    check "engine starts on ev (--anonymous-handshake)" start_engine ev lnk-d --workers 1 --anonymous-handshake
fi

if [[ "$KEYING" == manual ]]; then
    # AH sequence, Home Address, care-of address, lifetime, BU sequence:
    # ev's own first Binding Update (its SA is valid: cn adopts ev), then
    # mn moved to another address of ev's, mn's address deleted (each
    # twice, with BU sequence numbers 2^15 apart: one of them is newer than
    # mn's last, whatever it is), and mn's address registered in ev's
    # entry. Started now, so scapy has loaded when the transfer runs.
    in_ns ev "$SCAPY_PYTHON" "$HERE/forge_binding_update.py" --after "$WORK/attack" "$WORK/ev.conf" 0x3001 "$EV" "$CN" \
        "1,$EV,$EV,600,100" "2,$MN,$EV2,600,101" "3,$MN,$EV2,600,32869" "4,$MN,$MN,0,102" "5,$MN,$MN,0,32870" \
        "6,$EV,$MN,600,103" >"$WORK/forge.log" 2>&1 &
    forger=$!
fi
in_ns cn iperf3 -s -1 -B "$CN" -p 5401 >/dev/null 2>&1 &
server=$!
sleep 0.3
in_ns mn timeout 40 iperf3 -c "$CN" -p 5401 -t 12 -i 0.5 -J >"$WORK/iperf.json" 2>"$WORK/iperf.err" &
client=$!
STARTED=$(date +%s.%N)
check "cn made its entry for mn from mn's Initial Binding Update" wait_for 5 cache_has cn "any('$MN' in e['live-addresses'] for e in d['entries'])"

if [[ "$KEYING" == manual ]]; then
    touch "$WORK/attack"
    wait "$forger"
    forger=""
    ATTACKED=$(python3 -c "print($(date +%s.%N) - $STARTED)")
    check "ev sent its Binding Updates (scapy, ev's key; exit status $?)" grep -q "seq 6:" "$WORK/forge.log" ||
        cat "$WORK/forge.log"
    check "ev's own update under its SA is accepted (cn has an entry for ev)" \
        wait_for 3 cache_has cn "any('$EV' in e['live-addresses'] for e in d['entries'])"
    check "cn refused the four updates naming mn's entry (signalling-other-entry-refused)" \
        wait_for 3 bash -c "[[ \$(ip netns exec hl-$LAB_ID-cn $HOMELESS show stats --json --name cn | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"mobility\"][\"signalling-other-entry-refused\"])') -ge 4 ]]"
    check "cn refused mn's address in ev's entry (signalling-other-address-refused = $(mobility cn signalling-other-address-refused))" \
        test "$(mobility cn signalling-other-address-refused)" -ge 1
    check "none of ev's updates failed authentication (authentication-failures = $(mobility cn authentication-failures))" \
        test "$(mobility cn authentication-failures)" -eq 0
    check "cn logged a warning naming ev's SPI, mn's address and the entry owning it" \
        grep -Eq "warning .*claimed=$MN owner=[^n][^ ]* spi=0x3001 .*signalling refused" "$WORK/cn.log"
else
    # ev's own conversation with cn: its handshake makes ev's anonymous SA.
    in_ns cn iperf3 -s -1 -B "$CN" -p 5402 >/dev/null 2>&1 &
    ev_server=$!
    sleep 0.3
    in_ns ev timeout 20 iperf3 -c "$CN" -p 5402 -t 6 -b 1M >"$WORK/ev-iperf.log" 2>&1 &
    ev_client=$!
    check "ev's engine made an SA with cn by the handshake" \
        wait_for 5 bash -c "ip netns exec hl-$LAB_ID-ev $HOMELESS show stats --json --name ev | python3 -c 'import json,sys; d=json.load(sys.stdin); sys.exit(0 if (d.get(\"handshake\") or {}).get(\"established-as-initiator\", 0) >= 1 else 1)'"
    check "cn has an entry for ev" wait_for 3 cache_has cn "any('$EV' in e['live-addresses'] for e in d['entries'])"
    # ev gains mn's address: its engine announces it to cn under ev's SA.
    in_ns ev ip -6 addr add "$MN/64" dev hl0 nodad 2>/dev/null || in_ns ev ip -6 addr add "$MN/128" dev hl0 nodad
    ATTACKED=$(python3 -c "print($(date +%s.%N) - $STARTED)")
    check "cn refused mn's address in ev's entry (signalling-other-address-refused)" \
        wait_for 5 bash -c "[[ \$(ip netns exec hl-$LAB_ID-cn $HOMELESS show stats --json --name cn | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"mobility\"][\"signalling-other-address-refused\"])') -ge 1 ]]"
    check "cn logged the refusal naming mn's address" grep -Eq "warning .*claimed=$MN owner=[^n][^ ]* spi=.*signalling refused" "$WORK/cn.log"
    wait "$ev_client" 2>/dev/null
    kill "$ev_server" 2>/dev/null
    wait "$ev_server" 2>/dev/null
fi

check "cn's entry for mn still holds mn's address live and nothing of ev's" mn_entry_intact
wait "$client"
client_status=$?
wait "$server" 2>/dev/null
# iperf3 exits 0 only when its TCP connection lived to the end: TCP then
# delivered every byte iperf3 wrote (a hijacked entry sends cn's
# acknowledgements to ev: the transfer stalls for good, or is reset).
check "iperf3 finished without error" test "$client_status" -eq 0 || cat "$WORK/iperf.err" "$WORK/iperf.json"
# A stall is an outage of more than 3 s (six empty 0.5 s intervals in a
# row): on a loaded machine TCP's retransmission timeouts back off to
# 1.5 s gaps with or without an attack; an entry ev took over or cut off
# stops the transfer for good.
check "data flowed after the attack and never stopped for more than 3 s" python3 - "$WORK/iperf.json" "$ATTACKED" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
attacked = float(sys.argv[2])
sent, received = d["end"]["sum_sent"]["bytes"], d["end"]["sum_received"]["bytes"]
run = longest = 0
for interval in d["intervals"]:
    run = run + 1 if interval["sum"]["bytes"] == 0 else 0
    longest = max(longest, run)
after = sum(i["sum"]["bytes"] for i in d["intervals"] if i["sum"]["start"] >= attacked)
print(f"   sent {sent}, received {received} before the end of the test, {after} after the attack ended at {attacked:.1f} s, "
      f"longest outage {longest * 0.5} s")
sys.exit(0 if received > 0.9 * sent and after > 0 and longest <= 6 else 1)
PY
check "cn's entry for mn is intact after the transfer" mn_entry_intact
in_ns cn "$HOMELESS" show stats --name cn | grep -E 'signalling-.*refused|authentication-failures' | sed 's/^/   cn: /'

echo "$passed passed, $failed failed"
[[ "$failed" -eq 0 ]]
