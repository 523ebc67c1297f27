#!/usr/bin/env python3
"""Bit-exact emulation of torch 1.13.1 CPU (Debian, reference/netlib libblas.so.3)
  (a) SE-block nn.Conv2d(C, C', 1, bias=True) on a [N,C,1,1] input
      -> slow_conv2d (THNN) -> output.copy_(bias) then cpublas::gemm('n','n', beta=1) -> sgemm_
      netlib SGEMM NN: C(:,j) += (alpha*B(l,j)) * A(:,l) for l = 1..K  (acc starts at bias)
  (b) nn.Linear(K, M, bias=True) on [N,K]
      -> at::addmm(bias, x, W.t()) -> result.copy_(bias); cpublas::gemm('t','n', beta=1) -> sgemm_
      netlib SGEMM TN: temp = sum_l A(l,i)*B(l,j) (from 0, in order); C = alpha*temp + beta*C
Neither uses FMA (gfortran baseline x86-64 build): every product is rounded to float32,
then added.

Usage: .venv-oracle/bin/python tools/oracle/numerics/torch_order_fc.py [--threads 1] [--model]
       [--variant ...]  (alternative orders, to show they do NOT match)
"""
import argparse
import os
import sys

import numpy as np
import torch

f32 = np.float32


def fma(a, b, c):
    return (a.astype(np.float64) * b.astype(np.float64) + c.astype(np.float64)).astype(f32)


def conv1x1_bias(x, w, b, variant="bias_first"):
    """x [N,K], w [M,K], b [M] -> [N,M]"""
    if variant == "mkldnn":
        return conv1x1_mkldnn(x, w, b)
    N, K = x.shape
    M = w.shape[0]
    out = np.empty((N, M), f32)
    for n in range(N):
        if variant in ("bias_first", "bias_first_fma"):
            acc = b.astype(f32).copy()
        else:
            acc = np.zeros(M, f32)
        for k in range(K):
            if variant == "bias_first_fma" or variant == "zero_fma_bias_last":
                acc = fma(w[:, k], np.full(M, x[n, k], f32), acc)
            else:
                acc = (acc + (w[:, k] * x[n, k]).astype(f32)).astype(f32)
        if variant in ("bias_last", "zero_fma_bias_last"):
            acc = (acc + b).astype(f32)
        out[n] = acc
    return out


def conv1x1_mkldnn(x, w, b, chunk=256):
    """oneDNN (MKL-DNN 2.6.3) 1x1 conv, observed order: input channels split in chunks
    of 256; chunk 0: acc = bias, acc = fma(w, x, acc) per channel in order -> dst;
    each later chunk: acc = 0, fma chain over its channels, dst = dst + acc."""
    N, K = x.shape
    M = w.shape[0]
    out = np.empty((N, M), f32)
    for n in range(N):
        dst = None
        for s in range(0, K, chunk):
            acc = b.astype(f32).copy() if s == 0 else np.zeros(M, f32)
            for k in range(s, min(K, s + chunk)):
                acc = fma(w[:, k], np.full(M, x[n, k], f32), acc)
            dst = acc if s == 0 else (dst + acc).astype(f32)
        out[n] = dst
    return out


def linear(x, w, b, variant="bias_last"):
    """same arithmetic as conv1x1_bias but bias added after the dot product"""
    return conv1x1_bias(x, w, b, variant)


def cmp(ref, em):
    ref = np.ascontiguousarray(ref, dtype=f32)
    em = np.ascontiguousarray(em, dtype=f32)
    return int(np.sum(ref.view(np.uint32) == em.view(np.uint32))), ref.size


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--model", action="store_true")
    ap.add_argument("--conv-variant", default="bias_first",
                    choices=["bias_first", "bias_last", "bias_first_fma", "zero_fma_bias_last", "mkldnn"])
    ap.add_argument("--linear-variant", default="bias_last",
                    choices=["bias_first", "bias_last", "bias_first_fma", "zero_fma_bias_last"])
    ap.add_argument("--batches", default="1,8")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--mkldnn", choices=["on", "off"], default="on")
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.backends.mkldnn.enabled = (a.mkldnn == "on")
    torch.manual_seed(a.seed)
    rng = np.random.default_rng(a.seed)
    batches = [int(s) for s in a.batches.split(",")]
    tot = {"conv": [0, 0], "linear": [0, 0]}

    def run_conv(label, x4, conv):
        ref = conv(x4).detach().numpy().reshape(x4.shape[0], -1)
        w = conv.weight.detach().numpy().reshape(conv.out_channels, -1)
        b = conv.bias.detach().numpy()
        em = conv1x1_bias(x4.numpy().reshape(x4.shape[0], -1), w, b, a.conv_variant)
        e, n = cmp(ref, em)
        tot["conv"][0] += e; tot["conv"][1] += n
        print("conv   %-26s %-16s match %d/%d" % (label, list(x4.shape), e, n))

    def run_lin(label, x2, lin):
        ref = lin(x2).detach().numpy()
        em = linear(x2.numpy(), lin.weight.detach().numpy(), lin.bias.detach().numpy(), a.linear_variant)
        e, n = cmp(ref, em)
        tot["linear"][0] += e; tot["linear"][1] += n
        print("linear %-26s %-16s match %d/%d" % (label, list(x2.shape), e, n))

    with torch.no_grad():
        for (ci, co) in [(16, 8), (8, 16), (96, 24), (24, 96), (240, 64), (64, 240), (120, 32), (32, 120),
                         (144, 40), (40, 144), (288, 72), (72, 288), (576, 144), (144, 576), (7, 5), (33, 17),
                         (1024, 64), (600, 40)]:
            conv = torch.nn.Conv2d(ci, co, 1, bias=True)
            for N in batches:
                x = torch.from_numpy(rng.standard_normal((N, ci, 1, 1)).astype(f32))
                run_conv("random", x, conv)
                run_conv("random relu", torch.relu(x), conv)
        for (k, m) in [(576, 1024), (1024, 1000), (17, 9)]:
            lin = torch.nn.Linear(k, m)
            for N in batches:
                x = torch.from_numpy(rng.standard_normal((N, k)).astype(f32))
                run_lin("random", x, lin)
        if a.model:
            sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
            from torch_order_common import model_taps, tap_module
            for N in batches:
                for name, t in model_taps(seed=1 + N, batch=N):
                    if name.endswith("fc1_in") or name.endswith("fc2_in"):
                        run_conv(name, t, tap_module(name))
                    elif name.startswith("classifier"):
                        run_lin(name, t, tap_module(name))
    for k, (e, n) in tot.items():
        print("TOTAL %-6s match %d/%d (threads=%d mkldnn=%s conv=%s linear=%s batches=%s)" % (
            k, e, n, a.threads, a.mkldnn, a.conv_variant, a.linear_variant, a.batches))


if __name__ == "__main__":
    main()
