#!/usr/bin/env python3
"""Live PyTorch oracle for one training step of torchvision's MobileNetV3-Small.

  .venv-oracle/bin/python tools/oracle/train/torch_step.py \
      --weights W.safetensors|W.pth --batch B.npz --out STEP.npz [--threads N]

B.npz holds x (N,3,H,W float32), y (N labels, as float32), and optionally keep
(N,1024: 1 keep, 0 drop) with p (the drop probability, shape (1,)),
label_smoothing (1,) and class_weights (C,). The model runs in train mode:
BatchNorm uses batch statistics and updates its running statistics (momentum
0.01, torchvision's), dropout multiplies by the given mask exactly as
F.dropout does on the CPU (noise = keep / (1 - p), x * noise), and the loss
is nn.CrossEntropyLoss (mean) on the logits.

STEP.npz (float32): "<torchvision name>.grad" for every parameter,
"<name>" for every parameter and buffer after the step's BatchNorm update
(the optimizer has not run), "loss" (1,), "logits" (N, C).
"""

import argparse
import os
import sys

import numpy as np
import torch
import torchvision
from torch import nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import weights  # noqa: E402


class MaskedDropout(nn.Module):
    """F.dropout's CPU arithmetic with a given keep mask."""

    def __init__(self, keep, p):
        super().__init__()
        self.keep, self.p = keep, p

    def forward(self, x):
        noise = self.keep.to(x.dtype)
        noise.div_(1 - self.p)
        return x * noise


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--weights", required=True)
    ap.add_argument("--batch", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--threads", type=int, default=1)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    state = weights.torch_state_dict(a.weights)
    classes = weights.torch_classes(state)
    if classes == 0:
        sys.exit("torch_step: the weights have no classifier head")
    model = torchvision.models.mobilenet_v3_small(num_classes=classes)
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or [k for k in missing if not k.endswith("num_batches_tracked")]:
        sys.exit("torch_step: weights do not fit: missing %s unexpected %s" % (missing[:3], unexpected[:3]))
    b = np.load(a.batch)
    x = torch.from_numpy(b["x"].astype(np.float32))
    y = torch.from_numpy(b["y"].astype(np.int64))
    model.train()
    if "keep" in b:
        model.classifier[2] = MaskedDropout(torch.from_numpy(b["keep"].astype(np.float32)), float(b["p"][0]))
    else:
        model.classifier[2] = nn.Identity()
    smoothing = float(b["label_smoothing"][0]) if "label_smoothing" in b else 0.0
    cw = torch.from_numpy(b["class_weights"].astype(np.float32)) if "class_weights" in b else None
    loss_fn = nn.CrossEntropyLoss(weight=cw, label_smoothing=smoothing)
    logits = model(x)
    loss = loss_fn(logits, y)
    loss.backward()
    out = {"loss": np.array([loss.item()], np.float32), "logits": logits.detach().numpy()}
    for name, p in model.named_parameters():
        out[name + ".grad"] = p.grad.detach().numpy()
    for name, t in model.state_dict().items():
        if t.dtype == torch.float32:
            out[name] = t.detach().numpy()
    np.savez(a.out, **out)
    print("torch %s, torchvision %s, %d threads, loss %.9g" % (torch.__version__, torchvision.__version__,
                                                               a.threads, loss.item()), file=sys.stderr)


if __name__ == "__main__":
    main()
