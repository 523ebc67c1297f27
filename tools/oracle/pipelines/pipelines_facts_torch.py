#!/usr/bin/env python3
"""Checks torchvision's ToTensor/Normalize float op order on all 256 uint8
values (run in .venv-oracle)."""
import numpy as np
import torch
from torchvision import transforms as T
from PIL import Image

f = np.float32
x = np.arange(256, dtype=np.uint8).reshape(1, 256, 1).repeat(3, 2)
t = T.ToTensor()(Image.fromarray(x, "RGB"))
v = np.arange(256, dtype=np.float32)
print("ToTensor == f32 x/255:", int((t[0, 0].numpy() == v / f(255)).sum()), "/256;",
      "== x*f32(1/255):", int((t[0, 0].numpy() == v * f(1 / 255)).sum()), "/256")
for mean, std in [((0.485, 0.456, 0.406), (0.229, 0.224, 0.225)), ((0.5,) * 3, (0.5,) * 3)]:
    n = T.Normalize(mean, std)(t.clone()).numpy()
    for c in range(3):
        ref = (v / f(255) - f(mean[c])) / f(std[c])
        alt = (v / f(255) - f(mean[c])) * f(1 / std[c])
        print(f"Normalize{mean[c], std[c]} c{c}: (x-m)/s {int((n[c, 0] == ref).sum())}/256, "
              f"(x-m)*(1/s) {int((n[c, 0] == alt).sum())}/256")
seed = (v / f(255) - f(0.5)) / f(0.5)
tf_seed = ((v / f(255)) - f(0.5)) * f(2)
print("seed-torch (x/255-0.5)/0.5 vs seed-tf ((x/255)-0.5)*2 differ on", int((seed != tf_seed).sum()), "of 256 values")
