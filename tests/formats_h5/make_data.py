"""Regenerates the tiny Keras fixtures in data/ (run from anywhere):

    .venv-tf/bin/python tests/formats_h5/make_data.py

Needs TensorFlow 2.21 with Keras 3.15 and tf-keras 2.21 (the .venv-tf venv);
the ctest tests only read the committed outputs. The model (not MobileNetV3):
Input 8x8x3 -> Conv2D(4, 3) "conv" -> BatchNormalization "bn" -> ReLU "relu"
-> DepthwiseConv2D(3, no bias) "dw" -> GlobalAveragePooling2D "gap" ->
Dense(2) "fc". Every variable holds value(k, j, i) = ((7i + 3j + 11k) % 23) / 8 - 1
(exact in float16/32), k = weighted layer index, j = variable index in the
layer, i = flat (C-order) element index; test_keras_h5.c checks the same.

    keras3_tiny.weights.h5  Keras 3 model.save_weights
    keras3_tiny.keras       Keras 3 model.save (zip with model.weights.h5)
    tfkeras_tiny.h5         tf-keras model.save (HDF5 full model)
    tfkeras_tiny_w.h5       tf-keras model.save_weights (HDF5 weights only)
"""
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np

HERE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")


def build(k):
    inp = k.Input((8, 8, 3))
    x = k.layers.Conv2D(4, 3, name="conv")(inp)
    x = k.layers.BatchNormalization(name="bn")(x)
    x = k.layers.ReLU(name="relu")(x)
    x = k.layers.DepthwiseConv2D(3, use_bias=False, name="dw")(x)
    x = k.layers.GlobalAveragePooling2D(name="gap")(x)
    x = k.layers.Dense(2, name="fc")(x)
    return k.Model(inp, x, name="tiny")


def fill(model):
    k = 0
    for layer in model.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        new = []
        for j, w in enumerate(ws):
            i = np.arange(w.size)
            new.append((((7 * i + 3 * j + 11 * k) % 23) / 8.0 - 1.0).astype("float32").reshape(w.shape))
        layer.set_weights(new)
        k += 1


def main():
    os.makedirs(HERE, exist_ok=True)
    import keras

    m = build(keras)
    fill(m)
    m.save_weights(os.path.join(HERE, "keras3_tiny.weights.h5"))
    m.save(os.path.join(HERE, "keras3_tiny.keras"))
    import tf_keras

    m2 = build(tf_keras)
    fill(m2)
    m2.save(os.path.join(HERE, "tfkeras_tiny.h5"))
    m2.save_weights(os.path.join(HERE, "tfkeras_tiny_w.h5"))


if __name__ == "__main__":
    main()
