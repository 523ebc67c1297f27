#!/usr/bin/env python3
"""Live Keras 3 oracle for one training step of keras.applications.MobileNetV3Small.

  .venv-tf/bin/python tools/oracle/train/keras_step.py --weights W.weights.h5 \
      --batch B.npz --out-grads G.weights.h5 --out-stats S.weights.h5 [--onednn on|off]

B.npz as tools/oracle/train/make_batch.py writes it (x N,3,H,W: transposed to
NHWC here; y labels). The model is built with include_preprocessing=True,
dropout_rate=0 and classifier_activation=None (the loss takes the logits:
SparseCategoricalCrossentropy(from_logits=True), sum_over_batch_size), and
runs one forward in training mode under a GradientTape; BatchNorm updates its
moving statistics (momentum 0.999, the application's).

G.weights.h5: the gradients, saved as the model's own weights (every
trainable variable replaced by its gradient; moving statistics as after the
step), so `mnv3 convert G.weights.h5 G.safetensors --to torch` maps names and
layouts exactly as for weights. S.weights.h5: the weights after the step's
BatchNorm update (no optimizer step). The loss goes to stderr.
"""
import argparse
import os
import sys

ap = argparse.ArgumentParser()
ap.add_argument("--weights", required=True)
ap.add_argument("--batch", required=True)
ap.add_argument("--out-grads", required=True)
ap.add_argument("--out-stats", required=True)
ap.add_argument("--onednn", choices=("on", "off"), default="on")
ap.add_argument("--out-loss", help="the loss as a (1,) float32 .npy")
a = ap.parse_args()
os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if a.onednn == "on" else "0"
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import numpy as np  # noqa: E402
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

b = np.load(a.batch)
x = np.ascontiguousarray(b["x"].astype(np.float32).transpose(0, 2, 3, 1))
y = b["y"].astype(np.int64)
classes = int(b["classes"][0]) if "classes" in b else int(y.max()) + 1
model = keras.applications.MobileNetV3Small(weights=None, classes=classes, input_shape=x.shape[1:],
                                            include_preprocessing=True, dropout_rate=0.0,
                                            classifier_activation=None)
model.load_weights(a.weights)
loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
with tf.GradientTape() as tape:
    logits = model(x, training=True)
    loss = loss_fn(y, logits)
grads = tape.gradient(loss, model.trainable_variables)
model.save_weights(a.out_stats)
for v, g in zip(model.trainable_variables, grads):
    v.assign(g)
model.save_weights(a.out_grads)
if a.out_loss:
    np.save(a.out_loss, np.array([float(loss)], np.float32))
print("keras %s, tensorflow %s, oneDNN %s, loss %.9g" % (keras.__version__, tf.__version__, a.onednn,
                                                           float(loss)), file=sys.stderr)
