"""Shared helper for tools/oracle/numerics/torch_order_*.py: run torchvision mobilenet_v3_small with
the genuine feature weights on a random input and return the inputs of the ops under study.

model_taps(seed, size, batch) -> list of (name, tensor):
  '<se>.pool_in'  [N,C,H,W]  input of SqueezeExcitation.avgpool (in-place hardswish output)
  '<se>.fc1_in'   [N,C,1,1]  input of SE fc1  (= pooled)
  '<se>.fc2_in'   [N,C/4,1,1] input of SE fc2 (after ReLU)
  'avgpool.pool_in' [N,576,H,W]
  'classifier.0_in' [N,576], 'classifier.3_in' [N,1024]
and the modules via model_modules() cache.
"""
import os
import sys

import numpy as np
import torch
import torchvision

ORACLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ORACLE)
from common import weights  # noqa: E402

# ../shared beside the repository, as the live tests find it
WEIGHTS = os.path.join(ORACLE, "..", "..", "..", "shared", "models",
                       "torchvision_mnv3_small_features_imagenet.pth")
_cache = {}


def get_model():
    if "m" not in _cache:
        torch.manual_seed(0)
        m = torchvision.models.mobilenet_v3_small()
        sd = weights.torch_state_dict(WEIGHTS)
        missing, unexpected = m.load_state_dict(sd, strict=False)
        assert not unexpected, unexpected
        m.eval()
        _cache["m"] = m
    return _cache["m"]


def model_taps(seed=1, size=224, batch=1):
    m = get_model()
    taps = []
    mods = {}
    hooks = []
    from torchvision.ops.misc import SqueezeExcitation
    for name, mod in m.named_modules():
        if isinstance(mod, SqueezeExcitation):
            for sub in ("avgpool", "fc1", "fc2"):
                tag = "%s.%s" % (name, {"avgpool": "pool_in", "fc1": "fc1_in", "fc2": "fc2_in"}[sub])
                mods[tag] = getattr(mod, sub)
                hooks.append(getattr(mod, sub).register_forward_pre_hook(
                    lambda mm, inp, tag=tag: taps.append((tag, inp[0].detach().clone()))))
    for tag, mod in (("avgpool.pool_in", m.avgpool), ("classifier.0_in", m.classifier[0]),
                     ("classifier.3_in", m.classifier[3])):
        mods[tag] = mod
        hooks.append(mod.register_forward_pre_hook(
            lambda mm, inp, tag=tag: taps.append((tag, inp[0].detach().clone()))))
    rng = np.random.default_rng(seed)
    x = torch.from_numpy(rng.standard_normal((batch, 3, size, size)).astype(np.float32))
    with torch.no_grad():
        m(x)
    for h in hooks:
        h.remove()
    _cache["mods"] = mods
    return taps


def tap_module(tag):
    return _cache["mods"][tag]
