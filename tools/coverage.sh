#!/bin/bash
# Source coverage (llvm-cov) of every parser, from the fuzz targets replaying
# their corpora once: the table docs/reliability.md reports.
#   tools/coverage.sh [BUILD_DIR=build-cov] [CAMPAIGN_DIR]
# With CAMPAIGN_DIR (a tools/fuzz.sh FUZZ_KEEP folder) the grown corpora
# CAMPAIGN_DIR/<target>/work are replayed too, in a second table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
build=${1:-$root/build-cov}
campaign=${2:-}
cd "$root"
targets=$(cd tests/fuzz && ls fuzz_*.c | sed 's/\.c$//')
cmake -S . -B "$build" -DCMAKE_C_COMPILER=clang -DMNV3_FUZZ=ON -DMNV3_COVERAGE=ON \
      -DMNV3_WERROR=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
# shellcheck disable=SC2086
cmake --build "$build" -j "$(nproc)" --target $targets >/dev/null
export ASAN_OPTIONS=allocator_may_return_null=1:detect_leaks=0
parsers="src/formats/pickle.c src/formats/pth.c src/formats/zipread.c src/formats/npy.c
         src/formats/npz.c src/formats/safetensors.c src/formats/keras_h5.c
         src/formats/tflite.c src/formats/tflite_quant.c src/formats/sniff.c
         src/image/decode.c src/image/pipeline.c src/image/resize.c"
replay() { # LABEL DIR-OF-TARGET-NAME: one table over every target's replay
    local label=$1 pick=$2 prof=$build/coverage-$1 objects=() t name dirs
    rm -rf "$prof"; mkdir -p "$prof"
    for t in $targets; do
        name=${t#fuzz_}
        dirs=$($pick "$name")
        [ -n "$dirs" ] || continue
        # Inputs that crash libhdf5 in process end that target's replay early
        # (the CLI's sandbox contains them); -runs=0 replays, then stops.
        # shellcheck disable=SC2086
        LLVM_PROFILE_FILE="$prof/$name-%p.profraw" "$build/tests/fuzz/$t" -runs=0 \
            -timeout=10 -rss_limit_mb=2048 $dirs >"$prof/$name.log" 2>&1 ||
            echo "note: $t stopped early replaying $label (see $prof/$name.log)" >&2
        objects+=(-object "$build/tests/fuzz/$t")
    done
    llvm-profdata merge -sparse "$prof"/*.profraw -o "$prof/merged.profdata"
    echo "== coverage from replaying the $label corpora"
    # shellcheck disable=SC2086
    llvm-cov report "${objects[@]:1}" -instr-profile "$prof/merged.profdata" \
        -show-region-summary=false -show-instantiation-summary=false $parsers |
        sed "s|$root/||"
}
repo_corpus() { echo "tests/fuzz/corpus/$1"; }
campaign_corpus() {
    if [ -d "$campaign/$1/work" ]; then echo "tests/fuzz/corpus/$1 $campaign/$1/work"
    else echo "tests/fuzz/corpus/$1"; fi
}
replay repo repo_corpus
[ -z "$campaign" ] || replay campaign campaign_corpus
