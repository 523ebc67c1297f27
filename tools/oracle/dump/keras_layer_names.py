#!/usr/bin/env python3
"""Write docs/keras-layer-names.md: every Keras 3 MobileNetV3Small layer, in order,
with its class, weights, and the project's canonical tap name.

Runs in a throwaway venv (NOT the oracle venv, NOT in the repository):

  /usr/bin/python3 -m venv /tmp/kvenv
  /tmp/kvenv/bin/pip install keras numpy scipy jax jaxlib
  .venv-oracle/bin/python tools/oracle/dump/torch_dump.py --list > /tmp/canon.txt
  KERAS_BACKEND=numpy /tmp/kvenv/bin/python tools/oracle/dump/keras_layer_names.py \
      --canonical /tmp/canon.txt --out docs/keras-layer-names.md

(Keras 3's numpy backend imports scipy and jax even when unused.)  Layer names
such as `activation_7` / `re_lu_3` come from per-process counters, so the model
is built first thing in a fresh process.
"""

import argparse
import os
import sys


def canonical_for(layers, canon):
    """Map Keras layer index -> canonical name, walking both lists in order."""
    by_name = {l.name: i for i, l in enumerate(layers)}
    out = {}

    def put(keras_name, cname):
        assert keras_name in by_name, keras_name
        assert cname in canon, cname
        out[by_name[keras_name]] = cname

    def next_unnamed_after(keras_name, cls):
        i = by_name[keras_name] + 1
        while type(layers[i]).__name__ != cls:
            i += 1
        return layers[i].name

    put("input_layer", "input")
    put("conv", "stem.conv")
    put("conv_bn", "stem.bn")
    put(next_unnamed_after("conv_bn", "Activation"), "stem.act")
    for i in range(11):
        p = "expanded_conv" if i == 0 else "expanded_conv_%d" % i
        b = "b%d" % i
        act_cls = None
        if p + "_expand" in by_name:
            put(p + "_expand", b + ".expand.conv")
            put(p + "_expand_bn", b + ".expand.bn")
            l = layers[by_name[p + "_expand_bn"] + 1]
            put(l.name, b + ".expand.act")
        put(p + "_depthwise", b + ".dw.conv")
        put(p + "_depthwise_bn", b + ".dw.bn")
        put(layers[by_name[p + "_depthwise_bn"] + 1].name, b + ".dw.act")
        if p + "_squeeze_excite_avg_pool" in by_name:
            q = p + "_squeeze_excite"
            put(q + "_avg_pool", b + ".se.pool")
            put(q + "_conv", b + ".se.fc1")
            put(q + "_relu", b + ".se.relu")
            put(q + "_conv_1", b + ".se.fc2")
            put(layers[by_name[q + "_conv_1"] + 1].name, b + ".se.gate")
            put(q + "_mul", b + ".se.scale")
        put(p + "_project", b + ".project.conv")
        put(p + "_project_bn", b + ".project.bn")
        if p + "_add" in by_name:
            put(p + "_add", b + ".add")
    put("conv_1", "last.conv")
    put("conv_1_bn", "last.bn")
    put(layers[by_name["conv_1_bn"] + 1].name, "last.act")
    pool = [l.name for l in layers[by_name["conv_1_bn"]:] if type(l).__name__ == "GlobalAveragePooling2D"]
    put(pool[0], "pool")
    if "conv_2" in by_name:
        put("conv_2", "head.fc1")
        put(layers[by_name["conv_2"] + 1].name, "head.act")
        put("logits", "head.fc2")
    return out


NOTES = {
    "rescaling": "Keras only: x/127.5 - 1 (include_preprocessing=True); torchvision has no preprocessing inside",
    "pad": "Keras only: asymmetric ZeroPadding2D (correct_pad) before a stride-2 depthwise conv, then padding='valid'",
    "gate": "output is relu6(fc2 + 3); the gate = that * (1/6) is an op without a layer (Add/Mul in TFLite)",
    "dropout": "inactive at inference",
    "flatten": "Keras only: [N,1,1,K] -> [N,K]",
    "predictions": "Keras only: softmax (torchvision returns logits)",
}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--canonical", required=True, help="output of torch_dump.py --list")
    ap.add_argument("--out", required=True)
    a = ap.parse_args()

    import keras  # noqa: E402  (after argparse, so --help works without keras)
    import numpy as np

    model = keras.applications.MobileNetV3Small(weights=None, input_shape=(224, 224, 3), include_top=True)
    layers = model.layers
    canon_rows = [ln.split() for ln in open(a.canonical) if ln.strip()]
    canon = {r[0]: r[1] for r in canon_rows}
    cmap = canonical_for(layers, canon)
    assert sorted(cmap.values()) == sorted(canon), set(canon) - set(cmap.values())
    order = [cmap[i] for i in sorted(cmap)]
    assert order == [r[0] for r in canon_rows], "Keras order differs from canonical order"

    # Shapes of each layer's output (NHWC), from a functional model over all layers.
    outs = {l.name: tuple(l.output.shape) for l in layers}

    # The backbone variant in a fresh process of its own (auto names are per-process).
    import subprocess
    notop_names = subprocess.run(
        [sys.executable, "-c",
         "import keras\n"
         "m = keras.applications.MobileNetV3Small(weights=None, input_shape=(224, 224, 3),"
         " include_top=False, pooling='avg')\n"
         "print('\\n'.join(l.name for l in m.layers))"],
        check=True, capture_output=True, text=True).stdout.split()
    top_names = [l.name for l in layers]

    L = []
    w = L.append
    w("# Keras 3 MobileNetV3Small layer names")
    w("")
    w("Generated by `tools/oracle/dump/keras_layer_names.py` with Keras %s (backend `%s`, numpy %s) from"
      % (keras.__version__, keras.backend.backend(), np.__version__))
    w("`keras.applications.MobileNetV3Small(weights=None, input_shape=(224, 224, 3), include_top=True)`,")
    w("built first thing in a fresh process: %d layers, %d parameters." % (len(layers), model.count_params()))
    w("")
    w("Command (throwaway venv outside the repository; the numpy backend imports scipy and jax):")
    w("")
    w("    /usr/bin/python3 -m venv /tmp/kvenv")
    w("    /tmp/kvenv/bin/pip install keras numpy scipy jax jaxlib")
    w("    .venv-oracle/bin/python tools/oracle/dump/torch_dump.py --list > /tmp/canon.txt")
    w("    KERAS_BACKEND=numpy /tmp/kvenv/bin/python tools/oracle/dump/keras_layer_names.py \\")
    w("        --canonical /tmp/canon.txt --out docs/keras-layer-names.md")
    w("")
    w("## Things to know when mapping")
    w("")
    w("- Names like `activation_7`, `re_lu_3`, `global_average_pooling2d` are auto-generated from")
    w("  per-process counters: they hold only for a model built first in a fresh process. The")
    w("  shared `keras_mnv3_small_notop_avgpool_fp32.tflite` carries the same names")
    w("  (`MobileNetV3Small_1/activation_17_1/...`, `.../re_lu_13_1/Relu6`), so it was built that way.")
    w("- Layout is NHWC. Weights: Conv2D kernel `(kh, kw, in, out)` (torch `(out, in, kh, kw)`);")
    w("  DepthwiseConv2D kernel `(kh, kw, C, 1)` (torch `(C, 1, kh, kw)`); the head is 1x1 Conv2D")
    w("  `(1, 1, in, out)` on a `[N,1,1,C]` map (torch Linear `(out, in)` on `[N,C]`).")
    w("  BatchNormalization weights `gamma, beta, moving_mean, moving_variance` = torch")
    w("  `weight, bias, running_mean, running_var`; epsilon 1e-3 in both.")
    w("- Padding differs from torchvision: the stem conv uses `padding='same'` with stride 2 (TF")
    w("  'same': for even input the extra row/column goes bottom/right, i.e. pad (0,1) for k=3),")
    w("  and every stride-2 depthwise conv has a `*_depthwise_pad` ZeroPadding2D with")
    w("  `correct_pad` = ((k//2 - 1, k//2), (k//2 - 1, k//2)) for even input, then 'valid'.")
    w("  torchvision pads k//2 on all sides. So activations after the first stride-2 layer are")
    w("  not comparable pixel-for-pixel between the two frameworks with the same weights.")
    w("- The SE gate is `ReLU(6.)(x + 3.) * (1./6.)`: the `re_lu_N` layer listed as `se.gate`")
    w("  outputs relu6(fc2 + 3), and the multiply by float32(1/6) has no layer. torchvision's")
    w("  Hardsigmoid is relu6(x + 3) / 6. hard_swish (`activation_N`) is `x * hard_sigmoid(x)`;")
    w("  the numpy backend computes hard_sigmoid as clip(x / 6 + 0.5, 0, 1), the TF backend (TFLite")
    w("  file) as x * (relu6(x + 3) / 6) (ops `add`, `Relu6`, `truediv`, `mul`), the jax backend")
    w("  with jax.nn.hard_silu; these differ in the last bits. The shared TFLite file uses the TF form.")
    w("- The SE avgpool (`*_squeeze_excite_avg_pool`) and the top pool use `keepdims=True`.")
    w("- Input preprocessing: `rescaling` (x/127.5 - 1) is inside the Keras model.")
    w("- With `include_top=False, pooling='avg'` the layers are the same up to `activation_17`,")
    w("  then a single `avg_pool` (GlobalAveragePooling2D, output `[N,576]`): %d layers."
      % len(notop_names))
    extra = [n for n in notop_names if n not in top_names]
    assert notop_names[:top_names.index("activation_17") + 1] == top_names[:top_names.index("activation_17") + 1]
    assert extra == ["avg_pool"], extra
    w("- Keras 2 / tf.keras used different names (`Conv`, `Conv/BatchNorm`,")
    w("  `expanded_conv/depthwise`, ...); this table is Keras 3 only.")
    w("")
    w("## Layers in order")
    w("")
    w("| # | layer | class | canonical | output (NHWC) | weights |")
    w("|---|---|---|---|---|---|")
    for i, l in enumerate(layers):
        cls = type(l).__name__
        ws = "<br>".join("`%s` %s" % (v.path, tuple(v.shape)) for v in l.weights) or ""
        cn = cmap.get(i, "")
        note = ""
        if l.name == "rescaling":
            note = NOTES["rescaling"]
        elif cls == "ZeroPadding2D":
            note = NOTES["pad"] + " %s" % (l.padding,)
        elif cn.endswith(".se.gate"):
            note = NOTES["gate"]
        elif cls == "Dropout":
            note = NOTES["dropout"]
        elif l.name in NOTES:
            note = NOTES[l.name]
        cell = "`%s`" % cn if cn else ("(%s)" % note if note else "")
        if cn and note:
            cell += " (%s)" % note
        shape = "x".join("N" if d is None else str(d) for d in outs[l.name])
        w("| %d | `%s` | %s | %s | %s | %s |" % (i, l.name, cls, cell, shape, ws))
    w("")
    w("%d layers; %d carry a canonical name (all %d canonical taps of the model with head)."
      % (len(layers), len(cmap), len(canon)))
    with open(a.out, "w") as f:
        f.write("\n".join(L) + "\n")
    print("wrote %s: %d layers, %d mapped" % (a.out, len(layers), len(cmap)), file=sys.stderr)


if __name__ == "__main__":
    main()
