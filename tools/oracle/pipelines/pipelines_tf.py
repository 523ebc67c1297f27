#!/usr/bin/env python3
"""Oracle for the TensorFlow / Keras preprocessing pipelines (run in .venv-tf).

    .venv-tf/bin/python tools/oracle/pipelines/pipelines_tf.py --pipeline tf-data IMG... --out-dir D
        [--layout nchw|nhwc] [--decoded]

Writes D/<image basename>.npy: float32 [1,3,224,224] (nchw, default) or
[1,224,224,3], exactly as the real libraries produce it. --decoded writes the
decoded RGB image instead ([1,H,W,3] float32) of the pipeline's decoder.
Pipelines: keras-mnv3, keras-mnv3-raw, keras-mnv3-xla, tf-data, tf-data-nearest, seed-tf."""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

KERAS = ("keras-mnv3", "keras-mnv3-raw", "keras-mnv3-xla")
TF = ("tf-data", "tf-data-nearest", "seed-tf")

_first_conv_input = None


def first_conv_input_model():
    """The real keras MobileNetV3Small (random weights, nothing downloaded),
    cut at the output of its in-model Rescaling layer: what the first conv sees."""
    global _first_conv_input
    if _first_conv_input is None:
        m = keras.applications.MobileNetV3Small(input_shape=(224, 224, 3), weights=None,
                                                include_preprocessing=True)
        resc = [l for l in m.layers if isinstance(l, keras.layers.Rescaling)]
        assert len(resc) == 1, resc
        _first_conv_input = keras.Model(m.input, resc[0].output)
    return _first_conv_input


_xla = None


def xla_first_conv_input():
    """The same cut of the model compiled by XLA (jit_compile=True)."""
    global _xla
    if _xla is None:
        _xla = tf.function(first_conv_input_model(), jit_compile=True)
    return _xla


def tf_decode(path):
    return tf.image.decode_image(tf.io.read_file(path), channels=3, expand_animations=False)


def tf_data_batch(paths, method):
    def load(p):
        img = tf_decode(p)
        img = tf.image.resize(img, [224, 224], method=method)
        return tf.cast(img, tf.float32)
    ds = tf.data.Dataset.from_tensor_slices(paths).map(load).batch(1)
    return [b.numpy() for b in ds]


def run(pipeline, paths):
    if pipeline in KERAS:
        out = []
        for p in paths:
            img = keras.utils.load_img(p, target_size=(224, 224))
            x = keras.utils.img_to_array(img)[None].astype(np.float32)
            if pipeline == "keras-mnv3":
                x = first_conv_input_model().predict(x, verbose=0)
            elif pipeline == "keras-mnv3-xla":
                x = xla_first_conv_input()(tf.constant(x)).numpy()
            out.append(np.asarray(x, np.float32))
        return out
    if pipeline in ("tf-data", "tf-data-nearest"):
        xs = tf_data_batch(paths, "bilinear" if pipeline == "tf-data" else "nearest")
        return [np.asarray(first_conv_input_model().predict(x, verbose=0), np.float32) for x in xs]
    if pipeline == "seed-tf":
        out = []
        for p in paths:
            x = tf.image.resize(tf_decode(p), [224, 224])
            x = ((x / 255) - 0.5) * 2
            out.append(x.numpy()[None].astype(np.float32))
        return out
    raise SystemExit(f"unknown pipeline {pipeline}")


def decoded(pipeline, path):
    if pipeline in KERAS:
        return np.asarray(keras.utils.load_img(path), np.float32)[None]
    return tf_decode(path).numpy().astype(np.float32)[None]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--pipeline", required=True, choices=KERAS + TF)
    ap.add_argument("--out-dir", required=True)
    ap.add_argument("--layout", default="nchw", choices=("nchw", "nhwc"))
    ap.add_argument("--decoded", action="store_true")
    ap.add_argument("images", nargs="+")
    a = ap.parse_args()
    os.makedirs(a.out_dir, exist_ok=True)
    if a.decoded:
        results = [decoded(a.pipeline, p) for p in a.images]
    else:
        results = run(a.pipeline, a.images)
        if a.layout == "nchw":
            results = [np.ascontiguousarray(r.transpose(0, 3, 1, 2)) for r in results]
    for p, r in zip(a.images, results):
        np.save(os.path.join(a.out_dir, os.path.basename(p) + ".npy"), r.astype(np.float32))
    print(f"wrote {len(results)} arrays to {a.out_dir}", file=sys.stderr)


if __name__ == "__main__":
    main()
