#!/usr/bin/env bash
# The demo: builds the engine and decodes a bundled capture of Homeless
# Mobile IPv6 traffic with `homeless inspect`, first as text, then as JSON.
# Installs its Debian dependencies itself.
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$(project_root)"
find_swift
install_packages

log "building homeless (release)"
swift build -c release --product homeless >/dev/null
homeless=$(swift build -c release --show-bin-path)/homeless
capture=Tests/Fixtures/captures/homeless.pcap

log "homeless inspect $capture"
"$homeless" inspect "$capture"
log "homeless inspect --json $capture (first 3 packets)"
"$homeless" inspect --json "$capture" | head -n 3
