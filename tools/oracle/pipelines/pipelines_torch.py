#!/usr/bin/env python3
"""Oracle for the torchvision preprocessing pipelines (run in .venv-oracle:
Debian torch 1.13.1, torchvision 0.14.1, Pillow 9.4).

    .venv-oracle/bin/python tools/oracle/pipelines/pipelines_torch.py --pipeline torchvision-imagenet \
        IMG... --out-dir D [--layout nchw|nhwc] [--decoded]

Writes D/<image basename>.npy: float32 [1,3,224,224] (nchw, default) or
[1,224,224,3]. --decoded writes Pillow's decoded RGB ([1,H,W,3] float32).
Pipelines: torchvision-imagenet, seed-torch."""
import argparse
import os
import sys

import numpy as np
import torch
from PIL import Image
from torchvision import transforms as T
from torchvision.models import MobileNet_V3_Small_Weights

PIPELINES = ("torchvision-imagenet", "seed-torch")


def load(path):
    with open(path, "rb") as f:
        img = Image.open(f)
        return img.convert("RGB")


def transform(pipeline):
    if pipeline == "torchvision-imagenet":
        # The weights' own preset (ImageClassification(crop_size=224)), checked
        # against the classic Compose it stands for.
        preset = MobileNet_V3_Small_Weights.IMAGENET1K_V1.transforms()
        classic = T.Compose([T.Resize(256), T.CenterCrop(224), T.ToTensor(),
                             T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))])
        return preset, classic
    return T.Compose([T.Resize((224, 224)), T.ToTensor(),
                      T.Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))]), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline", required=True, choices=PIPELINES)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--layout", default="nchw", choices=("nchw", "nhwc"))
    ap.add_argument("--decoded", action="store_true")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    tf, check = transform(a.pipeline)
    torch.set_num_threads(1)
    for p in a.images:
        img = load(p)
        if a.decoded:
            r = np.asarray(img, np.float32)[None]
        else:
            x = tf(img)
            if check is not None:
                y = check(img)
                if not torch.equal(x, y):
                    print(f"{p}: preset and Compose differ", file=sys.stderr)
                    sys.exit(1)
            r = x.numpy()[None]
            if a.layout == "nhwc":
                r = np.ascontiguousarray(r.transpose(0, 2, 3, 1))
        np.save(os.path.join(a.out_dir, os.path.basename(p) + ".npy"), r.astype(np.float32))
    print(f"wrote {len(a.images)} arrays to {a.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
