/* The kernel interface. A kernel set is a table of functions; the reference
 * set is plain, deterministic C (single thread, fixed summation order), and a
 * fast set can replace it without touching models or profiles. Kernels get
 * resolved factor options in mnv3_exec_op, never a framework name. */
#ifndef MNV3_KERNELS_H
#define MNV3_KERNELS_H

#include "core/graph.h"

/* One op ready to run: graph op + shapes + padding + factor options. */
typedef struct mnv3_exec_op {
    const mnv3_op *op;
    mnv3_shape in, in2, out;
    int pad_top, pad_left, pad_bottom, pad_right;
    int opt_hardsigmoid, opt_hardswish, opt_batchnorm, opt_conv_order, opt_pointwise, opt_bias, opt_pool_sum,
        opt_rescale;
    int f64;   /* accumulate in float64, round once */
    int batch; /* samples in this run: some frameworks pick kernels by batch size */
} mnv3_exec_op;

typedef void (*mnv3_kernel_fn)(const mnv3_exec_op *e, const float *in, const float *in2,
                               float *out, double *scratch);

typedef struct mnv3_kernel_set {
    const char *name;
    mnv3_kernel_fn fn[MNV3_OP_KIND_COUNT];
} mnv3_kernel_set;

const mnv3_kernel_set *mnv3_reference_kernels(void);

/* Scalar formulas, shared by every kernel set and the per-op tests. */
/* TensorFlow's CPU rsqrt: the hardware estimate plus one Newton step (batchnorm=tf_rsqrt). */
float mnv3_tf_rsqrt(float a);
float mnv3_hardsigmoid(float x, int option);
float mnv3_hardswish(float x, int option);

#endif
