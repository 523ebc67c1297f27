#!/usr/bin/env python3
"""Golden fixtures of tests/int8_models, and their live check (docs/int8-models.md).

  .venv-tf/bin/python tests/int8_models/fixtures.py write   rewrites small_int8.tflite,
      expected.npz (LiteRT XNNPACK / built-in / reference and TFLite Micro outputs on two
      seeded int8 inputs, numpy default_rng(15), and their arena), tflm_refusal.txt
  .venv-tf/bin/python tests/int8_models/fixtures.py check [SHARED_MODELS_DIR]
      regenerates the small model with the converter and compares bytes, reruns the four
      runtimes on the fixture, and checks TFLM's refusal of the uint8 TF-slim model.
Exit 0 pass, 1 fail. The refusal is printed by TFLM's C++ on stderr, so it runs in a child.
"""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", ".."))
INT8 = os.path.join(ROOT, "tools", "oracle", "int8")
sys.path.insert(0, INT8)
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
import numpy as np  # noqa: E402

MODEL = os.path.join(HERE, "small_int8.tflite")
EXPECTED = os.path.join(HERE, "expected.npz")
REFUSAL = os.path.join(HERE, "tflm_refusal.txt")
UINT8 = "tfslim_mnv3_small_224_uint8.tflite"


def seeded_inputs():
    return np.random.default_rng(15).integers(-128, 128, (2, 64, 64, 3)).astype(np.int8)


def quiet_make():
    """make_int8_model.make('small') with the converter's stdout (its endpoint listing) muted."""
    import make_int8_model as mk
    sys.stdout.flush()
    saved = os.dup(1)
    with open(os.devnull, "w") as null:
        os.dup2(null.fileno(), 1)
        try:
            return mk.make("small")[0]
        finally:
            sys.stdout.flush()
            os.dup2(saved, 1)
            os.close(saved)


def outputs(path):
    import runtime_diffs as rd
    import tflm_run
    x = seeded_inputs()
    res = {k: rd.run_litert(path, k, x, [])["output"] for k in rd.RESOLVERS}
    blob = open(path, "rb").read()
    res["tflm"] = tflm_run.tflm_outputs(blob, x)["output"]
    res["tflm_arena_min"] = np.array(tflm_run.arena_min(blob))
    return res


def refusal(models_dir):
    """TFLM's stderr lines for the uint8 model, from a child process."""
    code = ("import sys; sys.path.insert(0, %r); import tflm_run\n"
            "try:\n tflm_run._interp(open(%r, 'rb').read())\nexcept RuntimeError as e:\n"
            " sys.stderr.flush(); print('RuntimeError: %%s' %% e, file=sys.stderr)\n"
            % (INT8, os.path.join(models_dir, UINT8)))
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    return "".join(line + "\n" for line in p.stderr.splitlines()
                   if "TFLite Micro" in line or "failed to prepare" in line or line.startswith("RuntimeError"))


def main():
    mode = sys.argv[1] if len(sys.argv) > 1 else ""
    models = sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "..", "shared", "models")
    if mode == "write":
        blob = quiet_make()
        open(MODEL, "wb").write(blob)
        np.savez(EXPECTED, **outputs(MODEL))
        open(REFUSAL, "w").write(refusal(models))
        print("wrote %s (%d bytes), %s, %s" % (MODEL, len(blob), EXPECTED, REFUSAL))
        return 0
    if mode != "check":
        sys.exit(__doc__)
    fail = 0
    blob = quiet_make()
    want = open(MODEL, "rb").read()
    if blob != want:
        print("FAIL: regenerated small model differs from the fixture (%d vs %d bytes)" % (len(blob), len(want)))
        fail = 1
    else:
        print("ok: the converter regenerates small_int8.tflite byte for byte (%d bytes)" % len(blob))
    exp = np.load(EXPECTED)
    got = outputs(MODEL)
    for k in exp.files:
        n = int(np.count_nonzero(exp[k] != got[k]))
        print("%s: %s %d of %d elements differ from expected.npz" % ("ok" if n == 0 else "FAIL", k, n, exp[k].size))
        fail |= n != 0
    for a, b in (("ref", "tflm"),):
        n = int(np.count_nonzero(got[a] != got[b]))
        print("%s: %s vs %s: %d of %d outputs differ" % ("ok" if n == 0 else "FAIL", a, b, n, got[a].size))
        fail |= n != 0
    r = refusal(models)
    want_r = open(REFUSAL).read()
    if r != want_r:
        print("FAIL: TFLM refusal of %s changed:\n%s--- recorded:\n%s" % (UINT8, r, want_r))
        fail = 1
    else:
        print("ok: TFLM refuses %s: %s" % (UINT8, r.splitlines()[0]))
    return fail


if __name__ == "__main__":
    sys.exit(main())
