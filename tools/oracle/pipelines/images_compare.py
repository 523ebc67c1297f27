#!/usr/bin/env python3
"""Compares two directories of per-image .npy outputs (C side vs oracle).

    python tools/oracle/pipelines/images_compare.py C_DIR ORACLE_DIR [--label L] [--bound N]

Prints one row per image: differing elements, max |diff|; exits 1 if any
image differs in more than --bound elements (default 0) or is missing or
misshaped. --quiet prints only the images that differ."""
import argparse
import os
import sys

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("c_dir")
    ap.add_argument("ref_dir")
    ap.add_argument("--label", default="")
    ap.add_argument("--bound", type=int, default=0)
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args()
    bad = 0
    tot_n = tot_diff = 0
    worst = 0.0
    for name in sorted(os.listdir(a.ref_dir)):
        if not name.endswith(".npy"):
            continue
        r = np.load(os.path.join(a.ref_dir, name))
        cp = os.path.join(a.c_dir, name)
        if not os.path.exists(cp):
            print(f"MISSING {a.label} {name}")
            bad += 1
            continue
        c = np.load(cp)
        if c.shape != r.shape or c.dtype != r.dtype:
            print(f"SHAPE {a.label} {name}: C {c.shape} {c.dtype} vs oracle {r.shape} {r.dtype}")
            bad += 1
            continue
        d = np.abs(c.astype(np.float64) - r.astype(np.float64))
        ndiff = int((c.view(np.uint32) != r.view(np.uint32)).sum())
        mx = float(d.max()) if d.size else 0.0
        tot_n += c.size
        tot_diff += ndiff
        worst = max(worst, mx)
        flag = "ok  " if ndiff <= a.bound else "FAIL"
        if ndiff > a.bound:
            bad += 1
        if not a.quiet or ndiff:
            print(f"{flag} {a.label} {name}: {ndiff} of {c.size} differ, max |diff| {mx:.9g}")
    print(f"SUMMARY {a.label}: {tot_diff} of {tot_n} elements differ, max |diff| {worst:.9g}, "
          f"{bad} image(s) over the bound {a.bound}")
    sys.exit(1 if bad else 0)


if __name__ == "__main__":
    main()
