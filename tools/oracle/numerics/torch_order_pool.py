#!/usr/bin/env python3
"""Bit-exact emulation of torch 1.13.1 CPU nn.AdaptiveAvgPool2d(1) on float32 NCHW.

Path (ATen 1.13): adaptive_avg_pool2d(output_size=1) -> input.mean({-1,-2}, keepdim)
-> mean_out (CPU) = at::sum_out(...) then .div_(H*W)
-> sum_kernel_impl -> cascade_sum<false,float> -> vectorized_inner_sum (reduced dim
   contiguous, H*W >= lanes) -> row_sum<Vectorized<float>> (ilp 4) -> multi_row_sum
   (4 levels, level_step 16) ... then scalar tail, then lane combine.

Usage: .venv-oracle/bin/python tools/oracle/numerics/torch_order_pool.py [--lanes 8] [--threads 1]
       [--recip] [--model]
"""
import argparse
import numpy as np
import torch

f32 = np.float32


def ceil_log2(x):
    if x <= 2:
        return 1
    return int(x - 1).bit_length()


def multi_row_sum(rows, size):
    """rows: callable i -> array [nrows, ...] (float32) for row index i in [0,size).
    Returns array [nrows, ...]. Emulates SumKernel.cpp multi_row_sum exactly."""
    num_levels = 4
    level_power = max(4, ceil_log2(size) // num_levels)
    level_step = 1 << level_power
    level_mask = level_step - 1
    shape = rows(0).shape if size > 0 else None
    if shape is None:
        return None
    acc = [np.zeros(shape, f32) for _ in range(num_levels)]
    i = 0
    while i + level_step <= size:
        for _ in range(level_step):
            acc[0] = (acc[0] + rows(i)).astype(f32)
            i += 1
        for j in range(1, num_levels):
            acc[j] = (acc[j] + acc[j - 1]).astype(f32)
            acc[j - 1] = np.zeros(shape, f32)
            mask = level_mask << (j * level_power)
            if (i & mask) != 0:
                break
    while i < size:
        acc[0] = (acc[0] + rows(i)).astype(f32)
        i += 1
    for j in range(1, num_levels):
        acc[0] = (acc[0] + acc[j]).astype(f32)
    return acc[0]


def scalar_row_sum(X):
    """row_sum<float, CastLoadPolicy> (scalar_inner_sum path, used when n < lanes)."""
    R, n = X.shape
    ilp = 4
    size_ilp = n // ilp
    if size_ilp > 0:
        ps = multi_row_sum(lambda i: np.ascontiguousarray(X[:, i * ilp:(i + 1) * ilp].T), size_ilp)
    else:
        ps = np.zeros((ilp, R), f32)
    ps = [ps[k] for k in range(ilp)]
    for i in range(size_ilp * ilp, n):
        ps[0] = (ps[0] + X[:, i]).astype(f32)
    for k in range(1, ilp):
        ps[0] = (ps[0] + ps[k]).astype(f32)
    return ps[0]


def cascade_inner_sum(X, lanes):
    """X: float32 [R, n] rows to be summed along axis 1 (contiguous). Returns [R]."""
    R, n = X.shape
    if n == 1:
        return X[:, 0].copy()
    if n < lanes:
        return scalar_row_sum(X)
    vec_size = n // lanes
    V = X[:, :vec_size * lanes].reshape(R, vec_size, lanes)  # vectors
    # row_sum<vacc_t>(ilp=4): rows of 4 vectors
    ilp = 4
    size_ilp = vec_size // ilp
    if size_ilp > 0:
        ps = multi_row_sum(lambda i: np.transpose(V[:, i * ilp:(i + 1) * ilp, :], (1, 0, 2)), size_ilp)
    else:
        ps = np.zeros((ilp, R, lanes), f32)
    ps = [ps[k] for k in range(ilp)]
    for i in range(size_ilp * ilp, vec_size):
        ps[0] = (ps[0] + V[:, i, :]).astype(f32)
    for k in range(1, ilp):
        ps[0] = (ps[0] + ps[k]).astype(f32)
    vec_acc = ps[0]  # [R, lanes]
    final = np.zeros(R, f32)
    for k in range(vec_size * lanes, n):  # scalar tail first
        final = (final + X[:, k]).astype(f32)
    for k in range(lanes):  # then the lanes, in order
        final = (final + vec_acc[:, k]).astype(f32)
    return final


def emulate_pool(x, lanes=8, recip=False):
    """x: float32 [N,C,H,W] contiguous -> [N,C] float32"""
    N, C, H, W = x.shape
    n = H * W
    X = np.ascontiguousarray(x, dtype=f32).reshape(N * C, n)
    s = cascade_inner_sum(X, lanes)
    s = (f32(0) + s).astype(f32)  # CastStoreAccumulate onto zero-filled output
    if recip:
        out = (s * f32(1.0 / n)).astype(f32)
    else:
        out = (s / f32(n)).astype(f32)
    return out.reshape(N, C)


def check(x, lanes, recip, label):
    ref = torch.nn.AdaptiveAvgPool2d(1)(torch.from_numpy(x)).numpy().reshape(x.shape[0], x.shape[1])
    em = emulate_pool(x, lanes, recip)
    eq = int(np.sum(ref.view(np.uint32) == em.view(np.uint32)))
    print("%-28s shape=%-18s match %d/%d" % (label, list(x.shape), eq, ref.size))
    return eq, ref.size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--lanes", type=int, default=8)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--recip", action="store_true")
    ap.add_argument("--model", action="store_true", help="also test real SE/avgpool inputs of the model")
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    rng = np.random.default_rng(a.seed)
    tot = [0, 0]
    shapes = [(1, 16, 56, 56), (1, 96, 14, 14), (1, 240, 14, 14), (1, 576, 7, 7), (1, 288, 7, 7),
              (1, 64, 112, 112), (1, 72, 28, 28), (8, 576, 7, 7), (2, 40, 3, 3), (1, 64, 2, 2), (4, 576, 2, 2), (4, 576, 4, 4), (4, 96, 4, 4), (4, 96, 8, 8), (2, 64, 17, 19),
              (1, 50, 1, 1), (1, 70, 1, 7), (1, 64, 1, 3), (1, 90, 2, 3), (1, 40, 1, 5), (1, 64, 31, 33), (1, 64, 200, 200), (1, 16, 300, 301)]
    for sh in shapes:
        for dist in ("normal", "hswish"):
            x = rng.standard_normal(sh).astype(f32) * f32(3)
            if dist == "hswish":
                x = torch.nn.functional.hardswish(torch.from_numpy(x)).numpy()
            e, n = check(x, a.lanes, a.recip, dist)
            tot[0] += e; tot[1] += n
    if a.model:
        import sys, os; sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
        from torch_order_common import model_taps
        for name, t in model_taps():
            if t.dim() == 4 and t.shape[2] * t.shape[3] > 1 and name.endswith("pool_in"):
                e, n = check(t.numpy().copy(), a.lanes, a.recip, name)
                tot[0] += e; tot[1] += n
    print("TOTAL match %d/%d (lanes=%d recip=%s threads=%d)" % (tot[0], tot[1], a.lanes, a.recip, a.threads))


if __name__ == "__main__":
    main()
