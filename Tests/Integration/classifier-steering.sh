#!/usr/bin/env bash
# classifier-steering.sh - integration tests of `homeless run --steering
# classifier` in the lab: the kernel keeps the wire, the BPF classifier
# takes only the engine's traffic.
#
# Builds a lab of its own (scripts/lab.sh, LAB_ID cs<pid>), runs an engine
# on mn (wire lnk-a) and one on cn (wire lnk-c), both with the same
# manually keyed SAs, and checks, with real traffic:
#   * a bad --steering value fails with a clear message and leaves the
#     host untouched;
#   * while running, the wire keeps its addresses and routes, the tc
#     ingress program is attached with the project's handle, the steering
#     rule and table route the peer through hl0 with the router's MAC;
#   * traffic to a plain host (rt) never enters the engine, and Neighbour
#     Discovery stays with the kernel;
#   * ping6, a UDP exchange and an iperf3 TCP transfer to the peer pass
#     through both engines (counters agree, the tc ingress program took
#     the peer's frames from the kernel, the Initial Binding Update made
#     the peer Homeless);
#   * SIGTERM restores the host exactly (addresses, routes, rules, links,
#     qdiscs, ingress filters); a SIGKILLed run's filter, qdisc, rule,
#     table and veth pair are removed by the next run. (That a recovery
#     leaves other filters and qdiscs alone is tested in
#     HomelessSystemTests, ClassifierTests.)
#
# usage: HOMELESS=path/to/homeless Tests/Integration/classifier-steering.sh
# Exit status: 0 all passed, 1 a check failed, 77 skipped (not root, or a
# tool missing). The last line is "N passed, M failed".
set -uo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
HOMELESS="${HOMELESS:-$ROOT/.build/debug/homeless}"
FRAMES="$HERE/frames.py"

source "$HERE/lib.sh"
require_lab classifier-steering.sh ip tc ethtool iperf3 python3

export LAB_ID="${LAB_ID:-cs$$}"
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()
passed=0
failed=0

trap stop_engines_and_lab EXIT
trap 'exit 130' INT TERM

MN=2001:db8:a::10
CN=2001:db8:c::20
RT=2001:db8:a::1

verdict() { stat "$1" "d['classifier'][0]['tc-ingress']['$2']"; }
ping6_ok() { in_ns mn ping -6 -c "${2:-3}" -i 0.2 -W 2 "$1" >/dev/null; }

started=$(date +%s)
lab_up
write_manual_sas "$WORK/sa.conf" "$MN" "$CN"
snapshot mn "$WORK/mn.before"
snapshot cn "$WORK/cn.before"

# --- errors before any change ------------------------------------------------
in_ns mn "$HOMELESS" run --wire lnk-a --steering sideways >"$WORK/out" 2>"$WORK/err"
status=$?
check "a bad --steering value exits 64" test "$status" -eq 64
check "the error names the choices" grep -q "unknown --steering 'sideways' (bridge or classifier)" "$WORK/err"
check "the refused runs left mn untouched" same_as mn "$WORK/mn.before"

# --- running ---------------------------------------------------------------------
# mn has not resolved its router: the engine must make the kernel do it
# before it can route cn through hl0 with the router's MAC address.
in_ns mn ip -6 neigh flush dev lnk-a
check "mn's kernel has no neighbour entry for rt before the start" \
    bash -c "! ip netns exec hl-$LAB_ID-mn ip -6 neigh show $RT dev lnk-a | grep -q lladdr"
check "engine starts on mn (--steering classifier)" start_engine mn lnk-a --workers 1 --sa "$WORK/sa.conf" --steering classifier
check "engine starts on cn (--steering classifier, 2 workers)" start_engine cn lnk-c --workers 2 --sa "$WORK/sa.conf" --steering classifier
check "lnk-a keeps mn's address" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 addr show dev lnk-a | grep -q '$MN/64'"
check "mn's default route still goes through lnk-a" \
    bash -c "ip netns exec hl-$LAB_ID-mn ip -6 route show default | grep -q 'via $RT dev lnk-a'"
check "hl0 carries no global address" bash -c "! ip netns exec hl-$LAB_ID-mn ip -6 addr show dev hl0 scope global | grep -q inet6"
check "the tc ingress program is attached to lnk-a (handle 0x484c)" \
    bash -c "ip netns exec hl-$LAB_ID-mn tc filter show dev lnk-a ingress | grep -q 'handle 0x484c hl_classify_tc'"
check "the steering rule is in place" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 rule | grep -q 'not from all fwmark 0x484c lookup 18508'"
check "cn's address is routed through hl0" bash -c "ip netns exec hl-$LAB_ID-mn ip -6 route show table 18508 | grep -q '^$CN dev hl0'"
rt_mac=$(in_ns rt cat /sys/class/net/lnk-a/address)
check "with the router's MAC address as its neighbour entry" \
    bash -c "ip netns exec hl-$LAB_ID-mn ip -6 neigh show $CN dev hl0 | grep -q 'lladdr $rt_mac PERMANENT'"
check "show ports names the steering" bash -c "ip netns exec hl-$LAB_ID-mn '$HOMELESS' show ports --name mn | grep -q 'steering classifier'"

# --- a plain host: the kernel alone ------------------------------------------
out_before=$(total mn outbound-packets); in_before=$(total mn inbound-packets)
in_ns mn ip -6 neigh flush dev lnk-a
in_ns rt ip -6 neigh flush dev lnk-a
check "ping6 mn -> rt (a plain host)" ping6_ok "$RT" 5
check "the engine saw none of it (outbound +$(( $(total mn outbound-packets) - out_before )), inbound +$(( $(total mn inbound-packets) - in_before )))" \
    test "$(total mn outbound-packets)" -eq "$out_before" -a "$(total mn inbound-packets)" -eq "$in_before"
check "Neighbour Discovery stayed with the kernel ($(verdict mn kernel-neighbour-discovery) frames)" \
    test "$(verdict mn kernel-neighbour-discovery)" -gt 0
check "mn's kernel resolved rt on lnk-a" \
    bash -c "ip netns exec hl-$LAB_ID-mn ip -6 neigh show $RT dev lnk-a | grep -q 'lladdr $rt_mac'"

# --- the peer: through both engines -----------------------------------------
check "ping6 mn -> cn through both engines" ping6_ok "$CN" 5
udp_echo_mn_to_cn "$CN" 5001 310

cn_taken_before=$(verdict cn engine-foreign-locator)
iperf_mn_to_cn "$CN" 5201 3 "iperf3 TCP through both engines"
taken=$(( $(verdict cn engine-foreign-locator) - cn_taken_before ))
check "cn's tc ingress took mn's segments from the kernel ($taken)" test "$taken" -gt 1000
check "the signalling was the engine's (tc ingress, mobility option)" test "$(verdict mn engine-mobility-option)" -gt 0
check "mn's entry for cn is Homeless (Initial Binding Update acknowledged)" \
    bash -c "ip netns exec hl-$LAB_ID-mn '$HOMELESS' show cache --name mn | grep -q 'capability homeless'"
check "no drops on mn" test "$(total mn drops)" -eq 0
check "no drops on cn" test "$(total cn drops)" -eq 0

# --- stop and restore -----------------------------------------------------------
stop_engine mn TERM
check "engine on mn exits 0 on SIGTERM" test $? -eq 0
check "mn restored exactly (addresses, routes, rules, links, qdiscs, filters)" same_as mn "$WORK/mn.before"
check "mn reaches cn's engine without its own" ping6_ok "$CN" 2

# --- a crashed run ----------------------------------------------------------------
check "engine starts on mn again" start_engine mn lnk-a --workers 1 --sa "$WORK/sa.conf" --steering classifier
kill -KILL "${ENGINE_PID[mn]}"
wait "${ENGINE_PID[mn]}" 2>/dev/null
unset 'ENGINE_PID[mn]'
check "the killed run left its filter, rule and veth pair behind" \
    bash -c "ip netns exec hl-$LAB_ID-mn tc filter show dev lnk-a ingress | grep -q hl_classify_tc && ip netns exec hl-$LAB_ID-mn ip -6 rule | grep -q 'lookup 18508' && ip netns exec hl-$LAB_ID-mn ip link show hl0 >/dev/null"
check "the next run removes the leftovers and starts" start_engine mn lnk-a --workers 1 --sa "$WORK/sa.conf" --steering classifier
check "it logs the recovery" grep -q 'removed the leftovers of a crashed run' "$WORK/mn.log"
check "ping6 through the engine after the recovery" ping6_ok "$CN" 2
stop_engine mn TERM
check "engine on mn exits 0 after the recovery" test $? -eq 0
check "mn restored exactly after the runs, the crashed one included" same_as mn "$WORK/mn.before"
stop_engine cn INT
check "engine on cn exits 0 on SIGINT" test $? -eq 0
check "cn restored exactly" same_as cn "$WORK/cn.before"
check "lab works without engines" ping6_ok "$CN" 2

echo "classifier-steering integration: $(( $(date +%s) - started )) s"
echo "$passed passed, $failed failed"
[[ $failed -eq 0 ]]
