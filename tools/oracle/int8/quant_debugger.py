#!/usr/bin/env python3
"""TFLite's QuantizationDebugger on a converter-made int8 MobileNetV3-Small, per-layer figures.

  .venv-tf/bin/python tools/oracle/int8/quant_debugger.py --kind genuine|seeded|small \
      [--folded F.safetensors | --weights W.weights.h5] [--count N] --out STATS.csv [--json STATS.json] \
      [--resolver builtin|auto]       the debug model's op resolver (default builtin: XNNPACK off)

Same model and calibration data as make_int8_model.py (the converter, optimizations DEFAULT,
the representative dataset; the debugger needs float edges). tf.lite.experimental.
QuantizationDebugger(converter, debug_dataset) runs the debug model, where each quantized op's
output feeds a NumericVerify op with d = dequantize(q) - reference (float32, numeric_verify.cc),
and per sample computes (debugger.py _DEFAULT_LAYER_DEBUG_METRICS):
  num_elements = d.size, stddev = np.std(d), mean_error = np.average(d),
  max_abs_error = max|d|, mean_squared_error = np.average(d**2)
then takes np.nanmean over the samples. Added columns:
  rmse/scale = sqrt(mean_squared_error) / scale   (the TF tutorial's figure; 1/sqrt(12) = 0.2887
               for a well-quantized layer whose error is uniform over one step)
  sqnr_db    = 20 log10(max(||f||, eps) / max(||f - deq(q)||, eps)), ONNX Runtime's
               compute_signal_to_quantization_noice_ratio (qdq_loss_debug.py; eps = float64
               machine epsilon; norms over all samples concatenated), with f the float reference
               tensor and deq(q) = (q - zp) * scale, both as the debug model holds them; computed
               from the per-sample sums sum(f^2) and sum((f - deq(q))^2) (the layer_direct_compare
               hook), whose means over samples have the same ratio as the concatenated sums.
"""
import argparse
import csv
import io
import json
import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import numpy as np  # noqa: E402


def _sum_sq_float(f, q, scale, zp):
    return float(np.sum(np.square(np.asarray(f, np.float64))))


def _sum_sq_diff(f, q, scale, zp):
    deq = (np.asarray(q).astype(np.float32) - np.float32(zp)) * np.float32(scale)
    return float(np.sum(np.square(np.asarray(f, np.float64) - deq.astype(np.float64))))


class _PreservingInterpreterModule:
    """debugger.py builds its interpreter from a converter without
    experimental_preserve_all_tensors (TF 2.21 debugger.py line 299; the path from model files
    sets it when layer_direct_compare_metrics is given), so the float tensors that hook reads
    are overwritten by later ops (non-finite values seen). This stands in for the module the
    debugger calls and sets that flag, and the op resolver: 'builtin'
    (BUILTIN_WITHOUT_DEFAULT_DELEGATES, the default here: XNNPACK refuses the genuine model,
    "failed to create XNNPACK runtime", so the stock debugger cannot run it) or 'auto'."""

    def __init__(self, module, resolver="builtin"):
        self._module = module
        self.resolver = resolver

    def __getattr__(self, name):
        return getattr(self._module, name)

    def Interpreter(self, *args, **kwargs):  # noqa: N802 (the debugger's name)
        kwargs["experimental_preserve_all_tensors"] = True
        if self.resolver == "builtin":
            import tensorflow as tf
            kwargs["experimental_op_resolver_type"] = tf.lite.experimental.OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        return self._module.Interpreter(*args, **kwargs)


def run(kind, folded=None, weights_path=None, count=None, resolver="builtin"):
    import tensorflow as tf
    from tensorflow.lite.tools.optimize.debugging.python import debugger as tf_debugger
    if not isinstance(tf_debugger._interpreter, _PreservingInterpreterModule):
        tf_debugger._interpreter = _PreservingInterpreterModule(tf_debugger._interpreter)
    tf_debugger._interpreter.resolver = resolver
    import make_int8_model as mk
    if kind == "small":
        model, samples = mk.build_small(), mk.seeded_batch(count or 8, mk.SMALL_SIZE)
    else:
        model = mk.build_genuine(folded) if kind == "genuine" else mk.build_seeded(weights_path)
        paths = mk.photo_paths()
        samples = mk.photo_batch(paths[:count] if count else paths, 224)

    def rep():
        for i in range(samples.shape[0]):
            yield [samples[i:i + 1]]
    c = tf.lite.TFLiteConverter.from_keras_model(model)
    c.optimizations = [tf.lite.Optimize.DEFAULT]
    c.representative_dataset = rep
    c.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
    opts = tf.lite.experimental.QuantizationDebugOptions(
        layer_direct_compare_metrics={"sum_sq_float": _sum_sq_float, "sum_sq_diff": _sum_sq_diff})
    dbg = tf.lite.experimental.QuantizationDebugger(converter=c, debug_dataset=rep, debug_options=opts)
    dbg.run()
    buf = io.StringIO()
    dbg.layer_statistics_dump(buf)
    rows = list(csv.DictReader(io.StringIO(buf.getvalue())))
    eps = float(np.finfo("float").eps)
    for r in rows:
        scale = float(r["scale"])
        r["rmse/scale"] = math.sqrt(float(r["mean_squared_error"])) / scale if scale > 0 else float("nan")
        num = max(math.sqrt(float(r["sum_sq_float"])), eps)
        den = max(math.sqrt(float(r["sum_sq_diff"])), eps)
        r["sqnr_db"] = 20.0 * math.log10(num / den)
    return rows, samples.shape[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--kind", required=True, choices=["genuine", "seeded", "small"])
    ap.add_argument("--folded")
    ap.add_argument("--weights")
    ap.add_argument("--count", type=int)
    ap.add_argument("--out", required=True)
    ap.add_argument("--json")
    ap.add_argument("--resolver", default="builtin", choices=["builtin", "auto"])
    a = ap.parse_args()
    rows, n = run(a.kind, a.folded, a.weights, a.count, a.resolver)
    fields = list(rows[0].keys())
    with open(a.out, "w", newline="") as f:
        w = csv.DictWriter(f, fields)
        w.writeheader()
        w.writerows(rows)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"samples": n, "layers": rows}, f, indent=1)
    rs = np.array([float(r["rmse/scale"]) for r in rows])
    sq = np.array([float(r["sqnr_db"]) for r in rows])
    print("%s: %d layers over %d samples; rmse/scale median %.3f (min %.3f max %.3f); SQNR dB median %.1f (min %.1f)"
          % (a.out, len(rows), n, np.nanmedian(rs), np.nanmin(rs), np.nanmax(rs), np.median(sq), sq.min()))


if __name__ == "__main__":
    main()
