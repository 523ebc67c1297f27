/* Integer reference kernels for quantized (uint8/int8) models: the fixed-point
 * primitives (requantization in its two rounding forms, gemmlowp's
 * saturating high multiplies and exp / reciprocal) and one kernel per
 * operator. Kernels read only the plain fields of mnv3_qexec_op
 * (src/quant/qgraph.h) that the plan filled. */
#ifndef MNV3_KERNELS_INTEGER_H
#define MNV3_KERNELS_INTEGER_H

#include <stdint.h>

#include "quant/qgraph.h"

/* frexp-based quantized multiplier: m ~ q * 2^shift, q in [2^30, 2^31) (q = 0
 * for m = 0 or m < 2^-31, rounding half away from zero). */
void mnv3_quantize_multiplier(double m, int32_t *q, int *shift);
/* x * q * 2^shift, rounded as rounding says (MNV3_QROUND_*). */
int32_t mnv3_requantize(int32_t x, int32_t q, int shift, int rounding);
int32_t mnv3_srdhm32(int32_t a, int32_t b);
int32_t mnv3_rounding_divide_by_pot32(int32_t x, int exponent);

/* Each kernel: e's fields, tensor shapes from g, data from values. */
void mnv3_qk_conv(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values);
void mnv3_qk_depthwise(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values);
void mnv3_qk_add(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values);
void mnv3_qk_mul(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values);
void mnv3_qk_hard_swish(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values);
void mnv3_qk_average_pool(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values);
void mnv3_qk_softmax(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values);

#endif
