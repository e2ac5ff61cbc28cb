#!/usr/bin/env bash
# Runs every test: unit and property tests, golden vectors from scapy, the
# CLI against captures, the Host Cache index under ThreadSanitizer, short
# libFuzzer runs over the committed corpora and, as root, the namespace-lab
# integration tests. Installs its Debian dependencies itself.
#
#   scripts/test.sh            everything
#   FUZZ_SECONDS=0 scripts/test.sh   skip the fuzzing step
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$(project_root)"
find_swift
install_packages

FUZZ_SECONDS=${FUZZ_SECONDS:-20}
[ "$(id -u)" -eq 0 ] || log "not root: tests that need namespaces, rings or BPF will skip"

log "building"
swift build --build-tests

log "unit tests"
swift test --skip-build --parallel --num-workers 2 --skip HostModeIntegrationTests

# The lab tests run one at a time (the suite is serialized) and after the
# unit tests, whose scale tests (10^5 and 10^6 peers) would otherwise share
# the two cores with timing checks such as "data moved after the move".
log "lab integration tests"
swift test --skip-build --filter HostModeIntegrationTests

log "Host Cache index and translation table under ThreadSanitizer"
tsan_log=$(mktemp)
swift test --scratch-path .build-tsan --sanitize=thread \
    --filter 'AddressIndexConcurrencyTests|TranslationTableConcurrencyTests' 2>&1 | tee "$tsan_log"
# A filter that matches nothing passes silently: make sure the tests ran,
# both suites.
grep -Eq "Test run with [1-9][0-9]* tests? .*passed" "$tsan_log" || die "the ThreadSanitizer run executed no test"
for suite in AddressIndexConcurrencyTests TranslationTableConcurrencyTests; do
    grep -Eq "Suite \"?$suite\"? passed" "$tsan_log" || die "the ThreadSanitizer run did not pass $suite"
done
rm -f "$tsan_log"

if [ "$FUZZ_SECONDS" -gt 0 ]; then
    log "fuzzing each target for ${FUZZ_SECONDS}s (regressions first)"
    scripts/fuzz.sh "$FUZZ_SECONDS"
fi
log "all tests passed"
