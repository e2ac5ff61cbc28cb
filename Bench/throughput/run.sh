#!/usr/bin/env bash
# Bench/throughput/run.sh - forwarding throughput and CPU cost per packet,
# in one run, of:
#   kernel   the Linux IPv6 forwarding path (gen -> dut forwards -> sink)
#   ring     a C AF_PACKET ring forwarder (TPACKET_V3 RX -> TPACKET_V2 TX,
#            MAC rewrite) on dut, if FWD_RING names its source or binary
#            (invoked as `FORWARDER -i in0 -o out0 -d SINK_MAC [-t RING_MODE]`,
#            stopped by SIGTERM; RING_MODE=mmsg|ring picks its TX path)
#   netsniff netsniff-ng's own forwarding mode (`netsniff-ng --in in0 --out out0`,
#            no MAC rewrite: sink counts the frames at s0 before dropping
#            them as not addressed to it), if NETSNIFF=1
#   engine   `homeless run` in host mode on dut: wire -> engine -> upper port
#            (pass-through: the frames reach dut's own kernel unchanged)
#
# Topology (namespaces made here, removed by a trap even on failure):
#   gen (g0) ==veth== (in0) dut (out0) ==veth== (s0) sink
#   2001:db8:10::/64 gen ::1, dut ::2      2001:db8:20::/64 dut ::1, sink ::2
# trafgen offers UDP/IPv6 frames of SIZE bytes at RATE pps for DURATION seconds.
# Delivered packets are counted where they land (sink's s0, or dut's upper
# port for the engine). CPU per packet:
#   fwd cpu  on-CPU time of the forwarder's threads (/proc/PID/task/*/schedstat)
#            divided by delivered packets; the veth transmit of a forwarder
#            runs the receiving side's softirq in its own context, so this
#            includes the receiver's input path, the same way for ring and
#            engine; kernel forwarding has no process of its own (n/a);
#   all cpu  busy time of the whole machine (/proc/stat) per delivered packet,
#            generator included: comparable across the three, noisy on a
#            shared machine.
#
# CPUs: trafgen pins its one process to CPU 0 itself; every forwarder runs
# pinned to FWD_CPU (default: the last CPU), so generator and forwarder
# never share a core (the engine with --no-pin under taskset, its threads
# inherit the mask).
#
# Memory: with MEMORY_SECONDS=N (e.g. 60) the engine, after its case, is
# left idle for a few seconds and then offered RATE pps for N seconds while
# its VmRSS (/proc/PID/status) is sampled every MEMORY_INTERVAL (5) seconds.
#
# usage: [HOMELESS=path] [FWD_RING=path/to/ring_forwarder.c|binary] [RING_MODE=mmsg|ring]
#        [NETSNIFF=1] [MEMORY_SECONDS=60] [MEMORY_INTERVAL=5] [RATE=200000]
#        [DURATION=5] [SIZE=128] [WORKERS=1] [FWD_CPU=n] [ENGINE_ARGS="--rx-blocks N ..."] Bench/throughput/run.sh
# RATE=0 sends as fast as trafgen can. Needs root, trafgen, iproute2, ethtool.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
RATE="${RATE:-200000}"
DURATION="${DURATION:-5}"
SIZE="${SIZE:-128}"
WORKERS="${WORKERS:-1}"
RING_MODE="${RING_MODE:-}"
NETSNIFF="${NETSNIFF:-0}"
MEMORY_SECONDS="${MEMORY_SECONDS:-0}"
MEMORY_INTERVAL="${MEMORY_INTERVAL:-5}"
FWD_CPU="${FWD_CPU:-$(( $(nproc) - 1 ))}"
P="hlbench$$"
WORK="$(mktemp -d)"
FORWARDER=""

[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root" >&2; exit 77; }
for tool in trafgen ip ethtool taskset; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 77; }
done

if [[ -z "${HOMELESS:-}" ]]; then
    echo "building homeless (release)..." >&2
    (cd "$ROOT" && swift build -c release --product homeless >/dev/null)
    HOMELESS="$(cd "$ROOT" && swift build -c release --show-bin-path)/homeless"
fi

RING=""
if [[ -n "${FWD_RING:-}" ]]; then
    if [[ "$FWD_RING" == *.c ]]; then
        cc -O2 -o "$WORK/ring_forwarder" "$FWD_RING"
        RING="$WORK/ring_forwarder"
    else
        RING="$FWD_RING"
    fi
fi

ns() { echo "$P-$1"; }
in_ns() { local node="$1"; shift; ip netns exec "$(ns "$node")" "$@"; }

cleanup() {
    if [[ -n "$FORWARDER" ]]; then
        kill -TERM "$FORWARDER" 2>/dev/null || true
        wait "$FORWARDER" 2>/dev/null || true
    fi
    for node in gen dut sink; do ip netns del "$(ns "$node")" 2>/dev/null || true; done
    rm -rf "$WORK"
}
trap cleanup EXIT

for node in gen dut sink; do
    ip netns add "$(ns "$node")"
    in_ns "$node" ip link set lo up
    in_ns "$node" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0 \
        net.ipv6.conf.default.router_solicitations=0
done
ip link add g0 netns "$(ns gen)" type veth peer name in0 netns "$(ns dut)"
ip link add out0 netns "$(ns dut)" type veth peer name s0 netns "$(ns sink)"
in_ns gen ip link set g0 up
in_ns dut ip link set in0 up
in_ns dut ip link set out0 up
in_ns sink ip link set s0 up
in_ns gen ip -6 addr add 2001:db8:10::1/64 dev g0 nodad
in_ns dut ip -6 addr add 2001:db8:10::2/64 dev in0 nodad
in_ns dut ip -6 addr add 2001:db8:20::1/64 dev out0 nodad
in_ns sink ip -6 addr add 2001:db8:20::2/64 dev s0 nodad
in_ns gen ip -6 route add 2001:db8:20::/64 via 2001:db8:10::2
in_ns sink ip -6 route add default via 2001:db8:20::1

mac() { in_ns "$1" cat "/sys/class/net/$2/address"; }
G0=$(mac gen g0); IN0=$(mac dut in0); OUT0=$(mac dut out0); S0=$(mac sink s0)
# Static neighbours: no Neighbour Discovery during the measurement.
in_ns gen ip -6 neigh replace 2001:db8:10::2 lladdr "$IN0" dev g0 nud permanent
in_ns dut ip -6 neigh replace 2001:db8:20::2 lladdr "$S0" dev out0 nud permanent
in_ns dut ip -6 neigh replace 2001:db8:10::1 lladdr "$G0" dev in0 nud permanent

payload=$(( SIZE - 62 > 0 ? SIZE - 62 : 0 ))
frame() {   # destination address
    echo "{ eth(da=$IN0, sa=$G0), ipv6(sa=2001:db8:10::1, da=$1, hl=64), udp(sp=4000, dp=9), fill(0x41, $payload) }"
}

counter() { in_ns "$1" cat "/sys/class/net/$2/statistics/rx_packets"; }
task_cpu_ns() {   # pid: on-CPU ns summed over its threads
    local total=0 t
    for t in /proc/"$1"/task/*/schedstat; do
        total=$(( total + $(cut -d' ' -f1 "$t" 2>/dev/null || echo 0) ))
    done
    echo "$total"
}
busy_jiffies() { awk '/^cpu /{print $2+$3+$4+$7+$8}' /proc/stat; }
HZ=$(getconf CLK_TCK)

results=()
measure() {   # name sink-node sink-if destination
    local name="$1" node="$2" iface="$3" destination="$4" rate_args=()
    [[ "$RATE" -gt 0 ]] && rate_args=(-b "${RATE}pps")
    local before after cpu_before=0 cpu_after=0 busy_before busy_after
    before=$(counter "$node" "$iface")
    [[ -n "$FORWARDER" ]] && cpu_before=$(task_cpu_ns "$FORWARDER")
    busy_before=$(busy_jiffies)
    in_ns gen timeout -s INT "$DURATION" trafgen -o g0 -P 1 --no-sock-mem "${rate_args[@]}" \
        "$(frame "$destination")" >"$WORK/trafgen.$name" 2>&1 || true
    sleep 0.3
    after=$(counter "$node" "$iface")
    [[ -n "$FORWARDER" ]] && cpu_after=$(task_cpu_ns "$FORWARDER")
    busy_after=$(busy_jiffies)
    local sent delivered pps fwd all
    sent=$(tr -d '\r' <"$WORK/trafgen.$name" | awk '/packets outgoing/{print $1}' | tail -1)
    delivered=$(( after - before ))
    pps=$(( delivered / DURATION ))
    if [[ -n "$FORWARDER" && $delivered -gt 0 ]]; then
        fwd=$(( (cpu_after - cpu_before) / delivered ))
    else
        fwd="n/a"
    fi
    if [[ $delivered -gt 0 ]]; then
        all=$(( (busy_after - busy_before) * 1000000000 / HZ / delivered ))
    else
        all="n/a"
    fi
    results+=("$(printf '%-8s %12s %12s %10s %12s %12s' "$name" "${sent:-?}" "$delivered" "$pps" "$fwd" "$all")")
}

# 1. Kernel forwarding.
in_ns dut sysctl -qw net.ipv6.conf.all.forwarding=1
measure kernel sink s0 2001:db8:20::2
in_ns dut sysctl -qw net.ipv6.conf.all.forwarding=0

# 2. C ring forwarder (dut's own IPv6 on in0 off, so the kernel drops its copy at once).
if [[ -n "$RING" ]]; then
    in_ns dut sysctl -qw net.ipv6.conf.in0.disable_ipv6=1
    # ip netns exec execs the forwarder: $! is its PID (for schedstat).
    ring_args=(-i in0 -o out0 -d "$S0")
    [[ -n "$RING_MODE" ]] && ring_args+=(-t "$RING_MODE")
    ip netns exec "$(ns dut)" taskset -c "$FWD_CPU" "$RING" "${ring_args[@]}" >"$WORK/ring.out" 2>&1 &
    FORWARDER=$!
    sleep 0.5
    measure "ring${RING_MODE:+-$RING_MODE}" sink s0 2001:db8:20::2
    kill -TERM "$FORWARDER"; wait "$FORWARDER" 2>/dev/null || true
    FORWARDER=""
    in_ns dut sysctl -qw net.ipv6.conf.in0.disable_ipv6=0
    in_ns dut ip -6 addr replace 2001:db8:10::2/64 dev in0 nodad
    in_ns dut ip -6 neigh replace 2001:db8:10::1 lladdr "$G0" dev in0 nud permanent
else
    results+=("$(printf '%-8s %s' ring 'skipped (set FWD_RING to the C forwarder source or binary)')")
fi

# 2b. netsniff-ng's forwarding mode (same dut setup as the ring forwarder).
if [[ "$NETSNIFF" == 1 ]] && command -v netsniff-ng >/dev/null; then
    in_ns dut sysctl -qw net.ipv6.conf.in0.disable_ipv6=1
    # --no-sock-mem: the namespace cannot raise net.core.*mem; -S: a ring
    # that fits the default socket memory limits.
    ip netns exec "$(ns dut)" taskset -c "$FWD_CPU" netsniff-ng --in in0 --out out0 --silent --no-sock-mem -S 16MiB \
        >"$WORK/netsniff.out" 2>&1 &
    FORWARDER=$!
    sleep 1
    if kill -0 "$FORWARDER" 2>/dev/null; then
        measure netsniff sink s0 2001:db8:20::2
        kill -INT "$FORWARDER" 2>/dev/null || true
    else
        results+=("$(printf '%-8s %s' netsniff "failed: $(head -1 "$WORK/netsniff.out")")")
    fi
    wait "$FORWARDER" 2>/dev/null || true
    FORWARDER=""
    in_ns dut sysctl -qw net.ipv6.conf.in0.disable_ipv6=0
    in_ns dut ip -6 addr replace 2001:db8:10::2/64 dev in0 nodad
    in_ns dut ip -6 neigh replace 2001:db8:10::1 lladdr "$G0" dev in0 nud permanent
fi

# 3. The engine in host mode on in0, frames to dut's own (moved) address.
ip netns exec "$(ns dut)" taskset -c "$FWD_CPU" "$HOMELESS" run --wire in0 --name bench --workers "$WORKERS" \
    --busy-poll 0 --no-pin --log-level warning ${ENGINE_ARGS:-} >"$WORK/engine.log" 2>&1 &
FORWARDER=$!
for _ in $(seq 100); do
    in_ns dut "$HOMELESS" show ports --name bench >/dev/null 2>&1 && break
    sleep 0.1
done
in_ns dut ip -6 neigh replace 2001:db8:10::1 lladdr "$G0" dev hl0 nud permanent
measure engine dut hl0 2001:db8:10::2
in_ns dut "$HOMELESS" show stats --name bench >"$WORK/engine.stats" 2>&1 || true
rss_kib() { awk '/^VmRSS:/{print $2}' "/proc/$1/status"; }
memory=()
if [[ "$MEMORY_SECONDS" -gt 0 ]]; then
    sleep "$MEMORY_INTERVAL"
    memory+=("idle: $(rss_kib "$FORWARDER") KiB")
    rate_args=()
    [[ "$RATE" -gt 0 ]] && rate_args=(-b "${RATE}pps")
    in_ns gen timeout -s INT "$MEMORY_SECONDS" trafgen -o g0 -P 1 --no-sock-mem "${rate_args[@]}" \
        "$(frame 2001:db8:10::2)" >"$WORK/trafgen.memory" 2>&1 &
    load=$!
    before=$(counter dut hl0)
    samples=()
    for ((elapsed = MEMORY_INTERVAL; elapsed <= MEMORY_SECONDS; elapsed += MEMORY_INTERVAL)); do
        sleep "$MEMORY_INTERVAL"
        samples+=("$(rss_kib "$FORWARDER")")
    done
    wait "$load" 2>/dev/null || true
    memory+=("under load (every ${MEMORY_INTERVAL} s over ${MEMORY_SECONDS} s, $(( $(counter dut hl0) - before )) frames delivered): ${samples[*]} KiB")
    memory+=("after load: $(rss_kib "$FORWARDER") KiB")
fi
kill -TERM "$FORWARDER"; wait "$FORWARDER" 2>/dev/null || true
FORWARDER=""

echo "offered: ${RATE} pps (0 = as fast as possible), ${SIZE}-byte frames, ${DURATION} s per case, engine workers ${WORKERS}"
printf '%-8s %12s %12s %10s %12s %12s\n' case sent delivered pps "fwd ns/pkt" "all ns/pkt"
printf '%s\n' "${results[@]}"
if [[ ${#memory[@]} -gt 0 ]]; then
    echo "engine resident memory (VmRSS):"
    printf '  %s\n' "${memory[@]}"
fi
echo "engine counters:"
sed 's/^/  /' "$WORK/engine.stats" | grep -E "total|^  (  inbound|  drops)|ring worker" | awk 'NR <= 8'
