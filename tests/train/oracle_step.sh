#!/bin/bash
# One training step of mnv3 against live PyTorch (1 and 2 threads), on seeded
# weights and on the genuine torchvision backbone with a seeded head.
#   oracle_step.sh MNV3 TEST_TRAIN_STEP ROOT CASE    (CASE: seeded | seeded-dropout | genuine)
set -euo pipefail
mnv3=$1 step=$2 root=$3 case=$4
py=$root/.venv-oracle/bin/python
[ -x "$py" ] || { echo "SKIP: no .venv-oracle (tools/setup.sh --oracle)"; exit 77; }
genuine=$root/../shared/models/torchvision_mnv3_small_features_imagenet.pth
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
o=$root/tools/oracle/train
"$mnv3" synth --seed 5 --classes 10 --out "$tmp/w.safetensors" >/dev/null
w=$tmp/w.safetensors
case $case in
seeded)         "$py" "$o/make_batch.py" --out "$tmp/b.npz" --batch 2 --size 64 64 --classes 10 --seed 1 ;;
seeded-dropout) "$py" "$o/make_batch.py" --out "$tmp/b.npz" --batch 4 --size 96 96 --classes 10 --seed 2 \
                    --dropout 0.2 --label-smoothing 0.1 --class-weights ;;
genuine)
    [ -f "$genuine" ] || { echo "SKIP: $genuine is absent"; exit 77; }
    "$py" "$o/genuine_with_head.py" "$genuine" "$w" "$tmp/g.safetensors"
    w=$tmp/g.safetensors
    "$py" "$o/make_batch.py" --out "$tmp/b.npz" --batch 2 --size 224 224 --classes 10 --seed 3 --dropout 0.2 ;;
*) echo "unknown case $case"; exit 2 ;;
esac
"$py" "$o/torch_step.py" --weights "$w" --batch "$tmp/b.npz" --out "$tmp/t1.npz" --threads 1
"$py" "$o/torch_step.py" --weights "$w" --batch "$tmp/b.npz" --out "$tmp/t2.npz" --threads 2
"$step" torch "$w" "$tmp/b.npz" "$tmp/t1.npz" "$tmp/t2.npz"
