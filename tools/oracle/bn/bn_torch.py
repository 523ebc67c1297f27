#!/usr/bin/env python3
"""BatchNorm-lab oracle, PyTorch side: torchvision MobileNetV3-Small in TRAINING
mode (BatchNorm normalises with the batch's statistics and updates its running
statistics), activations under the canonical names and running statistics after
every step.

  .venv-oracle/bin/python tools/oracle/bn/bn_torch.py --weights W --input X.npy \
      [--batch B] [--momentum M | --cumulative] [--threads N] [--layout nchw|nhwc] \
      [--out ACTS.npz] [--stats-out STATS.npz]

X is split into consecutive batches of B samples (default: all of X); each batch is
one `model.train()` forward, i.e. one running-statistic update. ACTS (np.savez,
float32, canonical names, NCHW, as torch_dump.py writes them) holds the FIRST
batch's activations; STATS holds `<canonical bn>.running_mean` and `.running_var`
after the LAST batch. Dropout (classifier) is kept in eval mode so the run is
deterministic; nothing else of the model changes. --momentum sets every
BatchNorm2d.momentum (torchvision MobileNetV3: 0.01); --cumulative sets it to None
(cumulative moving average over num_batches_tracked). --threads defaults to 1:
ATen's statistics for N x C x 1 x 1 inputs (channels-last path) depend on the
thread count. A batch whose BatchNorm sees one value per channel makes PyTorch
raise; the message goes to stderr and the exit status is 3.
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "dump"))
import numpy as np  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import torch_dump  # noqa: E402


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--momentum", type=float, default=None)
    ap.add_argument("--cumulative", action="store_true")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw")
    ap.add_argument("--out")
    ap.add_argument("--stats-out")
    a = ap.parse_args(argv)
    torch.set_num_threads(max(a.threads, 1))
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)  # as torch_dump.py: the same convolution kernels

    model, classes = torch_dump.build_model(torch_dump.load_weights(a.weights))
    x = np.load(a.input, allow_pickle=False).astype(np.float32)
    if x.ndim != 4:
        torch_dump.die("%s: expected a 4-D input" % a.input)
    if a.layout == "nhwc":
        x = x.transpose(0, 3, 1, 2)
    x = np.ascontiguousarray(x)
    n = x.shape[0]
    b = a.batch or n
    if n % b:
        torch_dump.die("%d samples do not split into batches of %d" % (n, b))

    taps = torch_dump.canonical_taps(model, classes > 0)
    bns = [(nm, m) for nm, m, _ in taps if m is not None and isinstance(m, nn.BatchNorm2d)]
    model.train()
    for m in model.modules():
        if isinstance(m, nn.Dropout):
            m.eval()
        if isinstance(m, nn.BatchNorm2d):
            if a.cumulative:
                m.momentum = None
            elif a.momentum is not None:
                m.momentum = a.momentum

    acts, order = {}, []

    def make_hook(name):
        def hook(_mod, _inp, out):
            acts[name] = out.detach().to(torch.float32).clone().numpy()
            order.append(name)
        return hook

    for step in range(n // b):
        xb = torch.from_numpy(x[step * b:(step + 1) * b].copy())
        handles = [m.register_forward_hook(make_hook(nm)) for nm, m, _ in taps if m is not None] if step == 0 else []
        try:
            with torch.no_grad():
                model(xb)
        except ValueError as e:  # "Expected more than 1 value per channel when training"
            print("bn_torch: torch raised: %s" % e, file=sys.stderr)
            return 3
        for h in handles:
            h.remove()
        if step == 0:
            first = dict(acts)

    if a.out:
        out = {"input": x[:b]}
        for nm in order:
            out[nm] = np.ascontiguousarray(first[nm])
        with open(a.out, "wb") as f:
            np.savez(f, **out)
    if a.stats_out:
        st = {}
        for nm, m in bns:
            st[nm + ".running_mean"] = m.running_mean.detach().numpy().astype(np.float32)
            st[nm + ".running_var"] = m.running_var.detach().numpy().astype(np.float32)
        with open(a.stats_out, "wb") as f:
            np.savez(f, **st)
    print("bn_torch: torch %s, %d step(s) of %d, momentum %s, threads %d, %d BatchNorm layers"
          % (torch.__version__, n // b, b, "None" if a.cumulative else bns[0][1].momentum,
             torch.get_num_threads(), len(bns)), file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
