#!/usr/bin/env bash
# mobility.sh - an unmodified TCP transfer survives address changes
# (draft sections 2.1-2.3), one handover case per run.
#
# Builds a lab of its own (scripts/lab.sh, LAB_ID mb<pid>) and runs an
# engine on mn and one on cn, both with the same manually keyed AH SAs
# (keys made here). An iperf3 TCP transfer runs mn -> cn; two seconds in,
# the case's move happens:
#   a  mn is renumbered on link A (gains 2001:db8:a::99, loses its ULID);
#   b  mn moves from link A to link B: it gains an address on link B, then
#      link A goes down (mn's engine runs on both wires);
#   c  cn is renumbered on link C while mn stays;
#   d  both move one after the other: mn renumbered, then cn;
#   e  multi-homed mn (engine on both wires, both links up from the start)
#      loses link A;
#   m  as b, and after the move rt's interface toward cn gets a 1280-octet
#      MTU: rt answers mn's full-size segments with ICMPv6 Packet Too Big
#      sent to mn's link B locator and quoting the segment with locators;
#      mn's engine turns the quote back into the ULIDs (RFC 4443 2.4 (c)),
#      so mn's kernel learns the path MTU for cn's ULID (RFC 8201), its
#      segments shrink and the transfer goes on;
#   s  cn runs no engine (a Standard Host, its kernel knows no Mobile IPv6
#      options): its ICMPv6 Parameter Problem for mn's Initial Binding
#      Update marks it standard, mn sends no more Binding Updates, and the
#      transfer is unaffected (draft 2.2.4, 3.2.1). No move;
#   u  no TCP at all: a UDP echo exchange mn -> cn (a connected UDP
#      socket on mn) opens the conversation (draft 2.1.1: the first
#      datagram creates the entry; 2.1.2: the first reply triggers the
#      Initial Binding Update), then mn gains its new address, announced by
#      a Binding Update piggybacked on the next datagram (2.2.1), and loses
#      the old one; the echoes go on.
# Checks, per case:
#   * the Initial Binding Update made cn's entry for mn, and mn's entry for
#     cn is Homeless (its Acknowledgement came back);
#   * iperf3 finishes without error (no reset: TCP delivered every byte)
#     and moves data after the move;
#   * the Host Caches list the new addresses, the old ones no longer live;
#   * on link C the data packets change to the new address pair, and after
#     the move they carry a 40-byte IPv6 header (no Routing header, no Home
#     Address option: draft 2.2.1);
#   * tshark dissects the Binding Updates as IPv6 + AH + Destination
#     Options, and scapy verifies the AH of every signalling packet with the
#     session's keys.
# Prints one "outage-ms CASE STEP VALUE" line per move: the gap on link C
# between the last mn -> cn packet with the old address pair and the first
# with the new one (Bench/handover/run.sh collects them); and
# "max-data-gap-ms VALUE at T", the longest silence of mn's data packets
# on link C in the second after the (last) move, with "control-data-gap-ms"
# the same early in the transfer (Bench/mptcp/run.sh compares them with
# Multipath TCP's).
#
# Keying: by default both engines load the same manually keyed SAs
# (`--sa`); with KEYING=handshake they run `--anonymous-handshake` instead
# and make their SAs themselves (draft 2.4.3, A.2): then the script also
# checks the handshake's counters and prints "handshake-ms VALUE", the time
# from message 1 to message 3 on link C.
#
# Steering: by default both engines bridge all of their wire's IPv6 (the
# hosts' addresses live on the kernel sides, hl0); with
# STEERING=classifier they run `--steering classifier` (the kernel keeps
# the wires and their addresses, the classifier takes the peers' traffic):
# then the moves happen on the wires themselves, and the script also
# checks the classifier's verdict counters and the peer routes; in cases b
# and e the kernel sees link A go down itself, and the check is that the
# engine moved cn's route to link B's kernel side (hl1). With
# KEYING=handshake too, the handshake starts from the SYN (case u: the
# first datagram) the slow path taps on mn's wire.
#
# usage: [MOBILITY_CASE=a|b|c|d|e|m|s|u] [KEYING=manual|handshake] [STEERING=bridge|classifier] HOMELESS=path/to/homeless Tests/Integration/mobility.sh [CASE]
# Exit status: 0 all passed, 1 a check failed, 2 bad usage, 77 skipped (not
# root, or a tool missing). The last line is "N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOMELESS="${HOMELESS:-$ROOT/.build/debug/homeless}"
CASE="${1:-${MOBILITY_CASE:-a}}"
KEYING="${KEYING:-manual}"
case "$KEYING" in
    manual|handshake) ;;
    *) echo "mobility.sh: unknown KEYING '$KEYING' (manual or handshake)" >&2; exit 2 ;;
esac
case "$CASE" in
    a|b|c|d|e|m|s|u) ;;
    *) echo "mobility.sh: unknown case '$CASE' (a, b, c, d, e, m, s or u)" >&2; exit 2 ;;
esac
STEERING="${STEERING:-bridge}"
case "$STEERING/$KEYING/$CASE" in
    bridge/*) MN_DEV=hl0; MN_DEV_B=hl1; CN_DEV=hl0; STEERING_ARGS=() ;;
    classifier/manual/*|classifier/handshake/[abcdeu])
        MN_DEV=lnk-a; MN_DEV_B=lnk-b; CN_DEV=lnk-c; STEERING_ARGS=(--steering classifier) ;;
    *) echo "mobility.sh: STEERING=classifier with KEYING=handshake runs cases a to e and u" >&2; exit 2 ;;
esac

source "$HERE/lib.sh"
require_lab mobility.sh ip ethtool iperf3 python3 tcpdump
# scapy may live only in the system interpreter.
SCAPY_PYTHON=""
for candidate in python3 /usr/bin/python3; do
    if "$candidate" -c 'import scapy.all' 2>/dev/null; then SCAPY_PYTHON="$candidate"; break; fi
done

export LAB_ID="${LAB_ID:-mb$$}"
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
CAPTURE_PID=""
SIGNALLING_PID=""
passed=0
failed=0

MN_A=2001:db8:a::10      # mn's first address: the connection's ULID
MN_A2=2001:db8:a::99     # mn's address after renumbering (cases a, d)
MN_B=2001:db8:b::10      # mn's address on link B (cases b, e)
CN=2001:db8:c::20        # cn's first address: the connection's ULID
CN2=2001:db8:c::99       # cn's address after renumbering (cases c, d)

ENGINE_LOG_LEVEL=info
cleanup() {
    [[ -n "$CAPTURE_PID" ]] && kill -KILL "$CAPTURE_PID" 2>/dev/null
    [[ -n "$SIGNALLING_PID" ]] && kill -KILL "$SIGNALLING_PID" 2>/dev/null
    stop_engines_and_lab
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cache_json() { in_ns "$1" "$HOMELESS" show cache --json --name "$1"; }

# Evaluates a Python expression over the cache JSON `d`.
cache_has() {   # node expression
    cache_json "$1" | python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if eval(sys.argv[1]) else 1)' "$2"
}
# The node's entry holding ADDRESS among its live addresses exists.
live() { cache_has "$1" "any('$2' in e['live-addresses'] for e in d['entries'])"; }
# No entry of the node that holds NEW live still holds OLD live.
gone() { cache_has "$1" "all('$3' not in e['live-addresses'] for e in d['entries'] if '$2' in e['live-addresses'])"; }
# The withdrawn address stays in the entry, expired (2.1.3), not live.
kept_expired() { cache_has "$1" "any('$2' in e['live-addresses'] and '$3' in e['expired-addresses'] for e in d['entries'])"; }

# Exits 0 when the node's `homeless show stats --json` mobility counter
# NAME is at least MINIMUM.
mobility_count() {   # node name minimum
    in_ns "$1" "$HOMELESS" show stats --json --name "$1" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if d["mobility"].get(sys.argv[1], 0) >= int(sys.argv[2]) else 1)' "$2" "$3"
}

# An address of NODE's kernel side that the engine keeps, deprecated, for
# the connection after the interface lost it (DESIGN section 1).
# (Listings are read whole before they are searched: under pipefail,
# `ip ... | grep -q` fails whenever grep quits at a match before ip has
# written its last line, and ip writes line by line.)
kept_deprecated() {   # node device address
    local listing
    listing=$(ip netns exec "hl-$LAB_ID-$1" ip -6 addr show dev "$2") || return 1
    [[ "$(grep -A1 -- "$3/" <<<"$listing")" == *'preferred_lft 0sec'* ]]
}

renumber() {   # node device old new
    in_ns "$1" ip -6 addr add "$4/64" dev "$2" nodad
    in_ns "$1" ip -6 addr del "$3/64" dev "$2"
}

echo "case $CASE, keying $KEYING, steering $STEERING"
lab_up

# --- SA file: one SA each way, HMAC-SHA-256, keys made for this run --------
write_manual_sas "$WORK/sa.conf" "$MN_A" "$CN"

if [[ "$CASE" == a ]]; then
    printf 'add %s %s ah 0x10 -A hmac-sha256 0x1234;\nbogus line;\n' "$MN_A" "$CN" >"$WORK/bad.conf"
    in_ns mn "$HOMELESS" run --wire lnk-a --name mn --sa "$WORK/bad.conf" >"$WORK/out" 2>"$WORK/err"
    status=$?
    check "a bad SA file is refused (exit 64)" test "$status" -eq 64
    check "the error names the file and line 2" grep -q "bad.conf: line 2" "$WORK/err"
    check "the refused engine left lnk-a alone" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 addr show dev lnk-a | grep -q $MN_A"
fi

MN_WIRES=(lnk-a)
case "$CASE" in
    b|m)  # mn is on link A only: link B has neither address nor route yet.
        in_ns mn ip -6 route del default via 2001:db8:b::1 dev lnk-b
        in_ns mn ip -6 addr del "$MN_B/64" dev lnk-b
        MN_WIRES=(lnk-a --wire lnk-b) ;;
    e)  MN_WIRES=(lnk-a --wire lnk-b) ;;
esac
if [[ "$KEYING" == manual ]]; then
    KEYING_ARGS=(--sa "$WORK/sa.conf")
else
    KEYING_ARGS=(--anonymous-handshake)
fi
check "engine starts on mn (--wire ${MN_WIRES[*]} ${KEYING_ARGS[*]} ${STEERING_ARGS[*]})" \
    start_engine mn "${MN_WIRES[@]}" --workers 1 "${KEYING_ARGS[@]}" "${STEERING_ARGS[@]}"
if [[ "$CASE" != s ]]; then
    check "engine starts on cn (${KEYING_ARGS[*]} ${STEERING_ARGS[*]})" \
        start_engine cn lnk-c --workers 1 "${KEYING_ARGS[@]}" "${STEERING_ARGS[@]}"
fi
if [[ "$KEYING" == manual ]]; then
    check "mn loaded its two SAs" grep -q 'count=2 .*security associations loaded' "$WORK/mn.log"
fi

# Link C on rt carries every mn -> cn packet whatever link mn uses: TCP
# headers for the outage and the header overhead, AH signalling whole.
# `ip netns exec` execs tcpdump, so $! is tcpdump itself. It is stopped
# with SIGKILL: a test runner may start this script with SIGTERM and SIGINT
# blocked, which tcpdump inherits; -U has written every packet already.
DATA_PROTOCOL=tcp
[[ "$CASE" == u ]] && DATA_PROTOCOL=udp
ip netns exec "hl-$LAB_ID-rt" tcpdump -i lnk-c -n -U -s 128 -w "$WORK/data.pcap" "ip6 and $DATA_PROTOCOL" >/dev/null 2>&1 &
CAPTURE_PID=$!
ip netns exec "hl-$LAB_ID-rt" tcpdump -i lnk-c -n -U -w "$WORK/signalling.pcap" 'ip6 proto 51 or ip6 proto 253' >/dev/null 2>&1 &
SIGNALLING_PID=$!
sleep 1

# Exits 0 when the node's `homeless show stats --json` handshake counter
# NAME is at least MINIMUM.
handshake_count() {   # node name minimum
    in_ns "$1" "$HOMELESS" show stats --json --name "$1" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if (d.get("handshake") or {}).get(sys.argv[1], 0) >= int(sys.argv[2]) else 1)' "$2" "$3"
}
# With the handshake: each end counts its established handshake; the AH
# of the signalling cannot be checked outside the engines.
check_handshakes_established() {
    check "mn counts an established handshake (homeless show stats)" handshake_count mn established-as-initiator 1
    check "cn counts an established handshake (homeless show stats)" handshake_count cn established-as-responder 1
    echo "scapy AH check skipped: the anonymous keys never leave the engines"
}
# With classifier steering and the handshake: mn's slow path tapped the
# conversation's first packet (OPENING: SYN or first datagram) on the wire.
check_conversation_tapped() {   # opening
    local tapped
    tapped=$(in_ns mn "$HOMELESS" show stats --json --name mn |
        python3 -c 'import json, sys; print(json.load(sys.stdin)["slow-path"]["conversations-tapped"])')
    check "mn's slow path tapped the $1 to cn on the wire ($tapped)" test "${tapped:-0}" -ge 1
}

# --- UDP only: the echo exchange and a renumbering ---------------------------
if [[ "$CASE" == u ]]; then
    in_ns cn python3 "$HERE/udp_echo.py" server "$CN" 9000 12 &
    sleep 0.5
    # 600 datagrams, one every 10 ms: 6 s.
    in_ns mn python3 "$HERE/udp_echo.py" client "$CN" 9000 600 10 "$WORK/udp.json" &
    ECHO=$!
    STARTED=$(date +%s.%N)
    sleep 2
    check "cn adopted mn after a UDP-opened conversation (no TCP)" \
        wait_for 3 cache_has cn "any('$MN_A' in e['live-addresses'] and e['capability'] == 'homeless' for e in d['entries'])"
    check "mn's entry for cn is Homeless" \
        cache_has mn "any('$CN' in e['live-addresses'] and e['capability'] == 'homeless' for e in d['entries'])"
    # mn gains its new address first and keeps the old one a moment: the
    # Binding Update announcing it rides on the next datagram (2.1.2, 2.2.1).
    in_ns mn ip -6 addr add "$MN_A2/64" dev "$MN_DEV" nodad
    check "a datagram carried the Binding Update for mn's new address (piggybacked)" \
        wait_for 2 mobility_count mn binding-updates-piggybacked 1
    check "cn took the Binding Update off the datagram and delivered the datagram" \
        wait_for 2 mobility_count cn piggybacked-updates-received 1
    check "cn's entry for mn lists the new address (from the piggybacked update)" wait_for 2 live cn "$MN_A2"
    in_ns mn ip -6 addr del "$MN_A/64" dev "$MN_DEV"
    MOVED=$(python3 -c "print($(date +%s.%N) - $STARTED)")
    wait "$ECHO"
    read -r echoed after < <(python3 - "$WORK/udp.json" "$MOVED" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
print(d["echoed"], sum(1 for t in d["times"] if t > float(sys.argv[2]) + 0.5))
PY
)
    check "at least 95 % of 600 datagrams came back ($echoed)" test "${echoed:-0}" -ge 570
    check "echoes kept coming after the renumbering ($after)" test "${after:-0}" -ge 200
    check "cn's entry for mn lists the new address" wait_for 3 live cn "$MN_A2"
    sleep 0.3
    kill -KILL "$CAPTURE_PID" "$SIGNALLING_PID" 2>/dev/null
    wait "$CAPTURE_PID" "$SIGNALLING_PID" 2>/dev/null
    CAPTURE_PID=""; SIGNALLING_PID=""

    python3 "$HERE/handover_capture.py" "$WORK/data.pcap" "$MN_A,$MN_A2" "$CN" 17 >"$WORK/handover.txt"
    cat "$WORK/handover.txt"
    check "on link C mn's datagrams carry the new address after the move" grep -q "^pair $MN_A2 $CN" "$WORK/handover.txt"
    if command -v tshark >/dev/null; then
        check "tshark dissects the piggybacked update as IPv6 + AH + Destination Options + UDP" \
            bash -c "tshark -r '$WORK/signalling.pcap' -Y 'ah && udp' -T fields -e frame.protocols 2>/dev/null | grep -q 'ipv6:ah:ipv6.dstopts:udp'"
    fi
    if [[ "$KEYING" == handshake ]]; then
        [[ "$STEERING" == classifier ]] && check_conversation_tapped "first datagram"
        check_handshakes_established
    elif [[ -n "$SCAPY_PYTHON" ]]; then
        scapy_verifies() {
            "$SCAPY_PYTHON" "$HERE/verify_signalling_ah.py" "$WORK/sa.conf" "$WORK/signalling.pcap" >"$WORK/scapy.txt" 2>&1 ||
                { cat "$WORK/scapy.txt"; return 1; }
        }
        check "scapy verifies the AH of every signalling packet, the piggybacked one included" scapy_verifies
        tail -1 "$WORK/scapy.txt"
    fi
    stop_engine mn
    stop_engine cn
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]]
    exit
fi

# --- the transfer and the move ----------------------------------------------
in_ns cn iperf3 -s -1 -B "$CN" -p 5301 >/dev/null 2>&1 &
sleep 0.5
in_ns mn timeout 40 iperf3 -c "$CN" -p 5301 -t 8 -i 0.5 -J >"$WORK/iperf.json" 2>"$WORK/iperf.err" &
IPERF=$!
STARTED=$(date +%s.%N)
sleep 2
if [[ "$CASE" == s ]]; then
    check "cn's Parameter Problem marked it a Standard Host" \
        wait_for 3 cache_has mn "any('$CN' in e['live-addresses'] and e['capability'] == 'standard' for e in d['entries'])"
    check "mn counted the Parameter Problem" mobility_count mn parameter-problems-accepted 1
    sent_before=$(in_ns mn "$HOMELESS" show stats --json --name mn | python3 -c 'import json, sys; print(json.load(sys.stdin)["mobility"]["binding-updates-sent"])')
    wait "$IPERF"
    iperf_status=$?
    check "iperf3 to the Standard Host finished without error" test "$iperf_status" -eq 0
    check "no Binding Update after the Parameter Problem" \
        test "$(in_ns mn "$HOMELESS" show stats --json --name mn | python3 -c 'import json, sys; print(json.load(sys.stdin)["mobility"]["binding-updates-sent"])')" -eq "$sent_before"
    check "mn sent exactly one Binding Update (the Initial one)" test "$sent_before" -eq 1
    stop_engine mn
    echo "$passed passed, $failed failed"
    [[ $failed -eq 0 ]]
    exit
fi
check "cn adopted mn after its Initial Binding Update" \
    wait_for 3 cache_has cn "any('$MN_A' in e['live-addresses'] and e['capability'] == 'homeless' for e in d['entries'])"
check "mn's entry for cn is Homeless (Binding Acknowledgement received)" \
    cache_has mn "any('$CN' in e['live-addresses'] and e['capability'] == 'homeless' for e in d['entries'])"
# Exits 0 when `homeless show sa --json` on the node lists every SPI given.
sa_lists() {   # node spi...
    local node=$1; shift
    in_ns "$node" "$HOMELESS" show sa --json --name "$node" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if set(sys.argv[1:]) <= {a["spi"] for a in d["associations"]} else 1)' "$@"
}
# Exits 0 when the node lists at least COUNT SAs of CLASS.
sa_count() {   # node class count
    in_ns "$1" "$HOMELESS" show sa --json --name "$1" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); sys.exit(0 if sum(a.get("class") == sys.argv[1] for a in d["associations"]) >= int(sys.argv[2]) else 1)' "$2" "$3"
}
if [[ "$KEYING" == manual ]]; then
    check "cn lists its SAs 0x2001 and 0x2002 (homeless show sa)" sa_lists cn 0x2001 0x2002
else
    check "mn and cn each hold an anonymous SA pair from the handshake (homeless show sa)" \
        bash -c "$(declare -f in_ns sa_count); HOMELESS='$HOMELESS' LAB_ID='$LAB_ID'; sa_count mn anonymous 2 && sa_count cn anonymous 2"
fi

MN_ADDRESSES="$MN_A"
CN_ADDRESSES="$CN"
case "$CASE" in
    a)  renumber mn "$MN_DEV" "$MN_A" "$MN_A2"
        LAST_MOVE=$(date +%s.%N)
        MN_ADDRESSES="$MN_A,$MN_A2" ;;
    b|m)  in_ns mn ip -6 addr add "$MN_B/64" dev "$MN_DEV_B" nodad
        in_ns mn ip -6 route add default via 2001:db8:b::1 dev "$MN_DEV_B" metric 200
        check "mn's new link B address reached cn's entry" wait_for 3 live cn "$MN_B"
        in_ns mn ip link set lnk-a down
        LAST_MOVE=$(date +%s.%N)
        # The new path's narrow hop: rt -> cn only (cn's ACKs are small).
        [[ "$CASE" == m ]] && in_ns rt ip link set dev lnk-c mtu 1280
        MN_ADDRESSES="$MN_A,$MN_B" ;;
    c)  renumber cn "$CN_DEV" "$CN" "$CN2"
        LAST_MOVE=$(date +%s.%N)
        CN_ADDRESSES="$CN,$CN2" ;;
    d)  renumber mn "$MN_DEV" "$MN_A" "$MN_A2"
        sleep 2
        renumber cn "$CN_DEV" "$CN" "$CN2"
        LAST_MOVE=$(date +%s.%N)
        MN_ADDRESSES="$MN_A,$MN_A2"
        CN_ADDRESSES="$CN,$CN2" ;;
    e)  check "multi-homed mn announced both locators (cn's entry lists $MN_A and $MN_B)" \
            cache_has cn "any('$MN_A' in e['live-addresses'] and '$MN_B' in e['live-addresses'] for e in d['entries'])"
        in_ns mn ip link set lnk-a down
        LAST_MOVE=$(date +%s.%N)
        MN_ADDRESSES="$MN_A,$MN_B" ;;
esac
wait "$IPERF"
iperf_status=$?
read -r after sent received < <(python3 - "$WORK/iperf.json" "$(python3 -c "print($LAST_MOVE - $STARTED)")" <<'PY'
import json, re, sys
# iperf3 may print nan or inf for a statistic of an empty interval, which
# is not JSON.
text = re.sub(r"(?<=[:\s\[,])-?(nan|inf)\b", "null", open(sys.argv[1]).read())
try:
    d = json.loads(text)
except ValueError as error:
    print(-1, -1, -2); print(f"iperf3 JSON unreadable: {error}", file=sys.stderr); sys.exit()
if "error" in d:
    print(-1, -1, -2); print(f"iperf3: {d['error']}", file=sys.stderr); sys.exit()
# Intervals that start a second after the (last) move and later.
start = float(sys.argv[2]) + 1.0
after = sum(i["sum"]["bytes"] for i in d["intervals"] if i["sum"]["start"] >= start)
print(after, d["end"]["sum_sent"]["bytes"], d["end"]["sum_received"]["bytes"])
PY
)
# No reset: iperf3 exits 0 and its report carries no error.
check "iperf3 finished without error (exit status $iperf_status)" test "$iperf_status" -eq 0 -a "${received:--2}" != -2
if ! check "data moved after the move (${after:-?} bytes)" test "${after:--1}" -gt 0; then
    cat "$WORK/iperf.err"; tail -c 2000 "$WORK/iperf.json"
fi
echo "iperf3: $sent bytes sent, $received received by the server before the end of the test"

case "$CASE" in
    a|d)
        check "cn's entry for mn lists the new address" wait_for 3 live cn "$MN_A2"
        check "cn's entry for mn no longer lists the old address as live" gone cn "$MN_A2" "$MN_A"
        check "cn's entry for mn keeps the old address as expired" wait_for 3 kept_expired cn "$MN_A2" "$MN_A"
        check "mn kept its ULID for the connection (deprecated)" kept_deprecated mn "$MN_DEV" "$MN_A"
        check "cn verified mn's new address with a probe before sending to it" mobility_count cn addresses-verified 1 ;;&
    c|d)
        check "mn's entry for cn lists cn's new address" wait_for 3 live mn "$CN2"
        check "mn's entry for cn no longer lists cn's old address as live" gone mn "$CN2" "$CN"
        check "mn's entry for cn keeps cn's old address as expired" wait_for 3 kept_expired mn "$CN2" "$CN"
        check "cn kept its ULID for the connection (deprecated)" kept_deprecated cn "$CN_DEV" "$CN"
        check "mn verified cn's new address with a probe before sending to it" mobility_count mn addresses-verified 1 ;;
    m)
        ptb=$(in_ns rt awk '$1 == "Icmp6OutType2" { print $2 }' /proc/net/snmp6)
        check "rt sent Packet Too Big to mn ($ptb)" test "${ptb:-0}" -gt 0
        translated=$(in_ns mn "$HOMELESS" show stats --json --name mn |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["icmp-errors-translated"])')
        check "mn's engine turned the Packet Too Big quotes into the ULIDs (icmp-errors-translated $translated)" \
            test "${translated:-0}" -gt 0
        route=$(in_ns mn ip -6 route get "$CN" from "$MN_A")
        echo "mn: $route"
        check "mn's kernel learned path MTU 1280 for cn's ULID" grep -q 'mtu 1280' <<<"$route" ;;&
    b|e|m)
        check "cn's entry for mn lists the link B address" wait_for 3 live cn "$MN_B"
        check "cn's entry for mn no longer lists the link A address as live" gone cn "$MN_B" "$MN_A"
        check "cn's entry for mn keeps the link A address as expired" wait_for 3 kept_expired cn "$MN_B" "$MN_A"
        check "cn verified mn's link B address with a probe" mobility_count cn addresses-verified 1
        if [[ "$STEERING" == classifier ]]; then
            # The kernel itself saw lnk-a go down and routes through lnk-b;
            # the engine moved cn's route to lnk-b's kernel side.
            check "mn routes cn through hl1 (link B) now" \
                wait_for 3 bash -c "ip netns exec hl-$LAB_ID-mn ip -6 route show table 18508 | grep -q '^$CN dev hl1'"
            check "mn kept its ULID on hl0 while lnk-a is down (deprecated)" kept_deprecated mn hl0 "$MN_A"
            in_ns mn ip link set lnk-a up
        else
            check "mn's engine saw link A lose carrier" grep -q 'wire lost carrier' "$WORK/mn.log"
            in_ns mn ip link set lnk-a up
            check "mn's engine saw link A come back" wait_for 3 grep -q 'wire carrier back' "$WORK/mn.log"
            check "link A's default route is back on hl0" \
                wait_for 3 bash -c "ip netns exec hl-$LAB_ID-mn ip -6 route show default | grep -q 'via 2001:db8:a::1 dev hl0'"
        fi ;;
esac

# Counter NAME of hook HOOK of the classifier of NODE's first wire.
classifier_count() {   # node hook name
    in_ns "$1" "$HOMELESS" show stats --json --name "$1" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(d["classifier"][0][sys.argv[1]][sys.argv[2]])' "$2" "$3"
}
# NODE routes ADDRESS through its kernel side hl0 (the steering table).
steered() {   # node address
    local table
    table=$(in_ns "$1" ip -6 route show table 18508) || return 1
    grep -q "^$2 dev hl0" <<<"$table"
}
if [[ "$STEERING" == classifier ]]; then
    for node in mn cn; do
        [[ "$node" == cn && "$CASE" == s ]] && continue
        wire=$([[ "$node" == mn ]] && echo lnk-a || echo lnk-c)
        check "$node: the tc ingress program is on $wire" \
            bash -c "ip netns exec hl-$LAB_ID-$node tc filter show dev $wire ingress | grep -q hl_classify_tc"
        taken=$(classifier_count "$node" tc-ingress engine-foreign-locator)
        check "$node: tc ingress took the peer's data from the kernel ($taken frames)" test "${taken:-0}" -gt 100
        signalling=$(classifier_count "$node" tc-ingress engine-mobility-option)
        check "$node: tc ingress took the signalling ($signalling frames)" test "${signalling:-0}" -gt 0
        nd=$(classifier_count "$node" tc-ingress kernel-neighbour-discovery)
        check "$node: Neighbour Discovery stayed with the kernel ($nd frames)" test "${nd:-0}" -gt 0
    done
    # (b, e: through hl1 once link A is down, checked above.)
    [[ "$CASE" != b && "$CASE" != e ]] && check "mn routes cn's address through hl0" steered mn "$CN"
    if [[ "$KEYING" == handshake ]]; then
        check_conversation_tapped SYN
    fi
    [[ "$CASE" == c || "$CASE" == d ]] && check "mn routes cn's new address through hl0" steered mn "$CN2"
    if [[ "$CASE" == a || "$CASE" == d || "$CASE" == u ]]; then
        check "cn routes mn's new address through hl0" steered cn "$MN_A2"
    fi
fi

sleep 0.5
kill -KILL "$CAPTURE_PID" "$SIGNALLING_PID" 2>/dev/null
wait "$CAPTURE_PID" "$SIGNALLING_PID" 2>/dev/null
CAPTURE_PID=""; SIGNALLING_PID=""

# New connections after the move (after the capture, which must hold only
# the moved transfer). The kernel opens them from its preferred (new)
# address, so on the wire they share the translated connection's address
# pair; only flows the kernel sent under the ULIDs are translated back.
# Exits 0 when a one-second iperf3 transfer FROM -> ADDRESS succeeds.
new_connection() {   # from-node to-node address port
    in_ns "$2" iperf3 -s -1 -p "$4" >/dev/null 2>&1 &
    local server=$!
    sleep 0.3
    in_ns "$1" timeout 15 iperf3 -c "$3" -p "$4" -t 1 >"$WORK/new-connection-$4.txt" 2>&1
    local status=$?
    kill "$server" 2>/dev/null; wait "$server" 2>/dev/null
    [[ $status -eq 0 ]] || { cat "$WORK/new-connection-$4.txt"; return 1; }
}
# Exits 0 when mn's and cn's workers together passed a new flow untranslated.
new_flows_passed() {
    local total=0 node count
    for node in mn cn; do
        count=$(in_ns "$node" "$HOMELESS" show stats --json --name "$node" |
            python3 -c 'import json, sys; print(json.load(sys.stdin)["totals"]["new-flows-not-translated"])')
        total=$((total + ${count:-0}))
    done
    [[ $total -gt 0 ]]
}
case "$CASE" in
    a|c|d)
        check "a new connection mn -> cn's ULID after the move works" new_connection mn cn "$CN" 5302
        check "a new connection cn -> mn's ULID after the move works" new_connection cn mn "$MN_A" 5303
        check "the engines passed the new conversations untranslated (new-flows-not-translated)" new_flows_passed ;;
esac

python3 "$HERE/handover_capture.py" "$WORK/data.pcap" "$MN_ADDRESSES" "$CN_ADDRESSES" 6 "$LAST_MOVE" >"$WORK/handover.txt"
cat "$WORK/handover.txt"
expected_moves=1; [[ "$CASE" == d ]] && expected_moves=2
moves=$(grep -c '^outage-ms' "$WORK/handover.txt")
check "link C shows $expected_moves change(s) of the mn -> cn address pair" test "$moves" -eq "$expected_moves"
step=0
while read -r _ sources destinations value; do
    step=$((step + 1))
    echo "outage-ms $CASE $step $value ($sources $destinations)"
done < <(grep '^outage-ms' "$WORK/handover.txt")
check "after the move the data packets carry a 40-byte IPv6 header (no extension headers)" \
    grep -q '^steady-header-bytes 40 .*extension-headers=0$' "$WORK/handover.txt"
if command -v tshark >/dev/null; then
    check "tshark dissects a Binding Update as IPv6 + AH + Destination Options" \
        bash -c "tshark -r '$WORK/signalling.pcap' -Y ah -T fields -e frame.protocols 2>/dev/null | grep -q 'ipv6:ah:ipv6.dstopts'"
fi
if [[ "$KEYING" == handshake ]]; then
    python3 - "$WORK/signalling.pcap" <<'PY' | tee "$WORK/handshake.txt"
import struct, sys
# The handshake's time on link C: message 1 (the first Next Header 253
# packet) to message 3 (the first AH packet from the same source).
data = open(sys.argv[1], "rb").read()
endian = "<" if struct.unpack("<I", data[:4])[0] in (0xA1B2C3D4, 0xA1B23C4D) else ">"
nanos = struct.unpack(endian + "I", data[:4])[0] in (0xA1B23C4D, 0x4D3CB2A1)
offset, first, third = 24, None, None
while offset + 16 <= len(data):
    seconds, fraction, length, _ = struct.unpack(endian + "IIII", data[offset:offset + 16])
    frame = data[offset + 16:offset + 16 + length]
    offset += 16 + length
    time = seconds + fraction / (1e9 if nanos else 1e6)
    ipv6 = frame[14:]
    if len(ipv6) < 40:
        continue
    if first is None and ipv6[6] == 253:
        first = (time, ipv6[8:24])
    elif first is not None and ipv6[6] == 51 and ipv6[8:24] == first[1]:
        third = time
        break
if first and third:
    print(f"handshake-ms {(third - first[0]) * 1000:.2f}")
PY
    check "the handshake's message 1 and message 3 crossed link C" grep -q '^handshake-ms' "$WORK/handshake.txt"
    check_handshakes_established
elif [[ -n "$SCAPY_PYTHON" ]]; then
    if ! check "scapy verifies the AH of every Binding Update and Acknowledgement with the session's keys" \
        "$SCAPY_PYTHON" "$HERE/verify_signalling_ah.py" "$WORK/sa.conf" "$WORK/signalling.pcap" >"$WORK/scapy.txt" 2>&1; then
        cat "$WORK/scapy.txt"
    fi
    tail -1 "$WORK/scapy.txt"
fi

stop_engine mn
stop_engine cn
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
