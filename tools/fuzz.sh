#!/bin/bash
# Builds the libFuzzer targets (clang, ASan+UBSan) and runs each for a while on
# a scratch copy of its corpus, as many at once as there are cores. Any crash,
# leak or timeout fails; its reproducer is kept under the scratch folder.
#   tools/fuzz.sh [SECONDS=60] [BUILD_DIR=build-fuzz]
# The long campaigns of docs/reliability.md are this with SECONDS=3600.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
seconds=${1:-60}
build=${2:-$root/build-fuzz}
cd "$root"
targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DMNV3_FUZZ=ON -DMNV3_WERROR=ON \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc)" --target $targets >/dev/null
scratch=$(mktemp -d /tmp/mnv3-fuzz-XXXXXX)
run_one() { # target
    local t=$1 name=${1#fuzz_}
    # libhdf5 in process (fuzz_h5, fuzz_keras): its own leaks, and allocations it believes
    export ASAN_OPTIONS=allocator_may_return_null=1
    export LSAN_OPTIONS=suppressions=$PWD/tests/formats_h5/lsan.supp
    mkdir -p "$scratch/$name/work" "$scratch/$name/artifacts"
    # fuzz_h5 runs libhdf5 1.10 in process, which crashes and over-allocates on
    # crafted files by itself (docs/reliability.md: the CLI contains this in its
    # sandbox, the hostile_h5 tests prove it): fork mode keeps going past those
    # and the minute still exercises mnv3's own HDF5 code.
    local extra=()
    [ "$t" = fuzz_h5 ] && extra=(-fork=1 -ignore_crashes=1 -ignore_ooms=1 -ignore_timeouts=1)
    if "$build/tests/fuzz/$t" "${extra[@]}" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
           -print_final_stats=1 -artifact_prefix="$scratch/$name/artifacts/" \
           "$scratch/$name/work" "tests/fuzz/corpus/$name" >"$scratch/$name/log" 2>&1; then
        local execs
        execs=$(grep -m1 'stat::number_of_executed_units' "$scratch/$name/log" | awk '{print $2}')
        [ -n "$execs" ] || execs=$(grep -oE '^#[0-9]+' "$scratch/$name/log" | tail -1 | tr -d '#')
        echo "ok   $t: ${seconds} s, $execs executions"
    else
        echo "FAIL $t: see $scratch/$name/log"; tail -20 "$scratch/$name/log"; return 1
    fi
}
export -f run_one
export build scratch seconds
# shellcheck disable=SC2086
printf '%s\n' $targets | xargs -P "$(nproc)" -I{} bash -c 'run_one {}'
rm -rf "$scratch"
