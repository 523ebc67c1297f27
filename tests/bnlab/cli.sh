#!/bin/bash
# mnv3 bn: usage errors, momentum converter, train/report smoke run (small).
set -euo pipefail
mnv3=$1
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
"$mnv3" bn momentum --torch 0.01 | grep -q "keras momentum 0.99 "
"$mnv3" bn momentum --keras 0.999 | grep -q "torch momentum 0.001 "
if "$mnv3" bn momentum --torch 2 2>/dev/null; then echo "momentum 2 accepted"; exit 1; fi
if "$mnv3" bn train --convention jax 2>/dev/null; then echo "bad convention accepted"; exit 1; fi
if "$mnv3" bn frobnicate 2>/dev/null; then echo "bad subcommand accepted"; exit 1; fi
"$mnv3" synth --seed 3 --classes 0 --out "$tmp/w.safetensors" >/dev/null
"$mnv3" synth-input --seed 6 --batch 1 --size 32 32 --out "$tmp/x1.npy" >/dev/null
set +e
msg=$("$mnv3" bn train --weights "$tmp/w.safetensors" --convention torch --input "$tmp/x1.npy" 2>&1); rc=$?
set -e
[ $rc -eq 1 ] && grep -q "Expected more than 1 value per channel when training" <<<"$msg" || { echo "torch batch 1: $msg"; exit 1; }
"$mnv3" bn train --weights "$tmp/w.safetensors" --convention keras --layout nchw --input "$tmp/x1.npy" --stats-out "$tmp/s.npz" >/dev/null
"$mnv3" bn report --weights "$tmp/w.safetensors" --size 32 --steps 2 --batch 2 --json >"$tmp/r.json"
grep -q '"train_vs_eval"' "$tmp/r.json" && grep -q '"fold"' "$tmp/r.json"
echo "bnlab cli: ok"
