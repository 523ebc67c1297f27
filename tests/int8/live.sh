#!/bin/bash
# Live int8 conformance: mnv3's litert-int8-ref / litert-int8-builtin / litert-int8
# profiles against LiteRT's BUILTIN_REF / BUILTIN_WITHOUT_DEFAULT_DELEGATES / default
# (XNNPACK) modes, every tensor, 0 differing elements, top-5 equal:
#   the tiny uint8 model here on 8 seeded inputs; with ../shared, the TF-slim uint8
#   MobileNetV3 on 2 seeded inputs and, when the photo cache exists
#   (tools/oracle/pipelines/images_fetch.sh), 3 photographs (pipeline seed-tf,
#   quantized with the input parameters), top-5 labels from imagenet_labels_1001.txt,
#   and mnv3 run --image equal to the npy quantized by quantize_input.py.
#   tests/int8/live.sh MNV3 REPO_ROOT      exits 77 without .venv-tf
set -euo pipefail
mnv3=$1 root=$2
py="$root/.venv-tf/bin/python"
tools="$root/tools/oracle/int8"
shared="$root/../shared/models"
[ -x "$py" ] || { echo "skip: no .venv-tf (run tools/oracle/setup.sh)"; exit 77; }
export TF_CPP_MIN_LOG_LEVEL=2 PYTHONWARNINGS=ignore
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
fail=0
run_case() { # name model input [labels]
    local name=$1; shift
    local model=$1 input=$2; shift 2
    if "$py" "$tools/compare_all.py" "$mnv3" "$model" "$input" "$tmp/w" "$@" > "$tmp/log" 2>"$tmp/err"; then
        echo "ok   $name"
    else
        echo "FAIL $name"; cat "$tmp/log"; tail -5 "$tmp/err"; fail=1
    fi
    grep -E "^litert|vs litert (ref|builtin|default):" "$tmp/log" | grep -E "^litert|ref vs litert ref|builtin vs litert builtin|int8 vs litert default" | sed 's/^/     /'
}
seeded() { # shape seed out
    "$py" -c "import numpy as np, sys; np.save(sys.argv[3], np.random.default_rng(int(sys.argv[2])).integers(0, 256, tuple(map(int, sys.argv[1].split(','))), dtype=np.uint8))" "$@"
}
for s in 100 101 102 103 104 105 106 107; do
    seeded 1,8,8,3 $s "$tmp/t$s.npy"
    run_case "tiny_uint8 seed $s" "$root/tests/int8/tiny_uint8.tflite" "$tmp/t$s.npy"
done
model="$shared/tfslim_mnv3_small_224_uint8.tflite"
labels="$shared/imagenet_labels_1001.txt"
if [ -f "$model" ]; then
    for s in 1 2; do
        seeded 1,224,224,3 $s "$tmp/s$s.npy"
        run_case "tfslim uint8 seed $s" "$model" "$tmp/s$s.npy" "$labels"
    done
    photos=${MNV3_PHOTOS:-$HOME/.cache/mnv3/photos}
    for p in mate_Elephants.jpg skimage_astronaut.png skimage_chelsea.png; do
        [ -f "$photos/$p" ] || { echo "skip photo $p (no cache)"; continue; }
        "$mnv3" preprocess --pipeline seed-tf "$photos/$p" -o "$tmp/f.npy" --layout nhwc >/dev/null
        "$py" "$tools/quantize_input.py" "$model" "$tmp/f.npy" "$tmp/q.npy"
        run_case "tfslim uint8 photo $p" "$model" "$tmp/q.npy" "$labels"
        "$mnv3" run --weights "$model" --profile litert-int8 --image "$photos/$p" --pipeline seed-tf \
            --output "$tmp/img.npy" >/dev/null
        "$mnv3" run --weights "$model" --profile litert-int8 --input "$tmp/q.npy" --output "$tmp/npy.npy" >/dev/null
        if cmp -s "$tmp/img.npy" "$tmp/npy.npy"; then echo "ok   --image equals quantize_input.py ($p)"
        else echo "FAIL --image differs from quantize_input.py ($p)"; fail=1; fi
    done
else
    echo "skip the TF-slim model (no ../shared/models)"
fi
exit $fail
