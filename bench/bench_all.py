#!/usr/bin/env python3
"""mnv3 against its peers, in one run, on one set of weights.

  python3 bench/bench_all.py --build BUILD_DIR [--work DIR] [--runs 200] [--batch 32]
         [--batch-runs 10] [--rounds 3] [--profiles litert,torch,torch+pointwise=fma]
         [--peers torch,torch-jit,onnxruntime,openvino,ncnn,litert,tensorflow] [--json OUT.json]

Weights: `mnv3 synth --seed 3 --classes 1000` (seeded synthetic torchvision
MobileNetV3-Small with its 1000-class head). From them: w.pth (tools/oracle/fixtures/to_pth.py),
w.onnx (torch.onnx.export, Debian torch 1.13, opset 13), w.ncnn.* (pnnx from w.onnx),
w.weights.h5 (`mnv3 convert`, Keras 3 names), w.tflite (TFLiteConverter from that
Keras model, .venv-tf). Keras/LiteRT run Keras's MobileNetV3Small graph (in-model
Rescaling, 1x1-conv head): same weights, same arithmetic count.
Environments: .venv-bench (bench/setup.sh) for torch, onnxruntime, openvino, ncnn,
LiteRT; .venv-tf for TensorFlow. Every engine runs in its own process (own peak RSS).
mnv3 runs once per profile (--profiles, each optionally with +factor=option switches;
litert: LiteRT's arithmetic on the converter's w.tflite; torch: PyTorch's, bit for bit;
torch+pointwise=fma: the same with fused multiply-adds in 1x1 convolutions and linear layers).
Rounds are interleaved (every engine once per round) and each figure is the
median over rounds, because this machine is shared and its speed drifts.
Ratios are peer / mnv3 (first profile): above 1 means mnv3 is faster (or smaller)."""

import argparse
import json
import os
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH_PY = os.path.join(ROOT, ".venv-bench", "bin", "python")
TF_PY = os.path.join(ROOT, ".venv-tf", "bin", "python")
ORACLE_PY = os.path.join(ROOT, ".venv-oracle", "bin", "python")
PEERS_SCRIPT = os.path.join(ROOT, "tools", "oracle", "bench", "bench_peers.py")

ONNX_EXPORT = r"""
import sys, torch, torchvision
m = torchvision.models.mobilenet_v3_small()
m.load_state_dict(torch.load(sys.argv[1])); m.eval()
x = torch.zeros(1, 3, int(sys.argv[3]), int(sys.argv[3]))
torch.onnx.export(m, x, sys.argv[2], opset_version=13, input_names=["input"],
                  output_names=["logits"], dynamic_axes={"input": {0: "n"}, "logits": {0: "n"}})
"""

TFLITE_CONVERT = os.path.join(ROOT, "tools", "oracle", "fixtures", "keras_to_tflite.py")


def sh(cmd, **kw):
    print("+ " + " ".join(cmd), file=sys.stderr)
    return subprocess.run(cmd, check=True, **kw)


def prepare(a, work):
    mnv3 = os.path.join(a.build, "mnv3")
    w = lambda name: os.path.join(work, name)
    if not os.path.exists(w("w.safetensors")):
        sh([mnv3, "synth", "--seed", "3", "--classes", "1000", "--out", w("w.safetensors")],
           stdout=subprocess.DEVNULL)
    notes = {}
    steps = [
        ("w.pth", [ORACLE_PY if os.path.exists(ORACLE_PY) else BENCH_PY,
                   os.path.join(ROOT, "tools", "oracle", "fixtures", "to_pth.py"), w("w.safetensors"), w("w.pth")]),
        ("w.onnx", [BENCH_PY, "-c", ONNX_EXPORT, w("w.pth"), w("w.onnx"), str(a.size)]),
        ("w.ncnn.param", [os.path.join(ROOT, ".venv-bench", "bin", "pnnx"), w("w.onnx"),
                          f"inputshape=[1,3,{a.size},{a.size}]"]),
        ("w.weights.h5", [mnv3, "convert", w("w.safetensors"), w("w.weights.h5"), "--quiet"]),
        ("w.tflite", [TF_PY, TFLITE_CONVERT, w("w.weights.h5"), w("w.tflite"), str(a.size)]),
    ]
    for out, cmd in steps:
        if os.path.exists(w(out)):
            continue
        try:
            sh(cmd, cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except (subprocess.CalledProcessError, FileNotFoundError) as e:
            err = getattr(e, "stderr", b"") or b""
            notes[out] = f"could not make {out}: {e}; {err.decode(errors='replace')[-400:]}"
            print(notes[out], file=sys.stderr)
    return notes


def run_json(cmd):
    print("+ " + " ".join(cmd), file=sys.stderr)
    p = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    if p.returncode != 0:
        return None, p.stderr[-600:]
    line = [l for l in p.stdout.splitlines() if l.startswith("{")][-1]
    return json.loads(line), None


def median(v):
    v = sorted(x for x in v if x is not None)
    if not v:
        return None
    n = len(v)
    return v[n // 2] if n % 2 else 0.5 * (v[n // 2 - 1] + v[n // 2])


def merge_rounds(rounds):
    """One row from several rounds of one engine: per thread count, the median
    over rounds of each round's median latency / throughput / load time."""
    out = []
    for threads in sorted({r["threads"] for rr in rounds for r in rr}):
        rs = [r for rr in rounds for r in rr if r["threads"] == threads]
        m = dict(rs[0])
        for key in ("latency_ms", "throughput_ips", "load_ms"):
            m[key] = median([r.get(key) for r in rs])
        m["latency_rounds_ms"] = [r.get("latency_ms") for r in rs]
        m["latency_best_round_ms"] = min(v for v in m["latency_rounds_ms"] if v is not None)
        out.append(m)
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--build", required=True, help="build dir with mnv3 and bench/mnv3_bench")
    ap.add_argument("--work", default=None)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--batch-runs", type=int, default=10)
    ap.add_argument("--size", type=int, default=224)
    ap.add_argument("--profiles", default="litert,torch,torch+pointwise=fma",
                    help="mnv3 rows, one per profile, each optionally with +factor=option "
                         "switches; ratios are to the first")
    ap.add_argument("--rounds", type=int, default=3,
                    help="every engine runs once per round, rounds interleaved, so a busy spell "
                         "of this shared machine hits all engines alike; medians over rounds")
    ap.add_argument("--peers", default="torch,torch-jit,onnxruntime,openvino,ncnn,litert,tensorflow")
    ap.add_argument("--json", default=None)
    a = ap.parse_args()
    a.build = os.path.abspath(a.build)  # commands also run inside the work dir
    work = a.work or tempfile.mkdtemp(prefix="mnv3-bench-")
    os.makedirs(work, exist_ok=True)
    notes = prepare(a, work)
    common = ["--runs", str(a.runs), "--batch", str(a.batch), "--batch-runs", str(a.batch_runs),
              "--size", str(a.size)]
    profiles = [p for p in a.profiles.split(",") if p]
    peers = [p for p in a.peers.split(",") if p]
    raw = {}    # engine -> list of per-round result lists
    meta = {}   # engine -> (peak RSS, note)
    peak_gmacs = peak_mul_add = 0.0
    w_tflite = os.path.join(work, "w.tflite")
    for rnd in range(a.rounds):
        print(f"round {rnd + 1} of {a.rounds}", file=sys.stderr)
        for prof in profiles:
            name = "mnv3 " + prof
            pname, *sets = prof.split("+")
            # litert runs the converter's own file (BatchNorm folded by TFLite), as LiteRT does
            wfile = "w.tflite" if pname == "litert" and os.path.exists(w_tflite) else "w.safetensors"
            cmd = [os.path.join(a.build, "bench", "mnv3_bench"), "--weights", os.path.join(work, wfile),
                   "--profile", pname, "--json"] + common
            for st in sets:
                cmd += ["--set", st]
            mn, err = run_json(cmd)
            if not mn:
                sys.exit("mnv3_bench failed: " + err)
            peak_gmacs = max(peak_gmacs, mn.get("peak_gmacs_per_core", 0.0))
            peak_mul_add = max(peak_mul_add, mn.get("peak_mul_add_gmacs_per_core", 0.0))
            raw.setdefault(name, []).append(mn["results"])
            rss = max(r["peak_rss_mb"] for r in mn["results"])
            meta[name] = (max(rss, meta.get(name, (0, ""))[0]),
                          f"{mn['results'][0]['kernels']}, {wfile}, arena {mn['results'][0]['arena_bytes']} B")
        for peer in peers:
            py = TF_PY if peer == "tensorflow" else BENCH_PY
            results, peak, errs = [], 0.0, []
            for t in (1, 2):  # one process per thread count (TF fixes its pools at start)
                r, err = run_json([py, PEERS_SCRIPT, "--peer", peer, "--dir", work, "--threads", str(t)]
                                  + common)
                if r:
                    results += r["results"]
                    peak = max(peak, r["peak_rss_mb"])
                else:
                    errs.append(err)
            if results:
                raw.setdefault(peer, []).append(results)
            note = results[0].get("version", "") if results else "failed: " + " | ".join(errs)
            meta[peer] = (max(peak, meta.get(peer, (0, ""))[0]), note)
    rows = {name: {"results": merge_rounds(rr), "peak_rss_mb": meta[name][0], "note": meta[name][1]}
            for name, rr in raw.items()}
    for peer in peers:
        if peer not in rows:
            rows[peer] = {"results": [], "peak_rss_mb": meta.get(peer, (0, ""))[0],
                          "note": meta.get(peer, (0, "failed"))[1]}

    def get(row, threads, key):
        for r in row["results"]:
            if r["threads"] == threads:
                return r.get(key)
        return None

    base = rows["mnv3 " + profiles[0]]
    hdr = (f"{'engine':26s} {'lat 1T ms':>10s} {'x':>6s} {'lat 2T ms':>10s} {'x':>6s} "
           f"{'b{0} 1T img/s'.format(a.batch):>13s} {'x':>6s} {'b{0} 2T img/s'.format(a.batch):>13s} {'x':>6s} "
           f"{'load ms':>8s} {'RSS MB':>7s}  note")
    print(hdr)
    for name, row in rows.items():
        cells = []
        for threads in (1, 2):
            v, b = get(row, threads, "latency_ms"), get(base, threads, "latency_ms")
            cells += [f"{v:10.3f}" if v else f"{'-':>10s}", f"{v / b:6.2f}" if v and b else f"{'-':>6s}"]
        for threads in (1, 2):
            v, b = get(row, threads, "throughput_ips"), get(base, threads, "throughput_ips")
            cells += [f"{v:13.1f}" if v else f"{'-':>13s}", f"{b / v:6.2f}" if v and b else f"{'-':>6s}"]
        load = get(row, 1, "load_ms")
        print(f"{name:26s} " + " ".join(cells) + f" {load if load else 0:8.1f} {row['peak_rss_mb']:7.1f}  {row['note']}")
    print()
    print(f"{'engine':26s} {'best round':>10s}  batch 1: the quietest round's median latency, ms")
    print(f"{'':26s} {'1T':>10s} {'x':>6s} {'2T':>10s} {'x':>6s}")
    for name, row in rows.items():
        cells = []
        for threads in (1, 2):
            v, b = get(row, threads, "latency_best_round_ms"), get(base, threads, "latency_best_round_ms")
            cells += [f"{v:10.3f}" if v else f"{'-':>10s}", f"{v / b:6.2f}" if v and b else f"{'-':>6s}"]
        print(f"{name:26s} " + " ".join(cells))
    # paired: each round's ratio to mnv3 in the same round, then the median over rounds
    # (this machine drifts between rounds; within a round every engine sees the same spell)
    print()
    print(f"{'engine':26s} {'paired x':>10s}  median over rounds of (engine / mnv3 {profiles[0]}, "
          f"same round), batch 1 latency")
    print(f"{'':26s} {'1T':>10s} {'2T':>10s}")
    for name, row in rows.items():
        cells = []
        for threads in (1, 2):
            v, b = get(row, threads, "latency_rounds_ms"), get(base, threads, "latency_rounds_ms")
            ratios = [x / y for x, y in zip(v, b) if x and y] if v and b and len(v) == len(b) else []
            row.setdefault("paired_ratio", {})[threads] = median(ratios) if ratios else None
            cells.append(f"{median(ratios):10.3f}" if ratios else f"{'-':>10s}")
        print(f"{name:26s} " + " ".join(cells))
    for k, v in notes.items():
        print(f"note: {v}")
    print(f"medians over {a.rounds} interleaved round(s) of {a.runs} runs (batch 1) / {a.batch_runs} "
          f"runs (batch {a.batch}); x: peer / mnv3 {profiles[0]} for latency, mnv3 {profiles[0]} / peer "
          f"for throughput (above 1: mnv3 ahead); work dir {work}")
    if peak_gmacs:
        macs = get(base, 1, "macs")
        line = (f"machine: one core's measured peak {peak_gmacs:.1f} GMAC/s with fma, "
                f"{peak_mul_add:.1f} with multiply + add")
        if macs:
            for name, row in rows.items():
                if name.startswith("mnv3") or name in ("litert", "onnxruntime"):
                    lat1, lat2 = get(row, 1, "latency_ms"), get(row, 2, "latency_ms")
                    if lat1 and lat2:
                        g1, g2 = macs / lat1 * 1e-6, macs / lat2 * 1e-6
                        line += (f"; {name}: {g1:.1f} GMAC/s 1T ({100 * g1 / peak_gmacs:.0f}%), "
                                 f"{g2:.1f} 2T ({100 * g2 / (2 * peak_gmacs):.0f}%)")
        print(line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"rows": rows, "notes": notes, "peak_gmacs_per_core": peak_gmacs,
                       "peak_mul_add_gmacs_per_core": peak_mul_add,
                       "rounds": a.rounds}, f, indent=1)


if __name__ == "__main__":
    main()
