#!/usr/bin/env python3
"""Dump every layer's output of a Keras model run, for `mnv3 compare --a-dump`.

As a script (keras.applications MobileNetV3Small with your weights):
    python tools/dump_keras.py --weights W.weights.h5 --input X.npy --out run.npz \
        [--classes 0] [--preprocessing on|off]

From your own code (any functional model; keys are layer names, values NHWC float32):
    from dump_keras import dump_activations
    dump_activations(model, x, "run.npz")

mnv3 maps Keras 3 layer names (conv, conv_bn, expanded_conv_depthwise, re_lu_3, ...) to its
canonical names (docs/layers.md) and transposes NHWC maps to NCHW. Build the model first in
a fresh process so the counter names (activation_N, re_lu_N) match the table.
"""
import argparse
import os
import sys

import numpy as np


def dump_activations(model, x, path):
    """Runs every layer of a functional model on x (inference) and saves the outputs."""
    import keras

    layers = [l for l in model.layers if not isinstance(l, keras.layers.InputLayer)]
    probe = keras.Model(model.inputs, [l.output for l in layers])
    values = probe(x, training=False)
    outputs = {l.name: np.asarray(v, dtype=np.float32) for l, v in zip(layers, values)}
    outputs["input"] = np.asarray(x, dtype=np.float32)
    np.savez(path, **outputs)
    return outputs


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True, help="float32 [N,H,W,3] .npy")
    ap.add_argument("--out", required=True)
    ap.add_argument("--classes", type=int, default=1000)
    ap.add_argument("--preprocessing", choices=["on", "off"], default="on")
    a = ap.parse_args()
    x = np.load(a.input).astype(np.float32)
    import keras
    sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "oracle"))
    from common import weights  # the repository's weights reader (.weights.h5 or .safetensors)

    model = keras.applications.MobileNetV3Small(
        weights=None, input_shape=x.shape[1:], include_top=a.classes > 0,
        classes=max(a.classes, 1), pooling=None if a.classes else "avg",
        include_preprocessing=a.preprocessing == "on")
    weights.load_keras_weights(model, a.weights)
    dump_activations(model, x, a.out)


if __name__ == "__main__":
    main()
