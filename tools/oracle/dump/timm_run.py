#!/usr/bin/env python3
"""Runs timm's tf_mobilenetv3_small_100 (TF 'SAME' padding inside PyTorch) on torchvision weights.

  .venv-oracle/bin/python tools/oracle/dump/timm_run.py --weights W.pth|W.safetensors --input X.npy --out Y.npy

The torchvision state_dict maps onto timm's by position (both list the same tensors in the
same order; timm's conv_head is the 1x1-conv form of torchvision's classifier.0). Output:
logits [N, K] (or the pooled features [N, 576] for a backbone), float32.
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import weights  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    state = weights.torch_state_dict(a.weights)  # in file order: mapped by position below
    import timm

    classes = weights.torch_classes(state)
    model = timm.create_model("tf_mobilenetv3_small_100", pretrained=False,
                              num_classes=max(classes, 1))
    target = model.state_dict()
    if classes == 0:
        target = {k: v for k, v in target.items() if not k.startswith(("conv_head", "classifier"))}
    if len(target) != len(state):
        sys.exit(f"timm_run: {len(state)} tensors in {a.weights}, timm expects {len(target)}")
    mapped = {}
    for (tk, tv), (sk, sv) in zip(target.items(), state.items()):
        if tv.numel() != sv.numel():
            sys.exit(f"timm_run: {sk} {tuple(sv.shape)} does not fit {tk} {tuple(tv.shape)}")
        mapped[tk] = sv.reshape(tv.shape).to(tv.dtype)
    model.load_state_dict(mapped, strict=classes > 0)
    model.eval()
    x = torch.from_numpy(np.load(a.input).astype(np.float32))
    with torch.no_grad():
        y = model(x) if classes else model.global_pool(model.forward_features(x)).flatten(1)
    np.save(a.out, y.reshape(y.shape[0], -1).numpy().astype(np.float32))


if __name__ == "__main__":
    main()
