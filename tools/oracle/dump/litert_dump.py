#!/usr/bin/env python3
"""Dump the intermediate tensors of a float MobileNetV3-Small .tflite under canonical names.

  .venv-tf/bin/python tools/oracle/dump/litert_dump.py --model M.tflite --input X.npy --out ACTS.npz \
      [--layout nchw|nhwc] [--threads N]

(.venv-tf comes from tools/oracle/setup_tf.sh.)  Made for the Keras 3 export
/work/shared/models/keras_mnv3_small_notop_avgpool_fp32.tflite (Rescaling inside,
BatchNorm folded, NHWC, output [1,576]); any float32 model with the same op
structure works.  The model file is only read.

Runs ai_edge_litert.interpreter.Interpreter(experimental_preserve_all_tensors=True)
(default op resolver, i.e. XNNPACK for float ops), one sample at a time when the
model's input has batch 1 (else the whole batch), and writes np.savez of float32
arrays: `input` (as fed, NCHW), then the canonical taps found, then `output`.
Maps NCHW [N,C,H,W]; SE vectors and `pool` [N,C,1,1]; `output` [N,K].

Mapping rule (structural; walks the ops in execution order):
  - MUL then ADD on the graph input (Rescaling x*s + o)       -> `rescale` (ADD output)
  - a CONV_2D / DEPTHWISE_CONV_2D output t (BN folded into weights+bias):
      consumed by HARD_SWISH h -> t = `<unit>.bn`, h = `<unit>.act`
      ReLU fused into the conv (tensor name's first part ends in /Relu)
                             -> t = `<unit>.act`; `.conv` and `.bn` do not exist
      otherwise (project)    -> t = `<unit>.bn`
    `.conv` (before BN) never exists in a BN-folded file.
  - SE: MEAN -> `se.pool`; CONV_2D with fused ReLU -> `se.relu` (no `se.fc1`);
    CONV_2D with fused RELU6 and the +3 folded into its bias -> relu6(fc2 + 3), not
    canonical (Keras's re_lu_N output; no `se.fc2`); MUL by 1/6 -> `se.gate`;
    MUL map x gate -> `se.scale`.
  - ADD of the block input and the project output -> `b{i}.add`.
  - after the pool, Keras's classifier: CONV_2D -> `head.fc1`, HARD_SWISH -> `head.act`,
    CONV_2D -> `head.fc2` (all [N,K]); the flatten and SOFTMAX give `output`.
  - last CONV_2D + HARD_SWISH -> `last.bn`, `last.act`; the final MEAN -> `pool`.
Blocks are recognised by what follows the previous block: a 1x1 CONV_2D opens an
expansion, a DEPTHWISE_CONV_2D opens a block without one (b0).  The table of
canonical name -> tflite tensor name is printed with --list.
"""

import argparse
import os
import sys


def die(msg):
    print("litert_dump: error: " + msg, file=sys.stderr)
    sys.exit(2)


def log(msg):
    print("litert_dump: " + msg, file=sys.stderr)


def build_map(it):
    """[(canonical name, tensor index)] in execution order."""
    # DELEGATE entries (XNNPACK partitions) are appended after the original ops.
    ops = sorted((o for o in it._get_ops_details() if o["op_name"] != "DELEGATE"), key=lambda o: o["index"])
    names = {t["index"]: t["name"] for t in it.get_tensor_details()}
    in_idx = it.get_input_details()[0]["index"]
    consumers = {}
    for o in ops:
        for t in o["inputs"]:
            consumers.setdefault(int(t), []).append(o)
    pos = [0]

    def peek():
        return ops[pos[0]] if pos[0] < len(ops) else None

    def take(kind):
        o = peek()
        if o is None or o["op_name"] != kind:
            raise ValueError("op %d: expected %s, got %s" % (pos[0], kind, o and o["op_name"]))
        pos[0] += 1
        return o

    def first_part(t):
        return names[t].split(";")[0]

    taps = []

    def unit(prefix, kind):
        o = take(kind)
        t = int(o["outputs"][0])
        cons = consumers.get(t, [])
        if peek() is not None and peek()["op_name"] == "HARD_SWISH" and int(peek()["inputs"][0]) == t:
            h = take("HARD_SWISH")
            taps.append((prefix + ".bn", t))
            taps.append((prefix + ".act", int(h["outputs"][0])))
        elif first_part(t).endswith("/Relu") or first_part(t).endswith("/Relu6"):
            taps.append((prefix + ".act", t))
        else:
            taps.append((prefix + ".bn", t))
        del cons
        return t

    cur = in_idx
    if peek()["op_name"] == "MUL" and int(peek()["inputs"][0]) == in_idx:
        take("MUL")
        add = take("ADD")
        taps.append(("rescale", int(add["outputs"][0])))
        cur = int(add["outputs"][0])
    cur = unit("stem", "CONV_2D")
    cur = taps[-1][1]
    for i in range(11):
        b = "b%d" % i
        block_in = cur
        if peek()["op_name"] == "CONV_2D":
            unit(b + ".expand", "CONV_2D")
        unit(b + ".dw", "DEPTHWISE_CONV_2D")
        feat = taps[-1][1]
        if peek()["op_name"] == "MEAN":
            taps.append((b + ".se.pool", int(take("MEAN")["outputs"][0])))
            fc1 = take("CONV_2D")
            taps.append((b + ".se.relu", int(fc1["outputs"][0])))
            take("CONV_2D")  # relu6(fc2 + 3): Keras re_lu_N, not canonical
            g = take("MUL")
            taps.append((b + ".se.gate", int(g["outputs"][0])))
            s = take("MUL")
            if feat not in [int(x) for x in s["inputs"]]:
                raise ValueError("%s: SE multiply does not take the dw output" % b)
            taps.append((b + ".se.scale", int(s["outputs"][0])))
        unit(b + ".project", "CONV_2D")
        cur = taps[-1][1]
        o = peek()
        if o is not None and o["op_name"] == "ADD" and block_in in [int(x) for x in o["inputs"]]:
            take("ADD")
            taps.append((b + ".add", int(o["outputs"][0])))
            cur = int(o["outputs"][0])
    unit("last", "CONV_2D")
    taps.append(("pool", int(take("MEAN")["outputs"][0])))
    if peek() is not None and peek()["op_name"] == "CONV_2D":
        # Keras classifier: conv_2 (1x1) + hard-swish, logits (1x1), flatten, softmax
        fc1 = take("CONV_2D")
        taps.append(("head.fc1", int(fc1["outputs"][0])))
        taps.append(("head.act", int(take("HARD_SWISH")["outputs"][0])))
        taps.append(("head.fc2", int(take("CONV_2D")["outputs"][0])))
        while peek() is not None and peek()["op_name"] in ("SHAPE", "STRIDED_SLICE", "PACK", "RESHAPE"):
            pos[0] += 1
        if peek() is not None and peek()["op_name"] == "SOFTMAX":
            pos[0] += 1
    if peek() is not None:
        raise ValueError("ops left after the pool: %s (head not supported)" % [o["op_name"] for o in ops[pos[0]:]])
    return taps, names


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--input")
    ap.add_argument("--out")
    ap.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--list", action="store_true", help="print canonical name -> tflite tensor and exit")
    a = ap.parse_args(argv)
    if not a.list and (a.input is None or a.out is None):
        ap.error("--input and --out are required")
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import warnings
    import numpy as np
    warnings.filterwarnings("ignore", message=".*experimental_preserve_all_tensors.*")
    from ai_edge_litert.interpreter import Interpreter

    if not os.path.isfile(a.model):
        die("%s: no such file" % a.model)
    it = Interpreter(model_path=a.model, experimental_preserve_all_tensors=True, num_threads=a.threads)
    it.allocate_tensors()
    ind = it.get_input_details()
    outd = it.get_output_details()
    if len(ind) != 1 or len(outd) != 1:
        die("expected one input and one output, got %d and %d" % (len(ind), len(outd)))
    ind, outd = ind[0], outd[0]
    if ind["dtype"] != np.float32:
        die("input dtype %s: only float models are supported" % ind["dtype"])
    try:
        taps, names = build_map(it)
    except (ValueError, KeyError, TypeError) as e:
        die("op structure not recognised: %s" % e)
    if a.list:
        for nm, t in taps:
            print("%-16s %4d %s" % (nm, t, names[t][:150]))
        print("%-16s %4d %s" % ("output", outd["index"], outd["name"]))
        return 0

    try:
        x = np.load(a.input, allow_pickle=False)
    except (OSError, ValueError) as e:
        die("%s: cannot read npy: %s" % (a.input, e))
    if x.dtype.kind != "f" or x.dtype.itemsize != 4 or x.ndim != 4:
        die("%s: %s %s, expected 4-D float32" % (a.input, x.dtype, x.shape))
    xh = x if a.layout == "nhwc" else x.transpose(0, 2, 3, 1)
    xh = np.ascontiguousarray(xh, dtype=np.float32)
    mshape = [int(s) for s in ind["shape"]]
    if list(xh.shape[1:]) != mshape[1:]:
        die("input %s (NHWC) does not fit the model's %s" % (list(xh.shape), mshape))
    n = xh.shape[0]
    if mshape[0] == 1:
        chunks = [xh[i:i + 1] for i in range(n)]
    else:
        if mshape[0] != n:
            it.resize_tensor_input(ind["index"], [n] + mshape[1:])
            it.allocate_tensors()
        chunks = [xh]
    got = {nm: [] for nm, _ in taps}
    got["output"] = []
    for c in chunks:
        it.set_tensor(ind["index"], c)
        it.invoke()
        for nm, t in taps:
            got[nm].append(np.array(it.get_tensor(t), dtype=np.float32))
        got["output"].append(np.array(it.get_tensor(outd["index"]), dtype=np.float32))
    out = {"input": np.ascontiguousarray(xh.transpose(0, 3, 1, 2))}
    for nm in [t[0] for t in taps] + ["output"]:
        arr = np.concatenate(got[nm], axis=0)
        if nm == "output" or nm.startswith("head."):
            arr = arr.reshape(n, -1)
        elif nm == "pool" or ".se." in nm and not nm.endswith(".scale"):
            arr = arr.reshape(n, -1, 1, 1)
        else:
            arr = arr.transpose(0, 3, 1, 2)
        out[nm] = np.ascontiguousarray(arr, dtype=np.float32)
    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    with open(a.out, "wb") as f:
        np.savez(f, **out)
    try:
        from importlib.metadata import version
        ver = version("ai-edge-litert")
    except Exception:
        ver = "?"
    log("ai-edge-litert %s numpy %s threads %d; model %s input %s; %d samples x %d invoke(s); %d arrays -> %s"
        % (ver, np.__version__, a.threads, os.path.basename(a.model), mshape, n, len(chunks), len(out), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
