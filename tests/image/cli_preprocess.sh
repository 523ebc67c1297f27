#!/bin/bash
# mnv3 preprocess / pipelines through the CLI: output shape, bad input gives
# exactly one stderr line naming the file and a non-zero, non-signal exit.
#   tests/image/cli_preprocess.sh MNV3 EDGE_DIR
set -uo pipefail
mnv3=$1 edge=$2
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failures=0
expect_error() { # what, file, command...
    local what=$1 file=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$?
    if [ $rc -eq 0 ] || [ $rc -ge 128 ] || [ "$(wc -l <"$tmp/err")" -ne 1 ] || ! grep -qF "$file" "$tmp/err"; then
        echo "FAIL $what: exit $rc"; cat "$tmp/err"; failures=$((failures + 1))
    else echo "ok   $what: $(cat "$tmp/err")"; fi
}
"$mnv3" pipelines | grep -q "^torchvision-imagenet " || { echo "FAIL pipelines list"; failures=$((failures + 1)); }
"$mnv3" preprocess --pipeline tf-data "$edge/jpeg_444.jpg" -o "$tmp/x.npy" --layout nhwc | grep -q "\[1,224,224,3\]" ||
    { echo "FAIL nhwc shape"; failures=$((failures + 1)); }
"$mnv3" preprocess --pipeline torchvision-imagenet "$edge/png_rgb8.png" -o "$tmp/y.npy" | grep -q "\[1,3,224,224\]" ||
    { echo "FAIL nchw shape"; failures=$((failures + 1)); }
: >"$tmp/empty.jpg"
head -c 1000 "$edge/jpeg_420_baseline.jpg" >"$tmp/cut.jpg"
printf 'GIF89a\1\0\1\0\0\0\0;' >"$tmp/a.gif"
expect_error "empty file" "$tmp/empty.jpg" "$mnv3" preprocess --pipeline tf-data "$tmp/empty.jpg" -o "$tmp/o.npy"
expect_error "truncated JPEG" "$tmp/cut.jpg" "$mnv3" preprocess --pipeline torchvision-imagenet "$tmp/cut.jpg" -o "$tmp/o.npy"
expect_error "GIF" "$tmp/a.gif" "$mnv3" preprocess --pipeline keras-mnv3 "$tmp/a.gif" -o "$tmp/o.npy"
expect_error "missing" "$tmp/none.png" "$mnv3" preprocess --pipeline seed-tf "$tmp/none.png" -o "$tmp/o.npy"
expect_error "unknown pipeline" "nope" "$mnv3" preprocess --pipeline nope "$edge/png_rgb8.png" -o "$tmp/o.npy"
expect_error "unwritable output" "$tmp/no/dir/o.npy" "$mnv3" preprocess --pipeline seed-tf "$edge/png_rgb8.png" -o "$tmp/no/dir/o.npy"
echo "$failures failure(s)"
[ $failures = 0 ]
