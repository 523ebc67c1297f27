#!/bin/bash
# Bad input through the CLI: each case must exit non-zero with exactly one
# line on stderr that names the file, and must not crash (no signal exit).
#   tests/cli_errors.sh MNV3
set -uo pipefail
mnv3=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
failures=0

expect_error() { # description, file named in the message, command...
    local what=$1 file=$2; shift 2
    "$@" >"$tmp/out" 2>"$tmp/err"
    local rc=$? lines
    lines=$(wc -l <"$tmp/err")
    if [ $rc -eq 0 ] || [ $rc -ge 128 ] || [ "$lines" -ne 1 ] || ! grep -qF "$file" "$tmp/err"; then
        echo "FAIL $what: exit $rc, stderr:"; cat "$tmp/err"; failures=$((failures + 1))
    else
        echo "ok   $what: $(cat "$tmp/err")"
    fi
}

# A little-endian u64 as 8 raw bytes.
u64() { printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x00\\x00\\x00\\x00' $(($1 & 255)) $(($1 >> 8 & 255)) $(($1 >> 16 & 255)) $(($1 >> 24 & 255)))"; }
safetensors() { # out, json, data bytes
    local json=$2
    { u64 ${#json}; printf '%s' "$json"; head -c "$3" /dev/zero; } >"$1"
}

"$mnv3" synth --seed 5 --classes 0 --out "$tmp/w.safetensors" >/dev/null
"$mnv3" synth-input --seed 5 --batch 1 --size 32 32 --out "$tmp/x.npy" >/dev/null
"$mnv3" synth-input --seed 5 --batch 1 --size 32 32 --layout nhwc --out "$tmp/x_nhwc.npy" >/dev/null

# weights
head -c 100000 "$tmp/w.safetensors" >"$tmp/trunc.safetensors"
expect_error "truncated safetensors" trunc.safetensors "$mnv3" run --weights "$tmp/trunc.safetensors" --input "$tmp/x.npy"
safetensors "$tmp/shape.safetensors" '{"features.0.0.weight":{"dtype":"F32","shape":[16,3,3,2],"data_offsets":[0,1152]}}' 1152
expect_error "wrong tensor shape" shape.safetensors "$mnv3" run --weights "$tmp/shape.safetensors" --input "$tmp/x.npy"
json='{"features.0.0.weight":{"dtype":"F32","shape":[16,3,3,3],"data_offsets":[0,1728]}}'
{ u64 ${#json}; printf '%s' "$json"; head -c 1728 /dev/zero | tr '\0' '\377'; } >"$tmp/nan.safetensors"
expect_error "NaN in weights" nan.safetensors "$mnv3" run --weights "$tmp/nan.safetensors" --input "$tmp/x.npy"
"$mnv3" info "$tmp/nan.safetensors" >"$tmp/info.txt"
if [ $? -eq 1 ] && grep -q "432 NaN/Inf" "$tmp/info.txt"; then echo "ok   info lists the NaN count"
else echo "FAIL info does not list the NaN count"; failures=$((failures + 1)); fi
printf 'not a weight file' >"$tmp/junk.bin"
expect_error "unknown format" junk.bin "$mnv3" info "$tmp/junk.bin"
expect_error "missing file" nothere.pth "$mnv3" info "$tmp/nothere.pth"
for cut in 200 5000 60000; do
    if [ -f "${SHARED_PTH:-}" ]; then
        head -c $cut "$SHARED_PTH" >"$tmp/trunc$cut.pth"
        expect_error "truncated pth at $cut" "trunc$cut.pth" "$mnv3" info "$tmp/trunc$cut.pth"
    fi
done

# a hostile HDF5 file that crashes libhdf5 1.10 itself (found by fuzzing): parsed in a
# child process, it must still end in one line
hostile_h5="$(dirname "$0")/hostile/libhdf5_crash.h5"
expect_error "HDF5 that crashes libhdf5" libhdf5_crash.h5 "$mnv3" info "$hostile_h5"

# inputs
expect_error "input in the wrong layout" x_nhwc.npy "$mnv3" run --weights "$tmp/w.safetensors" --input "$tmp/x_nhwc.npy"
{ printf '\x93NUMPY\x01\x00'; h="{'descr': '<f8', 'fortran_order': False, 'shape': (1, 3, 2, 2), }"; printf '\x76\x00%-117s\n' "$h"; head -c 96 /dev/zero; } >"$tmp/f64.npy"
expect_error "float64 input" f64.npy "$mnv3" run --weights "$tmp/w.safetensors" --input "$tmp/f64.npy"
head -c 1000 "$tmp/x.npy" >"$tmp/short.npy"
expect_error "truncated input" short.npy "$mnv3" run --weights "$tmp/w.safetensors" --input "$tmp/short.npy"

[ $failures -eq 0 ] && echo "all CLI error cases passed" || { echo "$failures failures"; exit 1; }
