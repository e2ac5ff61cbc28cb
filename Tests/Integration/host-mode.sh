#!/usr/bin/env bash
# host-mode.sh - integration tests of `homeless run` (host mode) in the lab.
#
# Builds a lab of its own (scripts/lab.sh, LAB_ID hm<pid>), runs an engine on
# mn (wire lnk-a) and one on cn (wire lnk-c) and checks, with real traffic:
#   * a bad flag and a missing interface fail with a clear message and leave
#     the host untouched;
#   * ping6, a UDP exchange and an iperf3 TCP transfer pass through both
#     engines, and the engines' counters agree with what was sent;
#   * malformed frames are dropped under their parser reason, Mobile IPv6
#     signalling is punted to the slow path, which drops a Home Address
#     option that came without a Binding Update (draft 2.3.1);
#   * stopping an engine (SIGTERM, SIGINT) restores addresses, routes, links
#     and qdiscs;
#   * a flood that overruns the RX ring is counted, and forwarding goes on.
#
# usage: HOMELESS=path/to/homeless Tests/Integration/host-mode.sh
# Exit status: 0 all passed, 1 a check failed, 77 skipped (not root, or a
# tool missing). The last line is "N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOMELESS="${HOMELESS:-$ROOT/.build/debug/homeless}"
FRAMES="$HERE/frames.py"

source "$HERE/lib.sh"
require_lab host-mode.sh ip ethtool iperf3 python3

export LAB_ID="${LAB_ID:-hm$$}"
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
passed=0
failed=0

trap stop_engines_and_lab EXIT
trap 'exit 130' INT TERM

drops_for() { stat "$1" "d['totals']['drops-by-reason']['$2']"; }

ping6_ok() { in_ns mn ping -6 -c "${2:-3}" -i 0.2 -W 2 "$1" >/dev/null; }
ping6_from() { in_ns "$1" ping -6 -c 2 -i 0.2 -W 2 "$2" >/dev/null; }

# Every frame a ring delivered was counted once: forwarded, punted or dropped.
# A frame may sit in a ring between the two reads (a late ND or MLD frame):
# read again a few times before calling it a mismatch.
counters_balance() {   # node
    local attempt
    for attempt in 1 2 3 4 5; do
        counters_balance_once "$1" && return 0
        sleep 0.3
    done
    return 1
}
counters_balance_once() {   # node
    stat "$1" "(lambda t, r: t['inbound-packets'] + t['outbound-packets'] == t['inbound-forwarded'] + t['outbound-forwarded'] + t['punted'] + t['drops'] and sum(x['packets'] - x['drops'] for x in r) == t['inbound-packets'] + t['outbound-packets'])(d['totals'], d['rings'])" | grep -qx True
}

started=$(date +%s)
lab_up
snapshot mn "$WORK/mn.before"
snapshot cn "$WORK/cn.before"

# --- errors before any change ------------------------------------------------
in_ns mn "$HOMELESS" run --wire lnk-a --bogus >"$WORK/out" 2>"$WORK/err"
status=$?
check "bad flag exits non-zero" test "$status" -ne 0
check "bad flag is named" grep -q "Unknown option '--bogus'" "$WORK/err"
check "bad flag leaves mn untouched" same_as mn "$WORK/mn.before"

in_ns mn "$HOMELESS" run --wire nosuch0 >"$WORK/out" 2>"$WORK/err"
status=$?
check "missing interface exits non-zero" test "$status" -ne 0
check "missing interface gives one clear line" \
    test "$(cat "$WORK/err")" = "homeless run: no interface named 'nosuch0' in this network namespace"
check "missing interface leaves mn untouched" same_as mn "$WORK/mn.before"

in_ns mn "$HOMELESS" show stats --name nothing-here >"$WORK/out" 2>"$WORK/err"
status=$?
check "show without an engine fails clearly" \
    test "$status" -ne 0 -a "$(cat "$WORK/err")" = "homeless show: no engine named 'nothing-here' runs in this network namespace (@homeless/nothing-here)"

# --- traffic through two engines --------------------------------------------
check "engine starts on mn" start_engine mn lnk-a --workers 1
check "engine starts on cn" start_engine cn lnk-c --workers 2
check "mn's address moved to hl0" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 addr show dev hl0 | grep -q '2001:db8:a::10/64'"
check "mn's default route goes through hl0" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 route show default | grep -q 'via 2001:db8:a::1 dev hl0 metric 100'"
check "lnk-a carries no IPv6 of the kernel" bash -c "! ip netns exec hl-$LAB_ID-mn ip -6 addr show dev lnk-a | grep -q inet6"
in_ns mn "$HOMELESS" run --wire lnk-b --name mn --upper-name up9 >"$WORK/out" 2>"$WORK/err"
status=$?
check "a second engine of the same name is refused" \
    test "$status" -ne 0 -a "$(cat "$WORK/err")" = "homeless run: an engine named 'mn' already runs in this network namespace (@homeless/mn is in use)"
check "the refused engine left lnk-b alone" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 addr show dev lnk-b | grep -q 2001:db8:b::10 && ! ip netns exec hl-$LAB_ID-mn ip link show up9 2>/dev/null"
check "ping6 mn -> cn through both engines" ping6_ok 2001:db8:c::20 5
# Neighbour Discovery both ways through the engine: forget every neighbour,
# then rt must find mn's address on the wire, and mn must find rt's.
in_ns rt ip -6 neigh flush dev lnk-a
in_ns mn ip -6 neigh flush dev hl0
check "ping6 rt -> mn (rt resolves mn's address through the engine)" ping6_from rt 2001:db8:a::10
check "rt learnt mn's wire MAC address" \
    bash -c "ip netns exec hl-$LAB_ID-rt ip -6 neigh show 2001:db8:a::10 dev lnk-a | grep -q \"lladdr $(in_ns mn cat /sys/class/net/lnk-a/address)\""
in_ns mn ip -6 neigh flush dev hl0
check "ping6 mn -> rt (mn resolves rt through the engine)" ping6_ok 2001:db8:a::1 2
check "mn's neighbour table lives on hl0" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 neigh show dev hl0 | grep -q 2001:db8:a::1"

# 300 datagrams each way, plus at most a few Neighbour Discovery frames.
udp_echo_mn_to_cn 2001:db8:c::20 5001 320

# The rings carry offload metadata (PACKET_VNET_HDR) and 64 KiB slots, so
# the upper port keeps its segmentation and checksum offloads and mn's TCP
# super-frames cross both engines whole.
check "hl0 keeps TCP segmentation offload on" \
    bash -c "ip netns exec hl-$LAB_ID-mn ethtool -k hl0 | grep -q '^tcp-segmentation-offload: on'"
check "hl0 keeps checksum offload on" \
    bash -c "ip netns exec hl-$LAB_ID-mn ethtool -k hl0 | grep -q '^tx-checksumming: on'"
check "the rings are TPACKET_V2 with offload metadata" \
    bash -c "ip netns exec hl-$LAB_ID-mn '$HOMELESS' show ports --name mn | grep -q 'rx rings: TPACKET_V2.*super-frames whole'"
cn_bytes_before=$(total cn inbound-bytes)
passed_before_mn=$(total mn super-frames-passed); passed_before_cn=$(total cn super-frames-passed)
cut_before_mn=$(total mn super-frames-segmented)
if iperf_mn_to_cn 2001:db8:c::20 5201 3 "iperf3 TCP through both engines"; then
    cn_bytes=$(( $(total cn inbound-bytes) - cn_bytes_before ))
    check "cn's inbound bytes cover the TCP payload ($cn_bytes >= $IPERF_RECEIVED)" test "$cn_bytes" -ge "$IPERF_RECEIVED"
fi
passed_mn=$(( $(total mn super-frames-passed) - passed_before_mn ))
passed_cn=$(( $(total cn super-frames-passed) - passed_before_cn ))
check "mn sent the kernel's super-frames to the wire whole ($passed_mn)" test "$passed_mn" -gt 0
check "cn passed them up to its kernel whole ($passed_cn)" test "$passed_cn" -gt 0
check "mn cut no super-frame itself" test $(( $(total mn super-frames-segmented) - cut_before_mn )) -eq 0
check "no drops on mn after normal traffic" test "$(total mn drops)" -eq 0
check "no drops on cn after normal traffic" test "$(total cn drops)" -eq 0
sleep 0.3
check "mn's counters balance with its rings" counters_balance mn
check "cn's counters balance with its rings" counters_balance cn

# --- parser drops and slow-path punts ----------------------------------------
mn_mac=$(in_ns mn cat /sys/class/net/lnk-a/address)
bad_before=$(drops_for mn bad-version); punted_before=$(total mn punted)
in_ns rt python3 "$FRAMES" send lnk-a "$mn_mac" bad-version 3
in_ns rt python3 "$FRAMES" send lnk-a "$mn_mac" home-address 2
sleep 0.3
check "malformed frames dropped as bad-version" test $(( $(drops_for mn bad-version) - bad_before )) -eq 3
check "Home Address option frames punted to the slow path" test $(( $(total mn punted) - punted_before )) -eq 2
# Draft 2.3.1: a Home Address option needs a Binding Update (and AH) with it.
check "slow path dropped them (home-address-without-binding-update)" \
    test "$(stat mn "d['mobility']['home-address-without-binding-update']")" -eq 2

# --- stop and restore ---------------------------------------------------------
stop_engine mn TERM
check "engine on mn exits 0 on SIGTERM" test $? -eq 0
check "mn restored exactly (addresses, routes, links, qdiscs)" same_as mn "$WORK/mn.before"
check "mn reaches cn's engine directly after the stop" ping6_ok 2001:db8:c::20 2

# A plain peer on a veth sends UDP with checksum offload pending
# (CHECKSUM_PARTIAL); cn's engine passes the checksums on partial, in the
# virtio_net_hdr, and cn's kernel accepts them.
partial_before=$(total cn partial-checksums-passed)
in_ns cn python3 "$FRAMES" udp-echo-server 2001:db8:c::20 5002 50 &
server=$!
sleep 0.3
echoed=$(in_ns mn python3 "$FRAMES" udp-client 2001:db8:c::20 5002 50)
wait "$server"
check "UDP from a plain peer through cn's engine (got $echoed of 50)" test "$echoed" -eq 50
partial=$(( $(total cn partial-checksums-passed) - partial_before ))
check "cn passed the plain peer's pending checksums on partial ($partial)" test "$partial" -ge 50

# The plain peer's TCP stack hands the veth 64 KB super-frames (TSO), rt
# forwards them whole; cn's engine passes them up whole.
segmented_before=$(total cn super-frames-segmented); passed_before=$(total cn super-frames-passed)
iperf_mn_to_cn 2001:db8:c::20 5202 2 "iperf3 TCP from a plain peer through cn's engine"
passed=$(( $(total cn super-frames-passed) - passed_before ))
check "cn passed the peer's super-frames whole ($passed)" test "$passed" -gt 0
check "cn cut none of them itself" test $(( $(total cn super-frames-segmented) - segmented_before )) -eq 0
check "no frame-too-long drops on cn" test "$(drops_for cn frame-too-long)" -eq 0

# --- ring overrun --------------------------------------------------------------
# The other configuration: TPACKET_V3 blocks, 2 KiB slots, no offload
# metadata. The upper port's offloads are then off and the engine sees
# only complete MTU-size frames.
check "engine restarts on mn with a small V3 ring and no offloads" start_engine mn lnk-a --workers 1 \
    --rx-ring blocks --rx-blocks 2 --rx-block-size 65536 --rx-frame-size 2048 --tx-frame-size 2048 --no-ring-offloads
check "ping6 through the restarted engine" ping6_ok 2001:db8:c::20 2
check "hl0's segmentation offload is off without offload metadata" \
    bash -c "ip netns exec hl-$LAB_ID-mn ethtool -k hl0 | grep -q '^tcp-segmentation-offload: off'"
iperf_mn_to_cn 2001:db8:c::20 5203 2 "iperf3 TCP through the V3 engine without offloads"
check "no frame-too-long or truncated drops on mn" \
    test $(( $(drops_for mn frame-too-long) + $(drops_for mn frame-truncated) )) -eq 0
kill -STOP "${ENGINE_PID[mn]}"
in_ns rt python3 "$FRAMES" send lnk-a "$mn_mac" flood 3000 1000
kill -CONT "${ENGINE_PID[mn]}"
sleep 0.5
ring_drops=$(stat mn "sum(r['drops'] for r in d['rings'] if r['interface'] == 'lnk-a')")
check "ring overrun counted in PACKET_STATISTICS ($ring_drops drops)" test "$ring_drops" -gt 0
check "engine forwards after the overrun" ping6_ok 2001:db8:c::20 3
check "counters balance after the overrun" counters_balance mn

stop_engine mn TERM
check "engine on mn exits 0 again" test $? -eq 0

# --- a crashed run --------------------------------------------------------------
# SIGKILL leaves hl0 with mn's addresses and lnk-a without IPv6; the next
# run finds its own dead claim, puts everything back and starts.
check "engine starts on mn again" start_engine mn lnk-a --workers 1
kill -KILL "${ENGINE_PID[mn]}"
wait "${ENGINE_PID[mn]}" 2>/dev/null
unset 'ENGINE_PID[mn]'
check "the killed run left hl0 behind with mn's address" \
    bash -c "ip netns exec hl-$LAB_ID-mn ip -6 addr show dev hl0 2>/dev/null | grep -q 2001:db8:a::10"
check "the next run removes the leftovers and starts" start_engine mn lnk-a --workers 1
check "it logs the recovery" grep -q 'removed the leftovers of a crashed run' "$WORK/mn.log"
check "ping6 through the engine after the recovery" ping6_ok 2001:db8:c::20 2
stop_engine mn TERM
check "engine on mn exits 0 after the recovery" test $? -eq 0
stop_engine cn INT
check "engine on cn exits 0 on SIGINT" test $? -eq 0
check "mn restored exactly after the runs, the crashed one included" same_as mn "$WORK/mn.before"
check "cn restored exactly" same_as cn "$WORK/cn.before"
check "lab works without engines" ping6_ok 2001:db8:c::20 2

echo "host-mode integration: $(( $(date +%s) - started )) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
