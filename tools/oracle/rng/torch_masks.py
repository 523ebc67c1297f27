#!/usr/bin/env python3
"""Dropout-mask oracle, PyTorch side: seeded torch.nn.functional.dropout keep
masks on float32 CPU tensors, torch.randperm and the DataLoader's shuffled
order, written as a line-based fixture that tests/rng/test_rng.c replays.

  .venv-oracle/bin/python tools/oracle/rng/torch_masks.py --out FILE [--check-only]
      [--dump-npy DIR]

Before writing, it measures (and fails, exit 1, if one does not hold):
  - the mask does not depend on torch.set_num_threads (1 vs 2);
  - dropout's output is x * noise, noise = keep ? 1.0f / float32(1 - p) : 0.0f
    (bit for bit: a dropped negative x gives -0.0); under autograd the mask is
    the same and the input gradient is grad_out * noise;, and nn.Dropout(inplace=True) draws the same mask;
  - one train-mode forward of torchvision's MobileNetV3-Small consumes exactly
    the words of one bernoulli over batch x 1024 (dropout is the only draw).
Fixture lines (in order; 'seed' resets the default generator):
  seed S
  dropout P N SCALE_HEX MASK_HEX   (mask packed LSB first, np.packbits little)
  randperm N V0,V1,...
  epoch N V0,V1,...                (one `for batch in DataLoader(shuffle=True)`)
  init W0:B0,W1:B1,...             (a torchvision model built here: skip the words
                                    its Conv2d/Linear constructors and init draw)
  skip K                           (K words drawn by something else)
--dump-npy writes small keep masks as bool, uint8 and float32 .npy for the
mask-replay loader's tests.
"""
import argparse
import os
import sys

import numpy as np
import torch

SEEDS = [0, 42, 2**32 + 7]
RATES = [0.2, 0.5, 0.8]
SIZES = [7, 1000, 1024, 3 * 1024]  # consecutive calls on one generator


def keep_mask(p, shape, threads=1, inplace=False):
    torch.set_num_threads(threads)
    x = torch.ones(shape, dtype=torch.float32)
    if inplace:
        y = torch.nn.Dropout(p=p, inplace=True).train()(x)
    else:
        y = torch.nn.functional.dropout(x, p, training=True)
    return (y != 0).numpy().reshape(-1)


def fail(msg):
    print("torch_masks: " + msg, file=sys.stderr)
    sys.exit(1)


def measure():
    # Threads: the same stream at 1 and 2 threads, for a size big enough to split.
    for p in RATES:
        torch.manual_seed(5)
        a = keep_mask(p, (32, 1024), threads=1)
        torch.manual_seed(5)
        b = keep_mask(p, (32, 1024), threads=2)
        if not np.array_equal(a, b):
            fail(f"p={p}: the mask differs between 1 and 2 threads")
        torch.manual_seed(5)
        c = keep_mask(p, (32, 1024), inplace=True)
        if not np.array_equal(a, c):
            fail(f"p={p}: nn.Dropout(inplace=True) draws another mask")
    torch.set_num_threads(1)
    # Apply formula: x * (1.0f / float32(1 - p)), zeros elsewhere.
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 1024)).astype(np.float32)
    for p in RATES:
        torch.manual_seed(9)
        y = torch.nn.functional.dropout(torch.from_numpy(x.copy()), p, training=True).numpy()
        scale = np.float32(1.0) / np.float32(1.0 - p)
        keep = y != 0
        # noise is scale or 0 and the output x * noise: a dropped negative x gives -0.
        want = x * np.where(keep, scale, np.float32(0))
        if not np.array_equal(want.view(np.uint32), y.view(np.uint32)):
            bad = int(np.sum(want.view(np.uint32) != y.view(np.uint32)))
            fail(f"p={p}: output is not x * noise, noise = keep ? 1.0f / float32(1 - p) : 0 "
                 f"({bad} elements differ)")
    # Under autograd (x.requires_grad): the same mask, and the gradient is
    # grad_out * noise with the same noise.
    for p in RATES:
        torch.manual_seed(9)
        xt = torch.from_numpy(x.copy()).requires_grad_(True)
        y = torch.nn.functional.dropout(xt, p, training=True)
        g = torch.from_numpy(rng.standard_normal(x.shape).astype(np.float32))
        y.backward(g)
        torch.manual_seed(9)
        keep = keep_mask(p, x.shape).reshape(x.shape)
        noise = np.where(keep, np.float32(1.0) / np.float32(1.0 - p), np.float32(0))
        if not np.array_equal((y.detach().numpy() != 0), keep):
            fail(f"p={p}: autograd draws another mask")
        want = g.numpy() * noise
        if not np.array_equal(want.view(np.uint32), xt.grad.numpy().view(np.uint32)):
            fail(f"p={p}: the gradient is not grad_out * noise")
    # What a MobileNetV3-Small train-mode forward draws: only the classifier's dropout.
    import torchvision
    model = torchvision.models.mobilenet_v3_small(weights=None).train()
    xb = torch.from_numpy(rng.standard_normal((4, 3, 64, 64)).astype(np.float32))
    torch.manual_seed(3)
    with torch.no_grad():
        model(xb)
    after_forward = torch.randint(0, 2**31 - 1, (8,))
    torch.manual_seed(3)
    torch.empty(4 * 1024).bernoulli_(0.8)
    after_bernoulli = torch.randint(0, 2**31 - 1, (8,))
    if not torch.equal(after_forward, after_bernoulli):
        fail("a train-mode forward draws more than one bernoulli over batch x 1024")
    print("torch_masks: threads 1 == 2, apply = x * (keep ? 1.0f/float32(1-p) : 0), forward draws one "
          f"bernoulli(batch x 1024), grad = grad_out * noise; torch {torch.__version__}, "
          f"mkl {torch.backends.mkl.is_available()}", file=sys.stderr)


def hexbits(mask):
    return np.packbits(mask.astype(np.uint8), bitorder="little").tobytes().hex()


def write_fixture(path):
    lines = [f"# torch {torch.__version__} (tools/oracle/rng/torch_masks.py)"]
    for seed in SEEDS:
        for p in RATES:
            lines.append(f"seed {seed}")
            torch.manual_seed(seed)
            for n in SIZES:
                m = keep_mask(p, (n,))
                scale = np.float32(1.0) / np.float32(1.0 - p)
                lines.append(f"dropout {p!r} {n} {scale.view(np.uint32):08x} {hexbits(m)}")
    # p = 0 and p = 1 draw nothing: the mask after them continues the stream.
    lines.append("seed 8")
    torch.manual_seed(8)
    for p in [0.0, 1.0, 0.5]:
        m = keep_mask(p, (16,))
        lines.append(f"dropout {p!r} 16 - {hexbits(m)}")
    # A training batch: 32 x 1024 (the classifier's input), twice in a row.
    lines.append("seed 1234")
    torch.manual_seed(1234)
    for _ in range(2):
        m = keep_mask(0.2, (32, 1024))
        scale = np.float32(1.0) / np.float32(0.8)
        lines.append(f"dropout 0.2 {32 * 1024} {scale.view(np.uint32):08x} {hexbits(m)}")
    # Seeding before building the model: its constructors draw first. 'layers'
    # lists every Conv2d/Linear (weight, bias) count; the C side sums the words
    # (mnv3_torch_init_words) and skips them, and the mask after must agree.
    import torchvision
    for classes in [1000, 10]:
        lines.append("seed 3")
        torch.manual_seed(3)
        model = torchvision.models.mobilenet_v3_small(num_classes=classes).train()
        counts = [(mod.weight.numel(), mod.bias.numel() if mod.bias is not None else 0)
                  for mod in model.modules() if isinstance(mod, (torch.nn.Conv2d, torch.nn.Linear))]
        lines.append("init " + ",".join(f"{w}:{b}" for w, b in counts))
        with torch.no_grad():
            model(torch.zeros(2, 3, 32, 32))  # the forward's one draw: dropout over 2 x 1024
        after = keep_mask(0.2, (1024,))
        lines.append(f"skip {2 * 2 * 1024}")
        lines.append(f"dropout 0.2 1024 {np.float32(1.25).view(np.uint32):08x} {hexbits(after)}")
    # randperm and the DataLoader's shuffle (two epochs) from one seed.
    lines.append("seed 7")
    torch.manual_seed(7)
    for n in [1, 2, 10, 1000]:
        lines.append(f"randperm {n} " + ",".join(str(v) for v in torch.randperm(n).tolist()))
    lines.append("seed 11")
    torch.manual_seed(11)
    data = torch.utils.data.TensorDataset(torch.arange(100))
    loader = torch.utils.data.DataLoader(data, batch_size=8, shuffle=True)
    for _ in range(2):
        order = torch.cat([b[0] for b in loader]).tolist()
        lines.append("epoch 100 " + ",".join(str(v) for v in order))
    # After the two epochs the default generator has moved exactly 2 x 4 words.
    m = keep_mask(0.5, (16,))
    lines.append(f"dropout 0.5 16 {np.float32(2.0).view(np.uint32):08x} {hexbits(m)}")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def dump_npy(folder):
    os.makedirs(folder, exist_ok=True)
    torch.manual_seed(21)
    m = keep_mask(0.2, (4, 16)).reshape(4, 16)
    np.save(os.path.join(folder, "keep_bool.npy"), m)
    np.save(os.path.join(folder, "keep_uint8.npy"), m.astype(np.uint8))
    scale = np.float32(1.0) / np.float32(0.8)
    np.save(os.path.join(folder, "noise_float32.npy"), np.where(m, scale, np.float32(0)))
    with open(os.path.join(folder, "keep_bits.txt"), "w") as f:
        f.write(hexbits(m.reshape(-1)) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out")
    ap.add_argument("--check-only", action="store_true")
    ap.add_argument("--dump-npy")
    a = ap.parse_args()
    torch.set_num_threads(1)
    measure()
    if a.check_only:
        return
    if a.out:
        write_fixture(a.out)
    if a.dump_npy:
        dump_npy(a.dump_npy)


if __name__ == "__main__":
    main()
