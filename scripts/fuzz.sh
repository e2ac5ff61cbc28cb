#!/usr/bin/env bash
# Builds the libFuzzer targets in Fuzz/ and runs each one: first over its
# regression inputs (every past finding, must not crash), then for SECONDS
# of fresh fuzzing seeded from the committed corpus. Exits non-zero, with
# the crash report, when any input crashes, leaks or hangs; a new finding is
# copied to Fuzz/Regressions/<Name>/ as new-<kind>-<hash> (see docs/FUZZING.md).
#
# Every target in Fuzz/Sources (FuzzX, its inputs under the name X) runs
# for SECONDS; all of them run even when one finds something, and the
# script then fails naming each. With FUZZ_KEEP_CORPUS=DIR the corpora
# grown by the run are kept in DIR/<Name>/ (a long campaign, docs/FUZZING.md).
#
#   scripts/fuzz.sh [SECONDS]      default 60 (per target)
set -euo pipefail
source "$(dirname "$0")/common.sh"
cd "$(project_root)/Fuzz"
find_swift
seconds=${1:-60}
# Let libFuzzer's own handlers see a crash (and write the input) instead of
# the Swift runtime backtracer, which would end the process first.
export SWIFT_BACKTRACE=enable=no
log "building the fuzz targets (release, -sanitize=fuzzer)"
swift build -c release --sanitize=fuzzer --disable-dead-strip >build.log 2>&1 || { cat build.log >&2; die "fuzz targets do not build"; }
rm -f build.log
bin=$(swift build -c release --sanitize=fuzzer --disable-dead-strip --show-bin-path)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
targets=$(cd Sources && ls -d Fuzz*)
findings=""
for target in $targets; do
    name=${target#Fuzz}
    if compgen -G "Regressions/$name/*" >/dev/null; then
        log "$target: replaying $(ls Regressions/"$name" | wc -l) inputs from Regressions/$name"
        "$bin/$target" -runs=0 Regressions/"$name"/* >"$work/$name.replay.log" 2>&1 \
            || { tail -60 "$work/$name.replay.log" >&2; die "$target crashed on a regression input"; }
    fi
    mkdir -p "$work/$name"
    cp Corpus/"$name"/* "$work/$name"/ 2>/dev/null || true
    log "$target: fuzzing ${seconds}s from $(ls "$work/$name" | wc -l) seeds"
    if ! "$bin/$target" -max_total_time="$seconds" -max_len=2048 -timeout=10 -artifact_prefix="$work/$name-" \
            "$work/$name" >"$work/$name.log" 2>&1; then
        tail -60 "$work/$name.log" >&2
        mkdir -p Regressions/"$name"
        for artifact in "$work/$name"-crash-* "$work/$name"-leak-* "$work/$name"-timeout-* "$work/$name"-oom-*; do
            [ -e "$artifact" ] || continue
            saved=new-$(basename "${artifact#"$work/$name"-}")
            cp "$artifact" Regressions/"$name"/"$saved"
            log "saved Fuzz/Regressions/$name/$saved"
        done
        log "$target found a crash; reproduce with: (cd Fuzz && $bin/$target Regressions/$name/new-*)"
        findings="$findings $target"
    fi
    grep -E "^Done|DONE" "$work/$name.log" | tail -1 >&2 || true
    if [[ -n "${FUZZ_KEEP_CORPUS:-}" ]]; then
        mkdir -p "$FUZZ_KEEP_CORPUS/$name"
        cp "$work/$name"/* "$FUZZ_KEEP_CORPUS/$name"/ 2>/dev/null || true
        log "$target: corpus of $(ls "$work/$name" | wc -l) inputs kept in $FUZZ_KEEP_CORPUS/$name"
    fi
done
[[ -z "$findings" ]] || die "crashes found by:$findings"
log "fuzzing passed"
