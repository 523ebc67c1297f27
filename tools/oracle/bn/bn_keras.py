#!/usr/bin/env python3
"""BatchNorm-lab oracle, TensorFlow side: Keras 3 (or tf-keras) MobileNetV3Small
called with training=True: BatchNormalization normalises with the batch's
statistics and updates its moving statistics on every call.

  .venv-tf/bin/python tools/oracle/bn/bn_keras.py --weights W --input X.npy \
      [--keras 3|2] [--batch B] [--momentum M] [--layout nchw|nhwc] [--onednn on|off] \
      [--out ACTS.npz] [--stats-out STATS.npz]

Weights, input, canonical names and layouts as in keras_dump.py (whose helpers
this script imports); the model is built with dropout_rate=0 so the head has no
Dropout layer and the run is deterministic. X is split into batches of B (default:
all of X); each batch is one `model(x, training=True)` call = one moving-statistic
update (verified: in Keras 3 and tf-keras a plain eager call with training=True
assigns moving_mean/moving_variance; no optimizer or train_on_batch is needed).
ACTS holds the first batch's activations (tap model called with training=True, which
also performs that batch's update); STATS holds `<canonical bn>.running_mean` and
`.running_var` (= moving_mean / moving_variance) after the last batch.
--momentum sets every BatchNormalization.momentum (Keras MobileNetV3: 0.999).
--onednn defaults to off: with oneDNN on, tf-keras's FusedBatchNormV3 is replaced by
oneDNN's batch norm in eager mode (different rounding; see docs/batchnorm.md).
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, ".."), os.path.join(HERE, "..", "dump")]


def bn_layer_names(kd, keras_major):
    """[(canonical BatchNorm name, this model's layer name)] in execution order."""
    t = kd.top_names(keras_major)
    out = [("stem.bn", t["stem_bn"])]
    for i in range(11):
        n = kd.block_names(keras_major, i)
        out += [("b%d.expand.bn" % i, n["expand_bn"]), ("b%d.dw.bn" % i, n["dw_bn"]),
                ("b%d.project.bn" % i, n["project_bn"])]
    out.append(("last.bn", t["last_bn"]))
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights", required=True)
    ap.add_argument("--input", required=True)
    ap.add_argument("--keras", choices=("3", "2"), default="3")
    ap.add_argument("--batch", type=int, default=0)
    ap.add_argument("--momentum", type=float, default=None)
    ap.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw")
    ap.add_argument("--onednn", choices=("on", "off"), default="off")
    ap.add_argument("--out")
    ap.add_argument("--stats-out")
    a = ap.parse_args(argv)
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if a.onednn == "on" else "0"
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import numpy as np
    import keras_dump as kd
    from common import weights

    x = np.load(a.input, allow_pickle=False).astype(np.float32)
    if x.ndim != 4:
        kd.die("%s: expected a 4-D input" % a.input)
    x = np.ascontiguousarray(x if a.layout == "nhwc" else x.transpose(0, 2, 3, 1))
    n, h, w = x.shape[0], x.shape[1], x.shape[2]
    b = a.batch or n
    if n % b:
        kd.die("%d samples do not split into batches of %d" % (n, b))
    try:
        st = weights.read_safetensors(a.weights) if weights.is_safetensors(a.weights) else None
        classes = weights.keras_classes(a.weights, st)
    except weights.WeightsError as e:
        kd.die(str(e))
    keras_major = int(a.keras)
    if keras_major == 3:
        import keras as K
    else:
        import tf_keras as K
    import tensorflow as tf
    kw = dict(weights=None, input_shape=(h, w, 3), include_top=classes > 0,
              include_preprocessing=True, dropout_rate=0.0)
    if classes > 0:
        kw["classes"] = classes
    else:
        kw["pooling"] = "avg"
    model = K.applications.MobileNetV3Small(**kw)
    taps = kd.canonical_tensors(model, keras_major, classes > 0, True)
    try:
        weights.load_keras_weights(model, a.weights, st, kd.weight_layers(keras_major, classes > 0))
    except weights.WeightsError as e:
        kd.die(str(e))
    layers = {l.name: l for l in model.layers}
    bns = [(c, layers[k]) for c, k in bn_layer_names(kd, keras_major) if k in layers]
    if a.momentum is not None:
        for _, l in bns:
            l.momentum = a.momentum
    before = bns[0][1].moving_mean.numpy().copy()

    tap_model = K.Model(inputs=model.inputs, outputs=[t for _, t in taps])
    out = {}
    for step in range(n // b):
        xb = tf.constant(x[step * b:(step + 1) * b])
        if step == 0:
            outs = [o.numpy() for o in tap_model(xb, training=True)]
            out["input"] = np.ascontiguousarray(x[:b].transpose(0, 3, 1, 2))
            for (nm, _), arr in zip(taps, outs):
                out[nm] = np.ascontiguousarray(kd.to_canonical_layout(nm, np.asarray(arr), b))
        else:
            model(xb, training=True)
    if np.array_equal(before, bns[0][1].moving_mean.numpy()):
        kd.die("moving statistics did not change: training=True did not update them")
    if a.out:
        with open(a.out, "wb") as f:
            np.savez(f, **out)
    if a.stats_out:
        s = {}
        for c, l in bns:
            s[c + ".running_mean"] = l.moving_mean.numpy().astype(np.float32)
            s[c + ".running_var"] = l.moving_variance.numpy().astype(np.float32)
        with open(a.stats_out, "wb") as f:
            np.savez(f, **s)
    kd.log("bn_keras: tensorflow %s keras %s, %d step(s) of %d, momentum %s, onednn %s, %d BatchNorm layers"
           % (tf.__version__, K.__version__, n // b, b, bns[0][1].momentum, a.onednn, len(bns)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
