#!/usr/bin/env python3
"""Run a .tflite model through TFLite Micro's Python interpreter (PyPI tflite-micro).

  .venv-tf/bin/python tools/oracle/int8/tflm_run.py --model M.tflite --input X.npy --out Y.npz
      [--arena BYTES] [--tensors]      Y.npz: 'output' (raw dtype) and, with --tensors,
                                       every op output as 't<index>' (kPreserveAllTensors)
  .venv-tf/bin/python tools/oracle/int8/tflm_run.py --model M.tflite --arena-min
                                       smallest arena (bytes, 16-byte steps) that allocates

X.npy holds the model's own input dtype, NHWC, batch 1 or N (run one by one). TFLM reports
a refusal on stderr from C++ (e.g. "tensorflow/lite/micro/kernels/conv_common.cc Hybrid
models are not supported on TFLite Micro." then "Node CONV_2D (number 0) failed to
prepare with status 1") and raises RuntimeError("TFLM failed to allocate tensors");
this script exits 3 after it. Importable: tflm_outputs(model_bytes, x, tensors=False),
arena_min(model_bytes), op_outputs(model_path).
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402


def op_outputs(model_path):
    """[(tensor index, name)] of every op output in execution order (from LiteRT's op table)."""
    from ai_edge_litert.interpreter import Interpreter
    it = Interpreter(model_path=model_path)
    names = {d["index"]: d["name"] for d in it.get_tensor_details()}
    out = []
    for op in it._get_ops_details():
        out += [(int(t), names[int(t)]) for t in op["outputs"]]
    return out


def _interp(model_bytes, arena=None, preserve=False):
    from tflite_micro import runtime
    cfg = runtime.InterpreterConfig.kPreserveAllTensors if preserve else runtime.InterpreterConfig.kAllocationRecording
    return runtime.Interpreter.from_bytes(model_bytes, arena_size=arena, intrepreter_config=cfg)


def tflm_outputs(model_bytes, x, tensors=None, arena=None):
    """{'output': [N,...] raw, 't<i>': [N,...]} for x [N,H,W,C]; tensors: list of indices."""
    it = _interp(model_bytes, arena, preserve=bool(tensors))
    res = {}
    for n in range(x.shape[0]):
        if n:
            it.reset()
        it.set_input(x[n:n + 1], 0)
        it.invoke()
        vals = {"output": np.array(it.get_output(0))}
        for t in tensors or []:
            g = it.GetTensor(t, 0)  # {'dtype', 'shape', 'tensor_data'}
            vals["t%d" % t] = np.array(g["tensor_data"]).reshape(g["shape"])
        for k, v in vals.items():
            res.setdefault(k, []).append(v)
    return {k: np.concatenate(v) if v[0].ndim else np.stack(v) for k, v in res.items()}


def _allocates(model_bytes, arena):
    try:
        _interp(model_bytes, arena)
        return True
    except RuntimeError:
        return False


def arena_min(model_bytes, hi=None):
    """Smallest arena (a multiple of 16 bytes) for which TFLM allocates the model."""
    hi = hi or max(len(model_bytes) * 10, 1 << 20)
    while not _allocates(model_bytes, hi):
        hi *= 2
        if hi > 1 << 31:
            raise RuntimeError("TFLM does not allocate this model at any arena size")
    lo = 0
    while hi - lo > 16:
        mid = (lo + hi) // 32 * 16
        if _allocates(model_bytes, mid):
            hi = mid
        else:
            lo = mid
    return hi


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--input")
    ap.add_argument("--out")
    ap.add_argument("--arena", type=int)
    ap.add_argument("--tensors", action="store_true")
    ap.add_argument("--arena-min", action="store_true")
    a = ap.parse_args()
    blob = open(a.model, "rb").read()
    try:
        if a.arena_min:
            print(arena_min(blob))
            return
        if not (a.input and a.out):
            ap.error("--input and --out (or --arena-min)")
        x = np.load(a.input)
        idx = [t for t, _ in op_outputs(a.model)] if a.tensors else None
        res = tflm_outputs(blob, x, idx, a.arena)
    except RuntimeError as e:
        sys.stderr.flush()
        print("tflm_run: %s: %s" % (a.model, e), file=sys.stderr)
        sys.exit(3)
    np.savez(a.out, **res)
    print("%s: %d arrays, output %s %s" % (a.out, len(res), res["output"].dtype, res["output"].shape))


if __name__ == "__main__":
    main()
