#!/usr/bin/env python3
"""Live PyTorch oracle for `mnv3 train --profile torch`: the same fine-tuning
in torchvision, then the distance of mnv3's checkpoint from it.

  .venv-oracle/bin/python tools/oracle/train/torch_train.py --weights W --data D.npz \
      --optimizer sgd|adam|rmsprop --lr X [--momentum M] --batch N --steps K \
      [--dropout P] [--seed S] --mnv3 OUT.pth [--max-rel-l2 1e-5]

Batches in file order (drop_last=False), torch.manual_seed(S) right before the
loop so dropout draws the masks mnv3 draws (docs/dropout.md), BatchNorm in
train mode (momentum 0.01), CrossEntropyLoss, --threads (1). The optimizer's
other hyper-parameters are PyTorch's defaults. Prints the worst relative L2 of the
tensors of mnv3's OUT.pth (torch.load, strict load_state_dict) from PyTorch's
result and exits 1 when one exceeds --max-rel-l2, or, with --self-threads T,
when mnv3 is farther from PyTorch than PyTorch at T threads is.
"""
import argparse
import os
import sys

import numpy as np
import torch
import torchvision

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import weights  # noqa: E402

ap = argparse.ArgumentParser()
for name in ("--weights", "--data", "--optimizer", "--mnv3"):
    ap.add_argument(name, required=True)
ap.add_argument("--lr", type=float, required=True)
ap.add_argument("--momentum", type=float, default=0.0)
ap.add_argument("--batch", type=int, required=True)
ap.add_argument("--steps", type=int, required=True)
ap.add_argument("--dropout", type=float, default=0.2)
ap.add_argument("--seed", type=int, default=0)
ap.add_argument("--max-rel-l2", type=float, default=1e-5)
ap.add_argument("--threads", type=int, default=1)
ap.add_argument("--self-threads", type=int, default=0,
                help="also train at this thread count: pass when mnv3 is as close to PyTorch as PyTorch is to itself")
ap.add_argument("--self-mkldnn-off", action="store_true",
                help="also train with oneDNN off (torch.backends.mkldnn): the bar is PyTorch's larger self-distance")
ap.add_argument("--save", help="also write PyTorch's own result (torch.save)")
a = ap.parse_args()
state = weights.torch_state_dict(a.weights)
classes = weights.torch_classes(state)
d = np.load(a.data)
x, y = torch.from_numpy(d["x"].astype(np.float32)), torch.from_numpy(d["y"].astype(np.int64))


def train(threads, mkldnn=True):
    """The fine-tuning in PyTorch at a thread count; returns the state dict and last loss."""
    with torch.backends.mkldnn.flags(enabled=mkldnn):
        return train_with(threads)


def train_with(threads):
    torch.set_num_threads(threads)
    model = torchvision.models.mobilenet_v3_small(num_classes=classes)
    model.classifier[2].p = a.dropout
    model.load_state_dict(state, strict=False)
    opt = {"sgd": lambda p: torch.optim.SGD(p, lr=a.lr, momentum=a.momentum),
           "adam": lambda p: torch.optim.Adam(p, lr=a.lr),
           "rmsprop": lambda p: torch.optim.RMSprop(p, lr=a.lr, momentum=a.momentum)}[a.optimizer](model.parameters())
    loss_fn = torch.nn.CrossEntropyLoss()
    model.train()
    torch.manual_seed(a.seed)
    n = x.shape[0]
    per_epoch = (n + a.batch - 1) // a.batch
    for step in range(a.steps):
        first = (step % per_epoch) * a.batch
        xb, yb = x[first:first + a.batch], y[first:first + a.batch]
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()
    return model.state_dict(), loss.item()


def distance(mine, ref):
    """Worst relative L2 over float tensors, its name, and how many exceed the bar."""
    worst, worst_name, bad = 0.0, "", 0
    for name, r in ref.items():
        if r.dtype != torch.float32:
            continue
        r = r.double()
        rel = (mine[name].double() - r).norm().item() / max(r.norm().item(), 1e-30)
        if rel > worst:
            worst, worst_name = rel, name
        bad += rel > a.max_rel_l2
    return worst, worst_name, bad


ref, loss = train(a.threads)
if a.save:
    torch.save(ref, a.save)
mine = torch.load(a.mnv3)
check = torchvision.models.mobilenet_v3_small(num_classes=classes)
check.load_state_dict(mine, strict=True)  # loads in real PyTorch
worst, worst_name, bad = distance(mine, ref)
print("torch %s: %d steps of %s; mnv3's worst tensor %s rel_l2 %.3g; %d tensors beyond %.1g; final loss %.6f"
      % (torch.__version__, a.steps, a.optimizer, worst_name, worst, bad, a.max_rel_l2, loss))
if a.self_threads:
    other, _ = train(a.self_threads)
    self_worst, self_name, self_bad = distance(other, ref)
    print("torch at %d vs %d threads: worst tensor %s rel_l2 %.3g; %d tensors beyond %.1g"
          % (a.self_threads, a.threads, self_name, self_worst, self_bad, a.max_rel_l2))
    if a.self_mkldnn_off:
        other, _ = train(a.threads, mkldnn=False)
        off_worst, off_name, off_bad = distance(other, ref)
        print("torch with oneDNN off vs on: worst tensor %s rel_l2 %.3g; %d tensors beyond %.1g"
              % (off_name, off_worst, off_bad, a.max_rel_l2))
        self_worst = max(self_worst, off_worst)
    sys.exit(0 if worst <= self_worst or bad == 0 else 1)
sys.exit(1 if bad else 0)
