#!/bin/bash
# Runs every test: builds with gcc (all tests, including the live PyTorch
# oracle), with clang, with ASan+UBSan, runs every fuzz target for a minute,
# and builds the core alone (libm only).
# Warnings are errors in every build (MNV3_WERROR, off for users).
#   tools/test.sh            (after tools/setup.sh --oracle)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd -P)
cd "$root"
jobs=$(nproc)
build() { # dir, then cmake options
    local dir=$1; shift
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DMNV3_WERROR=ON "$@" >/dev/null
    cmake --build "$dir" -j "$jobs"
}
echo "== gcc build, all tests"
build build-test -DCMAKE_C_COMPILER=gcc
ctest --test-dir build-test --output-on-failure -j "$jobs"
echo "== clang build, all tests but the live oracle (run by the other two builds)"
build build-clang -DCMAKE_C_COMPILER=clang
ctest --test-dir build-clang --output-on-failure -j "$jobs" -LE oracle
echo "== ASan + UBSan build, all tests"
build build-asan -DCMAKE_C_COMPILER=clang -DMNV3_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
ASAN_OPTIONS=detect_leaks=1 ctest --test-dir build-asan --output-on-failure -j "$jobs" -LE slow
echo "== fuzz targets, 60 s each on a scratch copy of their corpus (tools/fuzz.sh)"
tools/fuzz.sh 60 "$root/build-fuzz"
echo "== core-only build (libm alone: no formats, images, CLI, threads)"
build build-core -DCMAKE_C_COMPILER=gcc -DMNV3_CORE_ONLY=ON
ctest --test-dir build-core --output-on-failure -j "$jobs"
echo "== all test builds passed"
