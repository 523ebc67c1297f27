#!/usr/bin/env python3
"""Per-channel int8 MobileNetV3-Small .tflite files made by the TFLite converter.

  .venv-tf/bin/python tools/oracle/int8/make_int8_model.py --kind genuine|seeded|small \
      --out M.tflite [--edges int8|float] [--photos DIR] [--count N] [--calib-out X.npy]

tf.lite.TFLiteConverter.from_keras_model, optimizations [DEFAULT], a representative
dataset, supported_ops [TFLITE_BUILTINS_INT8]; --edges int8 sets
inference_input_type/inference_output_type to int8 (full integer), --edges float keeps
float32 edges (the converter adds QUANTIZE and DEQUANTIZE).

  genuine  Keras MobileNetV3Small(include_top=False, pooling='avg') at 224 computing the
           Keras-genuine backbone ../shared/models/keras_mnv3_small_notop_avgpool_fp32.tflite:
           its folded kernels and biases (read by `mnv3 convert --to keras`, FOLDED.safetensors)
           with every BatchNorm set to identity-plus-bias. Calibrated on the photographs
           (tests/image/photos, cache ~/.cache/mnv3/photos or $MNV3_PHOTOS), each read with
           keras.utils.load_img(target_size=(224, 224)) (Keras's own default: nearest),
           float 0..255 (the Rescaling layer is inside the model).
  seeded   MobileNetV3Small(classes=1000) at 224 with the weights of `mnv3 synth --seed 3
           --classes 1000` converted to .weights.h5 (--weights W); calibrated on the photos.
  small    MobileNetV3Small(alpha=0.25, include_top=False, pooling='avg') at 64x64 with
           Keras's own initializers under keras.utils.set_random_seed(15); calibrated on 8
           seeded uniform 0..255 inputs (numpy default_rng(15)). Small enough to check in.

Importable: build_model(kind, ...), calibration(kind, ...), convert(model, samples, edges).
"""
import argparse
import glob
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))

import numpy as np  # noqa: E402

SMALL_SEED = 15
SMALL_SIZE = 64


def photo_paths(photos_dir=None):
    d = photos_dir or os.environ.get("MNV3_PHOTOS") or os.path.expanduser("~/.cache/mnv3/photos")
    names = [line.split()[-1] for line in open(os.path.join(ROOT, "tests", "image", "photos", "list.txt"))
             if line.strip() and not line.startswith("#")]
    paths = [os.path.join(d, n) for n in names]
    missing = [p for p in paths if not os.path.isfile(p)]
    if missing:
        raise SystemExit("make_int8_model: photographs absent (%s); run tools/oracle/pipelines/images_fetch.sh"
                         % missing[0])
    return paths


def photo_batch(paths, size):
    import keras
    return np.stack([np.asarray(keras.utils.img_to_array(
        keras.utils.load_img(p, target_size=(size, size), color_mode="rgb")), dtype=np.float32)
        for p in paths])


def seeded_batch(count, size, seed=SMALL_SEED):
    rng = np.random.default_rng(seed)
    return rng.uniform(0.0, 255.0, size=(count, size, size, 3)).astype(np.float32)


def build_genuine(folded_path):
    import keras
    from common import weights
    tensors = weights.read_safetensors(folded_path)
    m = keras.applications.MobileNetV3Small(weights=None, input_shape=(224, 224, 3), include_top=False,
                                            pooling="avg", include_preprocessing=True)
    used = set()
    for layer in m.layers:
        kname = layer.name + "/kernel"
        if kname not in tensors:
            continue
        kernel, bias = tensors[kname], tensors[layer.name + "/bias"]
        if layer.__class__.__name__ == "DepthwiseConv2D":
            vars_ = [kernel]
        else:
            vars_ = [kernel] + ([bias] if layer.use_bias else [])
        layer.set_weights(vars_)
        used.update([kname, layer.name + "/bias"])
        bn = m.get_layer(layer.name + "_bn") if not layer.use_bias else None
        if bn is not None:
            # identity BatchNorm: gamma=1, mean=0, var=1-eps (so var+eps rounds to 1), beta=bias
            eps = np.float32(bn.epsilon)
            var = np.full_like(bias, np.float32(1.0) - eps)
            assert np.all(var + eps == np.float32(1.0)), "var+eps is not 1 in float32"
            bn.set_weights([np.ones_like(bias), bias, np.zeros_like(bias), var])
        elif not layer.use_bias:
            raise SystemExit("make_int8_model: %s has no bias and no BatchNorm" % layer.name)
    unused = sorted(set(tensors) - used)
    if unused:
        raise SystemExit("make_int8_model: unused folded tensors %s" % unused[:4])
    return m


def build_seeded(weights_path):
    import keras
    from common import weights
    m = keras.applications.MobileNetV3Small(weights=None, input_shape=(224, 224, 3), classes=1000,
                                            include_preprocessing=True)
    weights.load_keras_weights(m, weights_path)
    return m


def build_small():
    """Keras's own initializers give this narrow net vanishing activations (output scale ~1e-8,
    every output 0), so weights come from numpy default_rng(SMALL_SEED): kernels N(0, 2/fan_in),
    BatchNorm gamma U(0.5,1.5), beta U(-0.2,0.2), mean U(-0.1,0.1), variance U(0.5,1.5)."""
    import keras
    keras.utils.set_random_seed(SMALL_SEED)
    m = keras.applications.MobileNetV3Small(weights=None, input_shape=(SMALL_SIZE, SMALL_SIZE, 3),
                                            alpha=0.25, include_top=False, pooling="avg",
                                            include_preprocessing=True)
    rng = np.random.default_rng(SMALL_SEED)
    for layer in m.layers:
        ws = layer.get_weights()
        if not ws:
            continue
        kind = layer.__class__.__name__
        if kind == "BatchNormalization":
            c = ws[0].shape
            new = [rng.uniform(0.5, 1.5, c), rng.uniform(-0.2, 0.2, c), rng.uniform(-0.1, 0.1, c),
                   rng.uniform(0.5, 1.5, c)]
        else:
            k = ws[0]
            fan_in = k.shape[0] * k.shape[1] * (1 if kind == "DepthwiseConv2D" else k.shape[2])
            new = [rng.normal(0.0, np.sqrt(2.0 / fan_in), k.shape)] + \
                  [rng.uniform(-0.1, 0.1, w.shape) for w in ws[1:]]
        layer.set_weights([w.astype(np.float32) for w in new])
    return m


def convert(model, samples, edges="int8"):
    import tensorflow as tf

    def rep():
        for i in range(samples.shape[0]):
            yield [samples[i:i + 1]]
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    if edges == "int8":
        c.inference_input_type = tf.int8
        c.inference_output_type = tf.int8
    elif edges != "float":
        raise SystemExit("make_int8_model: --edges int8|float")
    return c.convert()


def make(kind, edges="int8", folded=None, weights_path=None, photos=None, count=None):
    """(tflite bytes, calibration samples float32 NHWC)."""
    if kind == "small":
        model = build_small()
        samples = seeded_batch(count or 8, SMALL_SIZE)
    else:
        model = build_genuine(folded) if kind == "genuine" else build_seeded(weights_path)
        paths = photo_paths(photos)
        samples = photo_batch(paths[:count] if count else paths, 224)
    return convert(model, samples, edges), samples


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", required=True, choices=["genuine", "seeded", "small"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--edges", default="int8", choices=["int8", "float"])
    ap.add_argument("--folded", help="genuine: Keras-named folded safetensors from mnv3 convert --to keras")
    ap.add_argument("--weights", help="seeded: .weights.h5 from mnv3 synth + mnv3 convert")
    ap.add_argument("--photos")
    ap.add_argument("--count", type=int)
    ap.add_argument("--calib-out", help="also save the calibration samples (float32 NHWC .npy)")
    a = ap.parse_args()
    if a.kind == "genuine" and not a.folded:
        ap.error("--kind genuine needs --folded")
    if a.kind == "seeded" and not a.weights:
        ap.error("--kind seeded needs --weights")
    blob, samples = make(a.kind, a.edges, a.folded, a.weights, a.photos, a.count)
    with open(a.out, "wb") as f:
        f.write(blob)
    if a.calib_out:
        np.save(a.calib_out, samples)
    print("%s: %d bytes (%s, edges %s, %d calibration samples)" % (a.out, len(blob), a.kind, a.edges,
                                                                    samples.shape[0]))


if __name__ == "__main__":
    main()
