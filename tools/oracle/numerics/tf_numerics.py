#!/usr/bin/env python3
"""Which float32 formula does TensorFlow (Keras 3, CPU) actually compute, element by element?

  .venv-tf/bin/python tools/oracle/numerics/tf_numerics.py [--section S ...] [--onednn on|off] [--stride K]

Sections: env rsqrt bn hswish rescale pool conv softmax (default: all).
For each op, TF's output is compared with candidate formulas written out in numpy
float32 with an explicit operation order (fma(a,b,c) emulated exactly as
float32(float64(a)*float64(b)+float64(c)), exact because the product of two
float32 is exact in double and the one rounding of the double sum followed by the
rounding to float32 ... is checked against a float64->float32 double-rounding-free
path for the values used here).  Match rate = fraction of elements bit-identical.
Each op is run three ways where it matters: the raw tf op (eager), the Keras 3
layer called eagerly (what `model(x, training=False)` runs), and the layer inside
a tf.function (what `model.predict` runs: a graph Grappler/oneDNN may rewrite).

rsqrt needs the CPU's own approximate reciprocal square root (vrsqrtps), which
numpy cannot call: a small C helper is compiled here with the system `cc` into
/tmp (source below, written for this study, not TF code) and loaded with ctypes.
Without a compiler those candidates are skipped.

--onednn off sets TF_ENABLE_ONEDNN_OPTS=0 before TensorFlow is imported.
--stride K samples every K-th float of the exhaustive rsqrt range [1e-3, 1e3]
(default 1: all 166,201,377 floats; about a minute).
Results: docs/tf-numerics.md.
"""

import argparse
import ctypes
import os
import subprocess
import sys
import tempfile

SECTIONS = ("env", "rsqrt", "bn", "hswish", "rescale", "pool", "conv", "softmax")

C_HELPER = r"""
#include <immintrin.h>
#include <math.h>
/* y0 = vrsqrtps(a) (AVX, 8 lanes, ~12-bit hardware approximation).
   mode 0: y0 only
   mode 1: one Newton step, every op rounded (no FMA):
           r2 = a*y0; hr = y0*(-0.5f); h = r2*y0 + (-1.0f); y = hr*h + y0
   mode 2: as 1 with both multiply-adds fused (FMA)
   mode 3: y0*(1.5f + (-0.5f*y0)*(a*y0)), no FMA (older Eigen generic_rsqrt_newton_step)
   mode 4: as 3 with the multiply-add fused
   mode 5: y0 from vrsqrt14ps (AVX-512, 14-bit) + mode-1 step */
__attribute__((target("avx2,fma,avx512f")))
void rsqrt_cand(const float *x, float *o, long n, int mode) {
  long i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256 a = _mm256_loadu_ps(x + i), y;
    if (mode == 5) y = _mm512_castps512_ps256(_mm512_rsqrt14_ps(_mm512_castps256_ps512(a)));
    else y = _mm256_rsqrt_ps(a);
    const __m256 mh = _mm256_set1_ps(-0.5f), m1 = _mm256_set1_ps(-1.0f), c15 = _mm256_set1_ps(1.5f);
    if (mode == 1 || mode == 5) {
      __m256 r2 = _mm256_mul_ps(a, y), hr = _mm256_mul_ps(y, mh);
      __m256 h = _mm256_add_ps(_mm256_mul_ps(r2, y), m1);
      y = _mm256_add_ps(_mm256_mul_ps(hr, h), y);
    } else if (mode == 2) {
      __m256 r2 = _mm256_mul_ps(a, y), hr = _mm256_mul_ps(y, mh);
      __m256 h = _mm256_fmadd_ps(r2, y, m1);
      y = _mm256_fmadd_ps(hr, h, y);
    } else if (mode == 3) {
      y = _mm256_mul_ps(y, _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(mh, y), _mm256_mul_ps(a, y)), c15));
    } else if (mode == 4) {
      y = _mm256_mul_ps(y, _mm256_fmadd_ps(_mm256_mul_ps(mh, y), _mm256_mul_ps(a, y), c15));
    }
    _mm256_storeu_ps(o + i, y);
  }
  for (; i < n; i++) o[i] = NAN; /* callers pass multiples of 8 */
}
"""

F32 = None  # numpy float32 type, set in main


def log(msg=""):
    print(msg, flush=True)


# --------------------------------------------------------------------------
# helpers


def ulp_diff(a, b, np):
    """Signed distance in float32 ULPs (monotonic integer mapping)."""
    def key(v):
        i = np.ascontiguousarray(v, dtype=np.float32).view(np.int32).astype(np.int64)
        return np.where(i < 0, -(i & 0x7FFFFFFF), i)
    return key(a) - key(b)


def report(name, got, cand, np, indent="  "):
    got = np.asarray(got, dtype=np.float32).ravel()
    cand = np.asarray(cand, dtype=np.float32).ravel()
    eq = np.mean((got == cand) | (np.isnan(got) & np.isnan(cand)))
    d = np.abs(ulp_diff(got, cand, np))
    log("%s%-58s match %9.5f%%  max |ulp| %d" % (indent, name, 100.0 * eq, int(d.max()) if d.size else 0))
    return eq


def ulp_hist(name, got, ref, np, indent="  "):
    d = np.abs(ulp_diff(got, ref, np)).ravel()
    n = d.size
    parts = []
    for lo, hi, lab in ((0, 0, "0"), (1, 1, "1"), (2, 2, "2"), (3, 4, "3-4"), (5, 16, "5-16"), (17, 1 << 62, ">16")):
        c = int(np.sum((d >= lo) & (d <= hi)))
        if c:
            parts.append("%s:%.3f%%" % (lab, 100.0 * c / n))
    log("%s%-44s ulp |d| %s  (max %d, n=%d)" % (indent, name, " ".join(parts), int(d.max()), n))


def ftz(v, np):
    """Flush float32 subnormals to (signed) zero, as the CPU does with FTZ/DAZ set."""
    v = np.array(v, dtype=np.float32)
    tiny = np.abs(v) < np.float32(1.1754944e-38)
    v[tiny] = np.copysign(np.float32(0), v[tiny])
    return v


def fma(a, b, c, np):
    return (np.asarray(a, np.float64) * np.asarray(b, np.float64) + np.asarray(c, np.float64)).astype(np.float32)


def load_helper(np):
    src_dir = tempfile.mkdtemp(prefix="tf_numerics_")
    c = os.path.join(src_dir, "rsqrt_cand.c")
    so = os.path.join(src_dir, "rsqrt_cand.so")
    with open(c, "w") as f:
        f.write(C_HELPER)
    cc = os.environ.get("CC", "cc")
    # -ffp-contract=off: GCC would otherwise fuse the separate mul/add intrinsics into FMAs.
    r = subprocess.run([cc, "-O2", "-ffp-contract=off", "-shared", "-fPIC", "-o", so, c],
                       capture_output=True, text=True)
    if r.returncode:
        log("  (C helper not built: %s)" % r.stderr.strip()[:200])
        return None
    lib = ctypes.CDLL(so)

    def run(x, mode):
        x = np.ascontiguousarray(x, dtype=np.float32)
        o = np.empty_like(x)
        lib.rsqrt_cand(x.ctypes.data_as(ctypes.c_void_p), o.ctypes.data_as(ctypes.c_void_p),
                       ctypes.c_long(x.size), ctypes.c_int(mode))
        return o
    return run


# --------------------------------------------------------------------------
# sections


def sec_env(tf, keras, np):
    import platform
    log("## env")
    log("  python %s, numpy %s, tensorflow %s, keras %s (backend %s)"
        % (platform.python_version(), np.__version__, tf.__version__, keras.__version__, keras.backend.backend()))
    try:
        import tf_keras
        log("  tf_keras %s" % tf_keras.__version__)
    except ImportError:
        pass
    log("  TF_ENABLE_ONEDNN_OPTS=%s" % os.environ.get("TF_ENABLE_ONEDNN_OPTS"))
    bi = dict(tf.sysconfig.get_build_info())
    log("  build_info: %s" % {k: bi[k] for k in sorted(bi)})
    try:
        from tensorflow.python.util import _pywrap_util_port
        log("  oneDNN built in (IsMklEnabled): %s" % _pywrap_util_port.IsMklEnabled())
    except Exception as e:  # private API; informational only
        log("  oneDNN built in: unknown (%s)" % e)
    model = flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name") and not model:
                    model = line.split(":", 1)[1].strip()
                if line.startswith("flags") and not flags:
                    flags = line.split(":", 1)[1].split()
    except OSError:
        pass
    simd = [fl for fl in flags if fl in ("sse4_1", "sse4_2", "avx", "avx2", "fma", "f16c", "avx512f", "avx512dq",
                                          "avx512bw", "avx512vl", "avx512_vnni", "avx512_bf16", "amx_tile")]
    log("  cpu: %s; %d logical CPUs; SIMD flags: %s" % (model, os.cpu_count(), " ".join(simd)))
    log("  tf threads: intra %d inter %d (0 = TF picks)" % (tf.config.threading.get_intra_op_parallelism_threads(),
                                                        tf.config.threading.get_inter_op_parallelism_threads()))


def sec_rsqrt(tf, keras, np, stride):
    log("## rsqrt: tf.math.rsqrt(float32), every %s float in [1e-3, 1e3]" % ("" if stride == 1 else "%d-th" % stride))
    helper = load_helper(np)
    lo = int(np.array(1e-3, np.float32).view(np.int32))
    hi = int(np.array(1e3, np.float32).view(np.int32))
    names = ["correctly rounded 1/sqrt (float64 -> float32)", "1.0f / sqrtf(x) (two roundings)"]
    if helper:
        names += ["vrsqrtps only (no Newton step)",
                  "vrsqrtps + Newton, r2=a*y; h=r2*y-1; y=(y*-0.5)*h+y, no FMA",
                  "  same step with both multiply-adds fused (FMA)",
                  "vrsqrtps + y*(1.5 + (-0.5*y)*(a*y)), no FMA",
                  "  same with FMA",
                  "vrsqrt14ps (AVX-512) + first Newton form, no FMA"]
    eq = np.zeros(len(names))
    maxd = np.zeros(len(names), dtype=np.int64)
    n_tot = 0
    chunk = 1 << 24
    for start in range(lo, hi + 1, chunk * stride):
        bits = np.arange(start, min(hi + 1, start + chunk * stride), stride, dtype=np.int64).astype(np.int32)
        m = bits.size - bits.size % 8
        x = np.ascontiguousarray(bits[:m]).view(np.float32)
        t = tf.math.rsqrt(tf.constant(x)).numpy()
        cands = [(1.0 / np.sqrt(x.astype(np.float64))).astype(np.float32), np.float32(1) / np.sqrt(x)]
        if helper:
            cands += [helper(x, k) for k in range(6)]
        for k, c in enumerate(cands):
            eq[k] += np.sum(c == t)
            maxd[k] = max(maxd[k], int(np.abs(ulp_diff(t, c, np)).max()))
        n_tot += x.size
    for k, nm in enumerate(names):
        log("  %-62s match %9.5f%%  max |ulp| %d" % (nm, 100.0 * eq[k] / n_tot, maxd[k]))
    log("  (%d inputs)" % n_tot)
    # Position dependence (packet body vs scalar tail): lengths that are not multiples of 8/16.
    x = np.linspace(0.5, 2.0, 1003, dtype=np.float32)
    t = tf.math.rsqrt(tf.constant(x)).numpy()
    if helper:
        pad = np.concatenate([x, np.ones(5, np.float32)])
        c = helper(pad, 1)[:x.size]
        log("  length 1003 (not a multiple of 8): tail elements %s the packet formula; body match %.3f%%"
            % ("follow" if np.array_equal(t[-3:], c[-3:]) else "DO NOT follow",
               100 * np.mean(t[:1000] == c[:1000])))
        for n in (1, 3, 16):
            xs = x[:n]
            tt = tf.math.rsqrt(tf.constant(xs)).numpy()
            cc = helper(np.concatenate([xs, np.ones((-n) % 8 or 8, np.float32)]), 1)[:n]
            cr = (1.0 / np.sqrt(xs.astype(np.float64))).astype(np.float32)
            log("  length %2d: == packet formula %s, == correctly rounded %s"
                % (n, np.array_equal(tt, cc), np.array_equal(tt, cr)))
        # Is vrsqrtps a pure function of (exponent parity, top mantissa bits)? If so a table can emulate it.
        bits = np.arange(int(np.array(1.0, np.float32).view(np.int32)), int(np.array(4.0, np.float32).view(np.int32)),
                         dtype=np.int64).astype(np.int32)
        xx = bits.view(np.float32)
        y0 = helper(xx, 0).view(np.int32)
        for kbits in (11, 12, 13):
            key = ((bits >> 23) & 1).astype(np.int64) << kbits | ((bits & 0x7FFFFF) >> (23 - kbits))
            order = np.argsort(key, kind="stable")
            ks, ys = key[order], y0[order]
            first = np.r_[True, ks[1:] != ks[:-1]]
            idx = np.cumsum(first) - 1
            const = np.all(ys == ys[first][idx])
            log("  vrsqrtps on [1,4): output depends only on (exp parity, top %d mantissa bits): %s" % (kbits, const))


def bn_candidates(x, gamma, beta, mean, var, eps, rs, np):
    """Keras 3 / tf.nn.batch_normalization, with rs(v) the rsqrt used."""
    inv = (rs(var + np.float32(eps)) * gamma).astype(np.float32)
    off = (beta - (mean * inv).astype(np.float32)).astype(np.float32)
    return inv, off


def sec_bn(tf, keras, np, helper_rs):
    log("## BatchNormalization (inference)")
    rng = np.random.default_rng(1)
    C = 96
    x = rng.normal(0, 3, (4, 14, 14, C)).astype(np.float32)
    gamma = rng.uniform(0.2, 2.0, C).astype(np.float32)
    beta = rng.normal(0, 1, C).astype(np.float32)
    mean = rng.normal(0, 1, C).astype(np.float32)
    var = rng.uniform(1e-3, 5.0, C).astype(np.float32)
    eps = 1e-3
    layer = keras.layers.BatchNormalization(epsilon=eps)
    layer.build(x.shape)
    layer.set_weights([gamma, beta, mean, var])
    got_eager = layer(tf.constant(x), training=False).numpy()
    fn = tf.function(lambda t: layer(t, training=False))
    got_graph = fn(tf.constant(x)).numpy()
    log("  Keras 3 layer eager vs tf.function: %s" % ("bit-identical" if np.array_equal(got_eager, got_graph)
                                                      else "DIFFER (%.4f%% of elements)" % (100 * np.mean(got_eager != got_graph))))
    tf_rs = lambda v: tf.math.rsqrt(tf.constant(v)).numpy()  # noqa: E731
    cr_rs = lambda v: (1.0 / np.sqrt(np.asarray(v, np.float64))).astype(np.float32)  # noqa: E731
    rs_cands = [("tf.math.rsqrt", tf_rs), ("correctly rounded rsqrt", cr_rs),
                ("1/sqrtf", lambda v: np.float32(1) / np.sqrt(np.asarray(v, np.float32)))]
    if helper_rs:
        rs_cands.append(("emulated vrsqrtps+Newton (no FMA)", lambda v: helper_rs(np.concatenate(
            [v, np.ones((-v.size) % 8, np.float32)]), 1)[:v.size]))
    for tag, got in (("eager layer", got_eager), ("tf.function layer", got_graph)):
        log("  %s:" % tag)
        for rn, rs in rs_cands:
            inv, off = bn_candidates(x, gamma, beta, mean, var, eps, rs, np)
            report("x*inv + (beta - mean*inv), inv=%s*gamma" % rn, got, (x * inv).astype(np.float32) + off, np, "    ")
            report("  same, fma(x, inv, off)", got, fma(x, inv, off, np), np, "    ")
        inv, off = bn_candidates(x, gamma, beta, mean, var, eps, tf_rs, np)
        report("(x - mean)*inv + beta (tf.math.rsqrt)", got, ((x - mean) * inv).astype(np.float32) + beta, np, "    ")
        report("(x - mean)*(rsqrt*gamma)... /sqrt(var+eps) form", got,
               ((x - mean) / np.sqrt(var + np.float32(eps)) * gamma + beta).astype(np.float32), np, "    ")
    # tf-keras (Keras 2) BatchNormalization -> FusedBatchNormV3 (is_training=False).
    try:
        import tf_keras
    except ImportError:
        return
    l2 = tf_keras.layers.BatchNormalization(epsilon=eps)
    l2.build(x.shape)
    l2.set_weights([gamma, beta, mean, var])
    got2 = l2(tf.constant(x), training=False).numpy()
    got2g = tf.function(lambda t: l2(t, training=False))(tf.constant(x)).numpy()
    log("  tf-keras layer (fused_batch_norm) eager vs tf.function: %s"
        % ("bit-identical" if np.array_equal(got2, got2g) else "DIFFER"))
    fb = tf.raw_ops.FusedBatchNormV3(x=tf.constant(x), scale=gamma, offset=beta, mean=mean, variance=var,
                                     epsilon=eps, is_training=False)[0].numpy()
    log("  tf-keras layer == raw FusedBatchNormV3: %s" % np.array_equal(got2, fb))
    for rn, rs in rs_cands:
        sf = (rs(var + np.float32(eps)) * gamma).astype(np.float32)
        report("tf-keras: (x - mean)*sf + beta, sf=%s(var+eps)*gamma" % rn, got2,
               ((x - mean) * sf).astype(np.float32) + beta, np, "    ")
        report("  same with fma((x-mean), sf, beta)", got2, fma((x - mean).astype(np.float32), sf, beta, np), np, "    ")
        inv, off = bn_candidates(x, gamma, beta, mean, var, eps, rs, np)
        report("tf-keras: x*inv + (beta - mean*inv) (Keras 3 form), %s" % rn, got2,
               (x * inv).astype(np.float32) + off, np, "    ")
    sq = np.sqrt(var + np.float32(eps))
    sf = (gamma / sq).astype(np.float32)
    report("tf-keras: (x - mean)*(gamma/sqrtf(var+eps)) + beta", got2, ((x - mean) * sf).astype(np.float32) + beta, np, "    ")
    report("  same with fma", got2, fma((x - mean).astype(np.float32), sf, beta, np), np, "    ")
    sh = (beta - mean * sf).astype(np.float32)
    report("tf-keras: x*sf + (beta - mean*sf), sf=gamma/sqrtf(var+eps)", got2, (x * sf).astype(np.float32) + sh, np, "    ")
    report("  same with fma(x, sf, shift)", got2, fma(x, sf, sh, np), np, "    ")
    sh2 = fma(-mean, sf, beta, np)
    report("  fma(x, sf, fma(-mean, sf, beta))", got2, fma(x, sf, sh2, np), np, "    ")
    report("tf-keras: ((x - mean)/sqrtf(var+eps))*gamma + beta", got2,
           (((x - mean) / sq).astype(np.float32) * gamma).astype(np.float32) + beta, np, "    ")
    report("  same with fma(., gamma, beta)", got2, fma(((x - mean) / sq).astype(np.float32), gamma, beta, np), np, "    ")
    log("  Keras 3 vs tf-keras BN outputs identical: %.3f%% of elements" % (100 * np.mean(got2 == got_eager)))


def all_floats(lo, hi, np):
    """Every float32 in [lo, hi] (lo < 0 < hi allowed)."""
    pos = np.arange(0, int(np.array(hi, np.float32).view(np.int32)) + 1, dtype=np.int64).astype(np.int32)
    neg = np.arange(int(np.array(-0.0, np.float32).view(np.int32) & 0x7FFFFFFF) + 1,
                    int(np.array(-lo, np.float32).view(np.int32)) + 1, dtype=np.int64).astype(np.int32)
    return np.concatenate([-(neg.view(np.float32)), pos.view(np.float32)])


def sec_hswish(tf, keras, np, stride):
    log("## hard_swish (keras Activation('hard_swish')) and the SE gate relu6(x+3)*(1/6)")
    x = all_floats(-4.0, 4.0, np)[::max(1, stride) * 8]
    x = np.concatenate([x, np.random.default_rng(2).normal(0, 4, 1 << 20).astype(np.float32)])
    act = keras.layers.Activation("hard_swish")
    got = act(tf.constant(x)).numpy()
    got_g = tf.function(lambda t: act(t))(tf.constant(x)).numpy()
    log("  %d inputs (every %d-th float in [-4,4] + 1M N(0,4)); eager vs tf.function: %s"
        % (x.size, max(1, stride) * 8, "bit-identical" if np.array_equal(got, got_g) else
           "DIFFER (%.4f%%)" % (100 * np.mean(got != got_g))))
    c = np.minimum(np.maximum(x + np.float32(3), np.float32(0)), np.float32(6))
    sixth = np.float32(1.0 / 6.0)
    for tag, g in (("eager", got), ("tf.function", got_g)):
        log("  %s:" % tag)
        report("x * (c / 6)            [c = relu6(x + 3)]", g, x * (c / np.float32(6)), np, "    ")
        report("(x * c) / 6", g, (x * c) / np.float32(6), np, "    ")
        report("x * (c * f32(1/6))", g, x * (c * sixth), np, "    ")
        report("(x * c) * f32(1/6)", g, (x * c) * sixth, np, "    ")
        xd = ftz(x, np)
        cd = ftz(np.minimum(np.maximum(ftz(xd + np.float32(3), np), np.float32(0)), np.float32(6)), np)
        report("FTZ+DAZ: x * (c / 6)", g, ftz(xd * ftz(cd / np.float32(6), np), np), np, "    ")
        report("FTZ+DAZ: x * (c * f32(1/6))", g, ftz(xd * ftz(cd * sixth, np), np), np, "    ")
        sub = (np.abs(x) < np.float32(1.1754944e-38)) | (np.abs(x * (c / np.float32(6))) < np.float32(1.1754944e-38))
        log("    (%.4f%% of inputs have a subnormal input or result)" % (100 * np.mean(sub)))
        report("x * clip(x/6 + 0.5, 0, 1)  (numpy-backend form)", g,
               x * np.clip(x / np.float32(6) + np.float32(0.5), 0, 1), np, "    ")
    # SE gate as built by keras.applications: ReLU(6.)(x + 3.) * (1./6.)
    inp = keras.Input(shape=(x.size,))
    y = keras.layers.ReLU(6.0)(inp + 3.0) * (1.0 / 6.0)
    m = keras.Model(inp, y)
    gg = m(tf.constant(x[None]), training=False).numpy()[0]
    gp = m.predict(x[None], verbose=0)[0]
    log("  SE gate (functional: ReLU(6.)(x + 3.) * (1./6.)), model call / predict:")
    for tag, g in (("call", gg), ("predict", gp)):
        report("%s: c * f32(1/6)" % tag, g, c * sixth, np, "    ")
        report("%s: c / 6" % tag, g, c / np.float32(6), np, "    ")
        report("%s: fma-free (x+3) rounded then relu6 then *f32(1/6) on f64" % tag, g,
               (c.astype(np.float64) * (1.0 / 6.0)).astype(np.float32), np, "    ")


def sec_rescale(tf, keras, np):
    log("## Rescaling(scale=1/127.5, offset=-1)")
    x = np.concatenate([np.arange(256, dtype=np.float32),
                        np.random.default_rng(3).uniform(0, 255, 1 << 20).astype(np.float32)])
    layer = keras.layers.Rescaling(1.0 / 127.5, offset=-1.0)
    got = layer(tf.constant(x)).numpy()
    got_g = tf.function(lambda t: layer(t))(tf.constant(x)).numpy()
    s = np.float32(1.0 / 127.5)
    log("  scale as float32 = %r (bits %08x); eager vs tf.function: %s"
        % (float(s), int(s.view(np.uint32)), "bit-identical" if np.array_equal(got, got_g) else "DIFFER"))
    for tag, g in (("eager", got), ("tf.function", got_g)):
        report("%s: x*s + (-1) (two roundings)" % tag, g, x * s + np.float32(-1), np)
        report("%s: fma(x, s, -1)" % tag, g, fma(x, s, np.float32(-1), np), np)
        report("%s: x/127.5 - 1" % tag, g, x / np.float32(127.5) - np.float32(1), np)
    report("integers 0..255 only: x*s - 1", got[:256], x[:256] * s + np.float32(-1), np)


def pairwise(v, np):
    """Pairwise (recursive halving) float32 sum over axis 1 of [N, L, C]."""
    while v.shape[1] > 1:
        if v.shape[1] % 2:
            v = np.concatenate([v, np.zeros_like(v[:, :1])], axis=1)
        v = (v[:, 0::2] + v[:, 1::2]).astype(np.float32)
    return v[:, 0]


def sec_pool(tf, keras, np):
    log("## GlobalAveragePooling2D (ops.mean over H, W; NHWC)")
    rng = np.random.default_rng(4)
    for hw in (7, 14, 28, 56, 112):
        C = 96
        x = np.abs(rng.normal(0, 2, (8, hw, hw, C))).astype(np.float32)  # post-activation-like
        layer = keras.layers.GlobalAveragePooling2D(keepdims=True)
        got = layer(tf.constant(x)).numpy().reshape(8, C)
        got_g = tf.function(lambda t: layer(t))(tf.constant(x)).numpy().reshape(8, C)
        v = x.reshape(8, hw * hw, C)
        seq = np.zeros((8, C), np.float32)
        for k in range(hw * hw):
            seq = (seq + v[:, k]).astype(np.float32)
        n = np.float32(hw * hw)
        f64 = v.astype(np.float64).sum(1)
        log("  %dx%d (N=%d), eager vs tf.function %s:" % (hw, hw, hw * hw, "same" if np.array_equal(got, got_g) else "DIFFER"))
        report("sequential f32 sum (h, w order) / N", got, seq / n, np, "    ")
        report("sequential f32 sum * f32(1/N)", got, seq * (np.float32(1) / n), np, "    ")
        report("pairwise f32 sum / N", got, pairwise(v, np) / n, np, "    ")
        report("f64 sum -> f32, / N", got, f64.astype(np.float32) / n, np, "    ")
        report("f64 mean -> f32 (correctly rounded mean)", got, (f64 / (hw * hw)).astype(np.float32), np, "    ")
        # Eigen packet-blocked sums: 4 / 8 / 16 interleaved accumulators over the reduced axis
        for k in (2, 4, 8, 16):
            L = hw * hw
            acc = np.zeros((8, k, C), np.float32)
            for j in range(L - L % k):
                acc[:, j % k] = (acc[:, j % k] + v[:, j]).astype(np.float32)
            tot = pairwise(acc, np)
            for j in range(L - L % k, L):
                tot = (tot + v[:, j]).astype(np.float32)
            report("%d strided accumulators, pairwise combine, tail seq, /N" % k, got, tot / n, np, "    ")


def conv_ref(x, w, stride, order, np, dtype):
    """NHWC conv, 'valid', w HWIO. order: 'cikk' = sum over ci outer, then ky, kx; 'kkci' = ky, kx, ci."""
    N, H, W, Ci = x.shape
    KH, KW, _, Co = w.shape
    Ho, Wo = (H - KH) // stride + 1, (W - KW) // stride + 1
    acc = np.zeros((N, Ho, Wo, Co), dtype)
    terms = [(ci, ky, kx) for ci in range(Ci) for ky in range(KH) for kx in range(KW)] if order == "cikk" else \
            [(ci, ky, kx) for ky in range(KH) for kx in range(KW) for ci in range(Ci)]
    for ci, ky, kx in terms:
        patch = x[:, ky:ky + stride * Ho:stride, kx:kx + stride * Wo:stride, ci].astype(dtype)
        acc = (acc + patch[..., None] * w[ky, kx, ci].astype(dtype)).astype(dtype)
    return acc


def dw_ref(x, w, stride, order, np, dtype):
    N, H, W, C = x.shape
    KH, KW = w.shape[:2]
    Ho, Wo = (H - KH) // stride + 1, (W - KW) // stride + 1
    acc = np.zeros((N, Ho, Wo, C), dtype)
    terms = [(ky, kx) for ky in range(KH) for kx in range(KW)]
    if order == "rev":
        terms = terms[::-1]
    for ky, kx in terms:
        patch = x[:, ky:ky + stride * Ho:stride, kx:kx + stride * Wo:stride, :].astype(dtype)
        if order == "fma":
            acc = fma(patch, w[ky, kx, :, 0], acc, np)
        else:
            acc = (acc + patch * w[ky, kx, :, 0].astype(dtype)).astype(dtype)
    return acc


def sec_conv(tf, keras, np):
    log("## Conv2D / DepthwiseConv2D summation order (no exact match expected)")
    rng = np.random.default_rng(5)
    x = rng.normal(0, 1, (2, 16, 16, 16)).astype(np.float32)
    for name, k, ci, co, stride in (("Conv2D 3x3 16->16", 3, 16, 16, 1), ("Conv2D 1x1 16->72", 1, 16, 72, 1),
                                    ("stem Conv2D 3x3 3->16 s2", 3, 3, 16, 2)):
        xi = x[..., :ci]
        w = rng.normal(0, 0.3, (k, k, ci, co)).astype(np.float32)
        layer = keras.layers.Conv2D(co, k, strides=stride, padding="valid", use_bias=False)
        layer.build(xi.shape)
        layer.set_weights([w])
        got = layer(tf.constant(xi)).numpy()
        got_g = tf.function(lambda t: layer(t))(tf.constant(xi)).numpy()
        log("  %s (eager vs tf.function %s):" % (name, "same" if np.array_equal(got, got_g) else "DIFFER"))
        ref64 = conv_ref(xi, w, stride, "cikk", np, np.float64).astype(np.float32)
        ulp_hist("vs f64 sum rounded", got, ref64, np, "    ")
        ulp_hist("vs sequential f32 (ci, ky, kx)", got, conv_ref(xi, w, stride, "cikk", np, np.float32), np, "    ")
        ulp_hist("vs sequential f32 (ky, kx, ci)", got, conv_ref(xi, w, stride, "kkci", np, np.float32), np, "    ")
    # 1x1 conv with bias on a 1x1 map (SE fc): bias added after the dot product?
    for ci, co in ((96, 24), (576, 144)):
        xv = np.abs(rng.normal(0, 1, (8, 1, 1, ci))).astype(np.float32)
        w = rng.normal(0, 0.1, (1, 1, ci, co)).astype(np.float32)
        b = rng.normal(0, 0.5, co).astype(np.float32)
        layer = keras.layers.Conv2D(co, 1, use_bias=True)
        layer.build(xv.shape)
        layer.set_weights([w, b])
        got = layer(tf.constant(xv)).numpy()
        got_nb = tf.nn.conv2d(tf.constant(xv), w, 1, "VALID").numpy()
        log("  SE-style 1x1 Conv2D+bias on [8,1,1,%d] -> %d:" % (ci, co))
        report("conv(no bias, same kernel) + b (two ops)", got, got_nb + b, np, "    ")
        ulp_hist("vs f64 dot + b rounded once", got,
                 (xv[:, 0, 0].astype(np.float64) @ w[0, 0].astype(np.float64) + b).astype(np.float32)[:, None, None], np, "    ")
        seq = np.zeros((8, co), np.float32)
        for i in range(ci):
            seq = (seq + xv[:, 0, 0, i:i + 1] * w[0, 0, i]).astype(np.float32)
        ulp_hist("vs sequential f32 dot, then + b", got, (seq + b)[:, None, None], np, "    ")
        seqb = np.broadcast_to(b, (8, co)).astype(np.float32).copy()
        for i in range(ci):
            seqb = (seqb + xv[:, 0, 0, i:i + 1] * w[0, 0, i]).astype(np.float32)
        ulp_hist("vs sequential f32 starting from b", got, seqb[:, None, None], np, "    ")
    # depthwise
    for k in (3, 5):
        C = 72
        xd = rng.normal(0, 1, (2, 14, 14, C)).astype(np.float32)
        w = rng.normal(0, 0.3, (k, k, C, 1)).astype(np.float32)
        layer = keras.layers.DepthwiseConv2D(k, padding="valid", use_bias=False)
        layer.build(xd.shape)
        layer.set_weights([w])
        got = layer(tf.constant(xd)).numpy()
        got_g = tf.function(lambda t: layer(t))(tf.constant(xd)).numpy()
        log("  DepthwiseConv2D %dx%d C=%d (eager vs tf.function %s):" % (k, k, C, "same" if np.array_equal(got, got_g) else "DIFFER"))
        report("sequential f32 (ky, kx), mul then add", got, dw_ref(xd, w, 1, "seq", np, np.float32), np, "    ")
        report("sequential (ky, kx) with fma", got, dw_ref(xd, w, 1, "fma", np, np.float32), np, "    ")
        report("reverse order (kx, ky descending)", got, dw_ref(xd, w, 1, "rev", np, np.float32), np, "    ")
        ulp_hist("vs f64 sum rounded", got, dw_ref(xd, w, 1, "seq", np, np.float64).astype(np.float32), np, "    ")


def sec_softmax(tf, keras, np):
    log("## softmax (keras Activation('softmax') -> tf.nn.softmax), rows of 1000 logits")
    rng = np.random.default_rng(6)
    z = rng.normal(0, 3, (256, 1000)).astype(np.float32)
    got = keras.layers.Activation("softmax")(tf.constant(z)).numpy()
    e_tf = tf.math.exp(tf.constant(z - z.max(1, keepdims=True))).numpy()
    e_cr = np.exp((z - z.max(1, keepdims=True)).astype(np.float64)).astype(np.float32)
    report("tf.math.exp(f32) vs correctly rounded exp", e_tf, e_cr, np)
    for en, e in (("tf exp", e_tf), ("correctly rounded exp", e_cr)):
        s_seq = np.zeros(256, np.float32)
        for j in range(1000):
            s_seq = (s_seq + e[:, j]).astype(np.float32)
        s64 = e.astype(np.float64).sum(1).astype(np.float32)
        report("e/sum, %s, sequential sum" % en, got, e / s_seq[:, None], np)
        report("e/sum, %s, f64 sum rounded" % en, got, e / s64[:, None], np)
        report("e*(1/sum), %s, f64 sum rounded" % en, got, e * (np.float32(1) / s64)[:, None], np)
    ulp_hist("softmax vs f64 softmax rounded", got,
             (np.exp(z.astype(np.float64) - z.max(1, keepdims=True)) /
              np.exp(z.astype(np.float64) - z.max(1, keepdims=True)).sum(1, keepdims=True)).astype(np.float32), np)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--section", nargs="+", choices=SECTIONS, default=list(SECTIONS))
    ap.add_argument("--onednn", choices=("on", "off"), default="on")
    ap.add_argument("--stride", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0)
    a = ap.parse_args(argv)
    os.environ["TF_ENABLE_ONEDNN_OPTS"] = "1" if a.onednn == "on" else "0"
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    os.environ.setdefault("CUDA_VISIBLE_DEVICES", "")
    import numpy as np
    import tensorflow as tf
    import keras
    if a.threads:
        tf.config.threading.set_intra_op_parallelism_threads(a.threads)
        tf.config.threading.set_inter_op_parallelism_threads(a.threads)
    np.seterr(all="ignore")
    log("tf_numerics: onednn %s, sections %s" % (a.onednn, " ".join(a.section)))
    helper = None
    for s in a.section:
        if s == "env":
            sec_env(tf, keras, np)
        elif s == "rsqrt":
            sec_rsqrt(tf, keras, np, a.stride)
        elif s == "bn":
            if helper is None:
                helper = load_helper(np) or False
            sec_bn(tf, keras, np, helper)
        elif s == "hswish":
            sec_hswish(tf, keras, np, a.stride)
        elif s == "rescale":
            sec_rescale(tf, keras, np)
        elif s == "pool":
            sec_pool(tf, keras, np)
        elif s == "conv":
            sec_conv(tf, keras, np)
        elif s == "softmax":
            sec_softmax(tf, keras, np)
    return 0


if __name__ == "__main__":
    sys.exit(main())
