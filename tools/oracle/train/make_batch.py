#!/usr/bin/env python3
"""A seeded training batch for tools/oracle/train/torch_step.py and the C test:
  make_batch.py --out B.npz --batch N --size H W --classes C --seed S
      [--dropout P] [--label-smoothing E] [--class-weights]
x: normal(0, 1) like normalised pixels, y: uniform labels, keep: bernoulli(1-P)
masks for the classifier's 1024 hidden units (numpy's generator, written out so
both sides replay the same mask). Everything float32."""
import argparse

import numpy as np

ap = argparse.ArgumentParser()
ap.add_argument("--out", required=True)
ap.add_argument("--batch", type=int, default=2)
ap.add_argument("--size", type=int, nargs=2, default=(64, 64))
ap.add_argument("--classes", type=int, default=10)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--dropout", type=float, default=0.0)
ap.add_argument("--label-smoothing", type=float, default=0.0)
ap.add_argument("--class-weights", action="store_true")
ap.add_argument("--int-labels", action="store_true", help="y as int64, as `mnv3 train --data` reads it")
a = ap.parse_args()
rng = np.random.default_rng(a.seed)
out = {
    "x": rng.standard_normal((a.batch, 3, a.size[0], a.size[1])).astype(np.float32),
    "y": rng.integers(0, a.classes, a.batch).astype(np.float32),
}
if a.dropout > 0:
    out["keep"] = (rng.random((a.batch, 1024)) >= a.dropout).astype(np.float32)
    out["p"] = np.array([a.dropout], np.float32)
if a.label_smoothing > 0:
    out["label_smoothing"] = np.array([a.label_smoothing], np.float32)
if a.class_weights:
    out["class_weights"] = rng.uniform(0.5, 2.0, a.classes).astype(np.float32)
if a.int_labels:
    out["y"] = out["y"].astype(np.int64)
np.savez(a.out, **out)
