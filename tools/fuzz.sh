#!/bin/bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a while on
# a scratch copy of its corpus, as many at once as there are cores. Any crash,
# leak or timeout fails; its reproducer is kept under the scratch folder.
#   tools/fuzz.sh [SECONDS=60] [BUILD_DIR=build-fuzz]
# Environment, for the long campaigns of docs/reliability.md:
#   FUZZ_TARGETS="pth tflite"  only these targets (default: all)
#   FUZZ_JOBS=1                targets run at once (default: nproc)
#   FUZZ_TIMEOUT=10            wall seconds one input may take (default 10)
# libFuzzer's timeout is wall time, so on shared cores under nice a 1 s limit
# fires on starved, not slow, inputs. Instead every input slower than 1 s is
# saved (-report_slow_units=1) and timed again alone after the run: one that
# takes over 1 s alone fails the target.
#   FUZZ_KEEP=DIR              keep logs, grown corpora and artifacts in DIR;
#                              a second run in the same DIR resumes from them
#   FUZZ_CPU_SECONDS=3600      stop each target once it has had this much CPU
#                              in all runs in DIR (DIR/<target>/cpu_total is the
#                              ledger; a target already there is skipped), so a
#                              campaign under `nice` on shared cores, stopped and
#                              resumed, still gets its hour; SECONDS is then
#                              only a wall-clock cap per run
# `touch DIR/STOP` ends a campaign cleanly: running targets are interrupted
# (their CPU goes in the ledger) and no further target starts.
# The campaign of docs/reliability.md is
#   FUZZ_CPU_SECONDS=3600 FUZZ_KEEP=DIR nice -n 19 tools/fuzz.sh 14400
# and each line it prints gives the CPU seconds the target really had.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
seconds=${1:-60}
build=${2:-$root/build-fuzz}
timeout=${FUZZ_TIMEOUT:-10}
jobs=${FUZZ_JOBS:-$(nproc)}
cd "$root"
if [ -n "${FUZZ_TARGETS:-}" ]; then
    targets=$(printf 'fuzz_%s ' $FUZZ_TARGETS)
else
    targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
fi
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DMNV3_FUZZ=ON -DMNV3_WERROR=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc)" --target $targets >/dev/null
if [ -n "${FUZZ_KEEP:-}" ]; then
    mkdir -p "$FUZZ_KEEP"; scratch=$(cd "$FUZZ_KEEP" && pwd -P)
    rm -f "$scratch/STOP" # a new run resumes
else
    scratch=$(mktemp -d /tmp/mnv3-fuzz-XXXXXX)
fi
run_one() { # target
    local t=$1 name=${1#fuzz_}
    # libhdf5 in process (fuzz_h5, fuzz_keras): its own leaks, and allocations it believes
    export ASAN_OPTIONS=allocator_may_return_null=1
    export LSAN_OPTIONS=suppressions=$PWD/tests/formats_h5/lsan.supp
    mkdir -p "$scratch/$name/work" "$scratch/$name/artifacts"
    [ -e "$scratch/STOP" ] && { echo "skip $t: $scratch/STOP"; return 0; }
    local before=0 budget=
    [ -f "$scratch/$name/cpu_total" ] && before=$(cat "$scratch/$name/cpu_total")
    if [ -n "${FUZZ_CPU_SECONDS:-}" ]; then
        budget=$((FUZZ_CPU_SECONDS - before))
        [ "$budget" -gt 0 ] || { echo "done $t: $before CPU s in $scratch"; return 0; }
    fi
    # fuzz_h5 runs libhdf5 1.10 in process, which crashes and over-allocates on
    # crafted files by itself (docs/reliability.md: the CLI contains this in its
    # sandbox, the hostile_h5 tests prove it): fork mode keeps going past those
    # and the minute still exercises mnv3's own HDF5 code.
    local extra=()
    [ "$t" = fuzz_h5 ] && extra=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
    /usr/bin/time -o "$scratch/$name/cpu" -f '%e %U %S %M' \
        "$build/tests/fuzz/$t" "${extra[@]}" -max_total_time="$seconds" -timeout="$timeout" \
        -rss_limit_mb=2048 -report_slow_units=1 -print_final_stats=1 -artifact_prefix="$scratch/$name/artifacts/" \
        "$scratch/$name/work" "tests/fuzz/corpus/$name" >"$scratch/$name/log" 2>&1 &
    local timer=$! rc=0
    [ -n "$budget" ] && stop_at_cpu "$timer" "$budget" "$scratch/STOP" &
    wait "$timer" || rc=$?
    local total
    total=$(tail -1 "$scratch/$name/cpu" | awk -v b="$before" '{printf "%.0f", b + $2 + $3}')
    echo "$total" >"$scratch/$name/cpu_total"
    # 72: libFuzzer's exit when interrupted, here by stop_at_cpu. fuzz_h5's
    # fork mode ignores crashes (libhdf5's own, contained by the CLI's sandbox:
    # hostile_h5), and its exit code then depends on which job crashed last
    # (0, 1 or 71), so it passes when it ran its full time.
    local ignored_crashes=0
    if [ "$t" = fuzz_h5 ] && grep -q '^INFO: fuzzed for' "$scratch/$name/log"; then
        ignored_crashes=$(find "$scratch/$name/artifacts" -name 'crash-*' | wc -l)
        rc=0
    fi
    if [ "$rc" -eq 0 ] || { [ "$rc" -eq 72 ] && [ -n "${FUZZ_CPU_SECONDS:-}" ]; }; then
        local execs cov cpu
        execs=$(grep -m1 'stat::number_of_executed_units' "$scratch/$name/log" | awk '{print $2}')
        [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$scratch/$name/log" | tail -1 | tr -d '#')
        cov=$(grep -oE 'cov: [0-9]+ ft: [0-9]+' "$scratch/$name/log" | tail -1)
        cpu=$(tail -1 "$scratch/$name/cpu" |
              awk '{printf "%.0f s, %.0f CPU s, peak RSS %d MB", $1, $2 + $3, $4 / 1024}')
        local slow alone worst=0
        for slow in "$scratch/$name/artifacts"/slow-unit-*; do
            [ -e "$slow" ] && [ "${slow%.time}" = "$slow" ] || continue
            /usr/bin/time -o "$slow.time" -f '%e' "$build/tests/fuzz/$t" -runs=1 "$slow" >/dev/null 2>&1 || true
            alone=$(tail -1 "$slow.time")
            awk -v a="$alone" 'BEGIN { exit !(a > 1.0) }' &&
                { echo "FAIL $t: $slow takes $alone s alone"; return 1; }
            worst=$(awk -v a="$alone" -v w="$worst" 'BEGIN { print (a > w ? a : w) }')
        done
        local note=""
        [ "$ignored_crashes" -gt 0 ] && note="; $ignored_crashes libhdf5 crashes ignored"
        echo "ok   $t: $cpu, $execs executions, $cov, slowest saved input alone ${worst} s; $total CPU s in all runs$note"
    else
        echo "FAIL $t: see $scratch/$name/log"; tail -20 "$scratch/$name/log"; return 1
    fi
}
stop_at_cpu() { # PID-of-time CPU-SECONDS STOP-FILE: SIGINT the fuzzer once its
                #   CPU (with its fork-mode children) reaches the budget, or
                #   the stop file appears
    local timer=$1 budget=$2 stop=$3 tick fuzzer used
    tick=$(getconf CLK_TCK)
    while kill -0 "$timer" 2>/dev/null; do
        sleep 5
        fuzzer=$(pgrep -P "$timer" | head -1)
        [ -n "$fuzzer" ] || continue
        used=$(awk -v t="$tick" '{print int(($14 + $15 + $16 + $17) / t)}' "/proc/$fuzzer/stat" 2>/dev/null) || continue
        if [ "${used:-0}" -ge "$budget" ] || [ -e "$stop" ]; then kill -INT "$fuzzer"; return; fi
    done
}
export -f run_one stop_at_cpu
export build scratch seconds timeout
# shellcheck disable=SC2086
printf '%s\n' $targets | xargs -P "$jobs" -I{} bash -c 'run_one {}'
[ -n "${FUZZ_KEEP:-}" ] || rm -rf "$scratch"
