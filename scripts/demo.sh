#!/usr/bin/env bash
# The demo, on the namespace lab (docs/ARCHITECTURE.md, "The lab"):
#
#   1. builds `homeless` and decodes a bundled capture of Homeless Mobile IPv6
#      signalling with `homeless inspect`;
#   2. brings the lab up (mn, rt, cn in network namespaces of their own),
#      starts an engine on mn and one on cn in host mode;
#   3. runs ping6 and an iperf3 TCP transfer mn -> cn through both engines;
#   4. prints `homeless show stats` and `homeless show cache` of each engine;
#   5. stops the engines (the hosts are restored) and removes the lab, also
#      when a step fails.
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
"$homeless" inspect Tests/Fixtures/captures/homeless.pcap | sed -n '/^#4 /,/^#6 /p' | head -n 12

export LAB_ID="demo$$"
lab=scripts/lab.sh
ns() { printf 'hl-%s-%s' "$LAB_ID" "$1"; }
in_ns() { local node="$1"; shift; ip netns exec "$(ns "$node")" "$@"; }
declare -A engine_pid=()
logs=$(mktemp -d)

stop_engines() {
    local node
    for node in "${!engine_pid[@]}"; do
        kill -TERM "${engine_pid[$node]}" 2>/dev/null || true
        wait "${engine_pid[$node]}" 2>/dev/null || true
        unset "engine_pid[$node]"
    done
}
cleanup() {
    stop_engines
    bash "$lab" down >/dev/null 2>&1 || true
    rm -rf "$logs"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log "lab up: mn --A/B-- rt --C-- cn"
bash "$lab" up >/dev/null

start_engine() {   # node wire
    local node="$1" wire="$2"
    in_ns "$node" "$homeless" run --wire "$wire" --workers 1 --log-level warning >"$logs/$node.log" 2>&1 &
    engine_pid[$node]=$!
    for _ in $(seq 100); do
        in_ns "$node" "$homeless" show ports >/dev/null 2>&1 && return 0
        kill -0 "${engine_pid[$node]}" 2>/dev/null || { cat "$logs/$node.log" >&2; die "engine on $node exited"; }
        sleep 0.1
    done
    die "engine on $node did not come up"
}
log "starting engines: mn (wire lnk-a), cn (wire lnk-c)"
start_engine mn lnk-a
start_engine cn lnk-c

log "ping6 mn -> cn through both engines"
in_ns mn ping -6 -c 3 -i 0.2 -W 2 2001:db8:c::20

log "iperf3 TCP mn -> cn for 3 s"
in_ns cn iperf3 -s -1 -D >/dev/null
sleep 0.3
in_ns mn iperf3 -c 2001:db8:c::20 -t 3 -f m | tail -n 4

for node in mn cn; do
    log "homeless show stats (on $node)"
    in_ns "$node" "$homeless" show stats
    log "homeless show cache (on $node)"
    in_ns "$node" "$homeless" show cache
done

log "stopping engines and removing the lab"
