#!/usr/bin/env python3
"""Optimizer oracle: the real framework's optimizers and learning-rate schedules on
seeded data, for tests/optim (bit-exact comparison with src/train/optim.c).

  .venv-oracle/bin/python tools/oracle/optim/optim_oracle.py --framework torch --out DIR [--all-steps]
  .venv-tf/bin/python     tools/oracle/optim/optim_oracle.py --framework keras|tf-keras --out DIR [--all-steps]

Every case of tests/optim/cases.txt that names the framework runs STEPS steps on one
float32 tensor of N values (seeded numpy normal), fed a seeded sequence of gradients
(numpy, the same for every framework; some exact zeros). DIR/common.npz holds
`init` [N] and `grads` [STEPS, N]; DIR/<framework>.npz holds per case
  <case>/steps        the recorded 1-based steps (as float32)
  <case>/param        the tensor after each recorded step [R, N]
  <case>/state/<slot> the optimizer state after each recorded step [R, N]
                      (slots: momentum; m, v; v, mean_grad, momentum)
  <case>/lr           the learning rate in force at every step [STEPS, 3]: a double
                      written as three float32 (hi, mid, lo) that add up to it exactly
                      (torch keeps lr as a python float; Keras's is float32: mid = lo = 0)
N = 43 covers the frameworks' vector loops and their scalar tails (ATen: 16-float
blocks, Eigen: 4 x 8-float packets, one packet, then scalars). torch runs at 1 thread
unless --threads. --n, --steps and --cases make the large-tensor live check (a tensor
ATen splits among threads: 32768 values a chunk).
Keras runs apply_gradients inside a tf.function, as model.fit does (no XLA: jit_compile
"auto" is off on a CPU-only machine), where TF's graph optimizer rewrites some float32 ops
(factor optim_tf_graph=grappler); --eager runs it eagerly (optim_tf_graph=eager).
"""
import argparse
import os
import sys

import numpy as np

N = 43
STEPS = 100
RECORDED = [1, 2, 3, 10, 50, 100]
HERE = os.path.dirname(os.path.abspath(__file__))
CASES = os.path.join(HERE, "..", "..", "..", "tests", "optim", "cases.txt")


def read_cases(framework, only=None, copy_to=None):
    cases, kept = [], []
    with open(CASES) as f:
        for raw in f:
            line = raw.split("#", 1)[0].split()
            if not line:
                continue
            name, frameworks, kind = line[0], line[1].split(","), line[2]
            keys = dict(kv.split("=", 1) for kv in line[3:])
            if framework in frameworks and (only is None or name in only):
                cases.append((name, kind, keys))
                kept.append(raw)
    if copy_to:  # the subset run, for test_optim's CASES argument
        with open(copy_to, "w") as f:
            f.writelines(kept)
    return cases


def data(n=N, steps=STEPS):
    rng = np.random.default_rng(20261202)
    init = rng.standard_normal(n).astype(np.float32)
    grads = (rng.standard_normal((steps, n)) * 0.1).astype(np.float32)
    grads *= rng.uniform(0.1, 3.0, size=(steps, 1)).astype(np.float32)  # varying scale per step
    grads[:, 5] = 0.0  # one value that never gets a gradient
    grads[::7, 11] = 0.0
    return init, grads


def split_double(x):
    hi = np.float32(x)
    mid = np.float32(x - float(hi))
    lo = np.float32(x - float(hi) - float(mid))
    assert float(hi) + float(mid) + float(lo) == x
    return [hi, mid, lo]


def fl(keys, k, default=None):
    return float(keys[k]) if k in keys else default


# ---------------------------------------------------------------- torch
def run_torch(cases, init, grads, record, threads=1):
    import torch
    torch.set_num_threads(threads)
    STEPS = len(grads)
    out = {}
    for name, kind, keys in cases:
        p = torch.nn.Parameter(torch.from_numpy(init.copy()))
        kw = {"lr": fl(keys, "lr")}
        if "wd" in keys:
            kw["weight_decay"] = fl(keys, "wd")
        if kind == "sgd":
            for k, t in (("momentum", "momentum"), ("dampening", "dampening")):
                if k in keys:
                    kw[t] = fl(keys, k)
            if keys.get("nesterov") == "1":
                kw["nesterov"] = True
            opt = torch.optim.SGD([p], **kw)
        elif kind in ("adam", "adamw"):
            if "beta1" in keys or "beta2" in keys:
                kw["betas"] = (fl(keys, "beta1", 0.9), fl(keys, "beta2", 0.999))
            if "eps" in keys:
                kw["eps"] = fl(keys, "eps")
            opt = (torch.optim.Adam if kind == "adam" else torch.optim.AdamW)([p], **kw)
        elif kind == "rmsprop":
            if "rho" in keys:
                kw["alpha"] = fl(keys, "rho")
            if "eps" in keys:
                kw["eps"] = fl(keys, "eps")
            if "momentum" in keys:
                kw["momentum"] = fl(keys, "momentum")
            if keys.get("centered") == "1":
                kw["centered"] = True
            opt = torch.optim.RMSprop([p], **kw)
        sched, every = None, int(keys.get("every", "1"))
        s = keys.get("sched")
        if s == "step":
            sched = torch.optim.lr_scheduler.StepLR(opt, int(keys["period"]), fl(keys, "gamma"))
        elif s == "exp":
            assert keys["period"] == "1"
            sched = torch.optim.lr_scheduler.ExponentialLR(opt, fl(keys, "gamma"))
        elif s == "multi":
            sched = torch.optim.lr_scheduler.MultiStepLR(
                opt, [int(m) for m in keys["milestones"].split(":")], fl(keys, "gamma"))
        elif s == "cos":
            sched = torch.optim.lr_scheduler.CosineAnnealingLR(
                opt, int(keys["period"]), eta_min=fl(keys, "floor") * fl(keys, "lr"))
        params, states, lrs = [], {}, []
        for step in range(1, STEPS + 1):
            lrs.append(split_double(opt.param_groups[0]["lr"]))
            p.grad = torch.from_numpy(grads[step - 1].copy())
            opt.step()
            if sched is not None and step % every == 0:
                sched.step()
            if step in record:
                params.append(p.detach().numpy().copy())
                st = opt.state[p]
                slots = {"sgd": [("momentum", "momentum_buffer")],
                         "adam": [("m", "exp_avg"), ("v", "exp_avg_sq")],
                         "adamw": [("m", "exp_avg"), ("v", "exp_avg_sq")],
                         "rmsprop": [("v", "square_avg"), ("mean_grad", "grad_avg"),
                                     ("momentum", "momentum_buffer")]}[kind]
                for slot, key in slots:
                    if key in st and st[key] is not None:
                        states.setdefault(slot, []).append(st[key].numpy().copy())
        finish(out, name, record, params, states, lrs)
    return out


# ---------------------------------------------------------------- Keras 3 / tf-keras
SLOTS = {"sgd": [("momentum", "momentums")],
         "adam": [("m", "_momentums"), ("v", "_velocities")],
         "adamw": [("m", "_momentums"), ("v", "_velocities")],
         "rmsprop": [("v", "_velocities"), ("mean_grad", "_average_gradients"), ("momentum", "_momentums")]}


def make_keras_optimizer(keras, kind, keys):
    sch = keras.optimizers.schedules
    lr = fl(keys, "lr")
    s = keys.get("sched")
    if s == "step":
        lr = sch.ExponentialDecay(lr, int(keys["period"]), fl(keys, "gamma"), staircase=True)
    elif s == "exp":
        lr = sch.ExponentialDecay(lr, int(keys["period"]), fl(keys, "gamma"))
    elif s == "cos":
        lr = sch.CosineDecay(lr, int(keys["period"]), alpha=fl(keys, "floor"))
    elif s == "multi":  # MultiStepLR's milestones as boundaries (change after step m-1)
        ms = [int(m) for m in keys["milestones"].split(":")]
        gamma = fl(keys, "gamma")
        lr = sch.PiecewiseConstantDecay([m - 1 for m in ms], [lr * gamma ** i for i in range(len(ms) + 1)])
    assert "every" not in keys
    kw = {"learning_rate": lr}
    if "wd" in keys:
        kw["weight_decay"] = fl(keys, "wd")
    if kind == "sgd":
        if "momentum" in keys:
            kw["momentum"] = fl(keys, "momentum")
        if keys.get("nesterov") == "1":
            kw["nesterov"] = True
        assert "dampening" not in keys
        opt = keras.optimizers.SGD(**kw)
    elif kind in ("adam", "adamw"):
        for k, t in (("beta1", "beta_1"), ("beta2", "beta_2"), ("eps", "epsilon")):
            if k in keys:
                kw[t] = fl(keys, k)
        opt = (keras.optimizers.Adam if kind == "adam" else keras.optimizers.AdamW)(**kw)
    elif kind == "rmsprop":
        for k, t in (("rho", "rho"), ("eps", "epsilon"), ("momentum", "momentum")):
            if k in keys:
                kw[t] = fl(keys, k)
        if keys.get("centered") == "1":
            kw["centered"] = True
        opt = keras.optimizers.RMSprop(**kw)
    return opt


def run_keras(cases, init, grads, record, framework, graph=False):
    STEPS = len(grads)
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    if framework == "keras":
        import keras
    else:
        import tf_keras as keras
    out = {}
    for name, kind, keys in cases:
        opt = make_keras_optimizer(keras, kind, keys)
        var = tf.Variable(init.copy())
        opt.build([var])
        apply = opt.apply_gradients
        if graph:  # as model.fit runs it: inside a tf.function (grappler on)
            apply = tf.function(lambda g, opt=opt, var=var: opt.apply_gradients([(g, var)]))
        params, states, lrs = [], {}, []
        for step in range(1, STEPS + 1):
            if framework == "keras":  # the schedule at the current iteration count
                lrs.append(lr_value(tf.function(lambda: opt.learning_rate)() if graph else opt.learning_rate))
            if graph:
                apply(tf.constant(grads[step - 1]))
            else:
                apply([(tf.constant(grads[step - 1]), var)])
            if framework == "tf-keras":  # apply_gradients stores the lr it used
                lrs.append(lr_value(opt.learning_rate))
            if step in record:
                params.append(var.numpy().copy())
                for slot, attr in SLOTS[kind]:
                    lst = getattr(opt, attr, None)
                    if lst:
                        states.setdefault(slot, []).append(np.asarray(lst[0]).copy())
        finish(out, name, record, params, states, lrs)
    return out


def lr_value(cur):
    return split_double(float(np.float32(cur.numpy() if hasattr(cur, "numpy") else cur)))


def run_keras_fit(cases, init, grads, framework):
    """The same cases through model.fit: a layer whose output is sum(w * x), loss = the
    output, batch 1, so the gradient of w at step k is exactly grads[k-1]. Records the
    last step only (and the lr at every step, from a callback, in a tf.function)."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf
    keras = __import__("keras") if framework == "keras" else __import__("tf_keras")
    steps, n = grads.shape
    out = {}

    class Dot(keras.layers.Layer):
        def build(self, shape):
            self.w = self.add_weight(shape=(n,), initializer=keras.initializers.Constant(init), name="w")

        def call(self, x):
            return tf.reduce_sum(x * self.w, axis=-1, keepdims=True)

    for name, kind, keys in cases:
        opt = make_keras_optimizer(keras, kind, keys)
        inp = keras.Input((n,))
        model = keras.Model(inp, Dot()(inp))
        model.compile(optimizer=opt, loss=lambda y_true, y_pred: tf.reduce_sum(y_pred))
        lrs = []

        class LR(keras.callbacks.Callback):
            def on_train_batch_begin(self, batch, logs=None):
                if framework == "keras":
                    lrs.append(lr_value(tf.function(lambda: opt.learning_rate)()))

            def on_train_batch_end(self, batch, logs=None):
                if framework == "tf-keras":
                    lrs.append(lr_value(opt.learning_rate))

        model.fit(grads, np.zeros((steps, 1), np.float32), batch_size=1, epochs=1, shuffle=False, verbose=0,
                  callbacks=[LR()])
        w = model.layers[-1].w
        params = [np.asarray(w.numpy()).copy()]
        states = {}
        for slot, attr in SLOTS[kind]:
            lst = getattr(opt, attr, None) or getattr(opt, attr.lstrip("_"), None)
            if lst:
                states[slot] = [np.asarray(lst[0]).copy()]
        finish(out, name, [steps], params, states, lrs)
    return out


def finish(out, name, record, params, states, lrs):
    out[f"{name}/steps"] = np.array(record, np.float32)
    out[f"{name}/param"] = np.stack(params).astype(np.float32)
    for slot, vals in states.items():
        out[f"{name}/state/{slot}"] = np.stack(vals).astype(np.float32)
    out[f"{name}/lr"] = np.array(lrs, np.float32)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--framework", required=True, choices=["torch", "keras", "tf-keras"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--all-steps", action="store_true", help="record every step (live test)")
    ap.add_argument("--n", type=int, default=N, help="values in the tensor")
    ap.add_argument("--steps", type=int, default=STEPS)
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads")
    ap.add_argument("--eager", action="store_true",
                    help="Keras: apply_gradients eagerly (default: inside a tf.function, as model.fit)")
    ap.add_argument("--fit", action="store_true", help="Keras: through model.fit (last step recorded)")
    ap.add_argument("--cases", help="comma list: run only these (writes OUT/cases.txt)")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    init, grads = data(a.n, a.steps)
    np.savez_compressed(os.path.join(a.out, "common.npz"), init=init, grads=grads)
    record = list(range(1, a.steps + 1)) if a.all_steps else [k for k in RECORDED if k <= a.steps]
    only = set(a.cases.split(",")) if a.cases else None
    cases = read_cases(a.framework, only, os.path.join(a.out, "cases.txt") if only else None)
    if a.framework == "torch":
        out = run_torch(cases, init, grads, record, a.threads)
    else:
        out = (run_keras_fit(cases, init, grads, a.framework) if a.fit
               else run_keras(cases, init, grads, record, a.framework, not a.eager))
    np.savez_compressed(os.path.join(a.out, a.framework.replace("-", "_") + ".npz"), **out)
    recorded = 1 if a.fit else len(record)
    print(f"{a.framework}: {len(cases)} cases, {recorded} recorded steps -> {a.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
