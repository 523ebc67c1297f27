#!/bin/bash
# Live conformance: mnv3's torch profile against real PyTorch + torchvision,
# at every layer, on 8 inputs at 224x224 (relative L2 <= 1e-5 per layer, top-5
# order identical). Also measures how far PyTorch is from itself.
#   tests/oracle_live.sh MNV3 REPO_ROOT CASE
#   CASE: synth | genuine | genuine-fma | pth-head | bitexact | fast | timm-tf | user-dump | self
# Exits 77 (skipped) when the oracle environment or the shared model is absent.
set -euo pipefail
mnv3=$1 root=$2 case=$3
py="$root/.venv-oracle/bin/python"
dump="$root/tools/oracle/dump/torch_dump.py"
shared="$root/../shared/models"
genuine_pth="$shared/torchvision_mnv3_small_features_imagenet.pth"
[ -x "$py" ] || { echo "skip: no oracle environment (run tools/oracle/setup.sh)"; exit 77; }
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
bound=1e-5
"$mnv3" synth-input --seed 11 --batch 8 --size 224 224 --out "$tmp/x.npy" >/dev/null

case "$case" in
synth)      # seeded weights with a 1000-class head, safetensors
    "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    w="$tmp/w.safetensors" ;;
pth-head)   # the same kind of weights written by real torch.save, full model with classifier
    "$mnv3" synth --seed 4 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$py" "$root/tools/oracle/fixtures/to_pth.py" "$tmp/w.safetensors" "$tmp/w.pth"
    w="$tmp/w.pth" ;;
genuine)    # the genuine torchvision ImageNet backbone
    w="$shared/torchvision_mnv3_small_features_imagenet.pth"
    [ -f "$w" ] || { echo "skip: $w absent"; exit 77; } ;;
genuine-fma) # torch with pointwise=fma (the fast rounding): within the bound on the genuine backbone
    w="$shared/torchvision_mnv3_small_features_imagenet.pth"
    [ -f "$w" ] || { echo "skip: $w absent"; exit 77; }
    "$py" "$dump" --weights "$w" --input "$tmp/x.npy" --out "$tmp/t.npz" --threads 1 2>/dev/null
    "$mnv3" dump --weights "$w" --profile torch --set pointwise=fma --kernels fast --threads 2 \
        --input "$tmp/x.npy" --out "$tmp/m.npz" >/dev/null
    "$mnv3" diff "$tmp/m.npz" "$tmp/t.npz" --max-rel-l2 $bound | tail -1 || exit 1
    "$py" -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])['pool'].reshape(8, -1))" "$tmp/t.npz" "$tmp/t_out.npy"
    "$mnv3" run --weights "$w" --profile torch --set pointwise=fma --kernels fast --threads 2 \
        --input "$tmp/x.npy" --output "$tmp/m_out.npy" >/dev/null
    echo "== run --kernels fast (blocked layout)"
    "$mnv3" diff "$tmp/m_out.npy" "$tmp/t_out.npy" --max-rel-l2 $bound | tail -1
    exit 0 ;;
bitexact)   # bit for bit at 1 thread, for several batch sizes and odd sizes (ATen picks kernels by size)
    "$mnv3" synth --seed 6 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    for shape in "1 224 224" "2 64 64" "1 97 131" "3 160 120"; do
        set -- $shape
        "$mnv3" synth-input --seed 31 --batch "$1" --size "$2" "$3" --out "$tmp/xb.npy" >/dev/null
        "$py" "$dump" --weights "$tmp/w.safetensors" --input "$tmp/xb.npy" --out "$tmp/t.npz" --threads 1 2>/dev/null
        "$mnv3" dump --weights "$tmp/w.safetensors" --profile torch --input "$tmp/xb.npy" --out "$tmp/m.npz" >/dev/null
        echo "== N=$1 ${2}x$3"
        "$mnv3" diff "$tmp/m.npz" "$tmp/t.npz" --max-rel-l2 0 | tail -1
    done
    exit 0 ;;
fast)       # the fast path (SIMD, 2 threads): still bit for bit with PyTorch
    "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$py" "$dump" --weights "$tmp/w.safetensors" --input "$tmp/x.npy" --out "$tmp/t.npz" --threads 1 2>/dev/null
    "$mnv3" dump --weights "$tmp/w.safetensors" --profile torch --kernels fast --threads 2 --input "$tmp/x.npy" --out "$tmp/m.npz" >/dev/null
    "$mnv3" diff "$tmp/m.npz" "$tmp/t.npz" --max-rel-l2 0 --check-top5 head.fc2 | tail -2 || exit 1
    # without taps the session keeps maps in the blocked layout: the output must match too
    "$py" -c "import numpy as np, sys; np.save(sys.argv[2], np.load(sys.argv[1])['head.fc2'])" "$tmp/t.npz" "$tmp/t_out.npy"
    for t in 1 2; do
        "$mnv3" run --weights "$tmp/w.safetensors" --profile torch --kernels fast --threads $t --input "$tmp/x.npy" --output "$tmp/m_out.npy" >/dev/null
        echo "== run --kernels fast --threads $t (blocked layout)"
        "$mnv3" diff "$tmp/m_out.npy" "$tmp/t_out.npy" --max-rel-l2 0 --check-top5 output | tail -2 || exit 1
    done
    exit 0 ;;
timm-tf)    # timm's tf_mobilenetv3_small_100 (TF padding in PyTorch) against the timm-tf profile
    "$py" -c "import timm" 2>/dev/null || { echo "skip: timm not installed (tools/oracle/setup.sh)"; exit 77; }
    for w in synth genuine; do
        wf="$genuine_pth"
        if [ $w = synth ]; then "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null; wf="$tmp/w.safetensors"; fi
        [ -f "$wf" ] || continue
        "$py" "$root/tools/oracle/dump/timm_run.py" --weights "$wf" --input "$tmp/x.npy" --out "$tmp/timm.npy" 2>/dev/null
        "$mnv3" run --weights "$wf" --profile timm-tf --input "$tmp/x.npy" --output "$tmp/m.npy" >/dev/null
        echo "== $w weights"
        top5=(); [ $w = synth ] && top5=(--check-top5 output)
        "$mnv3" diff "$tmp/m.npy" "$tmp/timm.npy" --max-rel-l2 $bound "${top5[@]}" | tail -2
    done
    exit 0 ;;
user-dump)  # a user's own dump (tools/dump_torch.py: module paths, NCHW) read by mnv3 compare
    "$mnv3" synth --seed 7 --classes 1000 --out "$tmp/w.safetensors" >/dev/null
    "$py" "$root/tools/oracle/fixtures/to_pth.py" "$tmp/w.safetensors" "$tmp/w.pth"
    "$mnv3" synth-input --seed 32 --batch 2 --size 96 96 --out "$tmp/xu.npy" >/dev/null
    "$py" "$root/tools/dump_torch.py" --weights "$tmp/w.pth" --input "$tmp/xu.npy" --out "$tmp/user.npz"
    "$mnv3" compare --a-dump "$tmp/user.npz" --b-weights "$tmp/w.pth" --b-profile torch --input "$tmp/xu.npy" >"$tmp/c.txt"
    tail -5 "$tmp/c.txt"
    grep -q "first divergent layer: none" "$tmp/c.txt" && grep -q "156 layers" "$tmp/c.txt"
    exit $? ;;
self)       # PyTorch against itself: mkldnn off, and 2 threads, vs the default run
    w="$shared/torchvision_mnv3_small_features_imagenet.pth"
    [ -f "$w" ] || { "$mnv3" synth --seed 3 --classes 1000 --out "$tmp/w.safetensors" >/dev/null; w="$tmp/w.safetensors"; }
    "$py" "$dump" --weights "$w" --input "$tmp/x.npy" --out "$tmp/ref.npz" --threads 1 2>/dev/null
    "$py" "$dump" --weights "$w" --input "$tmp/x.npy" --out "$tmp/nomkl.npz" --threads 1 --mkldnn off 2>/dev/null
    "$py" "$dump" --weights "$w" --input "$tmp/x.npy" --out "$tmp/t2.npz" --threads 2 2>/dev/null
    "$mnv3" dump --weights "$w" --profile torch --input "$tmp/x.npy" --out "$tmp/mnv3.npz" >/dev/null
    echo "== PyTorch (mkldnn off) vs PyTorch (default)"; "$mnv3" diff "$tmp/nomkl.npz" "$tmp/ref.npz" || true
    echo "== PyTorch (2 threads) vs PyTorch (1 thread)"; "$mnv3" diff "$tmp/t2.npz" "$tmp/ref.npz" || true
    echo "== mnv3 vs PyTorch (default)"; "$mnv3" diff "$tmp/mnv3.npz" "$tmp/ref.npz" --max-rel-l2 $bound
    exit 0 ;;
*) echo "unknown case $case" >&2; exit 2 ;;
esac

"$py" "$dump" --weights "$w" --input "$tmp/x.npy" --out "$tmp/torch.npz" --threads 1
"$mnv3" info "$w"
"$mnv3" dump --weights "$w" --profile torch --input "$tmp/x.npy" --out "$tmp/mnv3.npz"
top5=()
[ "$case" = genuine ] || top5=(--check-top5 head.fc2)
"$mnv3" diff "$tmp/mnv3.npz" "$tmp/torch.npz" --max-rel-l2 $bound "${top5[@]}"
