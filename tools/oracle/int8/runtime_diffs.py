#!/usr/bin/env python3
"""Differing elements between int8 runtimes on one .tflite: LiteRT with XNNPACK (default),
LiteRT built-in kernels (BUILTIN_WITHOUT_DEFAULT_DELEGATES), LiteRT reference kernels
(BUILTIN_REF), and TFLite Micro; every op output (experimental_preserve_all_tensors /
kPreserveAllTensors) plus the op list and a quantization summary.

  .venv-tf/bin/python tools/oracle/int8/runtime_diffs.py --model M.tflite \
      [--photos N] [--seeded N] [--seed S] [--no-tflm]

Inputs: the first N test photographs (tests/image/photos, read as make_int8_model.py does:
keras.utils.load_img nearest resize, 0..255; mapped to x/127.5 - 1 when the input tensor's
float range is under 2, as for the TF-slim uint8 model) quantized with the input tensor's parameters
(round half to even, as numpy rounds, then clipped), and N seeded inputs drawn uniformly
over the input dtype (numpy default_rng(S)). A model with float edges takes the float
photos and uniform 0..255 floats. Prints one line per runtime pair: output elements that
differ, tensors that differ, and elements that differ over all tensors.
"""
import argparse
import collections
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402

RESOLVERS = ["xnnpack", "builtin", "ref"]


def litert(model_path, kind):
    from ai_edge_litert import interpreter as li
    ort = {"xnnpack": li.OpResolverType.AUTO,
           "builtin": li.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
           "ref": li.OpResolverType.BUILTIN_REF}[kind]
    # XNNPACK keeps no intermediates, and with experimental_preserve_all_tensors it refuses
    # the 224 models ("failed to create XNNPACK runtime"): only its output is compared.
    it = li.Interpreter(model_path=model_path, experimental_op_resolver_type=ort,
                        experimental_preserve_all_tensors=kind != "xnnpack", num_threads=1)
    it.allocate_tensors()
    return it


def op_table(model_path):
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=model_path)
    return it._get_ops_details(), it.get_tensor_details()


def run_litert(model_path, kind, x, tensors):
    if kind == "xnnpack":
        tensors = []
    it = litert(model_path, kind)
    inp = it.get_input_details()[0]["index"]
    out = it.get_output_details()[0]["index"]
    res = collections.defaultdict(list)
    for n in range(x.shape[0]):
        it.set_tensor(inp, x[n:n + 1])
        it.invoke()
        res["output"].append(it.get_tensor(out).copy())
        for t in tensors:
            res["t%d" % t].append(it.get_tensor(t).copy())
    return {k: np.concatenate(v) if v[0].ndim else np.stack(v) for k, v in res.items()}


def inputs(model_path, photos, seeded, seed):
    from ai_edge_litert.interpreter import Interpreter
    d = Interpreter(model_path=model_path).get_input_details()[0]
    shape, dtype = d["shape"], d["dtype"]
    scale, zp = d["quantization"]
    sets = {}
    if photos:
        import make_int8_model as mk
        f = mk.photo_batch(mk.photo_paths()[:photos], int(shape[1]))
        if dtype != np.float32 and (np.iinfo(dtype).max - zp) * scale < 2.0:
            # a model without Rescaling inside (the TF-slim uint8 one): its input is x/127.5 - 1
            f = f / np.float32(127.5) - np.float32(1.0)
        if dtype == np.float32:
            sets["photos"] = f
        else:
            info = np.iinfo(dtype)
            sets["photos"] = np.clip(np.round(f / scale) + zp, info.min, info.max).astype(dtype)
    if seeded:
        rng = np.random.default_rng(seed)
        full = (seeded,) + tuple(int(s) for s in shape[1:])
        if dtype == np.float32:
            sets["seeded"] = rng.uniform(0, 255, full).astype(np.float32)
        else:
            info = np.iinfo(dtype)
            sets["seeded"] = rng.integers(info.min, info.max + 1, full).astype(dtype)
    return sets


def summary(model_path):
    ops, tens = op_table(model_path)
    counts = collections.Counter(o["op_name"] for o in ops)
    lines = ["ops (%d): %s" % (len(ops), ", ".join("%s %d" % kv for kv in sorted(counts.items())))]
    byidx = {t["index"]: t for t in tens}
    per_channel = per_tensor = 0
    act_scales = []
    for t in tens:
        q = t["quantization_parameters"]
        if len(q["scales"]) > 1:
            per_channel += 1
        elif len(q["scales"]) == 1:
            per_tensor += 1
    for o in ops:
        for t in o["outputs"]:
            q = byidx[t]["quantization_parameters"]
            if len(q["scales"]) == 1:
                act_scales.append((float(q["scales"][0]), int(q["zero_points"][0])))
    inp, out = ops[0]["inputs"][0], ops[-1]["outputs"][0]
    lines.append("tensors: %d per-channel (weights), %d per-tensor; input %s scale %.9g zp %s; output %s scale %.9g zp %s"
                 % (per_channel, per_tensor, byidx[inp]["dtype"].__name__, *quant(byidx[inp]),
                    byidx[out]["dtype"].__name__, *quant(byidx[out])))
    if act_scales:
        s = np.array([a for a, _ in act_scales])
        z = np.array([b for _, b in act_scales])
        lines.append("op-output scales %.3g..%.3g (median %.3g); zero points %d..%d, %d of %d at -128"
                     % (s.min(), s.max(), np.median(s), z.min(), z.max(), int((z == -128).sum()), len(z)))
    return lines


def quant(t):
    q = t["quantization_parameters"]
    return (float(q["scales"][0]), int(q["zero_points"][0])) if len(q["scales"]) else (0.0, 0)


def diffs(a, b, outputs_only=False):
    """(output elements differing, outputs, tensors differing, elements differing, elements,
    max |a-b| over tensors)"""
    out = int(np.count_nonzero(a["output"] != b["output"]))
    if outputs_only:
        return out, a["output"].size, None, None, None, None
    nt = ne = tot = 0
    mx = 0
    first = None
    for k in a:
        if k == "output" or k not in b:
            continue
        d = a[k].astype(np.int64) - b[k].astype(np.int64) if a[k].dtype != np.float32 else a[k] - b[k]
        c = int(np.count_nonzero(d))
        nt += c > 0
        if c and first is None:
            first = (k, c, d.size)
        ne += c
        tot += d.size
        mx = max(mx, float(np.abs(d).max()) if d.size else 0)
    diffs.first = first
    return out, a["output"].size, nt, ne, tot, mx


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--photos", type=int, default=4)
    ap.add_argument("--seeded", type=int, default=4)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--no-tflm", action="store_true")
    a = ap.parse_args()
    print("model %s (%d bytes)" % (a.model, os.path.getsize(a.model)))
    for line in summary(a.model):
        print("  " + line)
    ops, _ = op_table(a.model)
    tensors = [int(t) for o in ops for t in o["outputs"]]
    producer = {int(t): "op %d %s" % (i, o["op_name"]) for i, o in enumerate(ops) for t in o["outputs"]}
    names_of = {t["index"]: t["name"] for t in op_table(a.model)[1]}
    for set_name, x in inputs(a.model, a.photos, a.seeded, a.seed).items():
        runs = {}
        for k in RESOLVERS:
            try:
                runs[k] = run_litert(a.model, k, x, tensors)
            except RuntimeError as e:  # e.g. XNNPACK: "failed to create XNNPACK runtime"
                print("  %s refuses the model: %s" % (k, str(e).replace("\n", " ")))
        if not a.no_tflm:
            import tflm_run
            runs["tflm"] = tflm_run.tflm_outputs(open(a.model, "rb").read(), x, tensors)
        print("  %s (%d inputs, %s):" % (set_name, x.shape[0], x.dtype))
        names = RESOLVERS + ([] if a.no_tflm else ["tflm"])
        names = [k for k in names if k in runs]
        for i, p in enumerate(names):
            for q in names[i + 1:]:
                o, on, nt, ne, tot, mx = diffs(runs[p], runs[q], "xnnpack" in (p, q))
                if nt is None:  # the delegate computes its partition inside XNNPACK: no intermediates
                    print("    %-8s vs %-8s output %d of %d differ" % (p, q, o, on))
                    continue
                print("    %-8s vs %-8s output %d of %d differ; tensors %d of %d differ; elements %d of %d (max |d| %g)"
                      % (p, q, o, on, nt, len(tensors), ne, tot, mx))
                if diffs.first:
                    k, c, size = diffs.first
                    t = int(k[1:])
                    print("      first differing op output: %s (tensor %d, %s): %d of %d"
                          % (producer[t], t, names_of[t], c, size))


if __name__ == "__main__":
    main()
