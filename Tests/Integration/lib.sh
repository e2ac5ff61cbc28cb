# lib.sh - helpers shared by the lab integration scripts (host-mode.sh,
# mobility.sh) and scripts/demo.sh. Source it after setting HOMELESS, LAB_ID and WORK and
# declaring `declare -A ENGINE_PID=()`, `passed=0` and `failed=0`.

in_ns() { local node="$1"; shift; ip netns exec "hl-$LAB_ID-$node" "$@"; }

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
