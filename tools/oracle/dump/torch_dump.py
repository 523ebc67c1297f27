#!/usr/bin/env python3
"""Live PyTorch oracle: run torchvision's MobileNetV3-Small and dump every
intermediate activation under the project's canonical names.

Usage (after tools/oracle/setup.sh):

  .venv-oracle/bin/python tools/oracle/dump/torch_dump.py \
      --weights W.pth|W.safetensors --input X.npy --out ACTS.npz \
      [--threads N] [--mkldnn on|off] [--layout nchw|nhwc]

  .venv-oracle/bin/python tools/oracle/dump/torch_dump.py --list [--classes C]
      print the canonical-name -> torchvision-module table and exit

Weights are a torchvision state_dict (torch.save .pth, or .safetensors read
with numpy; both through common/weights.py).  With `classifier.3.weight` of C
rows the model has a C-class head; with no `classifier.*` keys it is a backbone
whose output is the pooled 576 features.  `*.num_batches_tracked` may be absent (unused in eval mode).

The npz (np.savez, uncompressed) holds only float32 arrays, one per tap, keyed
by canonical name in execution order, each with batch dim N.  Versions and
settings go to stderr.
"""

import argparse
import os
import sys

import numpy as np
import torch
import torchvision
from torch import nn
from torchvision.ops.misc import Conv2dNormActivation, SqueezeExcitation

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import weights  # noqa: E402

EXPECTED_TAPS_BACKBONE = 153
EXPECTED_TAPS_HEAD = EXPECTED_TAPS_BACKBONE + 3


def die(msg):
    print("torch_dump: error: " + msg, file=sys.stderr)
    sys.exit(2)


def log(msg):
    print("torch_dump: " + msg, file=sys.stderr)


def load_weights(path):
    """The state dict in path; a file that cannot be read ends the script."""
    try:
        return weights.torch_state_dict(path)
    except weights.WeightsError as e:
        die(str(e))


def build_model(sd):
    """Return (model, num_classes or 0 for backbone)."""
    try:
        classes = weights.torch_classes(sd)
    except weights.WeightsError as e:
        die(str(e))
    model = torchvision.models.mobilenet_v3_small(weights=None, num_classes=classes or 1000)
    model.eval()
    try:
        res = model.load_state_dict(sd, strict=False)
    except RuntimeError as e:  # shape mismatches are raised even with strict=False
        die("state dict does not fit mobilenet_v3_small(num_classes=%d): %s" % (classes or 1000, e))
    # (torch itself fills in absent num_batches_tracked for unversioned dicts)
    missing = [k for k in res.missing_keys if not k.endswith(".num_batches_tracked")]
    nbt = len(res.missing_keys) - len(missing)
    if classes == 0:
        bad_missing = [k for k in missing if not k.startswith("classifier.")]
    else:
        bad_missing = missing
    if bad_missing or res.unexpected_keys:
        die("state dict does not match mobilenet_v3_small(num_classes=%d): missing %s, unexpected %s"
            % (classes or 1000, bad_missing, list(res.unexpected_keys)))
    if nbt:
        log("note: %d num_batches_tracked keys absent (unused in eval mode)" % nbt)
    if classes == 0:
        model.classifier = nn.Identity()
    return model, classes


# --------------------------------------------------------------------------
# Canonical names, derived from the module tree


def _cna_taps(prefix, cna, with_act=True):
    assert isinstance(cna, Conv2dNormActivation), (prefix, type(cna))
    assert isinstance(cna[0], nn.Conv2d) and isinstance(cna[1], nn.BatchNorm2d), prefix
    taps = [(prefix + ".conv", cna[0]), (prefix + ".bn", cna[1])]
    if with_act:
        assert len(cna) == 3, "%s: expected conv/bn/act" % prefix
        taps.append((prefix + ".act", cna[2]))
    else:
        assert len(cna) == 2, "%s: expected conv/bn only" % prefix
    return taps


def canonical_taps(model, with_head):
    """List of (canonical name, module, torchvision qualified name); 'input' has module None."""
    qual = {m: n for n, m in model.named_modules()}
    taps = [("input", None)]
    feats = model.features
    assert len(feats) == 13, "expected 13 feature stages, got %d" % len(feats)
    taps += _cna_taps("stem", feats[0])
    for i in range(11):
        ir = feats[i + 1]
        p = "b%d" % i
        subs = list(ir.block)
        dw_idx = [k for k, m in enumerate(subs) if isinstance(m, Conv2dNormActivation)
                  and m[0].groups > 1 and m[0].groups == m[0].in_channels]
        assert len(dw_idx) == 1, "%s: expected exactly one depthwise conv" % p
        dw_idx = dw_idx[0]
        assert dw_idx in (0, 1), p
        for k, m in enumerate(subs):
            if k < dw_idx:
                assert m[0].kernel_size == (1, 1) and m[0].groups == 1, p
                taps += _cna_taps(p + ".expand", m)
            elif k == dw_idx:
                taps += _cna_taps(p + ".dw", m)
            elif isinstance(m, SqueezeExcitation):
                taps += [(p + ".se.pool", m.avgpool), (p + ".se.fc1", m.fc1),
                         (p + ".se.relu", m.activation), (p + ".se.fc2", m.fc2),
                         (p + ".se.gate", m.scale_activation), (p + ".se.scale", m)]
            elif k == len(subs) - 1:
                assert m[0].kernel_size == (1, 1) and m[0].groups == 1, p
                taps += _cna_taps(p + ".project", m, with_act=False)
            else:
                raise AssertionError("%s: unexpected sub-module %d %s" % (p, k, type(m).__name__))
        conv_dw = subs[dw_idx][0]
        res = conv_dw.stride == (1, 1) and ir.block[0][0].in_channels == subs[-1][0].out_channels
        assert bool(ir.use_res_connect) == res, p
        if res:
            taps.append((p + ".add", ir))
    taps += _cna_taps("last", feats[12])
    taps.append(("pool", model.avgpool))
    if with_head:
        c = model.classifier
        assert isinstance(c[0], nn.Linear) and isinstance(c[2], nn.Dropout) and isinstance(c[3], nn.Linear)
        taps += [("head.fc1", c[0]), ("head.act", c[1]), ("head.fc2", c[3])]
    expected = EXPECTED_TAPS_HEAD if with_head else EXPECTED_TAPS_BACKBONE
    assert len(taps) == expected, "tap count %d != expected %d" % (len(taps), expected)
    names = [t[0] for t in taps]
    assert len(set(names)) == len(names), "duplicate canonical names"
    mods = [t[1] for t in taps[1:]]
    assert len(set(map(id, mods))) == len(mods), "module tapped twice"
    return [(n, m, "(input)" if m is None else qual[m]) for n, m in taps]


# --------------------------------------------------------------------------


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--weights")
    ap.add_argument("--input")
    ap.add_argument("--out")
    ap.add_argument("--threads", type=int, default=0, help="torch.set_num_threads (default: torch's)")
    ap.add_argument("--mkldnn", choices=("on", "off"), default="on")
    ap.add_argument("--layout", choices=("nchw", "nhwc"), default="nchw")
    ap.add_argument("--list", action="store_true", help="print the tap table and exit")
    ap.add_argument("--classes", type=int, default=1000, help="with --list: 0 = backbone")
    a = ap.parse_args(argv)

    if a.list:
        model = torchvision.models.mobilenet_v3_small(weights=None, num_classes=a.classes or 1000)
        for n, _, q in canonical_taps(model, a.classes > 0):
            print("%-20s %s" % (n, q))
        return 0
    for opt in ("weights", "input", "out"):
        if getattr(a, opt) is None:
            ap.error("--%s is required" % opt)

    if a.threads < 0:
        die("--threads must be >= 1")
    if a.threads:
        torch.set_num_threads(a.threads)
    torch.backends.mkldnn.enabled = (a.mkldnn == "on")
    torch.manual_seed(0)
    torch.use_deterministic_algorithms(True)

    sd = load_weights(a.weights)
    model, classes = build_model(sd)

    try:
        x = np.load(a.input, allow_pickle=False)
    except (OSError, ValueError) as e:
        die("%s: cannot read npy: %s" % (a.input, e))
    if x.dtype.kind != "f" or x.dtype.itemsize != 4:  # float32 of either byte order
        die("%s: dtype %s, expected float32" % (a.input, x.dtype))
    if x.ndim != 4:
        die("%s: shape %s, expected 4-D" % (a.input, x.shape))
    if a.layout == "nhwc":
        x = x.transpose(0, 3, 1, 2)
    x = np.ascontiguousarray(x, dtype=np.float32)
    if x.shape[1] != 3:
        die("input has %d channels (layout %s), expected 3" % (x.shape[1], a.layout))
    n = x.shape[0]

    taps = canonical_taps(model, classes > 0)
    acts = {}
    order = []

    def make_hook(name):
        def hook(_mod, _inp, out):
            # clone at once: later in-place ops (ReLU(inplace), Hardswish(inplace),
            # `result += input`) would overwrite the tensor.
            if name in acts:
                raise RuntimeError("module for %s ran twice" % name)
            acts[name] = out.detach().to(torch.float32).clone().numpy()
            order.append(name)
        return hook

    handles = [m.register_forward_hook(make_hook(nm)) for nm, m, _ in taps if m is not None]
    xt = torch.from_numpy(x.copy())
    with torch.no_grad():
        y = model(xt)
    for h in handles:
        h.remove()

    expect_order = [nm for nm, m, _ in taps if m is not None]
    if order != expect_order:
        die("hooks fired out of canonical order: %s" % [(p, q) for p, q in zip(order, expect_order) if p != q][:5])
    final = order[-1]
    if not np.array_equal(acts[final].reshape(n, -1), y.numpy().reshape(n, -1)):
        die("last tap %s differs from model output" % final)

    out = {"input": x}
    for nm in expect_order:
        arr = acts[nm]
        assert arr.dtype == np.float32 and arr.shape[0] == n, nm
        out[nm] = np.ascontiguousarray(arr)
    out_dir = os.path.dirname(os.path.abspath(a.out))
    os.makedirs(out_dir, exist_ok=True)
    # np.savez: ZIP_STORED, forced zip64 entries, .npy v1 members; zipfile stamps
    # members 1980-01-01, so identical runs give byte-identical files.
    with open(a.out, "wb") as f:  # file object: np.savez must not append ".npz"
        np.savez(f, **out)

    log("torch %s torchvision %s numpy %s" % (torch.__version__, torchvision.__version__, np.__version__))
    log("threads %d mkldnn %s (available %s) layout %s"
        % (torch.get_num_threads(), "on" if torch.backends.mkldnn.enabled else "off",
           torch.backends.mkldnn.is_available(), a.layout))
    log("model %s, input %s, output %s, %d taps -> %s"
        % ("head %d classes" % classes if classes else "backbone (576 pooled features)",
           list(x.shape), list(y.shape), len(out), a.out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
