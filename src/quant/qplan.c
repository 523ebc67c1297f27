/* The quantized plan: checks every quantization parameter of a mnv3_qgraph
 * and turns the profile's integer factors and each operator's scales into
 * the plain fields of mnv3_qexec_op (offsets, fixed-point multipliers,
 * activation bounds, padding), the way TFLite's Prepare functions compute
 * them (the .cc files under tensorflow/lite/kernels, kernel_util.cc); then runs the
 * integer kernels in file order. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "factors/factors.h"
#include "kernels/integer/integer.h"
#include "quant/qgraph.h"

static const char *const op_names[MNV3_QOP_COUNT] = {
    [MNV3_QOP_CONV_2D] = "CONV_2D", [MNV3_QOP_DEPTHWISE_CONV_2D] = "DEPTHWISE_CONV_2D",
    [MNV3_QOP_ADD] = "ADD", [MNV3_QOP_MUL] = "MUL", [MNV3_QOP_HARD_SWISH] = "HARD_SWISH",
    [MNV3_QOP_AVERAGE_POOL_2D] = "AVERAGE_POOL_2D", [MNV3_QOP_RESHAPE] = "RESHAPE",
    [MNV3_QOP_SOFTMAX] = "SOFTMAX"};

const char *mnv3_qop_name(int kind) {
    return kind >= 0 && kind < MNV3_QOP_COUNT ? op_names[kind] : "OTHER_OP";
}

size_t mnv3_qdtype_size(int dtype) {
    switch (dtype) {
    case MNV3_QT_FLOAT32:
    case MNV3_QT_INT32: return 4;
    case MNV3_QT_UINT8:
    case MNV3_QT_INT8: return 1;
    default: return 0;
    }
}

void mnv3_qgraph_free(mnv3_qgraph *g) {
    if (!g) return;
    for (int i = 0; i < g->n_tensors; i++) {
        free(g->tensors[i].scales);
        free(g->tensors[i].zero_points);
    }
    free(g->tensors);
    free(g->ops);
    free(g);
}

/* ---- parameter checks ------------------------------------------------------ */

static int check_tensor_params(const mnv3_qgraph *g, int i, mnv3_error *err) {
    const mnv3_qtensor *t = &g->tensors[i];
    if (t->n_params == 0) return MNV3_OK;
    int64_t lo = INT32_MIN, hi = INT32_MAX;
    if (t->dtype == MNV3_QT_UINT8) lo = 0, hi = 255;
    if (t->dtype == MNV3_QT_INT8) lo = -128, hi = 127;
    if (t->n_params > 1) {
        int qd = t->quantized_dimension;
        if (qd < 0 || qd >= t->ndim)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, g->label,
                                  "tensor %d '%.80s': quantized_dimension %d of a %d-D tensor", i,
                                  t->name, qd, t->ndim);
        if (t->shape[qd] != t->n_params)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, g->label,
                                  "tensor %d '%.80s': %d per-channel scales for dimension %d of "
                                  "size %d",
                                  i, t->name, t->n_params, qd, (int)t->shape[qd]);
    }
    for (int k = 0; k < t->n_params; k++) {
        float s = t->scales[k];
        if (!isfinite(s) || !(s > 0.0f))
            return mnv3_fail_code(err, isfinite(s) ? MNV3_ERR_FORMAT : MNV3_ERR_NONFINITE,
                                  g->label, "tensor %d '%.80s': scale[%d] = %g (must be finite and > 0)",
                                  i, t->name, k, (double)s);
        if (t->zero_points[k] < lo || t->zero_points[k] > hi)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, g->label,
                                  "tensor %d '%.80s': zero_point[%d] = %lld outside [%lld, %lld] of its dtype",
                                  i, t->name, k, (long long)t->zero_points[k], (long long)lo,
                                  (long long)hi);
    }
    return MNV3_OK;
}

static int fail_op(const mnv3_qgraph *g, int i, mnv3_error *err, const char *what) {
    return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, g->label, "operator %d (%s): %s", i,
                          mnv3_qop_name(g->ops[i].kind), what);
}

/* A multiplier whose fixed-point form does not fit int32 arithmetic. */
static int quantize_checked(const mnv3_qgraph *g, int i, double m, int max_shift, int32_t *q,
                            int32_t *shift, mnv3_error *err) {
    int s;
    if (!isfinite(m) || m < 0)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, g->label,
                              "operator %d (%s): multiplier %g is not finite and >= 0", i,
                              mnv3_qop_name(g->ops[i].kind), m);
    mnv3_quantize_multiplier(m, q, &s);
    if (s > max_shift)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, g->label,
                              "operator %d (%s): multiplier %g overflows (2^%d > 2^%d)", i,
                              mnv3_qop_name(g->ops[i].kind), m, s, max_shift);
    *shift = s;
    return MNV3_OK;
}

/* Each input's trailing dimensions equal the output's or are 1. */
static int broadcastable(const mnv3_qtensor *in, const mnv3_qtensor *out) {
    if (in->ndim > out->ndim) return 0;
    for (int d = 1; d <= in->ndim; d++) {
        int32_t a = in->shape[in->ndim - d], o = out->shape[out->ndim - d];
        if (a != o && a != 1) return 0;
    }
    return 1;
}

static int is_q8(const mnv3_qtensor *t) {
    return (t->dtype == MNV3_QT_UINT8 || t->dtype == MNV3_QT_INT8) && t->n_params >= 1;
}

/* CalculateActivationRangeQuantized: bounds of the fused activation on the
 * output's grid (x / scale in float, rounded half away from zero). */
static int32_t quantize_bound(float x, float s, int32_t zp) {
    float q = roundf(x / s); /* a tiny scale: far outside int32, clamped (the bound is clamped anyway) */
    q = q > 1e9f ? 1e9f : q < -1e9f ? -1e9f : q;
    return zp + (int32_t)q;
}

static void activation_range(const mnv3_qtensor *o, int act, int32_t *lo, int32_t *hi) {
    int32_t qmin = o->dtype == MNV3_QT_INT8 ? -128 : 0, qmax = o->dtype == MNV3_QT_INT8 ? 127 : 255;
    float s = o->scales[0];
    int32_t zp = (int32_t)o->zero_points[0];
#define QUANTIZE(x) quantize_bound((x), s, zp)
    *lo = qmin, *hi = qmax;
    if (act == MNV3_QACT_RELU || act == MNV3_QACT_RELU6) *lo = QUANTIZE(0.0f) > qmin ? QUANTIZE(0.0f) : qmin;
    if (act == MNV3_QACT_RELU6) *hi = QUANTIZE(6.0f) < qmax ? QUANTIZE(6.0f) : qmax;
    if (act == MNV3_QACT_RELU_N1_TO_1) {
        *lo = QUANTIZE(-1.0f) > qmin ? QUANTIZE(-1.0f) : qmin;
        *hi = QUANTIZE(1.0f) < qmax ? QUANTIZE(1.0f) : qmax;
    }
#undef QUANTIZE
}

/* TF 'SAME' padding (ComputePaddingHeightWidth): total / 2 before. */
static int same_pad(int in, int k, int stride, int dilation, int out) {
    int eff = (k - 1) * dilation + 1, total = (out - 1) * stride + eff - in;
    return total > 0 ? total / 2 : 0;
}

static int out_size(int padding, int in, int k, int stride, int dilation) {
    int eff = (k - 1) * dilation + 1;
    return padding == MNV3_QPAD_SAME ? (in + stride - 1) / stride : (in - eff + stride) / stride;
}

/* ADD as one int32 sum: 21-bit multipliers on a shared power-of-two scale
 * (shift = 20 - exponent of the larger scale ratio, kept in [12, 30]). */
static int plan_add_21bit(const mnv3_qgraph *g, int i, mnv3_qexec_op *e, const mnv3_qtensor *t0,
                          const mnv3_qtensor *t1, const mnv3_qtensor *to, mnv3_error *err) {
    float a = t0->scales[0] / to->scales[0], b = t1->scales[0] / to->scales[0];
    float larger = a > b ? a : b;
    if (!(a >= 0x1.0p-10f && b >= 0x1.0p-10f && larger < 0x1.0p+8f))
        return fail_op(g, i, err, "input/output scale ratio outside [2^-10, 2^8) for add_rescale=multipliers_21bit");
    int exponent;
    frexpf(larger, &exponent); /* larger = f * 2^exponent, f in [0.5, 1) */
    int shift = 20 - (exponent - 1);
    e->add_single_sum = 1;
    e->shift = shift;
    e->in0_multiplier = (int32_t)lrintf(ldexpf(a, shift));
    e->in1_multiplier = (int32_t)lrintf(ldexpf(b, shift));
    e->add_bias = -(e->in0_multiplier * (int32_t)t0->zero_points[0] + e->in1_multiplier * (int32_t)t1->zero_points[0]);
    return MNV3_OK;
}

static int plan_op(const mnv3_qgraph *g, int i, int rounding, int refuse_uint8_filters, int add_single_sum,
                   mnv3_qexec_op *e, mnv3_error *err) {
    const mnv3_qop *op = &g->ops[i];
    memset(e, 0, sizeof *e);
    e->kind = op->kind;
    e->rounding = rounding;
    e->in0 = op->inputs[0];
    e->in1 = op->n_inputs > 1 ? op->inputs[1] : -1;
    e->in2 = op->n_inputs > 2 ? op->inputs[2] : -1;
    e->out = op->output;
    if (e->in0 < 0) return fail_op(g, i, err, "first input absent");
    const mnv3_qtensor *t0 = &g->tensors[e->in0], *to = &g->tensors[e->out];
    const mnv3_qtensor *t1 = e->in1 >= 0 ? &g->tensors[e->in1] : NULL;
    if (to->data) return fail_op(g, i, err, "writes a constant tensor");
    if (op->kind == MNV3_QOP_RESHAPE) {
        if (t0->numel != to->numel || t0->dtype != to->dtype)
            return fail_op(g, i, err, "input and output differ in size or dtype");
        return MNV3_OK;
    }
    if (!is_q8(t0) || !is_q8(to)) return fail_op(g, i, err, "input or output is not quantized uint8/int8");
    if (t0->dtype != to->dtype) return fail_op(g, i, err, "input and output dtypes differ");
    if (to->n_params != 1 || t0->n_params != 1)
        return fail_op(g, i, err, "activations must be quantized per tensor");
    e->in0_offset = -(int32_t)t0->zero_points[0];
    e->out_offset = (int32_t)to->zero_points[0];
    activation_range(to, op->fused_act, &e->act_min, &e->act_max);
    double s0 = (double)t0->scales[0], so = (double)to->scales[0];
    switch (op->kind) {
    case MNV3_QOP_CONV_2D:
    case MNV3_QOP_DEPTHWISE_CONV_2D: {
        if (!t1 || !t1->data || t1->dtype != t0->dtype || !is_q8(t1) || t1->ndim != 4 ||
            t0->ndim != 4 || to->ndim != 4)
            return fail_op(g, i, err, "needs a constant 4-D filter of the input's dtype and 4-D tensors");
        if (t1->n_params != 1) return fail_op(g, i, err, "per-channel filter scales (uint8 per-tensor only)");
        if (refuse_uint8_filters && op->kind == MNV3_QOP_CONV_2D && t1->dtype == MNV3_QT_UINT8)
            return fail_op(g, i, err, "Hybrid models are not supported on TFLite Micro.");
        const mnv3_qtensor *tb = e->in2 >= 0 ? &g->tensors[e->in2] : NULL;
        if (tb && (!tb->data || tb->dtype != MNV3_QT_INT32 || tb->numel != (size_t)to->shape[3]))
            return fail_op(g, i, err, "bias must be a constant int32 vector of the output channels");
        int dw = op->kind == MNV3_QOP_DEPTHWISE_CONV_2D;
        int kh = t1->shape[1], kw = t1->shape[2];
        if (op->stride_h < 1 || op->stride_w < 1 || op->dilation_h < 1 || op->dilation_w < 1 ||
            op->stride_h > 64 || op->stride_w > 64 || op->dilation_h > 64 || op->dilation_w > 64)
            return fail_op(g, i, err, "stride or dilation out of range");
        if (dw ? (t1->shape[0] != 1 || op->depth_multiplier < 1 ||
                  (int64_t)t0->shape[3] * op->depth_multiplier != to->shape[3] || t1->shape[3] != to->shape[3])
               : (t1->shape[0] != to->shape[3] || t1->shape[3] != t0->shape[3]))
            return fail_op(g, i, err, "filter, input and output channels disagree");
        if (to->shape[0] != t0->shape[0] ||
            to->shape[1] != out_size(op->padding, t0->shape[1], kh, op->stride_h, op->dilation_h) ||
            to->shape[2] != out_size(op->padding, t0->shape[2], kw, op->stride_w, op->dilation_w))
            return fail_op(g, i, err, "output size disagrees with the padding and stride");
        if ((int64_t)kh * kw * (dw ? 1 : t0->shape[3]) > 33000) /* 255 * 255 * 33000 < 2^31 */
            return fail_op(g, i, err, "the int32 accumulator could overflow (filter window too large)");
        e->filter_offset = -(int32_t)t1->zero_points[0];
        e->stride_h = op->stride_h, e->stride_w = op->stride_w;
        e->dilation_h = op->dilation_h, e->dilation_w = op->dilation_w;
        e->depth_multiplier = op->depth_multiplier;
        e->kh = kh, e->kw = kw;
        if (op->padding == MNV3_QPAD_SAME) {
            e->pad_h = same_pad(t0->shape[1], kh, op->stride_h, op->dilation_h, to->shape[1]);
            e->pad_w = same_pad(t0->shape[2], kw, op->stride_w, op->dilation_w, to->shape[2]);
        }
        /* GetQuantizedConvolutionMultipler: input * filter (double), the bias
         * scale within 1e-6 of it, divided by the output scale. */
        double product = s0 * (double)t1->scales[0];
        if (tb && tb->n_params >= 1) {
            double bs = (double)tb->scales[0];
            if (fabs(product - bs) > 1e-6 * fmin(product, bs))
                return fail_op(g, i, err, "bias scale is not input scale * filter scale");
        }
        e->fscale = t0->scales[0] * t1->scales[0] / to->scales[0];
        return quantize_checked(g, i, product / so, 30, &e->multiplier, &e->shift, err);
    }
    case MNV3_QOP_ADD: {
        if (!t1 || !is_q8(t1) || t1->dtype != t0->dtype || t1->n_params != 1)
            return fail_op(g, i, err, "second input must be per-tensor quantized of the same dtype");
        if (!broadcastable(t0, to) || !broadcastable(t1, to))
            return fail_op(g, i, err, "input shapes do not broadcast to the output's");
        if (rounding == MNV3_QROUND_FP32) return fail_op(g, i, err, "requantize_elementwise=fp32 is not defined for ADD");
        e->in1_offset = -(int32_t)t1->zero_points[0];
        if (add_single_sum) return plan_add_21bit(g, i, e, t0, t1, to, err);
        e->left_shift = 20;
        /* twice the larger input scale (float), input scales over it, and it
         * over 2^20 * output scale (float product), in double */
        float twice_max = 2 * (t0->scales[0] > t1->scales[0] ? t0->scales[0] : t1->scales[0]);
        double m0 = (double)t0->scales[0] / (double)twice_max;
        double m1 = (double)t1->scales[0] / (double)twice_max;
        double mo = (double)twice_max / (double)((float)(1 << 20) * to->scales[0]);
        if (quantize_checked(g, i, m0, 0, &e->in0_multiplier, &e->in0_shift, err) ||
            quantize_checked(g, i, m1, 0, &e->in1_multiplier, &e->in1_shift, err) ||
            quantize_checked(g, i, mo, 0, &e->multiplier, &e->shift, err))
            return MNV3_FAIL;
        return MNV3_OK;
    }
    case MNV3_QOP_MUL: {
        if (!t1 || !is_q8(t1) || t1->dtype != t0->dtype || t1->n_params != 1)
            return fail_op(g, i, err, "second input must be per-tensor quantized of the same dtype");
        if (!broadcastable(t0, to) || !broadcastable(t1, to))
            return fail_op(g, i, err, "input shapes do not broadcast to the output's");
        e->in1_offset = -(int32_t)t1->zero_points[0];
        /* input1 scale * input2 scale / output scale in float, then double */
        float m = t0->scales[0] * t1->scales[0] / to->scales[0];
        e->fscale = m;
        return quantize_checked(g, i, (double)m, 30, &e->multiplier, &e->shift, err);
    }
    case MNV3_QOP_HARD_SWISH: {
        if (t0->numel != to->numel) return fail_op(g, i, err, "input and output sizes differ");
        float hires = (1.0f / 128.0f) * t0->scales[0], reluish_scale = 3.0f / 32768.0f;
        int32_t q32, shift;
        if (quantize_checked(g, i, (double)(hires / to->scales[0]), 0, &q32, &shift, err))
            return MNV3_FAIL;
        e->output_exponent = shift;
        e->output_multiplier16 = (int16_t)(q32 >= INT32_MAX - (1 << 15) ? INT16_MAX : (q32 + (1 << 15)) >> 16);
        if (quantize_checked(g, i, (double)(hires / reluish_scale), 30, &q32, &shift, err))
            return MNV3_FAIL;
        e->reluish_exponent = shift;
        e->reluish_multiplier16 = (int16_t)(q32 >= INT32_MAX - (1 << 15) ? INT16_MAX : (q32 + (1 << 15)) >> 16);
        return MNV3_OK;
    }
    case MNV3_QOP_AVERAGE_POOL_2D: {
        if (t0->ndim != 4 || to->ndim != 4 || t0->scales[0] != to->scales[0] ||
            t0->zero_points[0] != to->zero_points[0])
            return fail_op(g, i, err, "needs 4-D tensors with equal input and output quantization");
        if (op->filter_h < 1 || op->filter_w < 1 || op->stride_h < 1 || op->stride_w < 1 ||
            op->filter_h > 4096 || op->filter_w > 4096 || op->stride_h > 4096 || op->stride_w > 4096)
            return fail_op(g, i, err, "filter or stride out of range");
        e->kh = op->filter_h, e->kw = op->filter_w;
        e->stride_h = op->stride_h, e->stride_w = op->stride_w;
        if (to->shape[0] != t0->shape[0] || to->shape[3] != t0->shape[3] ||
            to->shape[1] != out_size(op->padding, t0->shape[1], e->kh, e->stride_h, 1) ||
            to->shape[2] != out_size(op->padding, t0->shape[2], e->kw, e->stride_w, 1))
            return fail_op(g, i, err, "output size disagrees with the filter and stride");
        if (op->padding == MNV3_QPAD_SAME) {
            e->pad_h = same_pad(t0->shape[1], e->kh, e->stride_h, 1, to->shape[1]);
            e->pad_w = same_pad(t0->shape[2], e->kw, e->stride_w, 1, to->shape[2]);
        }
        return MNV3_OK;
    }
    case MNV3_QOP_SOFTMAX: {
        if (t0->numel != to->numel || t0->ndim < 1 || t0->shape[t0->ndim - 1] < 1)
            return fail_op(g, i, err, "input and output sizes differ");
        /* PreprocessSoftmaxScaling with 5 integer bits, capped at 2^31 - 1 */
        if (!isfinite(op->beta) || !(op->beta > 0)) return fail_op(g, i, err, "beta must be finite and > 0");
        double real = (double)op->beta * s0 * (double)(1 << (31 - 5));
        if (real > (double)((1LL << 31) - 1)) real = (double)((1LL << 31) - 1);
        if (quantize_checked(g, i, real, 31, &e->multiplier, &e->shift, err)) return MNV3_FAIL;
        if (e->shift < 0) return fail_op(g, i, err, "input scale * beta too small");
        double radius = floor(1.0 * ((1 << 5) - 1) * (double)(1LL << (31 - 5)) / (double)(1LL << e->shift));
        e->diff_min = (int32_t)(-1.0 * radius);
        return MNV3_OK;
    }
    default: return fail_op(g, i, err, "no integer kernel");
    }
}

void mnv3_qplan_free(mnv3_qplan *p) {
    if (!p) return;
    if (p->values)
        for (int i = 0; i < p->g->n_tensors; i++)
            if (p->owned[i]) free(p->values[i]);
    free(p->values);
    free(p->owned);
    free(p->ops);
    free(p);
}

int mnv3_qplan_create(const mnv3_qgraph *g, const mnv3_profile *profile, mnv3_qplan **out,
                      mnv3_error *err) {
    *out = NULL;
    static const int rounding_of[MNV3_REQUANTIZE_COUNT] = {
        [MNV3_REQUANTIZE_DOUBLE_ROUND] = MNV3_QROUND_DOUBLE,
        [MNV3_REQUANTIZE_SINGLE_ROUND] = MNV3_QROUND_SINGLE,
        [MNV3_REQUANTIZE_DOUBLE_ROUND_SHIFT_UP] = MNV3_QROUND_DOUBLE_SHIFT_UP,
        [MNV3_REQUANTIZE_DOUBLE_ROUND_UP] = MNV3_QROUND_DOUBLE_UP,
        [MNV3_REQUANTIZE_FP32] = MNV3_QROUND_FP32,
        [MNV3_REQUANTIZE_HIGH_UP_SHIFT_AWAY] = MNV3_QROUND_HIGH_UP_SHIFT_AWAY};
    int refuse_uint8 = profile->option[MNV3_FACTOR_UINT8_FILTERS] == MNV3_UINT8_FILTERS_REFUSED_HYBRID;
    int vector8 = profile->option[MNV3_FACTOR_ELEMENTWISE_VECTOR] == MNV3_ELEMENTWISE_NEON_8;
    int add_single_sum = profile->option[MNV3_FACTOR_ADD_RESCALE] == MNV3_ADD_RESCALE_MULTIPLIERS_21BIT;
    int rounding[3];
    static const int factor_of[3] = {MNV3_FACTOR_REQUANTIZE, MNV3_FACTOR_REQUANTIZE_DEPTHWISE,
                                     MNV3_FACTOR_REQUANTIZE_ELEMENTWISE};
    for (int k = 0; k < 3; k++) {
        int option = profile->option[factor_of[k]];
        rounding[k] = option >= 0 && option < MNV3_REQUANTIZE_COUNT ? rounding_of[option] : MNV3_QROUND_DOUBLE;
    }
    for (int i = 0; i < g->n_tensors; i++)
        if (check_tensor_params(g, i, err)) return MNV3_FAIL;
    const mnv3_qtensor *ti = &g->tensors[g->input];
    if (!is_q8(ti) || ti->data)
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, g->label,
                              "input tensor '%.80s' is not a quantized uint8/int8 activation", ti->name);
    mnv3_qplan *p = calloc(1, sizeof *p);
    if (!p) return mnv3_fail_code(err, MNV3_ERR_MEMORY, g->label, "out of memory");
    p->g = g;
    p->n_ops = g->n_ops;
    p->ops = calloc((size_t)(g->n_ops ? g->n_ops : 1), sizeof *p->ops);
    p->values = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *p->values);
    p->owned = calloc((size_t)(g->n_tensors ? g->n_tensors : 1), sizeof *p->owned);
    if (!p->ops || !p->values || !p->owned) {
        mnv3_qplan_free(p);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, g->label, "out of memory");
    }
    size_t total = 0; /* activation bytes: a hostile file could ask for many huge tensors */
    for (int i = 0; i < g->n_tensors; i++) {
        const mnv3_qtensor *t = &g->tensors[i];
        size_t es = mnv3_qdtype_size(t->dtype);
        if (!t->data && es && t->numel <= ((size_t)1 << 28)) total += t->numel * es;
    }
    if (total > MNV3_QMAX_ACTIVATION_BYTES) {
        mnv3_qplan_free(p);
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, g->label, "activations need %zu bytes, more than the %zu allowed",
                              total, (size_t)MNV3_QMAX_ACTIVATION_BYTES);
    }
    for (int i = 0; i < g->n_tensors; i++) {
        const mnv3_qtensor *t = &g->tensors[i];
        if (t->data) {
            p->values[i] = (unsigned char *)(uintptr_t)t->data; /* read only */
            continue;
        }
        size_t es = mnv3_qdtype_size(t->dtype);
        if (!es || t->numel > ((size_t)1 << 28)) continue; /* unused or refused by plan_op */
        p->values[i] = calloc(t->numel ? t->numel * es : 1, 1);
        if (!p->values[i]) {
            mnv3_qplan_free(p);
            return mnv3_fail_code(err, MNV3_ERR_MEMORY, g->label, "out of memory");
        }
        p->owned[i] = 1;
    }
    for (int i = 0; i < g->n_ops; i++) {
        int kind = g->ops[i].kind;
        int r = rounding[kind == MNV3_QOP_DEPTHWISE_CONV_2D ? 1 : kind == MNV3_QOP_ADD || kind == MNV3_QOP_MUL ? 2 : 0];
        if (plan_op(g, i, r, refuse_uint8, add_single_sum, &p->ops[i], err) != MNV3_OK) {
            mnv3_qplan_free(p);
            return MNV3_FAIL;
        }
        if (vector8 && (kind == MNV3_QOP_ADD || kind == MNV3_QOP_MUL)) {
            /* the innermost run a broadcast kernel loops over: the whole
             * output when one input is a scalar or the shapes agree, else
             * the trailing dimensions both inputs share */
            const mnv3_qtensor *a = &g->tensors[p->ops[i].in0], *b = &g->tensors[p->ops[i].in1],
                               *o = &g->tensors[p->ops[i].out];
            size_t run = o->numel;
            if (a->numel != o->numel || b->numel != o->numel) {
                const mnv3_qtensor *small = a->numel < b->numel ? a : b;
                if (small->numel > 1) {
                    run = 1;
                    for (int d = small->ndim - 1, od = o->ndim - 1; d >= 0 && od >= 0 && small->shape[d] == o->shape[od]; d--, od--)
                        run *= (size_t)o->shape[od];
                }
            }
            p->ops[i].vector_run = run;
        }
        const mnv3_qexec_op *e = &p->ops[i];
        int ios[4] = {e->in0, e->in1, e->in2, e->out};
        for (int k = 0; k < 4; k++)
            if (ios[k] >= 0 && !p->values[ios[k]]) {
                mnv3_qplan_free(p);
                return fail_op(g, i, err, "a tensor of an unsupported dtype or size");
            }
    }
    *out = p;
    return MNV3_OK;
}

int mnv3_qplan_run(mnv3_qplan *p, const void *input, size_t input_bytes, mnv3_error *err) {
    const mnv3_qgraph *g = p->g;
    const mnv3_qtensor *ti = &g->tensors[g->input];
    if (input_bytes != ti->numel)
        return mnv3_fail_code(err, MNV3_ERR_SHAPE, g->label, "input has %zu bytes, the model takes %zu",
                              input_bytes, ti->numel);
    memcpy(p->values[g->input], input, input_bytes);
    for (int i = 0; i < p->n_ops; i++) {
        const mnv3_qexec_op *e = &p->ops[i];
        switch (e->kind) {
        case MNV3_QOP_CONV_2D: mnv3_qk_conv(e, g, p->values); break;
        case MNV3_QOP_DEPTHWISE_CONV_2D: mnv3_qk_depthwise(e, g, p->values); break;
        case MNV3_QOP_ADD: mnv3_qk_add(e, g, p->values); break;
        case MNV3_QOP_MUL: mnv3_qk_mul(e, g, p->values); break;
        case MNV3_QOP_HARD_SWISH: mnv3_qk_hard_swish(e, g, p->values); break;
        case MNV3_QOP_AVERAGE_POOL_2D: mnv3_qk_average_pool(e, g, p->values); break;
        case MNV3_QOP_SOFTMAX: mnv3_qk_softmax(e, g, p->values); break;
        case MNV3_QOP_RESHAPE:
            memcpy(p->values[e->out], p->values[e->in0],
                   g->tensors[e->in0].numel * mnv3_qdtype_size(g->tensors[e->in0].dtype));
            break;
        default: break;
        }
    }
    return MNV3_OK;
}
