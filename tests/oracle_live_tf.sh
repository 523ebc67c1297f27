#!/bin/bash
# Live conformance on the TensorFlow side: mnv3's keras, tf-keras and litert profiles
# against real Keras 3, tf-keras and LiteRT, every layer, 8 inputs of 224x224 pixels
# (relative L2 <= 1e-5 per layer; top-5 order identical with a head).
#   tests/oracle_live_tf.sh MNV3 REPO_ROOT CASE
#   CASE: keras-genuine | keras-synth | keras-saved | tf-keras | litert | self
# Exits 77 (skipped) without .venv-tf or, where needed, ../shared/models.
set -euo pipefail
mnv3=$1 root=$2 case=$3
py="$root/.venv-tf/bin/python"
oracle="$root/tools/oracle"
shared="$root/../shared/models"
genuine="$shared/torchvision_mnv3_small_features_imagenet.pth"
[ -x "$py" ] || { echo "skip: no .venv-tf (run tools/oracle/setup.sh)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bound=1e-5
export TF_CPP_MIN_LOG_LEVEL=2
"$mnv3" synth-input --seed 21 --batch 8 --size 224 224 --layout nhwc --pixels --out "$tmp/x.npy" >/dev/null

keras_case() { # weights.h5 or safetensors, keras version, profile, top-5 layer or "", [dump options]
    "$py" "$oracle/dump/keras_dump.py" --weights "$1" --input "$tmp/x.npy" --layout nhwc \
        --keras "$2" --out "$tmp/keras.npz"
    "$mnv3" dump --weights "$1" --profile "$3" --layout nhwc --input "$tmp/x.npy" --out "$tmp/mnv3.npz" "${@:5}"
    local top5=()
    [ -z "$4" ] || top5=(--check-top5 "$4")
    "$mnv3" diff "$tmp/mnv3.npz" "$tmp/keras.npz" --max-rel-l2 $bound "${top5[@]}"
}

case "$case" in
keras-genuine)   # the genuine torchvision ImageNet backbone, converted by mnv3 for Keras 3
    [ -f "$genuine" ] || { echo "skip: $genuine absent"; exit 77; }
    "$mnv3" convert "$genuine" "$tmp/w.weights.h5"
    keras_case "$tmp/w.weights.h5" 3 keras "" ;;
keras-synth)     # seeded weights with a 1000-class head, converted to Keras 3
    "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$mnv3" convert "$tmp/w.safetensors" "$tmp/w.weights.h5" --quiet
    keras_case "$tmp/w.weights.h5" 3 keras head.fc2 ;;
keras-saved)     # a .weights.h5 written by real Keras: mnv3 run --output against Keras's output
    "$py" "$oracle/fixtures/keras_saved_file.py" --input "$tmp/x.npy" --weights "$tmp/k.weights.h5" --output "$tmp/keras.npy"
    "$mnv3" info "$tmp/k.weights.h5"
    "$mnv3" run --weights "$tmp/k.weights.h5" --profile keras --input "$tmp/x.npy" --layout nhwc --output "$tmp/mnv3.npy" >/dev/null
    "$mnv3" diff "$tmp/mnv3.npy" "$tmp/keras.npy" --max-rel-l2 $bound --check-top5 output ;;
keras-fast)      # the fast path (SIMD, 2 threads) under the keras profile, seeded weights + head
    "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$mnv3" convert "$tmp/w.safetensors" "$tmp/w.weights.h5" --quiet
    keras_case "$tmp/w.weights.h5" 3 keras head.fc2 --kernels fast --threads 2 ;;
tf-keras)        # tf-keras (Keras 2, fused BatchNorm) on seeded weights with a head
    "$mnv3" synth --seed 5 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$mnv3" convert "$tmp/w.safetensors" "$tmp/wk.safetensors" --to keras --quiet
    keras_case "$tmp/wk.safetensors" 2 tf-keras head.fc2 ;;
litert)          # the Keras float TFLite (BatchNorm folded) under LiteRT
    model="$shared/keras_mnv3_small_notop_avgpool_fp32.tflite"
    [ -f "$model" ] || { echo "skip: $model absent"; exit 77; }
    "$py" "$oracle/dump/litert_dump.py" --model "$model" --input "$tmp/x.npy" --layout nhwc --out "$tmp/litert.npz"
    "$mnv3" dump --weights "$model" --profile litert --input "$tmp/x.npy" --out "$tmp/mnv3.npz"
    # LiteRT fuses ReLU into convolutions, so some pre-activation taps do not exist there.
    "$mnv3" diff "$tmp/mnv3.npz" "$tmp/litert.npz" --max-rel-l2 $bound --common ;;
litert-head)     # seeded weights + 1000-class head, Keras 3 -> TFLiteConverter, under LiteRT
    "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$mnv3" convert "$tmp/w.safetensors" "$tmp/w.weights.h5" --quiet
    "$py" "$oracle/fixtures/keras_to_tflite.py" "$tmp/w.weights.h5" "$tmp/w.tflite"
    "$py" "$oracle/dump/litert_dump.py" --model "$tmp/w.tflite" --input "$tmp/x.npy" --layout nhwc --out "$tmp/litert.npz"
    "$mnv3" dump --weights "$tmp/w.tflite" --profile litert --input "$tmp/x.npy" --out "$tmp/mnv3.npz"
    "$mnv3" diff "$tmp/mnv3.npz" "$tmp/litert.npz" --max-rel-l2 $bound --common --check-top5 head.fc2
    # without taps the fast session runs the blocked layout: its output against LiteRT's
    "$py" -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])['output'])" "$tmp/litert.npz" "$tmp/l_out.npy"
    "$mnv3" run --weights "$tmp/w.tflite" --profile litert --input "$tmp/x.npy" --kernels fast --threads 2 \
        --output "$tmp/m_out.npy" >/dev/null
    "$mnv3" diff "$tmp/m_out.npy" "$tmp/l_out.npy" --max-rel-l2 $bound --check-top5 output | grep -E "layers;|order identical on" ;;
user-dump)       # a user's own Keras dump (tools/dump_keras.py: layer names, NHWC) in mnv3 compare
    "$mnv3" synth --seed 8 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$mnv3" convert "$tmp/w.safetensors" "$tmp/w.weights.h5" --quiet >/dev/null
    "$mnv3" synth-input --seed 33 --batch 2 --size 96 96 --layout nhwc --pixels --out "$tmp/xu.npy" >/dev/null
    "$mnv3" synth-input --seed 33 --batch 2 --size 96 96 --pixels --out "$tmp/xu_nchw.npy" >/dev/null
    "$py" "$root/tools/dump_keras.py" --weights "$tmp/w.weights.h5" --input "$tmp/xu.npy" --out "$tmp/user.npz"
    "$mnv3" compare --a-dump "$tmp/user.npz" --b-weights "$tmp/w.weights.h5" --b-profile keras \
        --b-set input_rescale=keras_rescaling --input "$tmp/xu_nchw.npy" >"$tmp/c.txt"
    tail -5 "$tmp/c.txt"
    grep -q "first divergent layer: none" "$tmp/c.txt" ;;
self)            # TensorFlow against itself: oneDNN off vs on; and mnv3 against both
    "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$mnv3" convert "$tmp/w.safetensors" "$tmp/w.weights.h5" --quiet
    "$py" "$oracle/dump/keras_dump.py" --weights "$tmp/w.weights.h5" --input "$tmp/x.npy" --layout nhwc --out "$tmp/on.npz" 2>/dev/null
    "$py" "$oracle/dump/keras_dump.py" --weights "$tmp/w.weights.h5" --input "$tmp/x.npy" --layout nhwc --onednn off --out "$tmp/off.npz" 2>/dev/null
    "$mnv3" dump --weights "$tmp/w.weights.h5" --profile keras --layout nhwc --input "$tmp/x.npy" --out "$tmp/mnv3.npz" >/dev/null
    echo "== Keras, oneDNN off vs on"; "$mnv3" diff "$tmp/off.npz" "$tmp/on.npz" | tail -1
    echo "== mnv3 vs Keras (oneDNN on)"; "$mnv3" diff "$tmp/mnv3.npz" "$tmp/on.npz" --max-rel-l2 $bound | tail -1
    echo "== mnv3 vs Keras (oneDNN off)"; "$mnv3" diff "$tmp/mnv3.npz" "$tmp/off.npz" --max-rel-l2 $bound | tail -1 ;;
*) echo "unknown case $case" >&2; exit 2 ;;
esac
