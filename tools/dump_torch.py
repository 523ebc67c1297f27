#!/usr/bin/env python3
"""Dump every module's output of a PyTorch model run, for `mnv3 compare --a-dump`.

As a script (torchvision MobileNetV3-Small with your weights):
    python tools/dump_torch.py --weights W.pth --input X.npy --out run.npz [--classes 0]

From your own code (any model; keys are module paths, values NCHW float32):
    from dump_torch import dump_activations
    dump_activations(model, x, "run.npz")

mnv3 maps torchvision module paths (features.0.0, features.1.block.0.fc1, classifier.3, ...)
to its canonical layer names (docs/layers.md); other keys are kept as they are.
"""
import argparse
import os
import sys

import numpy as np
import torch


def dump_activations(model, x, path):
    """Runs model(x) in eval mode under no_grad and saves each module's output."""
    outputs = {}

    def hook(name):
        def save(_module, _inputs, out):
            if isinstance(out, torch.Tensor):  # clone: torchvision activations are in place
                outputs[name] = out.detach().float().clone().numpy()
        return save

    handles = [m.register_forward_hook(hook(n)) for n, m in model.named_modules() if n]
    model.eval()
    with torch.no_grad():
        y = model(x)
    for h in handles:
        h.remove()
    outputs["input"] = x.detach().float().numpy()
    outputs["output"] = y.detach().float().numpy()
    np.savez(path, **outputs)
    return outputs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True, help="float32 [N,3,H,W] .npy")
    ap.add_argument("--out", required=True)
    ap.add_argument("--classes", type=int, default=None, help="0 for a backbone (default: from W)")
    a = ap.parse_args()
    import torchvision
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle"))
    from common import weights  # the repository's weights reader (.pth or .safetensors)

    state = weights.torch_state_dict(a.weights)
    classes = weights.torch_classes(state) if a.classes is None else a.classes
    model = torchvision.models.mobilenet_v3_small(num_classes=max(classes, 1))
    if classes == 0:
        model.classifier = torch.nn.Identity()
    model.load_state_dict(state, strict=classes > 0)
    dump_activations(model, torch.from_numpy(np.load(a.input).astype(np.float32)), a.out)


if __name__ == "__main__":
    main()
