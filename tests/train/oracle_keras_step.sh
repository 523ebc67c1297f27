#!/bin/bash
# One training step of mnv3 under the keras profile against live Keras 3
# (GradientTape, oneDNN on and off for Keras's own distance).
#   oracle_keras_step.sh MNV3 TEST_TRAIN_STEP ROOT
set -euo pipefail
mnv3=$1 step=$2 root=$3
py=$root/.venv-tf/bin/python
[ -x "$py" ] || { echo "SKIP: no .venv-tf (tools/setup.sh --oracle)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
o=$root/tools/oracle/train
export TF_CPP_MIN_LOG_LEVEL=2
"$mnv3" synth --seed 5 --classes 10 --out "$tmp/w.safetensors" >/dev/null
"$mnv3" convert "$tmp/w.safetensors" "$tmp/w.weights.h5" --to keras >/dev/null 2>&1
"$py" "$o/make_batch.py" --out "$tmp/b.npz" --batch 2 --size 64 64 --classes 10 --seed 1
for onednn in on off; do
    "$py" "$o/keras_step.py" --weights "$tmp/w.weights.h5" --batch "$tmp/b.npz" --onednn $onednn \
        --out-grads "$tmp/g_$onednn.weights.h5" --out-stats "$tmp/s_$onednn.weights.h5" --out-loss "$tmp/l_$onednn.npy"
    "$mnv3" convert "$tmp/g_$onednn.weights.h5" "$tmp/g_$onednn.safetensors" --to torch >/dev/null 2>&1
    "$py" "$o/grads_npz.py" "$tmp/g_$onednn.safetensors" "$tmp/l_$onednn.npy" "$tmp/k_$onednn.npz"
done
# a measurement for now: mnv3 is not yet within Keras's own distance everywhere (docs/training.md)
"$step" keras "$tmp/w.safetensors" "$tmp/b.npz" "$tmp/k_on.npz" "$tmp/k_off.npz" --measure
