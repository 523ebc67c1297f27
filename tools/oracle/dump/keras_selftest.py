#!/usr/bin/env python3
"""Self-test of tools/oracle/dump/keras_dump.py with random weights (no downloads).

  .venv-tf/bin/python tools/oracle/dump/keras_selftest.py [--dir /tmp/keras_selftest] [--size 64] [--batch 2]

1. Builds Keras 3 MobileNetV3Small (head with 10 classes, and a backbone), keeps the
   Keras initialisation for kernels, randomises BN statistics/affine and conv biases,
   saves them as `.weights.h5` and as Keras-3-named `.safetensors` (written here).
2. Runs keras_dump.py in fresh processes on: .weights.h5, .safetensors, the safetensors
   with --keras 2 (tf-keras), --onednn off, --run predict, --preprocessing off, nhwc.
3. Checks each dump: key order and shapes; `b{i}.add == shortcut + project.bn` bit for
   bit; `se.scale == dw.act * se.gate` bit for bit; `se.gate == relu6(fc2 + 3) * f32(1/6)`
   bit for bit; `se.relu == max(fc1, 0)`; `softmax` sums to 1; h5 == safetensors bit for bit;
   and prints the differences between the variants.
"""

import argparse
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
from common import weights  # noqa: E402


def make_weights(d, size, classes, np):
    """Child process: build, randomise, save .weights.h5 + .safetensors."""
    import keras
    kw = dict(weights=None, input_shape=(size, size, 3), include_top=classes > 0,
              include_preprocessing=True)
    if classes:
        kw["classes"] = classes
    else:
        kw["pooling"] = "avg"
    m = keras.applications.MobileNetV3Small(**kw)
    rng = np.random.default_rng(1234 + classes)
    st = {}
    for layer in m.layers:
        if not layer.weights:
            continue
        vals = []
        for v in layer.weights:
            val = np.array(v.numpy(), dtype=np.float32)
            name = v.name
            if name == "gamma":
                val = rng.uniform(0.5, 1.5, val.shape)
            elif name == "beta":
                val = rng.normal(0, 0.2, val.shape)
            elif name == "moving_mean":
                val = rng.normal(0, 0.3, val.shape)
            elif name == "moving_variance":
                val = rng.uniform(0.2, 3.0, val.shape)
            elif name == "bias":
                val = rng.normal(0, 0.1, val.shape)
            val = val.astype(np.float32)
            vals.append(val)
            st["%s/%s" % (layer.name, name)] = val
        layer.set_weights(vals)
    tag = "c%d" % classes
    m.save_weights(os.path.join(d, tag + ".weights.h5"))
    weights.write_safetensors(os.path.join(d, tag + ".safetensors"), st)


def run_dump(args):
    cmd = [sys.executable, os.path.join(HERE, "keras_dump.py")] + args
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        print(r.stderr[-3000:], file=sys.stderr)
        raise SystemExit("FAILED: %s" % " ".join(cmd))
    return r.stderr


def check(path, np, with_head, preprocessing, n, size):
    z = np.load(path)
    keys = list(z.keys())
    bad = [k for k in keys if z[k].dtype != np.float32]
    assert not bad, bad
    exp = 153 + (3 if with_head else 0) + (1 if with_head else 0) + (1 if preprocessing else 0)
    assert len(keys) == exp, (len(keys), exp)
    assert keys[0] == "input" and z["input"].shape == (n, 3, size, size)
    assert keys[1] == ("rescale" if preprocessing else "stem.conv")
    assert z["pool"].shape == (n, 576, 1, 1), z["pool"].shape
    assert z["stem.conv"].shape == (n, 16, size // 2, size // 2)
    f6 = np.float32(1.0 / 6.0)
    nadd = 0
    for i in range(11):
        b = "b%d." % i
        if b + "add" in z:
            prev = keys[keys.index(b + "expand.conv") - 1]
            assert np.array_equal(z[b + "add"], z[prev] + z[b + "project.bn"]), b + "add"
            nadd += 1
        if b + "se.gate" in z:
            g = z[b + "se.gate"]
            fc2 = z[b + "se.fc2"]
            assert g.shape[2:] == (1, 1)
            assert np.array_equal(g, np.minimum(np.maximum(fc2 + np.float32(3), 0), 6) * f6), b + "gate"
            assert np.array_equal(z[b + "se.relu"], np.maximum(z[b + "se.fc1"], 0)), b + "relu"
            assert np.array_equal(z[b + "se.scale"], z[b + "dw.act"] * g), b + "scale"
    assert nadd == 6, nadd
    if with_head:
        assert z["head.fc2"].ndim == 2 and z["softmax"].shape == z["head.fc2"].shape
        assert np.allclose(z["softmax"].sum(1), 1, atol=1e-5)
    if preprocessing:
        scale = np.float32(1 / 127.5)
        ref = z["input"].transpose(0, 2, 3, 1) * scale + np.float32(-1)
        assert np.array_equal(z["rescale"], ref.transpose(0, 3, 1, 2)), "rescale"
    return z


def diff(za, zb, np):
    worst = (0.0, None)
    first = None
    for k in za.keys():
        if k not in zb or k == "input":
            continue
        a, b = za[k].astype(np.float64), zb[k].astype(np.float64)
        if not np.array_equal(a, b):
            first = first or k
            r = np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30)
            if r > worst[0]:
                worst = (r, k)
    return first, worst


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", default="/tmp/keras_selftest")
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--batch", type=int, default=2)
    ap.add_argument("--make", type=int, default=None, help=argparse.SUPPRESS)
    a = ap.parse_args()
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    os.makedirs(a.dir, exist_ok=True)
    if a.make is not None:
        make_weights(a.dir, a.size, a.make, np)
        return 0
    for c in (10, 0):
        subprocess.run([sys.executable, __file__, "--dir", a.dir, "--size", str(a.size), "--make", str(c)], check=True)
    rng = np.random.default_rng(7)
    x = rng.uniform(0, 255, (a.batch, 3, a.size, a.size)).astype(np.float32)
    xin = os.path.join(a.dir, "x.npy")
    np.save(xin, x)
    np.save(os.path.join(a.dir, "x_nhwc.npy"), np.ascontiguousarray(x.transpose(0, 2, 3, 1)))
    D = lambda f: os.path.join(a.dir, f)  # noqa: E731
    runs = [
        ("h5", ["--weights", D("c10.weights.h5"), "--input", xin], True, True),
        ("st", ["--weights", D("c10.safetensors"), "--input", xin], True, True),
        ("nhwc", ["--weights", D("c10.safetensors"), "--input", D("x_nhwc.npy"), "--layout", "nhwc"], True, True),
        ("k2", ["--weights", D("c10.safetensors"), "--input", xin, "--keras", "2"], True, True),
        ("noonednn", ["--weights", D("c10.safetensors"), "--input", xin, "--onednn", "off"], True, True),
        ("predict", ["--weights", D("c10.safetensors"), "--input", xin, "--run", "predict"], True, True),
        ("noprep", ["--weights", D("c10.safetensors"), "--input", D("xm.npy"), "--preprocessing", "off"], True, False),
        ("bb", ["--weights", D("c0.weights.h5"), "--input", xin], False, True),
        ("bb_st_k2", ["--weights", D("c0.safetensors"), "--input", xin, "--keras", "2"], False, True),
    ]
    z = {}
    for tag, args, head, prep in runs:
        if tag == "noprep":  # feed exactly the Rescaling output of run "st"
            np.save(D("xm.npy"), z["st"]["rescale"])
        err = run_dump(args + ["--out", D(tag + ".npz")])
        for line in err.splitlines():
            if "note:" in line:
                print("  " + line)
        z[tag] = check(D(tag + ".npz"), np, head, prep, a.batch, a.size)
        print("ok %-9s %d taps" % (tag, len(z[tag].keys())))
    for k in z["h5"].keys():
        assert np.array_equal(z["h5"][k], z["st"][k]), "h5 vs safetensors: " + k
        assert np.array_equal(z["h5"][k], z["nhwc"][k]), "nchw vs nhwc: " + k
    print("h5 == safetensors == nhwc: bit-identical")
    for other in ("k2", "noonednn", "predict", "noprep"):
        first, (r, k) = diff(z[other], z["st"], np)
        print("%-9s vs st: %s" % (other, "bit-identical on common taps" if first is None else
                                   "first differing tap %s, worst rel-L2 %.3g at %s" % (first, r, k)))
    first, (r, k) = diff(z["bb_st_k2"], z["bb"], np)
    print("bb_st_k2  vs bb: %s" % ("bit-identical" if first is None else
                                   "first differing tap %s, worst rel-L2 %.3g at %s" % (first, r, k)))
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
