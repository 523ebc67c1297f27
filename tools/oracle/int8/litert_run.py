#!/usr/bin/env python3
"""Runs a .tflite model with LiteRT (ai-edge-litert) in one of three modes on
an input .npy and writes the output .npy and every tensor (t<index>, kept by
experimental_preserve_all_tensors) to an .npz.

  litert_run.py MODEL.tflite INPUT.npy OUT_PREFIX [--mode default|builtin|ref|all]

writes OUT_PREFIX.<mode>.npy (output) and OUT_PREFIX.<mode>.npz (all tensors).
Modes: default = OpResolverType.AUTO (XNNPACK delegate), builtin =
BUILTIN_WITHOUT_DEFAULT_DELEGATES (optimized built-in kernels), ref =
BUILTIN_REF (reference kernels). Run with .venv-tf."""
import argparse

import numpy as np
from ai_edge_litert.interpreter import Interpreter, OpResolverType

MODES = {
    "default": OpResolverType.AUTO,
    "builtin": OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES,
    "ref": OpResolverType.BUILTIN_REF,
}


def run(model, x, mode):
    it = Interpreter(model_path=model, experimental_op_resolver_type=MODES[mode],
                     experimental_preserve_all_tensors=True, num_threads=1)
    it.allocate_tensors()
    inp = it.get_input_details()[0]
    if x.dtype != inp["dtype"] or tuple(x.shape) != tuple(inp["shape"]):
        raise SystemExit(f"input {x.dtype}{x.shape} but the model takes {inp['dtype']}{tuple(inp['shape'])}")
    it.set_tensor(inp["index"], x)
    it.invoke()
    out = it.get_tensor(it.get_output_details()[0]["index"])
    tensors = {}
    for d in it.get_tensor_details():
        try:
            v = it.get_tensor(d["index"])
        except ValueError:
            continue
        if v is not None and v.size:
            tensors[f"t{d['index']}"] = np.array(v)
    return out, tensors


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("input")
    ap.add_argument("prefix")
    ap.add_argument("--mode", default="all", choices=list(MODES) + ["all"])
    a = ap.parse_args()
    x = np.load(a.input)
    for mode in MODES if a.mode == "all" else [a.mode]:
        out, tensors = run(a.model, x, mode)
        np.save(f"{a.prefix}.{mode}.npy", out)
        np.savez(f"{a.prefix}.{mode}.npz", **tensors)


if __name__ == "__main__":
    main()
