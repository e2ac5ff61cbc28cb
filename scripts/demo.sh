#!/usr/bin/env bash
# The demo, on the namespace lab (docs/ARCHITECTURE.md, "The lab"):
#
#   1. builds `homeless` and decodes a bundled capture of Homeless Mobile IPv6
#      signalling with `homeless inspect`;
#   2. brings the lab up (mn, rt, cn in network namespaces of their own),
#      starts an engine on mn and one on cn in host mode;
#   3. runs ping6 mn -> cn through both engines;
#   4. the headline scenario: an unmodified iperf3 TCP transfer mn -> cn runs
#      while mn is renumbered (it gains 2001:db8:a::99 and loses
#      2001:db8:a::10, the address the connection started with); the engines
#      exchange AH-protected Binding Updates and the transfer goes on;
#   5. prints `homeless show cache` on cn while mn holds both addresses (both
#      live in mn's entry) and after the old one was withdrawn (the new one
#      live, the old one kept as expired), and `homeless show stats` of each
#      engine;
#   6. stops the engines (the hosts are restored), runs the same iperf3
#      transfer with no engine for 3 s and prints its throughput beside the
#      one through the engines (Bench/mptcp/run.sh measures this properly:
#      several arrangements, streams and round trips side by side);
#   7. removes the lab, also when a step fails.
#
# STEERING=classifier runs the engines with `--steering classifier` (the
# kernel keeps the wires; docs/ARCHITECTURE.md, "Classifier steering"): mn
# is then renumbered on its wire, and the demo also shows that a ping to
# the router (a plain host) never enters the engine.
#
# Installs its Debian dependencies itself. Needs root (namespaces, rings).
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$(project_root)"
find_swift
install_packages
[ "$(id -u)" -eq 0 ] || die "the demo needs root (network namespaces, AF_PACKET rings)"

log "building homeless (release)"
swift build -c release --product homeless >/dev/null
homeless="$(swift build -c release --show-bin-path)/homeless"

log "homeless inspect Tests/Fixtures/captures/homeless.pcap (Binding Update, Ack, AH)"
# (awk reads to the end: `| head` would end the pipeline early, and under
# pipefail that aborts the demo.)
"$homeless" inspect Tests/Fixtures/captures/homeless.pcap |
    awk '/^#4 /{on = 1} on && shown < 12 {print; shown++} /^#6 /{on = 0}'

export LAB_ID="demo$$"
# The helpers the lab integration tests use (lab_up, in_ns, start_engine,
# stop_engines_and_lab, ...); each engine is named after its node
# (@homeless/mn, ...).
HOMELESS="$homeless" WORK=$(mktemp -d) ENGINE_LOG_LEVEL=warning
declare -A ENGINE_PID=()
passed=0 failed=0
source Tests/Integration/lib.sh

trap stop_engines_and_lab EXIT
trap 'exit 130' INT TERM

log "lab up: mn --A/B-- rt --C-- cn"
lab_up

mn_old=2001:db8:a::10 mn_new=2001:db8:a::99 cn=2001:db8:c::20
# One manually keyed AH SA each way (draft 2.4: every Binding Update carries
# AH); the same file serves both engines, each takes the SAs for its addresses.
key() { od -An -N32 -tx1 /dev/urandom | tr -d ' \n'; }
cat >"$WORK/sa.conf" <<CONF
add $mn_old $cn ah 0x2001 -A hmac-sha256 0x$(key);
add $cn $mn_old ah 0x2002 -A hmac-sha256 0x$(key);
CONF

steering="${STEERING:-bridge}"
case "$steering" in
    bridge) mn_device=hl0 ;;      # the host's addresses live on the kernel side
    classifier) mn_device=lnk-a ;; # the kernel keeps the wire
    *) die "STEERING must be bridge or classifier, not '$steering'" ;;
esac

log "starting engines: mn (wire lnk-a), cn (wire lnk-c), with AH SAs, steering $steering"
start_engine mn lnk-a --workers 1 --sa "$WORK/sa.conf" --steering "$steering" || die "the engine on mn did not start"
start_engine cn lnk-c --workers 1 --sa "$WORK/sa.conf" --steering "$steering" || die "the engine on cn did not start"

log "ping6 mn -> cn through both engines"
in_ns mn ping -6 -c 3 -i 0.2 -W 2 "$cn"
if [[ "$steering" == classifier ]]; then
    log "ping6 mn -> rt (a plain host): the kernel alone, the engine's counters stay"
    in_ns mn "$homeless" show stats --name mn | sed -n 3,4p
    in_ns mn ping -6 -c 3 -i 0.2 -W 2 2001:db8:a::1
    in_ns mn "$homeless" show stats --name mn | sed -n 3,4p
    log "the peer's route through the upper port (table 18508) and the tc ingress program"
    in_ns mn ip -6 route show table 18508
    in_ns mn tc filter show dev lnk-a ingress | grep hl_classify_tc
fi

log "iperf3 TCP mn -> cn for 8 s; mn is renumbered after 3 s"
in_ns cn iperf3 -s -1 -B "$cn" >/dev/null 2>&1 &
sleep 0.5
in_ns mn iperf3 -c "$cn" -t 8 -i 1 -f m >"$WORK/iperf.txt" 2>&1 &
iperf_pid=$!
sleep 3
log "mn gains $mn_new"
in_ns mn ip -6 addr add "$mn_new/64" dev "$mn_device" nodad
sleep 0.5
log "homeless show cache (on cn): mn's entry holds the old and the new address, both live"
in_ns cn "$homeless" show cache --name cn
log "mn loses $mn_old (the connection's address); the engines keep the connection on $mn_new"
in_ns mn ip -6 addr del "$mn_old/64" dev "$mn_device"
wait "$iperf_pid" || { cat "$WORK/iperf.txt" >&2; die "iperf3 failed"; }
cat "$WORK/iperf.txt"

log "homeless show cache (on cn): $mn_old withdrawn (lifetime 0) and kept as expired, $mn_new live"
in_ns cn "$homeless" show cache --name cn
log "homeless show cache (on mn)"
in_ns mn "$homeless" show cache --name mn
for node in mn cn; do
    log "homeless show stats (on $node)"
    in_ns "$node" "$homeless" show stats --name "$node"
done

log "stopping the engines (the hosts are restored)"
stop_engine mn || die "the engine on mn did not stop cleanly"
stop_engine cn || die "the engine on cn did not stop cleanly"
# The kernel's own path for comparison: the same transfer, no engine.
log "iperf3 TCP mn -> cn for 3 s with no engine, for comparison"
in_ns cn iperf3 -s -1 -B "$cn" >/dev/null 2>&1 &
server_pid=$!
sleep 0.5
if ! in_ns mn iperf3 -c "$cn" -t 3 -f m >"$WORK/iperf-kernel.txt" 2>&1; then
    kill "$server_pid" 2>/dev/null
    cat "$WORK/iperf-kernel.txt" >&2
    die "iperf3 without engines failed"
fi
# The receiver's rate from iperf3's summary ("... 1093 Mbits/sec ... receiver").
received_rate() { awk '/receiver/ {for (i = 1; i < NF; i++) if ($(i + 1) == "Mbits/sec") rate = $i} END {print rate}' "$1"; }
through_engines=$(received_rate "$WORK/iperf.txt")
no_engine=$(received_rate "$WORK/iperf-kernel.txt")
log "throughput, iperf3 TCP mn -> cn (received by cn)"
printf '  %-52s %6s Mbit/s\n' "through both engines ($steering, renumbered mid-way, 8 s):" "$through_engines" \
    "no engine (the same transfer, 3 s):" "$no_engine"
python3 -c 'import sys; e, k = float(sys.argv[1]), float(sys.argv[2]); print(f"  the engines carry {e / k:.1%} of the kernel-only rate")' "$through_engines" "$no_engine" 2>/dev/null || true

log "removing the lab"
