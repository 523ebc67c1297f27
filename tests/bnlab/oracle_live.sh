#!/bin/bash
# Live BatchNorm-lab conformance: mnv3 bn train against real PyTorch, Keras 3 and
# tf-keras in training mode: every layer of the first batch and the running
# statistics after 10 update steps (40 seeded inputs, batches of 4), relative
# L2 <= 1e-5. PyTorch: 32x32 (the last stage has 1x1 maps; mnv3 is bit-exact).
# Keras sides: 64x64 (2x2 maps): at 1x1 a BatchNorm over 4 values amplifies the
# keras profiles' (non-BatchNorm) convolution rounding past 1e-5 (docs/batchnorm.md).
#   tests/bnlab/oracle_live.sh MNV3 REPO_ROOT CASE
#   CASE: torch-synth | torch-genuine | torch-batch1 | keras-synth | keras-genuine |
#         tf-keras-synth | tf-keras-genuine
# Exits 77 (skipped) without the oracle environment or the genuine weights.
set -euo pipefail
mnv3=$1 root=$2 case=$3
genuine="$root/../shared/models/torchvision_mnv3_small_features_imagenet.pth"
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bound=1e-5
export TF_CPP_MIN_LOG_LEVEL=2
side=${case%-*}
if [ "$side" = torch ]; then py="$root/.venv-oracle/bin/python"; else py="$root/.venv-tf/bin/python"; fi
[ -x "$py" ] || { echo "skip: no oracle environment for $side"; exit 77; }
if [ "${case##*-}" = genuine ] && [ ! -f "$genuine" ]; then echo "skip: $genuine absent"; exit 77; fi

compare() { # mnv3 acts, oracle acts, mnv3 stats, oracle stats
    echo "== training-mode activations, first batch"
    "$mnv3" diff "$1" "$2" --max-rel-l2 $bound | tail -3
    echo "== running statistics after 10 steps"
    # Near-dead channels have running means of 1e-7..1e-9, where relative L2 measures only
    # the convolutions' rounding noise: means are judged in units of the channel's standard
    # deviation (--normalise-means), variances by relative L2 as before.
    "$mnv3" diff "$3" "$4" --max-rel-l2 $bound --normalise-means | tail -3
}

case "$case" in
torch-synth|torch-genuine)
    if [ "$case" = torch-genuine ]; then w="$genuine"; else
        "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null; w="$tmp/w.safetensors"; fi
    "$mnv3" synth-input --seed 11 --batch 40 --size 32 32 --out "$tmp/x.npy" >/dev/null
    "$py" "$root/tools/oracle/bn/bn_torch.py" --weights "$w" --input "$tmp/x.npy" --batch 4 \
        --out "$tmp/ref.npz" --stats-out "$tmp/ref_stats.npz"
    "$mnv3" bn train --weights "$w" --convention torch --input "$tmp/x.npy" --batch 4 \
        --out "$tmp/a.npz" --stats-out "$tmp/a_stats.npz"
    compare "$tmp/a.npz" "$tmp/ref.npz" "$tmp/a_stats.npz" "$tmp/ref_stats.npz" ;;
torch-batch1)   # a batch of one with 1x1 maps: both must refuse
    "$mnv3" synth --seed 3 --classes 0 --out "$tmp/w.safetensors" >/dev/null
    "$mnv3" synth-input --seed 11 --batch 1 --size 32 32 --out "$tmp/x.npy" >/dev/null
    set +e
    "$py" "$root/tools/oracle/bn/bn_torch.py" --weights "$tmp/w.safetensors" --input "$tmp/x.npy" 2>"$tmp/py.err"; prc=$?
    "$mnv3" bn train --weights "$tmp/w.safetensors" --convention torch --input "$tmp/x.npy" 2>"$tmp/c.err"; crc=$?
    set -e
    cat "$tmp/py.err" "$tmp/c.err"
    [ $prc -eq 3 ] && [ $crc -eq 1 ] || { echo "expected both to fail (torch $prc, mnv3 $crc)"; exit 1; }
    want=$(grep -o "Expected more.*Size(\[[0-9, ]*\])" "$tmp/py.err")
    grep -qF "$want" "$tmp/c.err" || { echo "messages differ"; exit 1; } ;;
keras-synth|keras-genuine|tf-keras-synth|tf-keras-genuine)
    if [ "${case##*-}" = genuine ]; then src="$genuine"; else
        "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/s.safetensors" >/dev/null; src="$tmp/s.safetensors"; fi
    if [ "$side" = keras ]; then
        "$mnv3" convert "$src" "$tmp/w.weights.h5" --quiet >/dev/null; w="$tmp/w.weights.h5"; kv=3
    else
        "$mnv3" convert "$src" "$tmp/w.safetensors" --to keras --quiet >/dev/null; w="$tmp/w.safetensors"; kv=2
    fi
    "$mnv3" synth-input --seed 21 --batch 40 --size 64 64 --layout nhwc --pixels --out "$tmp/x.npy" >/dev/null
    "$py" "$root/tools/oracle/bn/bn_keras.py" --keras $kv --weights "$w" --input "$tmp/x.npy" --layout nhwc \
        --batch 4 --out "$tmp/ref.npz" --stats-out "$tmp/ref_stats.npz"
    "$mnv3" bn train --weights "$w" --convention "$side" --input "$tmp/x.npy" --batch 4 \
        --out "$tmp/a.npz" --stats-out "$tmp/a_stats.npz"
    compare "$tmp/a.npz" "$tmp/ref.npz" "$tmp/a_stats.npz" "$tmp/ref_stats.npz" ;;
*) echo "unknown case $case" >&2; exit 2 ;;
esac
