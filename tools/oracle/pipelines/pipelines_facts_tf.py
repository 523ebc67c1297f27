#!/usr/bin/env python3
"""Checks the float op order of the Keras/TF normalisations on all 256 uint8
values (run in .venv-tf). Prints how many values each candidate formula
reproduces exactly."""
import os
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
import numpy as np
import tensorflow as tf
import keras

x = np.arange(256, dtype=np.float32)
f = np.float32
scale = f(1 / 127.5)
cand = {
    "x*f32(1/127.5) + -1 (two roundings)": (x * scale) + f(-1),
    "fma(x, f32(1/127.5), -1)": np.array([f(np.float64(v) * np.float64(scale) - 1.0) for v in x]),
    "x/127.5 - 1": x / f(127.5) - f(1),
}
layer = keras.layers.Rescaling(1 / 127.5, offset=-1)
m = keras.applications.MobileNetV3Small(input_shape=(224, 224, 3), weights=None, include_preprocessing=True)
resc = [l for l in m.layers if isinstance(l, keras.layers.Rescaling)][0]
sub = keras.Model(m.input, resc.output)
img = np.zeros((1, 224, 224, 3), np.float32)
img.reshape(-1)[:256] = x
outs = {
    "Rescaling layer, eager call": layer(x[None]).numpy()[0],
    "MobileNetV3Small rescaling via model.predict": sub.predict(img, verbose=0).reshape(-1)[:256],
    "MobileNetV3Small rescaling via model(x) (eager)": sub(img).numpy().reshape(-1)[:256],
    "tf.function(jit_compile=True)": tf.function(lambda t: layer(t), jit_compile=True)(x[None]).numpy()[0],
}
for name, o in outs.items():
    for cname, c in cand.items():
        print(f"{name:48s} == {cname:36s}: {int((o.view(np.uint32) == c.view(np.uint32)).sum())}/256")
seed = ((tf.constant(x) / 255) - 0.5) * 2
ref = ((x / f(255)) - f(0.5)) * f(2)
print(f"seed-tf ((x/255)-0.5)*2 eager == f32 ops in order: {int((seed.numpy().view(np.uint32) == ref.view(np.uint32)).sum())}/256")
print(f"x*f32(1/127.5)-1 vs ((x/255)-0.5)*2: {int((cand['x*f32(1/127.5) + -1 (two roundings)'] != ref).sum())} of 256 values differ")
