# lib.sh - helpers shared by the lab integration scripts (host-mode.sh,
# classifier-steering.sh, mobility.sh, expiry.sh), scripts/demo.sh and
# Bench/steering/run.sh. Source it after setting
# HOMELESS; set LAB_ID and WORK and declare `declare -A ENGINE_PID=()`,
# `passed=0` and `failed=0` before calling the helpers.

in_ns() { local node="$1"; shift; ip netns exec "hl-$LAB_ID-$node" "$@"; }

LAB_SCRIPT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)/scripts/lab.sh"

# Builds the lab (scripts/lab.sh up); on failure prints its log and exits 1.
lab_up() {
    bash "$LAB_SCRIPT" up >"$WORK/lab.log" 2>&1 || { cat "$WORK/lab.log"; exit 1; }
}

# What every lab script's EXIT trap does last: stops each engine still in
# ENGINE_PID (continuing it first, should a test have stopped it), removes
# the lab, and removes WORK unless KEEP_WORK is set.
stop_engines_and_lab() {
    local node
    for node in "${!ENGINE_PID[@]}"; do
        kill -CONT "${ENGINE_PID[$node]}" 2>/dev/null
        stop_engine "$node" || true
    done
    bash "$LAB_SCRIPT" down >/dev/null 2>&1 || true
    if [[ -n "${KEEP_WORK:-}" ]]; then echo "kept $WORK"; else rm -rf "$WORK"; fi
}

# Exits 77 (skipped) unless running as root with every TOOL installed, and
# 1 when $HOMELESS is not an executable. SCRIPT names the caller.
require_lab() {   # script tool...
    local script="$1" tool; shift
    if [[ $(id -u) -ne 0 ]]; then
        echo "$script: skipped (needs root for network namespaces)"
        exit 77
    fi
    for tool in "$@"; do
        if ! command -v "$tool" >/dev/null; then
            echo "$script: skipped ($tool is not installed)"
            exit 77
        fi
    done
    if [[ ! -x "$HOMELESS" ]]; then
        echo "$script: no homeless binary at $HOMELESS (set HOMELESS)" >&2
        exit 1
    fi
}

# Writes a setkey(8) file with one HMAC-SHA-256 AH SA each way between A
# and B (SPIs 0x2001 A->B, 0x2002 B->A), keys made for this run.
write_manual_sas() {   # file a b
    local key1 key2
    key1=$(python3 -c 'import os; print("0x" + os.urandom(32).hex())')
    key2=$(python3 -c 'import os; print("0x" + os.urandom(32).hex())')
    printf '# %s <-> %s, manually keyed (draft 2.4)\nadd %s %s ah 0x2001 -A hmac-sha256 %s;\nadd %s %s ah 0x2002 -A hmac-sha256 %s;\n' \
        "$2" "$3" "$2" "$3" "$key1" "$3" "$2" "$key2" >"$1"
}

# Runs COMMAND and reports it under DESCRIPTION; returns its failure.
check() {   # description command...
    local description="$1"; shift
    if "$@"; then pass "$description"; else fail "$description"; return 1; fi
}

# Retries COMMAND every 0.1 s for at most SECONDS.
wait_for() {   # seconds command...
    local tries=$(( $1 * 10 )); shift
    for _ in $(seq "$tries"); do
        "$@" && return 0
        sleep 0.1
    done
    return 1
}

pass() { passed=$((passed + 1)); echo "ok   $*"; }
fail() { failed=$((failed + 1)); echo "FAIL $*"; }

# Starts `homeless run` on NODE's WIRE (engine name = node name) and waits
# until its control socket answers. ENGINE_LOG_LEVEL sets --log-level.
start_engine() {   # node wire extra-args...
    local node="$1" wire="$2"; shift 2
    # `ip netns exec` execs the engine, so $! is the engine's own PID (a
    # shell function here would put a subshell in between).
    ip netns exec "hl-$LAB_ID-$node" "$HOMELESS" run --wire "$wire" --name "$node" \
        --log-level "${ENGINE_LOG_LEVEL:-notice}" "$@" >"$WORK/$node.log" 2>&1 &
    ENGINE_PID[$node]=$!
    for _ in $(seq 100); do
        if in_ns "$node" "$HOMELESS" show ports --name "$node" >/dev/null 2>&1; then return 0; fi
        kill -0 "${ENGINE_PID[$node]}" 2>/dev/null || break
        sleep 0.05
    done
    echo "engine on $node did not start:"; cat "$WORK/$node.log"
    # Who holds the engine's control socket name, if anyone does.
    in_ns "$node" ss -xlp 2>/dev/null | grep -F "@homeless/$node " | sed 's/^/  held: /'
    return 1
}

# Stops NODE's engine with SIGNAL (default TERM) and returns its exit
# status (137 if it had to be killed).
stop_engine() {   # node [signal]
    local node="$1" signal="${2:-TERM}" pid="${ENGINE_PID[$1]:-}"
    [[ -n "$pid" ]] || return 0
    kill "-$signal" "$pid" 2>/dev/null
    local status=0
    # Closing ring sockets waits for RCU grace periods: allow for a slow,
    # loaded machine before giving up.
    for _ in $(seq 600); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
        kill -9 "$pid" 2>/dev/null
        status=137
    fi
    wait "$pid" 2>/dev/null || status=$?
    unset "ENGINE_PID[$node]"
    return "$status"
}

# The host state an engine must leave as it found it: addresses, routes,
# policy rules and the classifier-steering table, links, qdiscs, ingress
# filters. Routes are compared as a set: re-enabling IPv6 on a wire (bridge
# steering) re-creates its fe80::/64 route after those of the other
# interfaces, which changes only the listing order.
snapshot() {   # node file
    {
        echo "## addresses"; in_ns "$1" ip -6 addr
        echo "## routes"; in_ns "$1" ip -6 route | sort
        echo "## rules"; in_ns "$1" ip -6 rule
        echo "## steering table"; in_ns "$1" ip -6 route show table 18508 2>/dev/null
        echo "## links"; in_ns "$1" ip -o link | sed 's/ *\\ *link\/ether.*//'
        echo "## qdiscs"; in_ns "$1" tc qdisc
        echo "## ingress filters"; for dev in lnk-a lnk-b lnk-c; do in_ns "$1" tc filter show dev "$dev" ingress 2>/dev/null; done
    } >"$2"
}

# Exits 0 when NODE's state is the one in FILE (else prints the difference).
same_as() {   # node file
    snapshot "$1" "$WORK/now"
    diff -u "$2" "$WORK/now"
}

# Evaluates a Python expression over NODE's `homeless show stats --json`
# (as `d`) and prints the result.
stat() {   # node expression
    in_ns "$1" "$HOMELESS" show stats --json --name "$1" |
        python3 -c 'import json, sys; d = json.load(sys.stdin); print(eval(sys.argv[1]))' "$2"
}
total() { stat "$1" "d['totals']['$2']"; }
within() { [[ "$1" -ge "$2" && "$1" -le "$3" ]]; }   # value low high

# 300 UDP datagrams from mn to cn's ADDRESS:PORT, echoed back (frames.py,
# at $FRAMES): checks that all came back and that both engines' forwarded
# counters grew by 300 each way, and by at most MOST (a few other frames,
# such as Neighbour Discovery, may pass meanwhile).
udp_echo_mn_to_cn() {   # address port most
    local address="$1" port="$2" most="$3" server echoed
    local mn_out mn_in cn_out cn_in mn_out_before mn_in_before cn_out_before cn_in_before
    mn_out_before=$(total mn outbound-forwarded); mn_in_before=$(total mn inbound-forwarded)
    cn_out_before=$(total cn outbound-forwarded); cn_in_before=$(total cn inbound-forwarded)
    in_ns cn python3 "$FRAMES" udp-echo-server "$address" "$port" 300 &
    server=$!
    sleep 0.3
    echoed=$(in_ns mn python3 "$FRAMES" udp-client "$address" "$port" 300)
    wait "$server"
    check "UDP: 300 datagrams echoed through both engines (got $echoed)" test "$echoed" -eq 300
    sleep 0.2
    mn_out=$(( $(total mn outbound-forwarded) - mn_out_before )); mn_in=$(( $(total mn inbound-forwarded) - mn_in_before ))
    cn_out=$(( $(total cn outbound-forwarded) - cn_out_before )); cn_in=$(( $(total cn inbound-forwarded) - cn_in_before ))
    check "mn counted the 300 datagrams it sent (+$mn_out)" within "$mn_out" 300 "$most"
    check "mn counted the 300 echoes it received (+$mn_in)" within "$mn_in" 300 "$most"
    check "cn counted the 300 datagrams it received (+$cn_in)" within "$cn_in" 300 "$most"
    check "cn counted the 300 echoes it sent (+$cn_out)" within "$cn_out" 300 "$most"
}

# An iperf3 TCP transfer of SECONDS from mn to cn's ADDRESS:PORT, reported
# under DESCRIPTION with its rate. On success IPERF_RECEIVED holds the
# bytes cn received; returns the transfer's failure.
iperf_mn_to_cn() {   # address port seconds description
    local address="$1" port="$2" seconds="$3" description="$4" server status=0
    local json="$WORK/iperf-$port.json"
    in_ns cn iperf3 -s -1 -B "$address" -p "$port" >/dev/null 2>&1 &
    server=$!
    sleep 0.3
    if in_ns mn timeout 30 iperf3 -c "$address" -p "$port" -t "$seconds" -J >"$json" 2>&1; then
        IPERF_RECEIVED=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["end"]["sum_received"]["bytes"])' "$json")
        pass "$description ($((IPERF_RECEIVED * 8 / seconds / 1000000)) Mbit/s)"
    else
        fail "$description"; cat "$json"
        status=1
    fi
    wait "$server" 2>/dev/null
    return "$status"
}
