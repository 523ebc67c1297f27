"""One peer of the mnv3 benchmark, measured in this process; prints one JSON line.

  python bench_peers.py --peer P --dir WORK [--runs 200] [--batch 32] [--batch-runs 10]
                        [--threads 1,2] [--size 224]

P: torch | torch-jit | onnxruntime | openvino | ncnn | litert (run with .venv-bench)
   tensorflow (run with .venv-tf).
WORK holds the model files bench/bench_all.py prepared from one set of weights:
  w.pth (torchvision state_dict), w.onnx (torch.onnx.export of the same model),
  w.ncnn.param/.bin (pnnx from w.onnx), w.weights.h5 (Keras 3, `mnv3 convert`),
  w.tflite (TFLiteConverter from that Keras model).
Per thread count: load (read + prepare the model), latency at batch 1 (median of
--runs after 10 warm-up runs), throughput at --batch (median of --batch-runs).
Peak RSS is this process's maximum resident set (all thread counts)."""

import argparse
import json
import os
import resource
import statistics
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import weights  # noqa: E402  (numpy only)


def measure(infer, x1, xb, runs, batch_runs):
    for _ in range(10):
        infer(x1)
    times = []
    for _ in range(runs):
        t = time.perf_counter()
        infer(x1)
        times.append(time.perf_counter() - t)
    infer(xb)
    btimes = []
    for _ in range(batch_runs):
        t = time.perf_counter()
        infer(xb)
        btimes.append(time.perf_counter() - t)
    return {"latency_ms": statistics.median(times) * 1e3, "latency_min_ms": min(times) * 1e3,
            "throughput_ips": len(xb) / statistics.median(btimes)}


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def make_inputs(np, size, batch, nhwc, pixels):
    rng = np.random.default_rng(11)
    x = rng.uniform(-2.1, 2.6, size=(batch, 3, size, size)).astype(np.float32)
    if pixels:
        x = ((x + 2.1) * 54.0).astype(np.float32)
    if nhwc:
        x = np.ascontiguousarray(x.transpose(0, 2, 3, 1))
    return x[:1].copy(), x


def peer_torch(a, threads, jit=False):
    import numpy as np
    import torch
    import torchvision
    torch.set_num_threads(threads)
    t = time.perf_counter()
    m = torchvision.models.mobilenet_v3_small()
    m.load_state_dict(weights.torch_state_dict(os.path.join(a.dir, "w.pth")))
    m.eval()
    x1, xb = make_inputs(np, a.size, a.batch, False, False)
    x1, xb = torch.from_numpy(x1), torch.from_numpy(xb)
    if jit:
        with torch.no_grad():
            m = torch.jit.freeze(torch.jit.trace(m, x1))
    load = time.perf_counter() - t

    def infer(x):
        with torch.no_grad():
            return m(x)
    r = measure(infer, x1, xb, a.runs, a.batch_runs)
    r["load_ms"] = load * 1e3
    r["version"] = torch.__version__
    return r


def peer_onnxruntime(a, threads):
    import numpy as np
    import onnxruntime as ort
    t = time.perf_counter()
    so = ort.SessionOptions()
    so.intra_op_num_threads = threads
    so.inter_op_num_threads = 1
    so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    s = ort.InferenceSession(os.path.join(a.dir, "w.onnx"), so, providers=["CPUExecutionProvider"])
    load = time.perf_counter() - t
    name = s.get_inputs()[0].name
    x1, xb = make_inputs(np, a.size, a.batch, False, False)
    r = measure(lambda x: s.run(None, {name: x}), x1, xb, a.runs, a.batch_runs)
    r["load_ms"] = load * 1e3
    r["version"] = ort.__version__
    return r


def peer_openvino(a, threads):
    import numpy as np
    import openvino as ov
    t = time.perf_counter()
    core = ov.Core()
    model = core.read_model(os.path.join(a.dir, "w.onnx"))
    model.reshape([-1, 3, a.size, a.size])
    cfg = {"INFERENCE_NUM_THREADS": threads, "PERFORMANCE_HINT": "LATENCY",
           "INFERENCE_PRECISION_HINT": "f32"}
    c = core.compile_model(model, "CPU", cfg)
    req = c.create_infer_request()
    load = time.perf_counter() - t
    x1, xb = make_inputs(np, a.size, a.batch, False, False)
    r = measure(lambda x: req.infer({0: x}), x1, xb, a.runs, a.batch_runs)
    r["load_ms"] = load * 1e3
    r["version"] = ov.__version__
    return r


def peer_ncnn(a, threads):
    import numpy as np
    import ncnn
    t = time.perf_counter()
    net = ncnn.Net()
    net.opt.num_threads = threads
    net.opt.use_fp16_packed = False
    net.opt.use_fp16_storage = False
    net.opt.use_fp16_arithmetic = False
    net.opt.use_bf16_storage = False
    net.load_param(os.path.join(a.dir, "w.ncnn.param"))
    net.load_model(os.path.join(a.dir, "w.ncnn.bin"))
    load = time.perf_counter() - t
    in_name, out_name = net.input_names()[0], net.output_names()[0]
    x1, xb = make_inputs(np, a.size, a.batch, False, False)

    def infer(x):  # ncnn has no batch dimension: one image at a time
        for i in range(len(x)):
            ex = net.create_extractor()
            ex.input(in_name, ncnn.Mat(x[i]))
            ex.extract(out_name)
    r = measure(infer, x1, xb, a.runs, a.batch_runs)
    r["load_ms"] = load * 1e3
    r["version"] = ncnn.__version__
    return r


def peer_litert(a, threads):
    import numpy as np
    from ai_edge_litert.interpreter import Interpreter
    import ai_edge_litert
    t = time.perf_counter()
    path = os.path.join(a.dir, "w.tflite")
    it1 = Interpreter(model_path=path, num_threads=threads)  # XNNPACK delegate by default
    it1.allocate_tensors()
    load = time.perf_counter() - t
    itb = Interpreter(model_path=path, num_threads=threads)
    inp = itb.get_input_details()[0]["index"]
    itb.resize_tensor_input(inp, [a.batch, a.size, a.size, 3])
    itb.allocate_tensors()
    x1, xb = make_inputs(np, a.size, a.batch, True, True)

    def infer(x):
        it = it1 if len(x) == 1 else itb
        it.set_tensor(it.get_input_details()[0]["index"], x)
        it.invoke()
        return it.get_tensor(it.get_output_details()[0]["index"])
    r = measure(infer, x1, xb, a.runs, a.batch_runs)
    r["load_ms"] = load * 1e3
    r["version"] = getattr(ai_edge_litert, "__version__", "?")
    return r


def peer_tensorflow(a, threads):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import numpy as np
    import tensorflow as tf
    tf.config.threading.set_intra_op_parallelism_threads(threads)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    import keras
    t = time.perf_counter()
    m = keras.applications.MobileNetV3Small(weights=None, input_shape=(a.size, a.size, 3),
                                            classes=1000, include_preprocessing=True)
    weights.load_keras_weights(m, os.path.join(a.dir, "w.weights.h5"))
    f = tf.function(lambda x: m(x, training=False), jit_compile=False)
    x1, xb = make_inputs(np, a.size, a.batch, True, True)
    f(tf.constant(x1))
    load = time.perf_counter() - t
    r = measure(lambda x: f(tf.constant(x)).numpy(), x1, xb, a.runs, a.batch_runs)
    r["load_ms"] = load * 1e3
    r["version"] = tf.__version__
    return r


PEERS = {"torch": peer_torch, "torch-jit": lambda a, t: peer_torch(a, t, jit=True),
         "onnxruntime": peer_onnxruntime, "openvino": peer_openvino, "ncnn": peer_ncnn,
         "litert": peer_litert, "tensorflow": peer_tensorflow}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--peer", required=True, choices=sorted(PEERS))
    ap.add_argument("--dir", required=True)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--batch-runs", type=int, default=10)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--size", type=int, default=224)
    a = ap.parse_args()
    results = []
    # tensorflow fixes its thread pools once per process: one count per process
    counts = [int(t) for t in a.threads.split(",")]
    for threads in counts:
        r = PEERS[a.peer](a, threads)
        r["threads"] = threads
        r["batch"] = a.batch
        results.append(r)
    print(json.dumps({"engine": a.peer, "results": results, "peak_rss_mb": peak_rss_mb()}))


if __name__ == "__main__":
    sys.exit(main())
