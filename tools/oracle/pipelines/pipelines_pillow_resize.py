#!/usr/bin/env python3
"""Prints a sha256 per (image, decode/resize variant) with whatever Pillow the
interpreter has, so two Pillow versions can be compared with diff:
    .venv-oracle/bin/python tools/oracle/pipelines/pipelines_pillow_resize.py IMG... > p94.txt
    .venv-tf/bin/python     tools/oracle/pipelines/pipelines_pillow_resize.py IMG... > p13.txt
    diff p94.txt p13.txt"""
import hashlib
import os
import sys

import numpy as np
from PIL import Image

for path in sys.argv[1:]:
    with open(path, "rb") as f:
        im = Image.open(f).convert("RGB")
    w, h = im.size
    s = min(w, h)
    variants = {"decoded": im}
    for name, flt in [("nearest", Image.NEAREST), ("bilinear", Image.BILINEAR), ("bicubic", Image.BICUBIC)]:
        variants[f"{name}-224x224"] = im.resize((224, 224), flt)
        if s > 0 and max(w, h) * 256 // s < 20000:
            variants[f"{name}-short256"] = im.resize((256 if w <= h else w * 256 // s,
                                                      256 if h < w else h * 256 // s), flt)
        variants[f"{name}-x0.37"] = im.resize((max(1, int(w * 0.37)), max(1, int(h * 0.37))), flt)
    for k, v in variants.items():
        print(os.path.basename(path), k, hashlib.sha256(np.asarray(v).tobytes()).hexdigest()[:16])
