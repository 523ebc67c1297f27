#!/bin/bash
# Creates the benchmark environment /work/main/.venv-bench (git-ignored):
# system site packages (Debian torch 1.13 + torchvision) plus the peers from PyPI.
#   bench/setup.sh [ROOT]
set -euo pipefail
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
venv="$root/.venv-bench"
# Debian's python: its site packages hold torch 1.13 + torchvision 0.14 (CPU).
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
# numpy < 2 and ml_dtypes < 0.5: Debian's torch 1.13 is built against numpy 1.x;
# onnx 1.18+ needs ml_dtypes 0.5 (float4_e2m1fn), so onnx < 1.18.
"$venv/bin/pip" install --quiet "numpy<2" "ml_dtypes<0.5" "onnx<1.18" onnxruntime openvino ncnn \
    ai-edge-litert psutil
# pnnx (ONNX/TorchScript -> ncnn) is a standalone binary; --no-deps keeps pip
# from replacing Debian's torch with a PyPI one (and its CUDA wheels, ~5 GB).
"$venv/bin/pip" install --quiet --no-deps pnnx || echo "setup: pnnx unavailable"
"$venv/bin/python" - <<'PY'
import importlib
for m in ["torch", "torchvision", "onnxruntime", "openvino", "ncnn", "ai_edge_litert", "onnx"]:
    try:
        mod = importlib.import_module(m)
        print(f"{m:16s} {getattr(mod, '__version__', '?')}")
    except Exception as e:  # report, do not fail: a missing peer is skipped by the driver
        print(f"{m:16s} unavailable: {e}")
PY
