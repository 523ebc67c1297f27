#!/bin/bash
# `mnv3 train --profile torch` against the same fine-tuning in PyTorch: its
# checkpoint loads in torchvision (strict), and after 30 steps it is as close
# to PyTorch at 1 thread as PyTorch at 2 threads is (the 1e-5 figure is printed too).
#   oracle_fit.sh MNV3 ROOT OPTIMIZER
set -euo pipefail
mnv3=$1 root=$2 optimizer=$3
py=$root/.venv-oracle/bin/python
[ -x "$py" ] || { echo "SKIP: no .venv-oracle (tools/setup.sh --oracle)"; exit 77; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
o=$root/tools/oracle/train
case $optimizer in
sgd)     args=(--optimizer sgd --momentum 0.9 --lr 0.001) ;;
adam)    args=(--optimizer adam --lr 0.0001) ;;
rmsprop) args=(--optimizer rmsprop --lr 0.0001) ;;
*) echo "unknown optimizer $optimizer"; exit 2 ;;
esac
"$mnv3" synth --seed 5 --classes 10 --out "$tmp/w.safetensors" >/dev/null
"$py" "$o/make_batch.py" --out "$tmp/d.npz" --batch 12 --size 64 64 --classes 10 --seed 4 --int-labels
"$mnv3" train --weights "$tmp/w.safetensors" --profile torch --data "$tmp/d.npz" "${args[@]}" --batch 4 --steps 30 \
    --seed 7 --out "$tmp/m.pth" 2>/dev/null
"$py" "$o/torch_train.py" --weights "$tmp/w.safetensors" --data "$tmp/d.npz" "${args[@]}" --batch 4 --steps 30 \
    --seed 7 --mnv3 "$tmp/m.pth" --self-threads 2 --self-mkldnn-off
