#!/usr/bin/env python3
"""Gradients saved as weights (torchvision names, from `mnv3 convert`) into the
npz test_train_step reads: "<name>.grad" for parameters, "<name>" for the
BatchNorm running statistics, "loss".
  grads_npz.py G.safetensors LOSS.npy OUT.npz"""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import weights  # noqa: E402

out = {"loss": np.load(sys.argv[2]).astype(np.float32)}
for name, v in weights.read_safetensors(sys.argv[1]).items():
    if name.endswith("num_batches_tracked"):
        continue
    buffer = name.endswith("running_mean") or name.endswith("running_var")
    out[name if buffer else name + ".grad"] = v.astype(np.float32)
np.savez(sys.argv[3], **out)
