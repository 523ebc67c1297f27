#!/usr/bin/env python3
"""Development cross-check of two activation dumps (the real comparison is `mnv3 diff`).

  compare_npz.py A.npz B.npz [--max-rel-l2 1e-5] [--keys PREFIX ...]

B is the reference.  For every key present in both files (in B's order) prints
max |a-b|, relative L2 ||a-b||/||b||, max ULP distance (float32 mapped onto the
ordered int32 line, so +0 and -0 are 0 apart), and the fraction of elements
that are bit-identical.  Exit status 1 if the key sets differ, a shape differs,
a value is NaN in only one file, or any relative L2 exceeds the bound; 2 on
usage/IO errors.
"""

import argparse
import sys

import numpy as np


def ordered_int(a):
    """float32 -> int64 on a line where adjacent floats differ by 1."""
    i = np.ascontiguousarray(a, dtype=np.float32).view(np.int32).astype(np.int64)
    return np.where(i < 0, np.int64(-0x80000000) - i, i)


def stats(a, b):
    a = a.astype(np.float32, copy=False)
    b = b.astype(np.float32, copy=False)
    d = a.astype(np.float64) - b.astype(np.float64)
    nan_a, nan_b = np.isnan(a), np.isnan(b)
    nan_mismatch = bool(np.any(nan_a != nan_b))
    ok = ~(nan_a | nan_b)
    d = np.where(ok, d, 0.0)
    max_abs = float(np.max(np.abs(d))) if d.size else 0.0
    nb = float(np.linalg.norm(np.where(ok, b, 0).astype(np.float64)))
    nd = float(np.linalg.norm(d))
    rel = nd / nb if nb > 0 else (0.0 if nd == 0 else float("inf"))
    ulp = np.abs(ordered_int(a) - ordered_int(b))
    max_ulp = int(np.max(np.where(ok, ulp, 0))) if ulp.size else 0
    same = np.ascontiguousarray(a).view(np.uint32) == np.ascontiguousarray(b).view(np.uint32)
    frac = float(np.mean(same)) if same.size else 1.0
    return max_abs, rel, max_ulp, frac, nan_mismatch


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a")
    ap.add_argument("b", help="reference")
    ap.add_argument("--max-rel-l2", type=float, default=1e-5)
    ap.add_argument("--keys", nargs="*", help="only keys starting with one of these prefixes")
    args = ap.parse_args(argv)
    try:
        A = np.load(args.a, allow_pickle=False)
        B = np.load(args.b, allow_pickle=False)
    except (OSError, ValueError) as e:
        print("compare_npz: error: %s" % e, file=sys.stderr)
        return 2

    ka, kb = list(A.files), list(B.files)
    if args.keys:
        sel = lambda k: any(k.startswith(p) for p in args.keys)
        ka, kb = [k for k in ka if sel(k)], [k for k in kb if sel(k)]
    fail = False
    only_a = [k for k in ka if k not in set(kb)]
    only_b = [k for k in kb if k not in set(ka)]
    if only_a or only_b:
        fail = True
        if only_a:
            print("only in %s: %s" % (args.a, " ".join(only_a)))
        if only_b:
            print("only in %s: %s" % (args.b, " ".join(only_b)))

    w = max([len(k) for k in kb] + [4])
    print("%-*s %-18s %12s %12s %10s %9s" % (w, "key", "shape", "max_abs", "rel_l2", "max_ulp", "bit_eq"))
    worst = 0.0
    for k in kb:
        if k not in A.files or k not in ka:
            continue
        a, b = A[k], B[k]
        if a.shape != b.shape:
            print("%-*s SHAPE %s vs %s  FAIL" % (w, k, a.shape, b.shape))
            fail = True
            continue
        max_abs, rel, max_ulp, frac, nanm = stats(a, b)
        worst = max(worst, rel)
        bad = rel > args.max_rel_l2 or nanm
        fail |= bad
        print("%-*s %-18s %12.4e %12.4e %10d %8.4f%s%s"
              % (w, k, "x".join(map(str, b.shape)), max_abs, rel, max_ulp, frac,
                 "  NaN-MISMATCH" if nanm else "", "  FAIL" if bad else ""))
    print("worst rel_l2 %.4e (bound %.1e): %s" % (worst, args.max_rel_l2, "FAIL" if fail else "ok"))
    return 1 if fail else 0


if __name__ == "__main__":
    sys.exit(main())
