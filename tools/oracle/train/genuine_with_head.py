#!/usr/bin/env python3
"""The genuine torchvision backbone with a seeded classifier head, as one
safetensors file: genuine_with_head.py BACKBONE.pth HEAD.safetensors OUT.safetensors
(HEAD: any torchvision-named weights with classifier.*, e.g. `mnv3 synth`)."""
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from common import weights  # noqa: E402

backbone = {k: v.numpy() for k, v in weights.torch_state_dict(sys.argv[1]).items()
            if not k.endswith("num_batches_tracked")}
head = {k: v for k, v in weights.read_safetensors(sys.argv[2]).items() if k.startswith("classifier.")}
if not head:
    sys.exit("genuine_with_head: %s has no classifier.* tensors" % sys.argv[2])
backbone.update(head)
weights.write_safetensors(sys.argv[3], backbone)
