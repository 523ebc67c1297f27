#!/usr/bin/env python3
"""Runs mnv3 (every int8 profile, --dump-dir) and LiteRT (three modes) on
one quantized input and counts differing elements, per tensor and on the
output, for each (profile, mode) pair and between the LiteRT modes; also
compares top-5 (value descending, ties by lower index).

  compare_all.py MNV3 MODEL.tflite Q.npy WORKDIR [LABELS.txt]
prints one line per pair; exits 1 when a profile differs from its matching
mode. With LABELS (one class a line), the top-5 mnv3 prints must name
LiteRT's top-5 classes with those labels."""
import os
import subprocess
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
import litert_run  # noqa: E402

PAIRS = {"litert-int8-ref": "ref", "litert-int8-builtin": "builtin", "litert-int8": "default"}


def top5(v):
    v = v.reshape(-1).astype(np.int64)
    return list(np.argsort(-v, kind="stable")[:5])


def main():
    mnv3, model, qin, work = sys.argv[1:5]
    labels = open(sys.argv[5]).read().splitlines() if len(sys.argv) > 5 else None
    if labels:  # "286:Egyptian cat" lines: the label after the index
        labels = [line.split(":", 1)[1] if line.split(":", 1)[0] == str(i) else line
                  for i, line in enumerate(labels)]
    os.makedirs(work, exist_ok=True)
    x = np.load(qin)
    lite = {m: litert_run.run(model, x, m) for m in litert_run.MODES}
    bad = 0
    for a in lite:
        for b in lite:
            if a < b:
                d = int((lite[a][0] != lite[b][0]).sum())
                print(f"litert {a} vs {b}: {d} of {lite[a][0].size} output elements differ")
    for prof, mode in PAIRS.items():
        dump = os.path.join(work, prof)
        os.makedirs(dump, exist_ok=True)
        for old in os.listdir(dump):  # a previous model's tensors
            if old.endswith(".npy"):
                os.remove(os.path.join(dump, old))
        out = os.path.join(work, prof + ".npy")
        printed = subprocess.run([mnv3, "run", "--weights", model, "--profile", prof, "--input", qin,
                                  "--output", out, "--dump-dir", dump]
                                 + (["--labels", sys.argv[5]] if labels else []), check=True,
                                 stdout=subprocess.PIPE, text=True).stdout
        if labels:
            rows = [line.split() for line in printed.splitlines() if line.strip()[:2] in
                    ("1.", "2.", "3.", "4.", "5.")]
            got = [(int(r[2]), " ".join(r[6:])) for r in rows]
            want = [(int(c), labels[c]) for c in top5(lite[mode][0])]
            ok = got == want
            print(f"mnv3 {prof}: printed top-5 {'equals' if ok else 'DIFFERS FROM'} LiteRT {mode}'s "
                  f"with labels: {[w[1] for w in want]}")
            bad |= not ok
        y = np.load(out)
        for m in lite:
            ref, tensors = lite[m]
            n_t = n_diff_t = n_el = 0
            for name, v in tensors.items():
                p = os.path.join(dump, name + ".npy")
                if not os.path.exists(p):
                    continue
                w = np.load(p)
                n_t += 1
                if w.shape != v.shape:
                    n_diff_t += 1
                    continue
                e = int((w != v).sum())
                n_el += e
                n_diff_t += e > 0
            d = int((y != ref).sum())
            same5 = top5(y) == top5(ref)
            print(f"mnv3 {prof} vs litert {m}: output {d} differ; tensors {n_diff_t} of {n_t} differ "
                  f"({n_el} elements); top-5 {'equal' if same5 else 'DIFFERENT'}")
            if m == mode and (d or n_diff_t or not same5):
                bad = 1
    sys.exit(bad)


if __name__ == "__main__":
    main()
