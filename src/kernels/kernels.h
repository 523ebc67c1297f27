/* The kernel interface. A kernel set is a table of functions; the reference
 * set is plain, deterministic C (single thread, fixed summation order), and a
 * fast set can replace it without touching models or profiles.
 *
 * Kernels read only the plain per-op fields of mnv3_exec_op below: which
 * formula, which summation order, where the bias enters. The plan
 * (src/core/plan.c) resolves every factor option of a profile into these
 * fields once; no kernel knows which framework or profile it serves. */
#ifndef MNV3_KERNELS_H
#define MNV3_KERNELS_H

#include <limits.h>

#include "core/graph.h"

/* Activation formulas, c = min(max(x + 3, 0), 6). */
enum mnv3_hardsigmoid_formula {
    MNV3_HSIG_DIV6,        /* c / 6 */
    MNV3_HSIG_MUL_RECIP6,  /* c * f32(1/6) */
    MNV3_HSIG_MUL_0_16667, /* c * f32(0.16667) */
    MNV3_HSIG_COUNT
};
enum mnv3_hardswish_formula {
    MNV3_HSWISH_XC_DIV6,        /* (x * c) / 6 */
    MNV3_HSWISH_X_MUL_C_DIV6,   /* x * (c / 6) */
    MNV3_HSWISH_X_MUL_C_RECIP6, /* x * (c * f32(1/6)) */
    MNV3_HSWISH_XC_MUL_RECIP6,  /* (x * c) * f32(1/6) */
    MNV3_HSWISH_X_MUL_CLAMP_FMA, /* x * clamp(fma(x, f32(1/6), 0.5), 0, 1) */
    MNV3_HSWISH_COUNT
};
/* Inference BatchNorm y from x with a = w * rsqrt(var + eps). */
enum mnv3_bn_apply {
    MNV3_BN_APPLY_FMA,            /* y = fma(x, a, fma(-mean, a, b)) */
    MNV3_BN_APPLY_MUL_ADD,        /* y = x * a + (b - mean * a) */
    MNV3_BN_APPLY_SUBTRACT_FIRST  /* y = (x - mean) * a + b */
};
enum mnv3_rsqrt_method {
    MNV3_RSQRT_DIVIDE,          /* 1 / sqrtf(v), correctly rounded steps */
    MNV3_RSQRT_ESTIMATE_NEWTON  /* the CPU's rsqrt estimate and one Newton step */
};
/* Global average pooling: the order of the sum before dividing by H * W. */
enum mnv3_pool_order {
    MNV3_POOL_ORDER_SEQUENTIAL, /* left to right */
    MNV3_POOL_ORDER_PAIRWISE,   /* pairwise (tree) */
    MNV3_POOL_ORDER_CASCADE8    /* 8-lane vectors, cascaded row sums, scalar tail first */
};

/* Training BatchNorm (src/bnlab; the backward pass reads the same fields). */
enum mnv3_bn_batch_stats {
    MNV3_BN_STATS_DOUBLE_SUMS,       /* double sums in order; float channels-last sums for 1x1 maps */
    MNV3_BN_STATS_QUAD_SUM_DIVIDE,      /* four accumulators from 16 rows on, sum / count */
    MNV3_BN_STATS_QUAD_SUM_TIMES_INVERSE /* the same sums, times 1 / count */
};
enum mnv3_bn_train_apply {
    MNV3_BN_TRAIN_FMA_DOUBLE_INVSTD,      /* invstd in double, fma(x, a, fma(-mean, a, b)) */
    MNV3_BN_TRAIN_MUL_ADD_ESTIMATE,       /* rsqrt estimate on 8-channel packets, x * a + shift */
    MNV3_BN_TRAIN_SUBTRACT_FIRST_ESTIMATE /* the same a, (x - mean) * a + b */
};
enum mnv3_bn_update {
    MNV3_BN_UPDATE_BATCH_WEIGHT,     /* m weights the batch; variance update in double; counts batches */
    MNV3_BN_UPDATE_OLD_WEIGHT,       /* m weights the old value: r * m + batch * (1 - m) */
    MNV3_BN_UPDATE_OLD_WEIGHT_FACTOR /* f = 1 - m: (1 - f) * r + (f * adjust) * batch */
};

/* Backward formulas of the activations (src/train/backward.c). */
enum mnv3_hardswish_grad {
    MNV3_HSWISH_GRAD_CLOSED_AFFINE, /* x < -3: 0; x <= 3: dy * (x / 3 + 0.5); else dy */
    MNV3_HSWISH_GRAD_OPEN_AFFINE,   /* x <= -3: 0; x < 3: dy * (x / 3 + 0.5); else dy */
    MNV3_HSWISH_GRAD_PRODUCT_RULE   /* dy * h(x) + relu6'(x + 3) * (dy * x) / 6, h the forward's hard-sigmoid */
};
enum mnv3_hardsigmoid_grad {
    MNV3_HSIG_GRAD_TIMES_RECIP6,   /* -3 < x < 3: dy * f32(1/6), else 0 */
    MNV3_HSIG_GRAD_FORWARD_FORMULA /* relu6'(x + 3) times the forward's 1/6 step applied to dy */
};

/* One op ready to run: graph op + shapes + padding + resolved numerics. */
typedef struct mnv3_exec_op {
    const mnv3_op *op;
    mnv3_shape in, in2, out;
    int pad_top, pad_left, pad_bottom, pad_right;
    /* k x k convolutions: for batches of at least this many samples the sum
     * runs kernel row, column, then input channel with fused multiply-adds;
     * for smaller ones input channel, row, column with multiply then add
     * (1: always fused; INT_MAX: never). See mnv3_conv_sums_fused. */
    int conv_fused_from_batch;
    int pointwise_fma;  /* 1x1 convolutions and linear layers: fmaf, else multiply, add */
    int bias_first;     /* the bias starts the sum, else it is added after it */
    int bn_apply;       /* enum mnv3_bn_apply */
    int bn_rsqrt;       /* enum mnv3_rsqrt_method */
    int hardsigmoid, hardswish; /* formulas */
    int pool_order;     /* enum mnv3_pool_order */
    int f64;            /* accumulate in float64, round once per output */
    /* training BatchNorm */
    int bn_batch_stats, bn_train_apply, bn_update; /* the enums above */
    int bn_refuse_single_value; /* one value per channel is an error */
    int bn_update_unbiased;     /* the running variance takes the unbiased batch variance */
    /* backward */
    int hardswish_grad, hardsigmoid_grad; /* enum mnv3_hardswish_grad / mnv3_hardsigmoid_grad */
} mnv3_exec_op;

/* Does a k x k convolution of this op run the fused order for this batch? */
static inline int mnv3_conv_sums_fused(const mnv3_exec_op *e, int batch) {
    return batch >= e->conv_fused_from_batch;
}

/* batch: samples in this run (some frameworks pick kernels by batch size). */
typedef void (*mnv3_kernel_fn)(const mnv3_exec_op *e, int batch, const float *in,
                               const float *in2, float *out, double *scratch);

typedef struct mnv3_kernel_set {
    const char *name;
    mnv3_kernel_fn fn[MNV3_OP_KIND_COUNT];
} mnv3_kernel_set;

const mnv3_kernel_set *mnv3_reference_kernels(void);

/* Scalar formulas, shared by every kernel set and the per-op tests. */
float mnv3_rsqrt_estimate_newton(float a);
float mnv3_hardsigmoid(float x, int formula);
float mnv3_hardswish(float x, int formula);
/* The sum of one channel's plane in the order of the op's pool_order: the
 * global pool, and the backward pass's sums over a plane. */
float mnv3_plane_sum(const mnv3_exec_op *e, const float *x, size_t n);
/* Inference BatchNorm of channel c as y = x * a + shift (bn_apply FMA and
 * MUL_ADD; SUBTRACT_FIRST uses a with the op's mean and bias). The one place
 * BatchNorm coefficients are computed. */
void mnv3_bn_coefficients(const mnv3_exec_op *e, int c, float *a, float *shift);

#endif
