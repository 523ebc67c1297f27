#!/usr/bin/env python3
"""Writes a safetensors state_dict (torchvision names) as a real torch.save .pth.

Usage: .venv-oracle/bin/python tools/oracle/to_pth.py IN.safetensors OUT.pth
Used by the live tests so mnv3's .pth reader meets files written by PyTorch
itself, full model with classifier included.
"""
import json
import struct
import sys
from collections import OrderedDict

import numpy as np
import torch

DTYPES = {"F32": np.float32, "I64": np.int64}


def read_safetensors(path):
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + n])
    base = 8 + n
    out = OrderedDict()
    for name, info in header.items():
        if name == "__metadata__":
            continue
        begin, end = info["data_offsets"]
        arr = np.frombuffer(blob[base + begin : base + end], dtype=DTYPES[info["dtype"]])
        out[name] = torch.from_numpy(arr.reshape(info["shape"]).copy())
    return out


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    state = read_safetensors(sys.argv[1])
    torch.save(state, sys.argv[2])


if __name__ == "__main__":
    main()
