#!/usr/bin/env bash
# Bench/datapath/run.sh - what two engines cost a TCP transfer and a round
# trip, measured in one run on the test lab (scripts/lab.sh: mn -- rt -- cn,
# veth links, kernel TCP), for three set-ups:
#   none     no engine: the lab's kernels alone (the reference)
#   engines  `homeless run` on mn (lnk-a) and on cn (lnk-c), default rings:
#            TPACKET_V2 per-frame hand-off, offload metadata (PACKET_VNET_HDR),
#            64 KiB super-frames crossing whole
#   v3-mtu   the same engines with the earlier data path: TPACKET_V3 blocks
#            (1 ms retire timeout), 2 KiB slots, no offload metadata (the upper
#            port's TSO/GSO/checksum offloads off, every frame at MTU size)
# Per set-up: iperf3 TCP mn -> cn with 1 and with 4 streams (DURATION s
# each, the receiver's rate), and `ping -c COUNT -i 0.01` mn -> cn (minimum,
# median and average round trip). The table gives each figure beside the
# no-engine one.
#
# The machine is shared and small (every namespace, both engines and iperf3
# share its CPUs): the figures are noisy, compare them within one run only.
#
# usage: [HOMELESS=path] [DURATION=5] [COUNT=200] [WORKERS=1] [SETUPS="none engines v3-mtu"]
#        [ENGINE_ARGS="..."] Bench/datapath/run.sh
# Needs root, iperf3, ping, ethtool, python3. Exit 77 when something is missing.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
DURATION="${DURATION:-5}"
COUNT="${COUNT:-200}"
WORKERS="${WORKERS:-1}"
SETUPS="${SETUPS:-none engines v3-mtu}"
ENGINE_ARGS="${ENGINE_ARGS:-}"
export LAB_ID="${LAB_ID:-dp$$}"
WORK="$(mktemp -d)"
declare -A ENGINE_PID=()

[[ $(id -u) -eq 0 ]] || { echo "run.sh: needs root" >&2; exit 77; }
for tool in iperf3 ping ethtool python3 ip; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 77; }
done

if [[ -z "${HOMELESS:-}" ]]; then
    echo "building homeless (release)..." >&2
    (cd "$ROOT" && swift build -c release --product homeless >/dev/null)
    HOMELESS="$(cd "$ROOT" && swift build -c release --show-bin-path)/homeless"
fi

in_ns() { local node="$1"; shift; ip netns exec "hl-$LAB_ID-$node" "$@"; }

stop_engines() {
    local node
    for node in "${!ENGINE_PID[@]}"; do
        kill -TERM "${ENGINE_PID[$node]}" 2>/dev/null || true
        for _ in $(seq 600); do kill -0 "${ENGINE_PID[$node]}" 2>/dev/null || break; sleep 0.05; done
        kill -KILL "${ENGINE_PID[$node]}" 2>/dev/null || true
        wait "${ENGINE_PID[$node]}" 2>/dev/null || true
        unset "ENGINE_PID[$node]"
    done
}

cleanup() {
    stop_engines
    "$ROOT/scripts/lab.sh" down >/dev/null 2>&1 || true
    rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

start_engine() {   # node wire args...
    local node="$1" wire="$2"; shift 2
    # shellcheck disable=SC2086
    ip netns exec "hl-$LAB_ID-$node" "$HOMELESS" run --wire "$wire" --name "$node" --workers "$WORKERS" \
        --log-level warning "$@" $ENGINE_ARGS >"$WORK/$node.log" 2>&1 &
    ENGINE_PID[$node]=$!
    for _ in $(seq 200); do
        in_ns "$node" "$HOMELESS" show ports --name "$node" >/dev/null 2>&1 && return 0
        kill -0 "${ENGINE_PID[$node]}" 2>/dev/null || break
        sleep 0.05
    done
    echo "run.sh: the engine on $node did not start:" >&2
    cat "$WORK/$node.log" >&2
    exit 1
}

iperf_rate() {   # streams port -> Mbit/s received by cn
    local streams="$1" port="$2" json="$WORK/iperf-$2.json"
    in_ns cn iperf3 -s -1 -B 2001:db8:c::20 -p "$port" >/dev/null 2>&1 &
    local server=$!
    sleep 0.3
    if in_ns mn timeout $(( DURATION + 20 )) iperf3 -c 2001:db8:c::20 -p "$port" -t "$DURATION" -P "$streams" -J \
        >"$json" 2>/dev/null; then
        python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["end"]["sum_received"]["bits_per_second"] / 1e6))' "$json"
    else
        echo 0
    fi
    wait "$server" 2>/dev/null || true
}

ping_times() {   # -> "min median average" round trip in microseconds
    in_ns mn ping -6 -c "$COUNT" -i 0.01 -W 1 2001:db8:c::20 2>/dev/null | python3 -c '
import re, statistics, sys
times = [float(m.group(1)) * 1000 for m in re.finditer(r"time=([0-9.]+) ms", sys.stdin.read())]
print("%d %d %d" % (min(times), statistics.median(times), statistics.mean(times)) if times else "0 0 0")'
}

"$ROOT/scripts/lab.sh" up >/dev/null
# Neighbours resolved and caches warm before anything is measured.
in_ns mn ping -6 -c 2 -i 0.2 2001:db8:c::20 >/dev/null 2>&1 || true

declare -A ONE FOUR RTT_MIN RTT_MEDIAN RTT_AVERAGE
port=5301
for setup in $SETUPS; do
    case "$setup" in
        none) ;;
        engines) start_engine mn lnk-a; start_engine cn lnk-c ;;
        v3-mtu)
            legacy=(--rx-ring blocks --rx-blocks 256 --rx-block-size 65536 --rx-frame-size 2048
                    --tx-frame-size 2048 --tx-frames 4096 --no-ring-offloads)
            start_engine mn lnk-a "${legacy[@]}"; start_engine cn lnk-c "${legacy[@]}" ;;
        *) echo "run.sh: unknown set-up '$setup'" >&2; exit 2 ;;
    esac
    in_ns mn ping -6 -c 3 -i 0.2 2001:db8:c::20 >/dev/null 2>&1 || true
    echo "measuring: $setup" >&2
    ONE[$setup]=$(iperf_rate 1 $port); port=$((port + 1))
    FOUR[$setup]=$(iperf_rate 4 $port); port=$((port + 1))
    read -r RTT_MIN[$setup] RTT_MEDIAN[$setup] RTT_AVERAGE[$setup] < <(ping_times)
    stop_engines
    # The engines' undo must have put the lab back before the next set-up.
    in_ns mn ping -6 -c 2 -i 0.2 2001:db8:c::20 >/dev/null 2>&1 || true
done

ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a / b:.2f}' if b else '-')" "$1" "$2"; }
commit=$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)
echo "datapath: mn -> cn through rt; commit $commit; $(nproc) CPUs; iperf3 ${DURATION} s; ping -c $COUNT -i 0.01"
printf '%-8s | %12s %6s | %12s %6s | %25s | %8s\n' set-up "1 stream" ratio "4 streams" ratio "RTT min/median/avg (us)" "added"
base_one="${ONE[none]:-0}"; base_four="${FOUR[none]:-0}"; base_rtt="${RTT_AVERAGE[none]:-0}"
for setup in $SETUPS; do
    printf '%-8s | %7s Mb/s %6s | %7s Mb/s %6s | %25s | %5s us\n' "$setup" \
        "${ONE[$setup]}" "$(ratio "${ONE[$setup]}" "$base_one")" \
        "${FOUR[$setup]}" "$(ratio "${FOUR[$setup]}" "$base_four")" \
        "${RTT_MIN[$setup]} / ${RTT_MEDIAN[$setup]} / ${RTT_AVERAGE[$setup]}" \
        "$(( ${RTT_AVERAGE[$setup]} - base_rtt ))"
done
echo "(added: average round trip minus the no-engine average; load average $(cut -d' ' -f1-3 /proc/loadavg))"
