#!/usr/bin/env python3
"""Quantizes a float NHWC .npy (a pipeline's output) with a .tflite model's
input parameters, as LiteRT users do: q = clip(round(x / scale) + zero_point)
(numpy round, half to even), in the input tensor's dtype.

  quantize_input.py MODEL.tflite X.npy Q.npy"""
import sys

import numpy as np
from ai_edge_litert.interpreter import Interpreter


def main():
    model, src, dst = sys.argv[1:4]
    d = Interpreter(model_path=model).get_input_details()[0]
    scale, zp = d["quantization"]
    info = np.iinfo(d["dtype"])
    x = np.load(src).astype(np.float32)
    if x.ndim == 3:
        x = x[None]
    q = np.clip(np.round(x / np.float32(scale)) + zp, info.min, info.max).astype(d["dtype"])
    np.save(dst, q)


if __name__ == "__main__":
    main()
