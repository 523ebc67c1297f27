"""Generates the small uint8 TFLite models of tests/int8 with the flatbuffer
object API that TensorFlow ships (tensorflow.lite.python.schema_py_generated):
tiny_uint8.tflite uses every op of the TF-slim uint8 MobileNetV3 (CONV_2D with
RELU6, HARD_SWISH, DEPTHWISE_CONV_2D, AVERAGE_POOL_2D, the SE gate as
ADD(+const) then MUL(const), a broadcast MUL, a residual ADD, RESHAPE,
SOFTMAX), seeded; the bad_*.tflite files are copies with one quantization
parameter spoiled, for the hostile-file test. Run with the TensorFlow venv:
    ../../.venv-tf/bin/python make_tiny_uint8.py"""
import copy
import os

import flatbuffers
import numpy as np
from tensorflow.lite.python import schema_py_generated as S

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(15)


class Builder:
    def __init__(self):
        self.m = S.ModelT()
        self.m.version = 3
        self.m.operatorCodes, self.m.buffers = [], [S.BufferT()]
        self.sg = S.SubGraphT()
        self.sg.tensors, self.sg.operators = [], []
        self.m.subgraphs = [self.sg]
        self.codes = {}

    def tensor(self, name, shape, dtype, scale=None, zp=None, data=None, qdim=0):
        t = S.TensorT()
        t.name, t.shape, t.type = name, list(shape), dtype
        if scale is not None:
            q = S.QuantizationParametersT()
            q.scale = list(np.atleast_1d(np.float32(scale)).astype(float))
            q.zeroPoint = list(np.atleast_1d(zp).astype(int))
            q.quantizedDimension = qdim
            t.quantization = q
        t.buffer = 0
        if data is not None:
            b = S.BufferT()
            b.data = np.frombuffer(np.ascontiguousarray(data).tobytes(), np.uint8)
            self.m.buffers.append(b)
            t.buffer = len(self.m.buffers) - 1
        self.sg.tensors.append(t)
        return len(self.sg.tensors) - 1

    def act(self, name, shape, scale, zp):
        return self.tensor(name, shape, S.TensorType.UINT8, scale, zp)

    def op(self, code, inputs, outputs, opt_type=0, opt=None):
        if code not in self.codes:
            c = S.OperatorCodeT()
            c.builtinCode, c.deprecatedBuiltinCode, c.version = code, min(code, 127), 1
            self.m.operatorCodes.append(c)
            self.codes[code] = len(self.m.operatorCodes) - 1
        o = S.OperatorT()
        o.opcodeIndex, o.inputs, o.outputs = self.codes[code], inputs, outputs
        o.builtinOptionsType, o.builtinOptions = opt_type, opt
        self.sg.operators.append(o)

    def save(self, path, model=None):
        b = flatbuffers.Builder(1024)
        b.Finish((model or self.m).Pack(b), file_identifier=b"TFL3")
        with open(path, "wb") as f:
            f.write(b.Output())


def weights(shape):
    return rng.integers(0, 256, shape, dtype=np.uint8)


def conv(B, x, xs, name, cout, k, stride, act, out_scale, out_zp, dw=False):
    cin = B.sg.tensors[x].shape[3]
    ws, wzp = float(rng.uniform(0.004, 0.02)), int(rng.integers(100, 156))
    wshape = (1, k, k, cin) if dw else (cout, k, k, cin)
    w = B.tensor(name + "/w", wshape, S.TensorType.UINT8, ws, wzp, weights(wshape))
    bs = np.float32(np.float32(xs) * np.float32(ws))
    bias = B.tensor(name + "/b", (cout,), S.TensorType.INT32, bs, 0,
                    rng.integers(-2000, 2000, cout).astype("<i4"))
    h, wd = B.sg.tensors[x].shape[1:3]
    oh = (h + stride - 1) // stride
    y = B.act(name, (1, oh, (wd + stride - 1) // stride, cout), out_scale, out_zp)
    if dw:
        o = S.DepthwiseConv2DOptionsT()
        o.padding, o.strideW, o.strideH, o.depthMultiplier, o.fusedActivationFunction = 0, stride, stride, 1, act
        B.op(S.BuiltinOperator.DEPTHWISE_CONV_2D, [x, w, bias], [y], S.BuiltinOptions.DepthwiseConv2DOptions, o)
    else:
        o = S.Conv2DOptionsT()
        o.padding, o.strideW, o.strideH, o.fusedActivationFunction = 0, stride, stride, act
        B.op(S.BuiltinOperator.CONV_2D, [x, w, bias], [y], S.BuiltinOptions.Conv2DOptions, o)
    return y


def pool(B, x, name, scale, zp):
    n, h, w, c = B.sg.tensors[x].shape
    y = B.act(name, (1, 1, 1, c), scale, zp)
    o = S.Pool2DOptionsT()
    o.padding, o.strideW, o.strideH, o.filterWidth, o.filterHeight = 1, 1, 1, w, h
    B.op(S.BuiltinOperator.AVERAGE_POOL_2D, [x], [y], S.BuiltinOptions.Pool2DOptions, o)
    return y


def binary(B, code, a, b, name, shape, scale, zp):
    y = B.act(name, shape, scale, zp)
    if code == S.BuiltinOperator.ADD:
        B.op(code, [a, b], [y], S.BuiltinOptions.AddOptions, S.AddOptionsT())
    else:
        B.op(code, [a, b], [y], S.BuiltinOptions.MulOptions, S.MulOptionsT())
    return y


def build():
    B = Builder()
    x = B.act("input", (1, 8, 8, 3), 1 / 127, 128)
    B.sg.inputs = [x]
    c1 = conv(B, x, 1 / 127, "conv1", 8, 3, 2, S.ActivationFunctionType.RELU6, 0.0371093750, 0)
    hs = B.act("hswish", (1, 4, 4, 8), 0.03, 9)
    B.op(S.BuiltinOperator.HARD_SWISH, [c1], [hs], S.BuiltinOptions.HardSwishOptions, S.HardSwishOptionsT())
    dw = conv(B, hs, 0.03, "dw", 8, 3, 1, S.ActivationFunctionType.NONE, 0.05, 120, dw=True)
    p = pool(B, dw, "se/pool", 0.05, 120)
    f = conv(B, p, 0.05, "se/fc", 8, 1, 1, S.ActivationFunctionType.RELU6, 6 / 255, 0)
    three = B.tensor("se/three", (1,), S.TensorType.UINT8, 0.0235, 0, np.array([128], np.uint8))
    a = binary(B, S.BuiltinOperator.ADD, f, three, "se/add", (1, 1, 1, 8), 9 / 255, 0)
    k = B.tensor("se/sixth", (1,), S.TensorType.UINT8, 0.00065, 0, np.array([255], np.uint8))
    g = binary(B, S.BuiltinOperator.MUL, a, k, "se/gate", (1, 1, 1, 8), 1 / 255, 0)
    m = binary(B, S.BuiltinOperator.MUL, dw, g, "se/mul", (1, 4, 4, 8), 0.045, 118)
    r = binary(B, S.BuiltinOperator.ADD, m, hs, "residual", (1, 4, 4, 8), 0.06, 60)
    p2 = pool(B, r, "pool", 0.06, 60)
    head = conv(B, p2, 0.06, "head", 10, 1, 1, S.ActivationFunctionType.NONE, 0.1, 130)
    shape = B.tensor("shape", (2,), S.TensorType.INT32, data=np.array([1, 10], "<i4"))
    flat = B.act("flat", (1, 10), 0.1, 130)
    o = S.ReshapeOptionsT()
    o.newShape = [1, 10]
    B.op(S.BuiltinOperator.RESHAPE, [head, shape], [flat], S.BuiltinOptions.ReshapeOptions, o)
    sm = B.act("softmax", (1, 10), 1 / 256, 0)
    o = S.SoftmaxOptionsT()
    o.beta = 1.0
    B.op(S.BuiltinOperator.SOFTMAX, [flat], [sm], S.BuiltinOptions.SoftmaxOptions, o)
    B.sg.outputs = [sm]
    return B


def spoil(B, name, fn):
    m = copy.deepcopy(B.m)
    t = next(t for t in m.subgraphs[0].tensors if t.name == name)
    fn(t.quantization)
    return m


def main():
    B = build()
    B.save(os.path.join(HERE, "tiny_uint8.tflite"))
    bad = {
        "bad_scale_zero": ("hswish", lambda q: setattr(q, "scale", [0.0])),
        "bad_scale_negative": ("hswish", lambda q: setattr(q, "scale", [-0.03])),
        "bad_scale_nan": ("hswish", lambda q: setattr(q, "scale", [float("nan")])),
        "bad_scale_inf": ("hswish", lambda q: setattr(q, "scale", [float("inf")])),
        "bad_zero_point": ("hswish", lambda q: setattr(q, "zeroPoint", [256])),
        "bad_per_channel_length": ("conv1/w", lambda q: (setattr(q, "scale", q.scale * 3),
                                                         setattr(q, "zeroPoint", q.zeroPoint * 3))),
        "bad_multiplier_overflow": ("conv1", lambda q: setattr(q, "scale", [1e-30])),
    }
    for name, (tensor, fn) in bad.items():
        B.save(os.path.join(HERE, name + ".tflite"), spoil(B, tensor, fn))


if __name__ == "__main__":
    main()
