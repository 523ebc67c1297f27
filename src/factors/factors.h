/* The factor table: every way the frameworks differ numerically is one factor
 * here, with named options. Profiles are rows of option choices. The plan
 * (src/core/plan.c) resolves options into plain per-op fields; kernels never
 * see an option or a framework name.
 *
 * Each option enum ends in a _COUNT that src/factors/factors.c checks against
 * its table with a static assertion, and each profile row names every factor
 * (also checked at compile time). */
#ifndef MNV3_FACTORS_H
#define MNV3_FACTORS_H

#include "mnv3.h"
#include "kernels/kernels.h"

enum mnv3_factor {
    /* inference */
    MNV3_FACTOR_PADDING,
    MNV3_FACTOR_HARDSIGMOID,
    MNV3_FACTOR_HARDSWISH,
    MNV3_FACTOR_BATCHNORM,
    MNV3_FACTOR_CONV_ORDER,
    MNV3_FACTOR_POINTWISE,
    MNV3_FACTOR_BIAS,
    MNV3_FACTOR_POOL_SUM,
    MNV3_FACTOR_ACCUMULATE,
    MNV3_FACTOR_INPUT_RESCALE,
    MNV3_FACTOR_OUTPUT,
    MNV3_FACTOR_LAYOUT,
    /* integer (quantized models only; explain/compare on float models skip them) */
    MNV3_FACTOR_REQUANTIZE,
    /* training */
    MNV3_FACTOR_BN_BATCH_STATS,
    MNV3_FACTOR_BN_TRAIN_APPLY,
    MNV3_FACTOR_BN_MOMENTUM,
    MNV3_FACTOR_BN_UPDATE_VARIANCE,
    MNV3_FACTOR_COUNT
};
#define MNV3_FIRST_TRAINING_FACTOR MNV3_FACTOR_BN_BATCH_STATS
#define MNV3_FIRST_INTEGER_FACTOR MNV3_FACTOR_REQUANTIZE
/* 1 for the integer factors (no effect on float models). */
int mnv3_factor_is_integer(int factor);

/* hardsigmoid and hardswish options are the formulas of kernels/kernels.h. */
enum { MNV3_PAD_SYMMETRIC, MNV3_PAD_TF_SAME, MNV3_PAD_KERAS_CORRECT_PAD, MNV3_PAD_COUNT };
enum { MNV3_BN_TORCH_FMA, MNV3_BN_SCALE_SHIFT, MNV3_BN_SUBTRACT_FIRST, MNV3_BN_TF_RSQRT,
       MNV3_BN_COUNT };
enum { MNV3_CONV_CI_KY_KX, MNV3_CONV_KY_KX_CI_FMA, MNV3_CONV_TORCH_CPU, MNV3_CONV_COUNT };
enum { MNV3_POINTWISE_MUL_ADD, MNV3_POINTWISE_FMA, MNV3_POINTWISE_COUNT };
enum { MNV3_BIAS_SEPARATE_ADD, MNV3_BIAS_IN_ACCUMULATOR, MNV3_BIAS_TORCH_CPU, MNV3_BIAS_COUNT };
enum { MNV3_POOL_SEQUENTIAL, MNV3_POOL_PAIRWISE, MNV3_POOL_ATEN_CASCADE8, MNV3_POOL_COUNT };
enum { MNV3_ACCUMULATE_F32, MNV3_ACCUMULATE_F64, MNV3_ACCUMULATE_COUNT };
enum { MNV3_RESCALE_NONE, MNV3_RESCALE_KERAS, MNV3_RESCALE_COUNT };
enum { MNV3_OUTPUT_LOGITS, MNV3_OUTPUT_SOFTMAX, MNV3_OUTPUT_COUNT };
enum { MNV3_REQUANTIZE_DOUBLE_ROUND, MNV3_REQUANTIZE_SINGLE_ROUND, MNV3_REQUANTIZE_COUNT };
enum { MNV3_LAYOUT_NCHW, MNV3_LAYOUT_NHWC, MNV3_LAYOUT_COUNT };
enum { MNV3_BN_BATCH_STATS_ATEN, MNV3_BN_BATCH_STATS_TF_MOMENTS, MNV3_BN_BATCH_STATS_TF_FUSED, MNV3_BN_BATCH_STATS_COUNT };
enum { MNV3_BN_TRAIN_APPLY_TORCH_FMA, MNV3_BN_TRAIN_APPLY_TF_SCALE_SHIFT, MNV3_BN_TRAIN_APPLY_TF_SUBTRACT_FIRST,
       MNV3_BN_TRAIN_APPLY_COUNT };
enum { MNV3_BN_MOMENTUM_TORCH, MNV3_BN_MOMENTUM_KERAS, MNV3_BN_MOMENTUM_TF_FUSED,
       MNV3_BN_MOMENTUM_COUNT };
enum { MNV3_BN_UPDATE_VARIANCE_UNBIASED, MNV3_BN_UPDATE_VARIANCE_BIASED, MNV3_BN_UPDATE_VARIANCE_COUNT };

#endif
