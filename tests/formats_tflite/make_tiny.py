"""Generates tiny.tflite, the small valid TFLite model the hostile-input tests
mutate: a 2-layer Keras model (3x3 stride-2 conv + relu, 3x3 depthwise conv)
converted to float32 TFLite. Run with the TensorFlow venv:
    ../../.venv-tf/bin/python make_tiny.py
Weights are seeded so the file is reproducible for a given TensorFlow."""
import os
import numpy as np
import tensorflow as tf
import keras

keras.utils.set_random_seed(1)
inp = keras.Input((8, 8, 3), batch_size=1, name="image")
x = keras.layers.Conv2D(4, 3, strides=2, padding="same", activation="relu", name="conv")(inp)
x = keras.layers.DepthwiseConv2D(3, padding="same", name="dw")(x)
model = keras.Model(inp, x)
data = tf.lite.TFLiteConverter.from_keras_model(model).convert()
out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny.tflite")
with open(out, "wb") as f:
    f.write(data)
print(out, len(data), "bytes")
