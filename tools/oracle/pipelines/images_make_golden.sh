#!/bin/bash
# Regenerates tests/image/golden.txt: for every pipeline and every edge-case
# image, a 64-bit checksum of the real library's output (float32, NCHW):
# sum over i of bits(x[i]) * (2i + 1) mod 2^64. The multipliers are odd, so any
# single differing element always changes it; the fast test recomputes it in C
# and so checks bit-identity without Python.
#   tools/oracle/pipelines/images_make_golden.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/../../.." && pwd)
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
imgs=("$root"/tests/image/edge/*)
for p in torchvision-imagenet seed-torch; do
    "$root"/.venv-oracle/bin/python "$root"/tools/oracle/pipelines/pipelines_torch.py --pipeline $p --out-dir "$tmp/$p" "${imgs[@]}" 2>/dev/null
done
for p in keras-mnv3 keras-mnv3-xla keras-mnv3-raw tf-data tf-data-nearest seed-tf; do
    "$root"/.venv-tf/bin/python "$root"/tools/oracle/pipelines/pipelines_tf.py --pipeline $p --out-dir "$tmp/$p" "${imgs[@]}" 2>/dev/null
done
"$root"/.venv-tf/bin/python - "$tmp" >"$root/tests/image/golden.txt" <<'PY'
import os, sys
import numpy as np
root = sys.argv[1]
print("# pipeline image checksum(float32 NCHW bits) -- tools/oracle/pipelines/images_make_golden.sh")
for p in sorted(os.listdir(root)):
    for f in sorted(os.listdir(os.path.join(root, p))):
        a = np.load(os.path.join(root, p, f))
        assert a.dtype == np.float32 and a.shape == (1, 3, 224, 224), (p, f, a.shape)
        bits = a.reshape(-1).view(np.uint32).astype(np.uint64)
        mult = np.arange(bits.size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
        h = int(np.sum(bits * mult, dtype=np.uint64))
        print(p, f[:-4], f"{h:016x}")
PY
wc -l "$root/tests/image/golden.txt"
