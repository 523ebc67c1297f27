#!/usr/bin/env python3
"""Dropout-mask oracle, Keras 3 side (TensorFlow backend): seeded
keras.layers.Dropout keep masks in training, the raw stateless uniforms behind
them, and the seed an unseeded Dropout takes after keras.utils.set_random_seed,
written as a line-based fixture that tests/rng/test_rng.c replays.

  TF_CPP_MIN_LOG_LEVEL=2 .venv-tf/bin/python tools/oracle/rng/keras_masks.py --out FILE

Before writing, it measures (and fails, exit 1, if one does not hold):
  - the layer's SeedGenerator state is [seed, k] before call k (it advances by
    [0, 1] per call);
  - the output is where(keep, x * float32(1 / (1 - rate)), 0) bit for bit, and
    the input gradient where(keep, dy * float32(1 / (1 - rate)), 0);
  - a tf.function (graph, no XLA) call draws the eager mask.
It reports (stderr) how far an XLA-compiled call (jit_compile=True) is from the
eager mask: about half the elements differ (same Philox words, but XLA turns
the high 23 bits into the float, TF's kernel the low 23); the fixture records
XLA masks too ('xla_dropout').
Fixture lines (in order; 'seed' makes a fresh Dropout(rate, seed=S)):
  seed S
  dropout RATE N SCALE_HEX MASK_HEX   (mask packed LSB first)
  xla_dropout RATE N SCALE_HEX MASK_HEX  (the same call under jit_compile=True)
  uniform SEED0 SEED1 N HEX32...      (tf.random.stateless_uniform float32 bits)
  default SETSEED K LAYERSEED         (after set_random_seed(SETSEED), the K-th
                                      (from 0) unseeded SeedGenerator's seed)
"""
import argparse
import os
import random
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import keras  # noqa: E402

SEEDS = [0, 1337, 2**31 - 1, 2**40 + 5]
RATES = [0.2, 0.5, 0.8]
SIZES = [7, 1000, 1024, 3 * 1024]  # consecutive calls of one layer


def fail(msg):
    print("keras_masks: " + msg, file=sys.stderr)
    sys.exit(1)


def keep_of(layer, shape):
    y = np.asarray(layer(np.ones(shape, np.float32), training=True))
    return (y != 0).reshape(-1)


def hexbits(mask):
    return np.packbits(mask.astype(np.uint8), bitorder="little").tobytes().hex()


def scale_hex(rate):
    return f"{np.float32(1.0 / (1.0 - rate)).view(np.uint32):08x}"


def measure():
    layer = keras.layers.Dropout(0.5, seed=77)
    for k in range(3):
        state = layer.seed_generator.state.value.numpy().tolist()
        if state != [77, k]:
            fail(f"SeedGenerator state before call {k} is {state}, not [77, {k}]")
        keep_of(layer, (5,))
    rng = np.random.default_rng(1)
    x = rng.standard_normal((8, 1024)).astype(np.float32)
    for rate in RATES:
        y = np.asarray(keras.layers.Dropout(rate, seed=9)(x, training=True))
        keep = y != 0
        scale = np.float32(1.0 / (1.0 - rate))
        want = np.where(keep, x * scale, np.float32(0))
        if not np.array_equal(want.view(np.uint32), y.view(np.uint32)):
            fail(f"rate={rate}: output is not where(keep, x * float32(1/(1-rate)), 0)")
    # Gradient: d(x) = keep ? d(y) * scale : +0 (the where's zero branch, then the mul).
    for i, rate in enumerate(RATES):
        layer_g = keras.layers.Dropout(rate, seed=19)
        xt = tf.constant(x)
        dy = tf.constant(np.random.default_rng(2).standard_normal(x.shape).astype(np.float32))
        with tf.GradientTape() as tape:
            tape.watch(xt)
            y = layer_g(xt, training=True)
        dx = tape.gradient(y, xt, output_gradients=dy).numpy()
        keep = y.numpy() != 0
        want = np.where(keep, dy.numpy() * np.float32(1.0 / (1.0 - rate)), np.float32(0))
        if not np.array_equal(want.view(np.uint32), dx.view(np.uint32)):
            fail(f"rate={rate}: the gradient is not where(keep, dy * scale, 0)")
    eager = keep_of(keras.layers.Dropout(0.5, seed=1337), (32, 1024))
    graph_layer = keras.layers.Dropout(0.5, seed=1337)
    graph = tf.function(lambda t: graph_layer(t, training=True), autograph=False)
    graph_keep = (graph(tf.ones((32, 1024))).numpy() != 0).reshape(-1)
    if not np.array_equal(eager, graph_keep):
        fail("a tf.function call draws another mask than eager")
    xla_layer = keras.layers.Dropout(0.5, seed=1337)
    xla = tf.function(lambda t: xla_layer(t, training=True), jit_compile=True, autograph=False)
    xla_keep = (xla(tf.ones((32, 1024))).numpy() != 0).reshape(-1)
    print(f"keras_masks: state [seed, k] per call, apply = where(keep, x*float32(1/(1-rate)), 0), "
          f"graph == eager; XLA (jit_compile=True) differs in "
          f"{int(np.sum(xla_keep != eager))} of {eager.size} elements; "
          f"TF {tf.__version__}, Keras {keras.__version__}", file=sys.stderr)


def write_fixture(path):
    lines = [f"# TF {tf.__version__}, Keras {keras.__version__} (tools/oracle/rng/keras_masks.py)"]
    for s0, s1, n in [(1337, 0, 16), (0, 0, 9), (2**31 - 3, 5, 8)]:
        u = tf.random.stateless_uniform([n], seed=tf.constant([s0, s1], tf.int32)).numpy()
        lines.append(f"uniform {s0} {s1} {n} " + "".join(f"{v:08x}" for v in u.view(np.uint32)))
    for seed in SEEDS:
        for rate in RATES:
            lines.append(f"seed {seed}")
            layer = keras.layers.Dropout(rate, seed=seed)
            for n in SIZES:
                lines.append(f"dropout {rate!r} {n} {scale_hex(rate)} {hexbits(keep_of(layer, (n,)))}")
    # XLA-compiled calls (jit_compile=True): same Philox words, high-bit floats;
    # eager and XLA calls of one layer share its SeedGenerator.
    for rate in RATES:
        lines.append("seed 99")
        layer = keras.layers.Dropout(rate, seed=99)
        xla = tf.function(lambda t, la=layer: la(t, training=True), jit_compile=True,
                          autograph=False)
        for n in [7, 1000, 2 * 1024]:
            keep = (xla(tf.ones((n,))).numpy() != 0).reshape(-1)
            lines.append(f"xla_dropout {rate!r} {n} {scale_hex(rate)} {hexbits(keep)}")
        lines.append(f"dropout {rate!r} 1000 {scale_hex(rate)} {hexbits(keep_of(layer, (1000,)))}")
    # rate 0 and 1 draw no seed: the next call still uses [S, 0].
    lines.append("seed 8")
    gen = keras.random.SeedGenerator(8)
    for rate in [0.0, 1.0, 0.5]:
        y = np.asarray(keras.random.dropout(np.ones((16,), np.float32), rate, seed=gen))
        lines.append(f"dropout {rate!r} 16 - {hexbits(y != 0)}")
    lines.append("seed 1234")
    layer = keras.layers.Dropout(0.2, seed=1234)
    for _ in range(2):  # a training batch: 32 x 1024, twice
        lines.append(f"dropout 0.2 {32 * 1024} {scale_hex(0.2)} "
                     f"{hexbits(keep_of(layer, (32, 1024)))}")
    for s in [0, 5, 42, 2**32 - 1]:
        keras.utils.set_random_seed(s)
        layer = keras.layers.Dropout(0.5)
        lines.append(f"default {s} 0 {int(layer.seed_generator.state.value.numpy()[0])}")
    # keras.applications.MobileNetV3Small: its unseeded Dropout takes the n-th
    # make_default_seed() after set_random_seed (the initializers draw first).
    for s in [0, 7]:
        keras.utils.set_random_seed(s)
        model = keras.applications.MobileNetV3Small(input_shape=(224, 224, 3), weights=None)
        drops = [la for la in model.layers if isinstance(la, keras.layers.Dropout)]
        seed = int(drops[0].seed_generator.state.value.numpy()[0])
        random.seed(s)
        draws = [random.randint(1, int(1e9)) for _ in range(1000)]
        if len(drops) != 1 or seed not in draws:
            fail("MobileNetV3Small's Dropout seed is not one of the first 1000 default seeds")
        lines.append(f"default {s} {draws.index(seed)} {seed}  # MobileNetV3Small")
    with open(path, "w") as f:
        f.write("\n".join(lines) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out")
    ap.add_argument("--check-only", action="store_true")
    a = ap.parse_args()
    measure()
    if a.out and not a.check_only:
        write_fixture(a.out)


if __name__ == "__main__":
    main()
