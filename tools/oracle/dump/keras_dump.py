#!/usr/bin/env python3
"""Dump every canonical activation of Keras MobileNetV3Small (TensorFlow backend, CPU).

  .venv-tf/bin/python tools/oracle/dump/keras_dump.py --weights W --input X.npy --out ACTS.npz \
      [--layout nchw|nhwc] [--keras 3|2] [--classes N|0|auto] [--preprocessing on|off] \
      [--onednn on|off] [--run call|predict] [--threads N]

  .venv-tf/bin/python tools/oracle/dump/keras_dump.py --list [--keras 3|2] [--classes N|0] \
      [--preprocessing on|off]
      print the canonical-name -> Keras tensor table and exit

(.venv-tf comes from tools/oracle/setup_tf.sh.)

Model: `keras.applications.MobileNetV3Small(weights=None, input_shape=(H, W, 3),
include_top=classes>0, classes=classes, include_preprocessing=...)` (with
`pooling='avg'` when classes is 0), or the same from `tf_keras.applications` with
--keras 2.  It is built FIRST THING in the process (before anything else creates
Keras layers) so the counter-generated names (`activation_N`, `re_lu_N`) are the
ones in docs/keras-layer-names.md.  The canonical taps are found from the layer
names that carry no counter plus the graph structure, so they do not depend on
the counters anyway (see canonical_tensors()).

Weights (W):
  *.weights.h5   Keras 3 weights file (model.save_weights), --keras 3 only
  *.h5           tf-keras HDF5 weights (model.save_weights), --keras 2 only
  *.safetensors  tensors named with KERAS 3 names `<layer>/<var>`: `conv/kernel` (HWIO),
                 `expanded_conv_depthwise/kernel` (kh,kw,C,1), `conv_bn/gamma`, `.../beta`,
                 `.../moving_mean`, `.../moving_variance`, `..._squeeze_excite_conv/bias`,
                 `conv_2/kernel`, `logits/kernel` ...; usable with --keras 3 and --keras 2
                 (mapped to tf-keras layer names here).  Parsed with numpy
                 (common/weights.py, as every weights file here).
--classes auto (default) takes the class count from the `logits` weights in W
(0 = backbone when there are none).

Input X.npy: float32 [N,3,H,W] (--layout nchw, default) or [N,H,W,3] (nhwc).  With
--preprocessing on (default, as keras.applications builds it) the values are pixels
in [0,255] and the in-model Rescaling(1/127.5, -1) output is dumped as `rescale`;
with off they are taken as already in [-1,1].

Output: np.savez of float32 arrays keyed by canonical name (docs/layers.md) in
execution order: `input` (the tensor as fed, NCHW), [`rescale`], `stem.conv` ...
`pool`, [`head.fc1`, `head.act`, `head.fc2`, `softmax`].  Maps are NCHW [N,C,H,W];
SE vectors and `pool` [N,C,1,1]; head vectors and `softmax` [N,K].
`b{i}.se.gate` is the full hard-sigmoid relu6(x+3)*(1/6), i.e. the output of the
unnamed multiply after `re_lu_N` (the second operand of `*_squeeze_excite_mul`).

--run call (default): `tap_model(x, training=False)` eagerly, op by op: the same
kernels as `model(x, training=False)` on the plain model (checked: the last tap
must equal the plain model's output bit for bit).  --run predict: `tap_model.predict`,
a tf.function graph that Grappler (and oneDNN) may rewrite; see docs/tf-numerics.md.
--onednn off sets TF_ENABLE_ONEDNN_OPTS=0 before TensorFlow is imported.
--threads N sets TF's intra- and inter-op thread pools (0: TF's default).
Versions and settings go to stderr.
"""

import argparse
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import weights  # noqa: E402  (numpy only: creates no Keras layers)


def die(msg):
    print("keras_dump: error: " + msg, file=sys.stderr)
    sys.exit(2)


def log(msg):
    print("keras_dump: " + msg, file=sys.stderr)


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights")
    ap.add_argument("--input")
    ap.add_argument("--out")
    ap.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw")
    ap.add_argument("--keras", choices=("3", "2"), default="3")
    ap.add_argument("--classes", default="auto", help="N (head with N classes), 0 (backbone + avg pool) or auto")
    ap.add_argument("--preprocessing", choices=("on", "off"), default="on")
    ap.add_argument("--onednn", choices=("on", "off"), default="on")
    ap.add_argument("--run", choices=("call", "predict"), default="call")
    ap.add_argument("--threads", type=int, default=0)
    ap.add_argument("--size", type=int, default=224, help="with --list: input H=W")
    ap.add_argument("--list", action="store_true", help="print the tap table and exit")
    a = ap.parse_args(argv)
    if not a.list:
        for opt in ("weights", "input", "out"):
            if getattr(a, opt) is None:
                ap.error("--%s is required" % opt)
    if a.classes != "auto":
        try:
            a.classes = int(a.classes)
        except ValueError:
            ap.error("--classes must be an integer or 'auto'")
        if a.classes < 0:
            ap.error("--classes must be >= 0")
    elif a.list:
        a.classes = 1000
    if a.threads < 0:
        ap.error("--threads must be >= 0")
    return a


# --------------------------------------------------------------------------
# Canonical names

def block_names(keras_major, i):
    """Name builders for block i (Keras 3 `expanded_conv_3_depthwise_bn`,
    tf-keras `expanded_conv_3/depthwise/BatchNorm`)."""
    if keras_major == 3:
        p = "expanded_conv_" if i == 0 else "expanded_conv_%d_" % i
        return {"expand": p + "expand", "expand_bn": p + "expand_bn",
                "dw": p + "depthwise", "dw_bn": p + "depthwise_bn",
                "se_pool": p + "squeeze_excite_avg_pool", "se_fc1": p + "squeeze_excite_conv",
                "se_relu": p + "squeeze_excite_relu", "se_fc2": p + "squeeze_excite_conv_1",
                "se_mul": p + "squeeze_excite_mul", "project": p + "project",
                "project_bn": p + "project_bn", "add": p + "add"}
    p = "expanded_conv/" if i == 0 else "expanded_conv_%d/" % i
    return {"expand": p + "expand", "expand_bn": p + "expand/BatchNorm",
            "dw": p + "depthwise", "dw_bn": p + "depthwise/BatchNorm",
            "se_pool": p + "squeeze_excite/AvgPool", "se_fc1": p + "squeeze_excite/Conv",
            "se_relu": p + "squeeze_excite/Relu", "se_fc2": p + "squeeze_excite/Conv_1",
            "se_mul": p + "squeeze_excite/Mul", "project": p + "project",
            "project_bn": p + "project/BatchNorm", "add": p + "Add"}


def top_names(keras_major):
    if keras_major == 3:
        return {"stem": "conv", "stem_bn": "conv_bn", "last": "conv_1", "last_bn": "conv_1_bn",
                "fc1": "conv_2", "fc2": "logits", "rescale": "rescaling"}
    return {"stem": "Conv", "stem_bn": "Conv/BatchNorm", "last": "Conv_1", "last_bn": "Conv_1/BatchNorm",
            "fc1": "Conv_2", "fc2": "Logits", "rescale": "rescaling"}


def weight_layers(keras_major, with_head):
    """[(keras3 layer name, this model's layer name)] for every layer with weights."""
    t3, tk = top_names(3), top_names(keras_major)
    pairs = [(t3["stem"], tk["stem"]), (t3["stem_bn"], tk["stem_bn"])]
    for i in range(11):
        b3, bk = block_names(3, i), block_names(keras_major, i)
        for k in ("expand", "expand_bn", "dw", "dw_bn", "se_fc1", "se_fc2", "project", "project_bn"):
            pairs.append((b3[k], bk[k]))
    pairs += [(t3["last"], tk["last"]), (t3["last_bn"], tk["last_bn"])]
    if with_head:
        pairs += [(t3["fc1"], tk["fc1"]), (t3["fc2"], tk["fc2"])]
    return pairs


class Graph:
    """Producer/consumer view of a functional model (Keras 3 operations or tf-keras layers)."""

    def __init__(self, model, keras_major):
        self.ops = list(model.operations) if keras_major == 3 else list(model.layers)
        self.by_name = {o.name: o for o in self.ops}
        self.consumers = {}
        for o in self.ops:
            for t in self.inputs(o):
                self.consumers.setdefault(id(t), []).append(o)

    @staticmethod
    def inputs(op):
        if not op._inbound_nodes:
            return []
        x = op.input
        return list(x) if isinstance(x, (list, tuple)) else [x]

    def out(self, name):
        if name not in self.by_name:
            raise KeyError(name)
        return self.by_name[name].output

    def has(self, name):
        return name in self.by_name

    def act_after(self, t):
        """Output of the activation applied to tensor t: a ReLU/Activation layer (Keras 3
        hard_swish is one Activation), else tf-keras's x * hard_sigmoid(x), whose last op is
        a Multiply layer taking t."""
        cons = self.consumers.get(id(t), [])
        for o in cons:
            if type(o).__name__ in ("ReLU", "Activation"):
                return o.output
        for o in cons:
            if type(o).__name__ == "Multiply":
                return o.output
        raise KeyError("no activation after %s (consumers %s)" % (t, [o.name for o in cons]))


def canonical_tensors(model, keras_major, with_head, preprocessing):
    """[(canonical name, symbolic tensor)] in execution order, without `input`."""
    g = Graph(model, keras_major)
    t = top_names(keras_major)
    taps = []
    if preprocessing:
        taps.append(("rescale", g.out(t["rescale"])))
    taps.append(("stem.conv", g.out(t["stem"])))
    taps.append(("stem.bn", g.out(t["stem_bn"])))
    taps.append(("stem.act", g.act_after(taps[-1][1])))
    for i in range(11):
        n = block_names(keras_major, i)
        b = "b%d" % i
        block_in = taps[-1][1]
        if g.has(n["expand"]):
            taps.append((b + ".expand.conv", g.out(n["expand"])))
            taps.append((b + ".expand.bn", g.out(n["expand_bn"])))
            taps.append((b + ".expand.act", g.act_after(taps[-1][1])))
        taps.append((b + ".dw.conv", g.out(n["dw"])))
        taps.append((b + ".dw.bn", g.out(n["dw_bn"])))
        taps.append((b + ".dw.act", g.act_after(taps[-1][1])))
        if g.has(n["se_mul"]):
            feat = taps[-1][1]
            taps.append((b + ".se.pool", g.out(n["se_pool"])))
            taps.append((b + ".se.fc1", g.out(n["se_fc1"])))
            taps.append((b + ".se.relu", g.out(n["se_relu"])))
            taps.append((b + ".se.fc2", g.out(n["se_fc2"])))
            mul = g.by_name[n["se_mul"]]
            ins = g.inputs(mul)
            gate = [x for x in ins if x is not feat]
            assert len(ins) == 2 and len(gate) == 1, (b, ins)
            taps.append((b + ".se.gate", gate[0]))
            taps.append((b + ".se.scale", mul.output))
        taps.append((b + ".project.conv", g.out(n["project"])))
        taps.append((b + ".project.bn", g.out(n["project_bn"])))
        if g.has(n["add"]):
            add = g.by_name[n["add"]]
            assert any(x is block_in for x in g.inputs(add)), b
            taps.append((b + ".add", add.output))
    taps.append(("last.conv", g.out(t["last"])))
    taps.append(("last.bn", g.out(t["last_bn"])))
    taps.append(("last.act", g.act_after(taps[-1][1])))
    pools = [o for o in g.consumers.get(id(taps[-1][1]), []) if type(o).__name__ == "GlobalAveragePooling2D"]
    assert len(pools) == 1, "expected one global pool after last.act"
    taps.append(("pool", pools[0].output))
    if with_head:
        taps.append(("head.fc1", g.out(t["fc1"])))
        taps.append(("head.act", g.act_after(taps[-1][1])))
        taps.append(("head.fc2", g.out(t["fc2"])))
        taps.append(("softmax", model.outputs[0]))
    expected = 153 - 1 + (4 if with_head else 0) + (1 if preprocessing else 0)
    assert len(taps) == expected, "tap count %d != %d" % (len(taps), expected)
    assert len({id(x) for _, x in taps}) == len(taps), "tensor tapped twice"
    return taps


def to_canonical_layout(name, arr, n):
    if name.startswith("head.") or name == "softmax":
        return arr.reshape(n, -1)
    if name == "pool" or ".se." in name and name.split(".")[-1] in ("pool", "fc1", "relu", "fc2", "gate"):
        c = arr.shape[-1]
        return arr.reshape(n, c, 1, 1)
    assert arr.ndim == 4, (name, arr.shape)
    return arr.transpose(0, 3, 1, 2)


# --------------------------------------------------------------------------


def main(argv=None):
    a = parse_args(argv)
    # Environment before TensorFlow is imported.
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if a.onednn == "on" else "0"
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import numpy as np

    # Everything that does not create Keras objects comes first.
    x = None
    if not a.list:
        try:
            x = np.load(a.input, allow_pickle=False)
        except (OSError, ValueError) as e:
            die("%s: cannot read npy: %s" % (a.input, e))
        if x.dtype.kind != "f" or x.dtype.itemsize != 4:
            die("%s: dtype %s, expected float32" % (a.input, x.dtype))
        if x.ndim != 4:
            die("%s: shape %s, expected 4-D" % (a.input, x.shape))
        x_nhwc = x if a.layout == "nhwc" else x.transpose(0, 2, 3, 1)
        x_nhwc = np.ascontiguousarray(x_nhwc, dtype=np.float32)
        if x_nhwc.shape[3] != 3:
            die("input has %d channels (layout %s), expected 3" % (x_nhwc.shape[3], a.layout))
        try:
            st = weights.read_safetensors(a.weights) if weights.is_safetensors(a.weights) else None
            if a.classes == "auto":
                a.classes = weights.keras_classes(a.weights, st)
        except weights.WeightsError as e:
            die(str(e))
        if st is None:
            is_k3 = a.weights.endswith(".weights.h5")
            if a.keras == "3" and not is_k3:
                die("%s: Keras 3 needs a .weights.h5 file (or .safetensors)" % a.weights)
            if a.keras == "2" and is_k3:
                die("%s: a Keras 3 .weights.h5 file cannot be loaded by tf-keras; use --keras 3" % a.weights)
        h, w = x_nhwc.shape[1], x_nhwc.shape[2]
    else:
        h = w = a.size
    classes = a.classes
    keras_major = int(a.keras)

    # ---- the model: first Keras objects of this process --------------------
    if keras_major == 3:
        import keras as K
    else:
        import tf_keras as K
    import tensorflow as tf
    if a.threads:
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    kw = dict(weights=None, input_shape=(h, w, 3), include_top=classes > 0,
              include_preprocessing=(a.preprocessing == "on"))
    if classes > 0:
        kw["classes"] = classes
    else:
        kw["pooling"] = "avg"
    model = K.applications.MobileNetV3Small(**kw)
    taps = canonical_tensors(model, keras_major, classes > 0, a.preprocessing == "on")

    if a.list:
        for nm, t in taps:
            g = Graph(model, keras_major)
            prod = [o.name for o in g.ops if o._inbound_nodes and o.output is t]
            print("%-20s %s" % (nm, prod[0] if prod else "?"))
        return 0

    # ---- weights ------------------------------------------------------------
    try:
        wdesc = weights.load_keras_weights(model, a.weights, st, weight_layers(keras_major, classes > 0))
    except weights.WeightsError as e:
        die(str(e))

    # ---- run ------------------------------------------------------------------
    tap_model = K.Model(inputs=model.inputs, outputs=[t for _, t in taps])
    n = x_nhwc.shape[0]
    if a.run == "call":
        outs = tap_model(tf.constant(x_nhwc), training=False)
        outs = [o.numpy() for o in outs]
        ref = model(tf.constant(x_nhwc), training=False).numpy()
    else:
        outs = tap_model.predict(x_nhwc, batch_size=n, verbose=0)
        ref = model.predict(x_nhwc, batch_size=n, verbose=0)
    last = outs[-1]
    same = np.array_equal(last.reshape(n, -1), ref.reshape(n, -1))
    if not same:
        if a.run == "call":
            die("last tap %s differs from the plain model's output" % taps[-1][0])
        d = np.abs(last.reshape(n, -1).astype(np.float64) - ref.reshape(n, -1))
        log("note: predict on the tap model differs from predict on the plain model at %s "
            "(max abs %.3g): Grappler fuses differently when intermediates are fetched" % (taps[-1][0], d.max()))

    out = {"input": np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2))}
    for (nm, _), arr in zip(taps, outs):
        arr = np.asarray(arr)
        if arr.dtype != np.float32 or arr.shape[0] != n:
            die("tap %s: dtype %s shape %s" % (nm, arr.dtype, arr.shape))
        out[nm] = np.ascontiguousarray(to_canonical_layout(nm, arr, n))
    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    with open(a.out, "wb") as f:  # file object: np.savez must not append ".npz"
        np.savez(f, **out)

    log("tensorflow %s keras %s numpy %s" % (tf.__version__, K.__version__, np.__version__))
    log("keras %d run %s onednn %s threads %s layout %s preprocessing %s weights %s"
        % (keras_major, a.run, a.onednn, a.threads or "default", a.layout, a.preprocessing, wdesc))
    log("model %s, input %s, %d taps -> %s"
        % ("head %d classes" % classes if classes else "backbone (avg pool, 576 features)",
           list(out["input"].shape), len(out), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
