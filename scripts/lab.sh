#!/usr/bin/env bash
# lab.sh - the Homeless test lab: three network namespaces joined by veth links.
#
#   mn (mobile node) --- link A 2001:db8:a::/64 ---+
#        |                                          rt (router) --- link C 2001:db8:c::/64 --- cn
#        +------------ link B 2001:db8:b::/64 -----+
#
# Namespaces are named hl-<LAB_ID>-mn, hl-<LAB_ID>-rt, hl-<LAB_ID>-cn so that
# several labs (parallel test runs) can coexist; LAB_ID defaults to "lab".
# Interfaces live only inside the namespaces and carry the link's name on both
# ends (lnk-a, lnk-b, lnk-c), so nothing is created in the caller's namespace.
#
# Addresses (all "nodad": tests must not wait for Duplicate Address Detection):
#   mn  lnk-a 2001:db8:a::10/64   lnk-b 2001:db8:b::10/64
#   rt  lnk-a 2001:db8:a::1/64    lnk-b 2001:db8:b::1/64    lnk-c 2001:db8:c::1/64
#   cn  lnk-c 2001:db8:c::20/64
# mn's default route goes via link A (metric 100) and link B (metric 200), so
# that taking link A down is a handover to B. rt forwards; cn routes via rt.
# With LAB_HOSTILE=1, `up` adds a fourth node ev (a hostile peer, for the
# signalling-authorisation test) on link D: ev lnk-d 2001:db8:d::66/64,
# rt lnk-d 2001:db8:d::1/64, ev routes via rt. The other nodes are the same.
#
# usage: lab.sh up | down | status | exec NODE CMD... | check
#   up      (re)build the lab; leftovers of the same LAB_ID are removed first
#   down    remove the lab; succeeds when nothing is there
#   status  namespaces, links and addresses of the lab
#   exec    run CMD inside node mn, rt, cn (or ev)
#   check   ping6 mn -> cn through rt over link A
set -euo pipefail

LAB_ID="${LAB_ID:-lab}"
if ! [[ "$LAB_ID" =~ ^[A-Za-z0-9_-]{1,24}$ ]]; then
    echo "lab.sh: LAB_ID must be 1-24 characters of [A-Za-z0-9_-]" >&2
    exit 2
fi
NODES=(mn rt cn ev)

ns() { printf 'hl-%s-%s' "$LAB_ID" "$1"; }
in_ns() { local node="$1"; shift; ip netns exec "$(ns "$node")" "$@"; }
ns_exists() { ip netns list | awk -v name="$(ns "$1")" '$1 == name {found = 1} END {exit !found}'; }

require_root() {
    if [[ $(id -u) -ne 0 ]]; then
        echo "lab.sh: needs root (network namespaces)" >&2
        exit 77
    fi
}

lab_down() {
    local node
    for node in "${NODES[@]}"; do
        if ns_exists "$node"; then
            # Deleting the namespace destroys the veth ends inside it, and a
            # veth pair dies with either end.
            ip netns delete "$(ns "$node")" 2>/dev/null || true
        fi
    done
}

# Sysctls applied before any interface exists in the namespace, so that the
# "default" values reach the interfaces created afterwards.
prepare_node() {
    local node="$1" forwarding="$2"
    ip netns add "$(ns "$node")"
    in_ns "$node" ip link set lo up
    in_ns "$node" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
    in_ns "$node" sysctl -qw net.ipv6.conf.all.forwarding="$forwarding" net.ipv6.conf.default.forwarding="$forwarding"
    # Router Solicitations would only add noise to captures; nothing sends RAs.
    in_ns "$node" sysctl -qw net.ipv6.conf.default.router_solicitations=0
}

# veth LINK NODE1 NODE2: a veth pair named LINK on both ends.
veth() {
    local link="$1" a="$2" b="$3"
    ip link add "$link" netns "$(ns "$a")" type veth peer name "$link" netns "$(ns "$b")"
    in_ns "$a" ip link set "$link" up
    in_ns "$b" ip link set "$link" up
}

addr() { in_ns "$1" ip -6 addr add "$3" dev "$2" nodad; }

lab_up() {
    lab_down
    trap 'echo "lab.sh: setup failed, removing the partial lab" >&2; lab_down' ERR
    prepare_node mn 0
    prepare_node rt 1
    prepare_node cn 0
    veth lnk-a mn rt
    veth lnk-b mn rt
    veth lnk-c rt cn
    addr mn lnk-a 2001:db8:a::10/64
    addr mn lnk-b 2001:db8:b::10/64
    addr rt lnk-a 2001:db8:a::1/64
    addr rt lnk-b 2001:db8:b::1/64
    addr rt lnk-c 2001:db8:c::1/64
    addr cn lnk-c 2001:db8:c::20/64
    in_ns mn ip -6 route add default via 2001:db8:a::1 dev lnk-a metric 100
    in_ns mn ip -6 route add default via 2001:db8:b::1 dev lnk-b metric 200
    in_ns cn ip -6 route add default via 2001:db8:c::1 dev lnk-c
    if [[ "${LAB_HOSTILE:-0}" == 1 ]]; then
        prepare_node ev 0
        veth lnk-d ev rt
        addr ev lnk-d 2001:db8:d::66/64
        addr rt lnk-d 2001:db8:d::1/64
        in_ns ev ip -6 route add default via 2001:db8:d::1 dev lnk-d
    fi
    trap - ERR
}

lab_status() {
    local node
    for node in "${NODES[@]}"; do
        if [[ "$node" == ev ]] && ! ns_exists ev; then continue; fi
        if ns_exists "$node"; then
            echo "== $(ns "$node")"
            in_ns "$node" ip -brief link show
            in_ns "$node" ip -brief -6 addr show scope global
            in_ns "$node" ip -6 route show default
        else
            echo "== $(ns "$node") (absent)"
        fi
    done
}

# Echo Request/Reply mn -> cn: ping from iputils when present, otherwise a
# raw ICMPv6 socket in python3 (the kernel fills in the ICMPv6 checksum).
lab_check() {
    if command -v ping >/dev/null; then
        in_ns mn ping -6 -c 3 -i 0.2 -W 2 2001:db8:c::20
    else
        in_ns mn python3 - 2001:db8:c::20 <<'PY'
import socket, struct, sys, time
dst = sys.argv[1]
s = socket.socket(socket.AF_INET6, socket.SOCK_RAW, socket.IPPROTO_ICMPV6)
s.settimeout(2)
for seq in range(3):
    s.sendto(struct.pack("!BBHHH", 128, 0, 0, 0x484c, seq) + b"homeless-lab", (dst, 0))
    deadline = time.time() + 2
    while True:
        if time.time() > deadline:
            sys.exit(f"no echo reply from {dst} (seq {seq})")
        data, src = s.recvfrom(2048)
        if len(data) >= 8 and data[0] == 129 and struct.unpack("!HH", data[4:8]) == (0x484c, seq):
            print(f"echo reply from {src[0]} seq={seq}")
            break
PY
    fi
}

cmd="${1:-}"
[[ $# -gt 0 ]] && shift
case "$cmd" in
    up) require_root; lab_up; echo "lab $LAB_ID up" ;;
    down) require_root; lab_down ;;
    status) require_root; lab_status ;;
    check) require_root; lab_check ;;
    exec)
        require_root
        node="${1:-}"
        case "$node" in mn | rt | cn | ev) ;; *) echo "lab.sh: exec NODE must be mn, rt, cn or ev" >&2; exit 2 ;; esac
        shift
        [[ $# -gt 0 ]] || { echo "lab.sh: exec $node needs a command" >&2; exit 2; }
        ns_exists "$node" || { echo "lab.sh: lab $LAB_ID is not up" >&2; exit 1; }
        exec ip netns exec "$(ns "$node")" "$@"
        ;;
    *)
        sed -n '2,28p' "$0" | sed 's/^# \{0,1\}//'
        [[ -z "$cmd" || "$cmd" == -h || "$cmd" == --help ]] && exit 0
        exit 2
        ;;
esac
