#!/usr/bin/env python3
"""Saves a Keras 3 MobileNetV3Small with random weights the way a user would, plus its output.

  .venv-tf/bin/python tools/oracle/keras_saved_file.py --input X.npy (NHWC pixels) \
      --weights OUT.weights.h5 --output Y.npy [--classes 1000]

Kernels keep Keras's initialisation; BatchNorm statistics and affine parameters are
randomised (seeded) so they are not trivial. The model is saved with model.save_weights and
its output on X (model(x, training=False): softmax for a classifier) written to Y.npy, so
the C side can be checked on a file written by real Keras.
"""
import argparse

import numpy as np


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--input", required=True)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--classes", type=int, default=1000)
    a = ap.parse_args()
    x = np.load(a.input).astype(np.float32)
    import keras

    model = keras.applications.MobileNetV3Small(
        weights=None, input_shape=x.shape[1:], include_top=a.classes > 0,
        classes=max(a.classes, 1), pooling=None if a.classes else "avg")
    rng = np.random.default_rng(7)
    for layer in model.layers:
        if isinstance(layer, keras.layers.BatchNormalization):
            n = layer.gamma.shape[0]
            layer.set_weights([rng.uniform(0.6, 1.4, n), rng.normal(0, 0.2, n),
                               rng.normal(0, 0.3, n), rng.uniform(0.2, 2.0, n)])
    model.save_weights(a.weights)
    np.save(a.output, np.asarray(model(x, training=False), dtype=np.float32))


if __name__ == "__main__":
    main()
