#!/usr/bin/env python3
"""Dropout-mask oracle, tf-keras (Keras 2) side: seeded tf_keras.layers.Dropout
keep masks in training (TF's legacy stateful RandomUniform op), eager and in a
tf.function, written as a line-based fixture that tests/rng/test_rng.c replays.

  TF_CPP_MIN_LOG_LEVEL=2 .venv-tf/bin/python tools/oracle/rng/tf_keras_masks.py --out FILE

Before writing, it measures (and fails, exit 1, if one does not hold):
  - the layer uses the legacy stateful RNG (tf.random.Generator not enabled);
  - the output is where(keep, x * float32(1 / (1 - rate)), 0) bit for bit, and
    the input gradient where(keep, dy * float32(1 / (1 - rate)), 0);
  - its seed attribute moves on by one per (traced) call.
Fixture lines (in order; 'kernel' starts a fresh RandomUniform kernel):
  kernel GLOBAL_SEED OP_SEED
  legacy_dropout RATE N SCALE_HEX MASK_HEX   (one execution of that kernel)
Each process caches one kernel per (seed, seed2) in eager mode, so every case
below uses op seeds no earlier case used, except where the fixture says it
continues a kernel.
"""
import argparse
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import tf_keras  # noqa: E402

DEFAULT_GRAPH_SEED = 87654321
RATES = [0.2, 0.5, 0.8]


def fail(msg):
    print("tf_keras_masks: " + msg, file=sys.stderr)
    sys.exit(1)


def hexbits(mask):
    return np.packbits(mask.astype(np.uint8), bitorder="little").tobytes().hex()


def scale_hex(rate):
    return f"{np.float32(1.0 / (1.0 - rate)).view(np.uint32):08x}"


def keep_of(layer, shape):
    y = np.asarray(layer(np.ones(shape, np.float32), training=True))
    return (y != 0).reshape(-1)


def line(rate, keep):
    return f"legacy_dropout {rate!r} {keep.size} {scale_hex(rate)} {hexbits(keep)}"


def measure():
    layer = tf_keras.layers.Dropout(0.5, seed=900001)
    rng_type = layer._random_generator._rng_type
    if rng_type != "legacy_stateful":
        fail(f"Dropout's RandomGenerator is {rng_type!r}, not legacy_stateful")
    x = np.random.default_rng(1).standard_normal((8, 1024)).astype(np.float32)
    for i, rate in enumerate(RATES):
        y = np.asarray(tf_keras.layers.Dropout(rate, seed=900100 + i)(x, training=True))
        want = np.where(y != 0, x * np.float32(1.0 / (1.0 - rate)), np.float32(0))
        if not np.array_equal(want.view(np.uint32), y.view(np.uint32)):
            fail(f"rate={rate}: output is not where(keep, x * float32(1/(1-rate)), 0)")
    # Gradient: d(x) = keep ? d(y) * scale : +0 (the where's zero branch, then the mul).
    for i, rate in enumerate(RATES):
        layer_g = tf_keras.layers.Dropout(rate, seed=900200 + i)
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
    keep_of(layer, (4,))
    keep_of(layer, (4,))
    if layer._random_generator._seed != 900003:
        fail("the layer's seed does not move on by one per call")


def write_fixture(path):
    g = DEFAULT_GRAPH_SEED
    lines = [f"# TF {tf.__version__}, tf_keras {tf_keras.__version__} "
             "(tools/oracle/rng/tf_keras_masks.py)"]
    # Eager, no global seed: call j of Dropout(seed=S) is a fresh kernel (g, S + j).
    for rate, seed in [(0.2, 1337), (0.5, 2000), (0.8, 3000)]:
        layer = tf_keras.layers.Dropout(rate, seed=seed)
        for j, n in enumerate([7, 1000, 1024]):
            lines.append(f"kernel {g} {seed + j}")
            lines.append(line(rate, keep_of(layer, (n,))))
    # A second layer with the same seed continues the cached kernel's counter.
    lines.append(f"kernel {g} 4000")
    lines.append(line(0.5, keep_of(tf_keras.layers.Dropout(0.5, seed=4000), (7,))))
    lines.append(line(0.5, keep_of(tf_keras.layers.Dropout(0.5, seed=4000), (1000,))))
    # In a tf.function (as model.fit runs it): one trace, seed S, the counter moves per step.
    layer = tf_keras.layers.Dropout(0.2, seed=5000)
    step = tf.function(lambda t: layer(t, training=True), autograph=False)
    lines.append(f"kernel {g} 5000")
    for _ in range(3):
        lines.append(line(0.2, (step(tf.ones((8, 1024))).numpy() != 0).reshape(-1)))
    # tf.random.set_seed: the global seed is the kernel's key; (0, 0) becomes (0, 2^31 - 1).
    for gs, seed in [(77, 6000), (2**31 + 5, 2**31 + 6000), (0, 0)]:
        tf.random.set_seed(gs)
        layer = tf_keras.layers.Dropout(0.5, seed=seed)
        lines.append(f"kernel {gs} {seed}")
        lines.append(line(0.5, keep_of(layer, (1000,))))
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
    print(f"tf_keras_masks: legacy stateful RandomUniform, apply = where(keep, "
          f"x*float32(1/(1-rate)), 0), seed + 1 per call; TF {tf.__version__}", file=sys.stderr)


if __name__ == "__main__":
    main()
