#!/usr/bin/env python3
"""Convert a Keras 3 MobileNetV3Small .weights.h5 (with its 1000-class head) to float TFLite.

  .venv-tf/bin/python tools/oracle/keras_to_tflite.py W.weights.h5 OUT.tflite [SIZE=224]

Builds keras.applications.MobileNetV3Small(weights=None, classes=1000,
include_preprocessing=True) at SIZE x SIZE, loads the weights and runs
tf.lite.TFLiteConverter.from_keras_model (BatchNorm folded, Rescaling in the model,
the classifier head as two 1x1 CONV_2D and a SOFTMAX). Used by bench/bench_all.py and
tests/oracle_live_tf.sh (case litert-head)."""
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import keras  # noqa: E402
import tensorflow as tf  # noqa: E402

if len(sys.argv) not in (3, 4):
    sys.exit(__doc__)
size = int(sys.argv[3]) if len(sys.argv) == 4 else 224
m = keras.applications.MobileNetV3Small(weights=None, input_shape=(size, size, 3), classes=1000,
                                        include_preprocessing=True)
m.load_weights(sys.argv[1])
with open(sys.argv[2], "wb") as f:
    f.write(tf.lite.TFLiteConverter.from_keras_model(m).convert())
