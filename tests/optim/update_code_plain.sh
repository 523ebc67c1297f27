#!/bin/sh
# The optimizer updates read plain rule fields only: no framework name and no
# factor option in src/train/optim.c (the resolver is src/train/optim_rule.c).
#   update_code_plain.sh REPO_ROOT
cd "$1" || exit 2
hits=$(grep -inwE 'torch|pytorch|keras|tf|tensorflow|aten|eigen|python|litert|tflite' src/train/optim.c;
       grep -nE 'MNV3_FACTOR_|MNV3_OPTIM_(SGD|ADAM|RMSPROP|WEIGHT_DECAY|SCALARS|DEFAULTS)_|MNV3_LR_SCHEDULE_|->option\[' src/train/optim.c)
if [ -n "$hits" ]; then echo "FAIL: src/train/optim.c names a framework or reads an option:"; echo "$hits"; exit 1; fi
echo "optimizer update code plain: ok"
