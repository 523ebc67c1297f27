/* Integer reference kernels for uint8/int8 tensors, written from the
 * published reference formulas (docs/int8.md names the sources). The accumulator is int32; the offsets, multipliers and
 * activation bounds come from the plan. */
#include <limits.h>
#include <math.h>
#include <string.h>

#include "kernels/integer/integer.h"

/* ---- fixed-point primitives ----------------------------------------------- */

void mnv3_quantize_multiplier(double m, int32_t *q, int *shift) {
    *q = 0;
    *shift = 0;
    if (m == 0.0) return;
    double frac = frexp(m, shift);
    int64_t fixed = (int64_t)round(frac * (double)(1LL << 31));
    if (fixed == (1LL << 31)) {
        fixed /= 2;
        ++*shift;
    }
    if (*shift < -31) {
        *shift = 0;
        fixed = 0;
    }
    *q = (int32_t)fixed;
}

int32_t mnv3_srdhm32(int32_t a, int32_t b) {
    if (a == b && a == INT32_MIN) return INT32_MAX;
    int64_t ab = (int64_t)a * (int64_t)b;
    int64_t nudge = ab >= 0 ? (1 << 30) : (1 - (1 << 30));
    return (int32_t)((ab + nudge) / ((int64_t)1 << 31));
}

int32_t mnv3_rounding_divide_by_pot32(int32_t x, int exponent) {
    int32_t mask = (int32_t)(((int64_t)1 << exponent) - 1);
    int32_t remainder = x & mask;
    int32_t threshold = (mask >> 1) + (x < 0 ? 1 : 0);
    return (x >> exponent) + (remainder > threshold ? 1 : 0);
}

int32_t mnv3_requantize(int32_t x, int32_t q, int shift, int rounding) {
    if (rounding == MNV3_QROUND_SINGLE) {
        int total = 31 - shift;
        int64_t r = (int64_t)x * (int64_t)q + ((int64_t)1 << (total - 1));
        return (int32_t)(r >> total);
    }
    int left = shift > 0 ? shift : 0, right = shift > 0 ? 0 : -shift;
    int32_t shifted = (int32_t)((uint32_t)x << left); /* int32 wrap, as the int32 product */
    if (rounding == MNV3_QROUND_DOUBLE) return mnv3_rounding_divide_by_pot32(mnv3_srdhm32(shifted, q), right);
    int32_t high;
    if (rounding == MNV3_QROUND_HIGH_UP_SHIFT_AWAY) {
        high = shifted == INT32_MIN && q == INT32_MIN
                   ? INT32_MAX
                   : (int32_t)(((int64_t)shifted * (int64_t)q + ((int64_t)1 << 30)) >> 31);
        return mnv3_rounding_divide_by_pot32(high, right);
    }
    if (rounding == MNV3_QROUND_DOUBLE_UP)
        high = shifted == INT32_MIN && q == INT32_MIN
                   ? INT32_MAX
                   : (int32_t)(((int64_t)shifted * (int64_t)q + ((int64_t)1 << 30)) >> 31);
    else
        high = mnv3_srdhm32(shifted, q);
    return right > 0 ? (int32_t)(((int64_t)high + ((int64_t)1 << (right - 1))) >> right) : high;
}

/* Vector-kernel arithmetic: doubling high multiply rounding ties up, and a
 * truncating arithmetic right shift. */
static int32_t high_mul_up(int32_t a, int32_t b) {
    if (a == INT32_MIN && b == INT32_MIN) return INT32_MAX;
    return (int32_t)(((int64_t)a * (int64_t)b + ((int64_t)1 << 30)) >> 31);
}

static int in_vector_part(const mnv3_qexec_op *e, size_t i) {
    if (!e->vector_run) return 0;
    return i % e->vector_run < e->vector_run / 8 * 8;
}

/* The output requantization of one op: fixed point, or float and lrintf. */
static int32_t requant(const mnv3_qexec_op *e, int32_t acc) {
    if (e->rounding != MNV3_QROUND_FP32) return mnv3_requantize(acc, e->multiplier, e->shift, e->rounding);
    float y = (float)acc * e->fscale;
    y = y < -1073741824.0f ? -1073741824.0f : y > 1073741824.0f ? 1073741824.0f : y;
    return (int32_t)lrintf(y);
}

/* ---- element access -------------------------------------------------------- */

static int32_t ld(const mnv3_qtensor *t, const unsigned char *v, size_t i) {
    return t->dtype == MNV3_QT_INT8 ? (int32_t)(int8_t)v[i] : (int32_t)v[i];
}

static void st(const mnv3_qtensor *t, unsigned char *v, size_t i, int32_t x) {
    if (t->dtype == MNV3_QT_INT8)
        v[i] = (unsigned char)(int8_t)x;
    else
        v[i] = (unsigned char)x;
}

static int32_t ld_i32(const unsigned char *v, size_t i) {
    const unsigned char *p = v + 4 * i;
    return (int32_t)((uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
                     (uint32_t)p[3] << 24);
}

static int32_t clamp(int32_t x, int32_t lo, int32_t hi) { return x < lo ? lo : x > hi ? hi : x; }

/* int32 arithmetic that the reference integer kernels leave to wrap on
 * overflow (the bias add; a softmax input scaled by 2^shift), done in
 * uint32 so a hostile model's bias or scale cannot reach undefined
 * behaviour. Every result that fits is unchanged (found by fuzzing under
 * UBSan). */
static int32_t wrap_add32(int32_t a, int32_t b) { return (int32_t)((uint32_t)a + (uint32_t)b); }
static int32_t shift_left32(int32_t x, int shift) { return (int32_t)((uint32_t)x << shift); }

/* NHWC dims of a 4-D tensor. */
typedef struct dims4 {
    int n, h, w, c;
} dims4;
static dims4 dims_of(const mnv3_qtensor *t) {
    dims4 d = {t->shape[0], t->shape[1], t->shape[2], t->shape[3]};
    return d;
}

/* ---- kernels --------------------------------------------------------------- */

void mnv3_qk_conv(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values) {
    const mnv3_qtensor *ti = &g->tensors[e->in0], *tw = &g->tensors[e->in1],
                       *to = &g->tensors[e->out];
    const unsigned char *in = values[e->in0], *flt = values[e->in1];
    const unsigned char *bias = e->in2 >= 0 ? values[e->in2] : NULL;
    unsigned char *out = values[e->out];
    dims4 di = dims_of(ti), d_o = dims_of(to);
    int kh = tw->shape[1], kw = tw->shape[2];
    for (int b = 0; b < d_o.n; b++)
        for (int oy = 0; oy < d_o.h; oy++)
            for (int ox = 0; ox < d_o.w; ox++)
                for (int oc = 0; oc < d_o.c; oc++) {
                    int32_t acc = 0;
                    int iy0 = oy * e->stride_h - e->pad_h, ix0 = ox * e->stride_w - e->pad_w;
                    for (int fy = 0; fy < kh; fy++) {
                        int iy = iy0 + e->dilation_h * fy;
                        if (iy < 0 || iy >= di.h) continue;
                        for (int fx = 0; fx < kw; fx++) {
                            int ix = ix0 + e->dilation_w * fx;
                            if (ix < 0 || ix >= di.w) continue;
                            size_t ib = (((size_t)b * di.h + iy) * di.w + ix) * di.c;
                            size_t fb = (((size_t)oc * kh + fy) * kw + fx) * di.c;
                            for (int ic = 0; ic < di.c; ic++)
                                acc += (ld(tw, flt, fb + ic) + e->filter_offset) *
                                       (ld(ti, in, ib + ic) + e->in0_offset);
                        }
                    }
                    if (bias) acc = wrap_add32(acc, ld_i32(bias, (size_t)oc));
                    acc = requant(e, acc) + e->out_offset;
                    st(to, out, (((size_t)b * d_o.h + oy) * d_o.w + ox) * d_o.c + oc,
                       clamp(acc, e->act_min, e->act_max));
                }
}

void mnv3_qk_depthwise(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values) {
    const mnv3_qtensor *ti = &g->tensors[e->in0], *tw = &g->tensors[e->in1],
                       *to = &g->tensors[e->out];
    const unsigned char *in = values[e->in0], *flt = values[e->in1];
    const unsigned char *bias = e->in2 >= 0 ? values[e->in2] : NULL;
    unsigned char *out = values[e->out];
    dims4 di = dims_of(ti), d_o = dims_of(to);
    int kh = tw->shape[1], kw = tw->shape[2], m = e->depth_multiplier;
    for (int b = 0; b < d_o.n; b++)
        for (int oy = 0; oy < d_o.h; oy++)
            for (int ox = 0; ox < d_o.w; ox++)
                for (int ic = 0; ic < di.c; ic++)
                    for (int k = 0; k < m; k++) {
                        int oc = k + ic * m;
                        int32_t acc = 0;
                        int iy0 = oy * e->stride_h - e->pad_h, ix0 = ox * e->stride_w - e->pad_w;
                        for (int fy = 0; fy < kh; fy++) {
                            int iy = iy0 + e->dilation_h * fy;
                            if (iy < 0 || iy >= di.h) continue;
                            for (int fx = 0; fx < kw; fx++) {
                                int ix = ix0 + e->dilation_w * fx;
                                if (ix < 0 || ix >= di.w) continue;
                                acc += (ld(tw, flt, ((size_t)fy * kw + fx) * d_o.c + oc) +
                                        e->filter_offset) *
                                       (ld(ti, in, (((size_t)b * di.h + iy) * di.w + ix) * di.c + ic) +
                                        e->in0_offset);
                            }
                        }
                        if (bias) acc = wrap_add32(acc, ld_i32(bias, (size_t)oc));
                        acc = requant(e, acc) + e->out_offset;
                        st(to, out, (((size_t)b * d_o.h + oy) * d_o.w + ox) * d_o.c + oc,
                           clamp(acc, e->act_min, e->act_max));
                    }
}

/* Broadcasting of two inputs onto the output: right-aligned shapes, size-1
 * dimensions repeat. Calls fn per output element with both input offsets. */
typedef struct bcast {
    int nd;
    int32_t out[MNV3_QMAX_DIMS];
    size_t s0[MNV3_QMAX_DIMS], s1[MNV3_QMAX_DIMS];
} bcast;

static void strides_for(const mnv3_qtensor *t, int nd, size_t *s) {
    size_t stride = 1;
    for (int d = nd - 1; d >= 0; d--) {
        int td = d - (nd - t->ndim);
        int32_t size = td >= 0 ? t->shape[td] : 1;
        s[d] = size == 1 ? 0 : stride;
        stride *= (size_t)size;
    }
}

static bcast bcast_of(const mnv3_qtensor *a, const mnv3_qtensor *b, const mnv3_qtensor *o) {
    bcast r;
    memset(&r, 0, sizeof r);
    r.nd = o->ndim;
    for (int d = 0; d < r.nd; d++) r.out[d] = o->shape[d];
    strides_for(a, r.nd, r.s0);
    strides_for(b, r.nd, r.s1);
    return r;
}

static void bcast_offsets(const bcast *r, size_t flat, size_t *o0, size_t *o1) {
    *o0 = *o1 = 0;
    for (int d = r->nd - 1; d >= 0; d--) {
        size_t i = flat % (size_t)r->out[d];
        flat /= (size_t)r->out[d];
        *o0 += i * r->s0[d];
        *o1 += i * r->s1[d];
    }
}

void mnv3_qk_add(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values) {
    const mnv3_qtensor *ta = &g->tensors[e->in0], *tb = &g->tensors[e->in1], *to = &g->tensors[e->out];
    bcast r = bcast_of(ta, tb, to);
    for (size_t i = 0; i < to->numel; i++) {
        size_t o0, o1;
        bcast_offsets(&r, i, &o0, &o1);
        if (e->add_single_sum) {
            int32_t acc = e->add_bias + ld(ta, values[e->in0], o0) * e->in0_multiplier +
                          ld(tb, values[e->in1], o1) * e->in1_multiplier + (1 << (e->shift - 1));
            int32_t y = (acc >> e->shift) + e->out_offset;
            st(to, values[e->out], i, clamp(y, e->act_min, e->act_max));
            continue;
        }
        if (in_vector_part(e, i)) {
            int32_t a = high_mul_up((ld(ta, values[e->in0], o0) + e->in0_offset) * (1 << e->left_shift),
                                    e->in0_multiplier) >> -e->in0_shift;
            int32_t b = high_mul_up((ld(tb, values[e->in1], o1) + e->in1_offset) * (1 << e->left_shift),
                                    e->in1_multiplier) >> -e->in1_shift;
            int32_t y = mnv3_rounding_divide_by_pot32(high_mul_up(a + b, e->multiplier), -e->shift);
            y = (int32_t)(int16_t)y + e->out_offset; /* narrowed to 16 bits, offset added */
            y = y < -32768 ? -32768 : y > 32767 ? 32767 : y;
            st(to, values[e->out], i, clamp(y, e->act_min, e->act_max));
            continue;
        }
        int32_t a = (ld(ta, values[e->in0], o0) + e->in0_offset) * (1 << e->left_shift);
        int32_t b = (ld(tb, values[e->in1], o1) + e->in1_offset) * (1 << e->left_shift);
        int32_t sa = mnv3_requantize(a, e->in0_multiplier, e->in0_shift, e->rounding);
        int32_t sb = mnv3_requantize(b, e->in1_multiplier, e->in1_shift, e->rounding);
        int32_t y = mnv3_requantize(sa + sb, e->multiplier, e->shift, e->rounding) + e->out_offset;
        st(to, values[e->out], i, clamp(y, e->act_min, e->act_max));
    }
}

void mnv3_qk_mul(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values) {
    const mnv3_qtensor *ta = &g->tensors[e->in0], *tb = &g->tensors[e->in1], *to = &g->tensors[e->out];
    bcast r = bcast_of(ta, tb, to);
    for (size_t i = 0; i < to->numel; i++) {
        size_t o0, o1;
        bcast_offsets(&r, i, &o0, &o1);
        int32_t a = ld(ta, values[e->in0], o0) + e->in0_offset;
        int32_t b = ld(tb, values[e->in1], o1) + e->in1_offset;
        int32_t y;
        if (in_vector_part(e, i)) {
            int left = e->shift > 0 ? e->shift : 0, right = e->shift > 0 ? 0 : -e->shift;
            y = mnv3_rounding_divide_by_pot32(high_mul_up((int32_t)((uint32_t)(a * b) << left), e->multiplier), right) +
                e->out_offset;
        } else
            y = requant(e, a * b) + e->out_offset;
        st(to, values[e->out], i, clamp(y, e->act_min, e->act_max));
    }
}

/* ---- HARD_SWISH: 16-bit fixed point ---------------------------------------- */

static int16_t sat16(int64_t x) { return (int16_t)(x > INT16_MAX ? INT16_MAX : x < INT16_MIN ? INT16_MIN : x); }

static int16_t srdhm16(int16_t a, int16_t b) {
    if (a == b && a == INT16_MIN) return INT16_MAX;
    int32_t ab = (int32_t)a * (int32_t)b;
    int32_t nudge = ab >= 0 ? (1 << 14) : (1 - (1 << 14));
    return (int16_t)((ab + nudge) / (1 << 15));
}

/* Truncating (not rounding) doubling high multiply. */
static int16_t sdhm16(int16_t a, int16_t b) {
    if (a == b && a == INT16_MIN) return INT16_MAX;
    return (int16_t)(((int32_t)a * (int32_t)b) / (1 << 15));
}

static int16_t rdbpot16(int16_t x, int exponent) {
    int16_t mask = (int16_t)((1 << exponent) - 1);
    int16_t remainder = (int16_t)(x & mask);
    int16_t threshold = (int16_t)((mask >> 1) + (x < 0 ? 1 : 0));
    return (int16_t)((x >> exponent) + (remainder > threshold ? 1 : 0));
}

void mnv3_qk_hard_swish(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values) {
    const mnv3_qtensor *ti = &g->tensors[e->in0], *to = &g->tensors[e->out];
    int32_t lo = to->dtype == MNV3_QT_INT8 ? -128 : 0, hi = to->dtype == MNV3_QT_INT8 ? 127 : 255;
    for (size_t i = 0; i < to->numel; i++) {
        int16_t x = (int16_t)(ld(ti, values[e->in0], i) + e->in0_offset);
        int16_t hires = (int16_t)(x * (1 << 7));
        int16_t preshift_out = srdhm16(hires, e->output_multiplier16);
        int16_t reluish = hires;
        if (e->reluish_exponent > 0) reluish = sat16((int64_t)reluish * (1 << (e->reluish_exponent - 1)));
        reluish = srdhm16(reluish, e->reluish_multiplier16);
        if (e->reluish_exponent > 0) reluish = sat16((int64_t)reluish * 2);
        if (e->reluish_exponent < 0) reluish = rdbpot16(reluish, -e->reluish_exponent);
        reluish = (int16_t)((reluish + (1 << 15)) >> 1);
        int16_t y = sdhm16(reluish, preshift_out);
        y = rdbpot16(y, -e->output_exponent);
        int32_t v = (int32_t)y + e->out_offset;
        st(to, values[e->out], i, clamp(v, lo, hi));
    }
}

void mnv3_qk_average_pool(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values) {
    const mnv3_qtensor *ti = &g->tensors[e->in0], *to = &g->tensors[e->out];
    dims4 di = dims_of(ti), d_o = dims_of(to);
    for (int b = 0; b < d_o.n; b++)
        for (int oy = 0; oy < d_o.h; oy++)
            for (int ox = 0; ox < d_o.w; ox++)
                for (int c = 0; c < d_o.c; c++) {
                    int iy0 = oy * e->stride_h - e->pad_h, ix0 = ox * e->stride_w - e->pad_w;
                    int fy0 = iy0 < 0 ? -iy0 : 0, fx0 = ix0 < 0 ? -ix0 : 0;
                    int fy1 = di.h - iy0 < e->kh ? di.h - iy0 : e->kh;
                    int fx1 = di.w - ix0 < e->kw ? di.w - ix0 : e->kw;
                    int32_t acc = 0, count = 0;
                    for (int fy = fy0; fy < fy1; fy++)
                        for (int fx = fx0; fx < fx1; fx++) {
                            acc += ld(ti, values[e->in0],
                                      (((size_t)b * di.h + iy0 + fy) * di.w + ix0 + fx) * di.c + c);
                            count++;
                        }
                    if (count == 0) count = 1; /* the plan refuses empty windows */
                    acc = acc >= 0 ? (acc + count / 2) / count : (acc - count / 2) / count;
                    st(to, values[e->out], (((size_t)b * d_o.h + oy) * d_o.w + ox) * d_o.c + c,
                       clamp(acc, e->act_min, e->act_max));
                }
}

/* ---- SOFTMAX: gemmlowp fixed-point exp and reciprocal ---------------------- */

static int32_t sat_shl32(int32_t x, int exponent) {
    int32_t threshold = (int32_t)((1u << (31 - exponent)) - 1);
    if (x > threshold) return INT32_MAX;
    if (x < -threshold) return INT32_MIN;
    return (int32_t)((uint32_t)x << exponent);
}

/* exp(a) for a in [-1/4, 0), Q0.31. */
static int32_t exp_quarter(int32_t a) {
    const int32_t constant_term = 1895147668, one_third = 715827883;
    int32_t x = a + (1 << 28);
    int32_t x2 = mnv3_srdhm32(x, x), x3 = mnv3_srdhm32(x2, x), x4 = mnv3_srdhm32(x2, x2);
    int32_t x4_over_4 = mnv3_rounding_divide_by_pot32(x4, 2);
    int32_t poly = mnv3_rounding_divide_by_pot32(mnv3_srdhm32(x4_over_4 + x3, one_third) + x2, 1);
    return constant_term + mnv3_srdhm32(constant_term, x + poly);
}

/* exp(a) for a <= 0 with integer_bits integer bits, Q0.31. */
static int32_t exp_negative(int32_t a, int integer_bits) {
    int frac = 31 - integer_bits;
    int32_t quarter = 1 << (frac - 2), mask = quarter - 1;
    int32_t a_mod = (a & mask) - quarter;
    int32_t result = exp_quarter(sat_shl32(a_mod, integer_bits));
    int32_t remainder = a_mod - a;
    static const int32_t multipliers[7] = {1672461947, 1302514674, 790015084, 290630308,
                                           39332535, 720401, 242};
    for (int k = 0; k < 7; k++) {
        int exponent = k - 2;
        if (integer_bits > exponent && (remainder & (1 << (frac + exponent))))
            result = mnv3_srdhm32(result, multipliers[k]);
    }
    if (integer_bits > 5 && a < -(1 << (36 - integer_bits))) result = 0;
    if (a == 0) result = INT32_MAX;
    return result;
}

/* 1 / (1 + x) for x in [0, 1), Q0.31 in and out (Newton-Raphson, 3 steps). */
static int32_t one_over_one_plus_x(int32_t a) {
    int64_t sum = (int64_t)a + INT32_MAX;
    int32_t half_denominator = (int32_t)((sum + (sum >= 0 ? 1 : -1)) / 2);
    const int32_t c48_17 = 1515870810, cneg32_17 = -1010580540, one_f2 = 1 << 29;
    int32_t x = c48_17 + mnv3_srdhm32(half_denominator, cneg32_17);
    for (int i = 0; i < 3; i++) {
        int32_t hx = mnv3_srdhm32(half_denominator, x);
        int32_t one_minus = one_f2 - hx;
        x = x + sat_shl32(mnv3_srdhm32(x, one_minus), 2);
    }
    return sat_shl32(x, 1);
}

static int count_leading_zeros(uint32_t x) {
    int n = 0;
    if (x == 0) return 32;
    while (!(x & 0x80000000u)) {
        x <<= 1;
        n++;
    }
    return n;
}

void mnv3_qk_softmax(const mnv3_qexec_op *e, const mnv3_qgraph *g, unsigned char *const *values) {
    const mnv3_qtensor *ti = &g->tensors[e->in0], *to = &g->tensors[e->out];
    const int diff_bits = 5, accum_bits = 12;
    int32_t lo = to->dtype == MNV3_QT_INT8 ? -128 : 0, hi = to->dtype == MNV3_QT_INT8 ? 127 : 255;
    size_t depth = (size_t)ti->shape[ti->ndim - 1], rows = depth ? ti->numel / depth : 0;
    const unsigned char *in = values[e->in0];
    for (size_t r = 0; r < rows; r++) {
        int32_t max = INT32_MIN;
        for (size_t c = 0; c < depth; c++) {
            int32_t v = ld(ti, in, r * depth + c);
            if (v > max) max = v;
        }
        int32_t sum = 0;
        for (size_t c = 0; c < depth; c++) {
            int32_t diff = ld(ti, in, r * depth + c) - max;
            if (diff >= e->diff_min) {
                int32_t scaled = mnv3_srdhm32(shift_left32(diff, e->shift), e->multiplier);
                sum += mnv3_rounding_divide_by_pot32(exp_negative(scaled, diff_bits), accum_bits);
            }
        }
        int headroom_plus_one = count_leading_zeros((uint32_t)sum);
        int bits_over_unit = accum_bits - headroom_plus_one;
        int32_t shifted_minus_one =
            (int32_t)(((uint32_t)sum << headroom_plus_one) - ((uint32_t)1 << 31));
        int32_t scale = one_over_one_plus_x(shifted_minus_one);
        for (size_t c = 0; c < depth; c++) {
            int32_t diff = ld(ti, in, r * depth + c) - max, y = lo;
            if (diff >= e->diff_min) {
                int32_t scaled = mnv3_srdhm32(shift_left32(diff, e->shift), e->multiplier);
                int32_t ex = exp_negative(scaled, diff_bits);
                y = mnv3_rounding_divide_by_pot32(mnv3_srdhm32(scale, ex), bits_over_unit + 31 - 8) + lo;
                y = clamp(y, lo, hi);
            }
            st(to, values[e->out], r * depth + c, y);
        }
    }
}
