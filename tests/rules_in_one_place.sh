#!/bin/bash
# Frameworks differ in one place: each rule is resolved by one function of the
# plan (src/core/plan.c) from the factor table (src/factors), and nothing that
# runs ops (kernels, runtime, BatchNorm lab) names a framework or reads an option.
#   tests/rules_in_one_place.sh REPO_ROOT
set -u
cd "$1" || exit 2
fail=0
bad() { echo "FAIL: $1"; printf '%s\n' "$2" | sed 's/^/    /'; fail=1; }
src_c() { git ls-files 'src/*.c' 'src/*.h' 2>/dev/null || find src -name '*.[ch]'; }
runners=$(src_c | grep -E '^src/(kernels|runtime|bnlab)/|^src/core/session\.c$')

# 1. ATen's convolution-order choice (20480 input values): the plan only.
hits=$(src_c | xargs grep -n '20480' | grep -vE '^src/core/plan\.c:|^src/factors/')
[ -z "$hits" ] || bad "the convolution-order rule outside src/core/plan.c" "$hits"
# 2. Bias, BatchNorm, convolution, pooling options: read by the plan alone.
opts='MNV3_(PAD_(SYMMETRIC|TF_SAME|KERAS)|BN_(TORCH_FMA|SCALE_SHIFT|SUBTRACT_FIRST|TF_RSQRT)|CONV_(CI|KY|TORCH)|POINTWISE_|BIAS_|POOL_(SEQUENTIAL|PAIRWISE|ATEN)|ACCUMULATE_|BN_BATCH_STATS_|BN_TRAIN_APPLY_|BN_MOMENTUM_|BN_UPDATE_VARIANCE_)|MNV3_FACTOR_|->option\['
hits=$(echo "$runners" | xargs grep -nE "$opts")
[ -z "$hits" ] || bad "kernels/runtime/bnlab read factor options (use the plan's fields)" "$hits"
# 3. BatchNorm coefficients: one function (mnv3_bn_coefficients).
hits=$(src_c | xargs grep -n 'mnv3_bn_coefficients(const' | grep -v '^src/kernels/kernels\.h:')
[ "$(echo "$hits" | grep -c .)" = 1 ] || bad "mnv3_bn_coefficients is not defined exactly once" "$hits"
hits=$(echo "$runners" | grep -vE '^src/(kernels/reference|bnlab)/' | xargs grep -n 'bn_var')
[ -z "$hits" ] || bad "BatchNorm statistics read outside the coefficient function" "$hits"
# 4. No framework or profile name in kernels and runtime (identifiers, strings, comments).
hits=$(src_c | grep -E '^src/(kernels|runtime)/' |
       xargs grep -inwE 'torch|pytorch|torchvision|keras|tf|tensorflow|litert|tflite|aten|xnnpack|onednn|eigen|timm')
[ -z "$hits" ] || bad "a framework named in src/kernels or src/runtime" "$hits"
if [ $fail = 0 ]; then echo "rules in one place: ok"; fi
exit $fail
