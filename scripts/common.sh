# Shared by scripts/demo.sh and scripts/test.sh: finds the Swift toolchain and
# installs the Debian packages the project needs, idempotently and quietly.
# Source it; do not run it.

# Debian packages used by the build (libbpf for the BPF loader), the tests
# (scapy and tshark as independent peers, iproute2 for the namespace lab),
# the demo (iperf3) and Bench/mptcp/run.sh (mptcpize: applications over
# Linux Multipath TCP).
HOMELESS_APT_PACKAGES=(
    clang libbpf-dev libelf-dev zlib1g-dev libssl-dev bpftool
    iproute2 iputils-ping iperf3 ethtool tcpdump
    python3 python3-scapy tshark mptcpize
)

log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 1; }

# Puts `swift` on PATH: keeps one already there, else looks where the
# swift.org tarballs are usually unpacked.
find_swift() {
    command -v swift >/dev/null 2>&1 && return 0
    local dir
    for dir in /opt/swift*/usr/bin /usr/share/swift/usr/bin /usr/local/swift/usr/bin; do
        if [ -x "$dir/swift" ]; then PATH="$dir:$PATH"; export PATH; return 0; fi
    done
    die "swift not found on PATH; install a Swift 6.1+ toolchain from swift.org and put its usr/bin on PATH"
}

# Installs whatever of HOMELESS_APT_PACKAGES is missing (nothing if all present).
install_packages() {
    local missing=() pkg
    for pkg in "${HOMELESS_APT_PACKAGES[@]}"; do
        [[ "$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null)" == *"ok installed" ]] || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        die "missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})"
    fi
    log "installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    # tshark asks whether non-root users may capture; answer once, quietly.
    echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections 2>/dev/null || true
    apt-get update -qq >/dev/null || die "apt-get update failed"
    apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null || die "apt-get install ${missing[*]} failed"
}

project_root() { cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd; }
