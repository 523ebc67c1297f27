#!/usr/bin/env python3
"""How much the pipelines differ from each other on the same images.

    python tools/oracle/pipelines/images_pipeline_diff.py OUT_DIR   (OUT_DIR from tests/image/live.sh OUT_DIR)

Uses OUT_DIR/ref/<pipeline>/*.npy (the real libraries' outputs). For each
pair of pipelines whose outputs share a range ([-1, 1]) it prints, over all
images: elements differing, max |diff|, mean |diff|; and the same for the
decoders (Pillow vs TF) in 0..255 pixel units. Prints a markdown table."""
import os
import sys

import numpy as np

root = sys.argv[1]
ref = os.path.join(root, "ref")
pairs = [("seed-tf", "seed-torch"), ("tf-data", "seed-tf"), ("tf-data", "keras-mnv3"),
         ("keras-mnv3", "keras-mnv3-xla"), ("keras-mnv3", "seed-torch"), ("tf-data", "seed-torch"),
         ("tf-data", "tf-data-nearest"), ("decoded-pillow13", "decoded-tf")]
print("| pipeline A | pipeline B | images | elements differing | max abs diff | mean abs diff |")
print("|---|---|---|---|---|---|")
for a, b in pairs:
    da, db = os.path.join(ref, a), os.path.join(ref, b)
    if not (os.path.isdir(da) and os.path.isdir(db)):
        continue
    n = nd = 0
    mx = 0.0
    s = 0.0
    k = 0
    for f in sorted(os.listdir(da)):
        if not os.path.exists(os.path.join(db, f)):
            continue
        x = np.load(os.path.join(da, f)).astype(np.float64)
        y = np.load(os.path.join(db, f)).astype(np.float64)
        if x.shape != y.shape:
            continue
        d = np.abs(x - y)
        n += d.size
        nd += int((d != 0).sum())
        mx = max(mx, float(d.max()))
        s += float(d.sum())
        k += 1
    if n:
        print(f"| {a} | {b} | {k} | {nd} of {n} ({100.0 * nd / n:.1f}%) | {mx:.6g} | {s / n:.3g} |")
