/* Convolution, linear, BatchNorm and pooling: the ops that sum. Every sum
 * runs in a fixed order (input channel, then kernel row, then column), so
 * results do not depend on threads or on the machine. */
#include <math.h>
#include <string.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "core/plan.h"
#include "kernels/reference/reference.h"

/* The sum's start and end for output channel co: the bias enters first or last. */
static float start(const mnv3_exec_op *e, const float *bias, int co) {
    return bias && e->bias_first ? bias[co] : 0.0f;
}

static float finish(const mnv3_exec_op *e, float sum, const float *bias, int co) {
    return bias && !e->bias_first ? sum + bias[co] : sum;
}

/* 1x1 stride-1 convolution: rows of the output accumulate one input channel
 * at a time, the same per-element order as the general loop, but fast. */
static void pointwise(const mnv3_exec_op *e, const float *in, float *out, double *scratch) {
    const mnv3_op *op = e->op;
    size_t plane = (size_t)e->out.h * (size_t)e->out.w;
    const float *bias = op->has_bias ? op->bias : NULL;
    for (int co = 0; co < e->out.c; co++) {
        const float *w = op->weight + (size_t)co * (size_t)e->in.c;
        float *o = out + (size_t)co * plane;
        if (e->f64) {
            for (size_t p = 0; p < plane; p++) scratch[p] = bias ? bias[co] : 0.0;
            for (int ci = 0; ci < e->in.c; ci++) {
                const float *x = in + (size_t)ci * plane;
                double wv = w[ci];
                for (size_t p = 0; p < plane; p++) scratch[p] += wv * x[p];
            }
            for (size_t p = 0; p < plane; p++) o[p] = (float)scratch[p];
            continue;
        }
        float init = start(e, bias, co);
        for (size_t p = 0; p < plane; p++) o[p] = init;
        for (int ci = 0; ci < e->in.c; ci++) {
            const float *x = in + (size_t)ci * plane;
            float wv = w[ci];
            if (e->pointwise_fma)
                for (size_t p = 0; p < plane; p++) o[p] = fmaf(wv, x[p], o[p]);
            else
                for (size_t p = 0; p < plane; p++) o[p] += wv * x[p];
        }
        for (size_t p = 0; p < plane; p++) o[p] = finish(e, o[p], bias, co);
    }
}

/* One output of a k x k convolution, kernel position outer, input channel
 * inner, each product fused into the sum. */
static float conv_point_fma(const mnv3_exec_op *e, const float *in, const float *w,
                            int first_ci, int cin_group, int oy, int ox, float acc) {
    const int k = e->op->kernel, s = e->op->stride;
    const size_t plane = (size_t)e->in.h * (size_t)e->in.w;
    for (int ky = 0; ky < k; ky++) {
        int iy = oy * s - e->pad_top + ky;
        if (iy < 0 || iy >= e->in.h) continue;
        for (int kx = 0; kx < k; kx++) {
            int ix = ox * s - e->pad_left + kx;
            if (ix < 0 || ix >= e->in.w) continue;
            const float *x = in + (size_t)first_ci * plane + (size_t)iy * (size_t)e->in.w + (size_t)ix;
            for (int ci = 0; ci < cin_group; ci++)
                acc = fmaf(x[(size_t)ci * plane], w[(size_t)ci * (size_t)(k * k) + (size_t)(ky * k + kx)], acc);
        }
    }
    return acc;
}

MNV3_REF_KERNEL(mnv3_ref_conv) {
    (void)in2;
    const mnv3_op *op = e->op;
    if (op->kernel == 1 && op->stride == 1 && op->groups == 1) {
        pointwise(e, in, out, scratch);
        return;
    }
    const int k = op->kernel, s = op->stride;
    const int cin_group = e->in.c / op->groups, cout_group = e->out.c / op->groups;
    const float *bias = op->has_bias ? op->bias : NULL;
    const int fma_order = mnv3_conv_sums_fused(e, batch);
    for (int co = 0; co < e->out.c; co++) {
        int first_ci = (co / cout_group) * cin_group;
        const float *w = op->weight + (size_t)co * (size_t)cin_group * (size_t)(k * k);
        for (int oy = 0; oy < e->out.h; oy++) {
            for (int ox = 0; ox < e->out.w; ox++) {
                double acc64 = bias ? bias[co] : 0.0;
                float acc = start(e, bias, co);
                float *o = out + ((size_t)co * (size_t)e->out.h + (size_t)oy) * (size_t)e->out.w + (size_t)ox;
                if (!e->f64 && fma_order) {
                    acc = conv_point_fma(e, in, w, first_ci, cin_group, oy, ox, acc);
                    *o = finish(e, acc, bias, co);
                    continue;
                }
                for (int ci = 0; ci < cin_group; ci++) {
                    const float *x = in + (size_t)(first_ci + ci) * (size_t)e->in.h * (size_t)e->in.w;
                    const float *wc = w + (size_t)ci * (size_t)(k * k);
                    for (int ky = 0; ky < k; ky++) {
                        int iy = oy * s - e->pad_top + ky;
                        if (iy < 0 || iy >= e->in.h) continue;
                        for (int kx = 0; kx < k; kx++) {
                            int ix = ox * s - e->pad_left + kx;
                            if (ix < 0 || ix >= e->in.w) continue;
                            float xv = x[(size_t)iy * (size_t)e->in.w + (size_t)ix];
                            if (e->f64) acc64 += (double)xv * wc[ky * k + kx];
                            else acc += xv * wc[ky * k + kx];
                        }
                    }
                }
                *o = e->f64 ? (float)acc64 : finish(e, acc, bias, co);
            }
        }
    }
}

MNV3_REF_KERNEL(mnv3_ref_linear) {
    (void)in2, (void)scratch, (void)batch;
    const mnv3_op *op = e->op;
    for (int o = 0; o < op->out_ch; o++) {
        const float *w = op->weight + (size_t)o * (size_t)op->in_ch;
        if (e->f64) {
            double acc = op->bias[o];
            for (int i = 0; i < op->in_ch; i++) acc += (double)w[i] * in[i];
            out[o] = (float)acc;
            continue;
        }
        float acc = start(e, op->bias, o);
        if (e->pointwise_fma)
            for (int i = 0; i < op->in_ch; i++) acc = fmaf(w[i], in[i], acc);
        else
            for (int i = 0; i < op->in_ch; i++) acc += w[i] * in[i];
        out[o] = finish(e, acc, op->bias, o);
    }
}

/* The CPU's rsqrt estimate refined by one Newton step in this exact order
 * (a packet rsqrt on AVX without FMA). The estimate differs between CPU
 * vendors; without SSE we start from the correctly rounded value. */
float mnv3_rsqrt_estimate_newton(float a) {
#if defined(__SSE__)
    float y0 = _mm_cvtss_f32(_mm_rsqrt_ss(_mm_set_ss(a)));
#else
    float y0 = 1.0f / sqrtf(a);
#endif
    float r2 = a * y0, half_y0 = y0 * -0.5f;
    float h = r2 * y0 + -1.0f;
    return half_y0 * h + y0;
}

void mnv3_bn_coefficients(const mnv3_exec_op *e, int c, float *a, float *shift) {
    const mnv3_op *op = e->op;
    const float mean = op->bn_mean[c], v = op->bn_var[c] + op->eps, b = op->bias[c];
    const float inv = e->bn_rsqrt == MNV3_RSQRT_ESTIMATE_NEWTON ? mnv3_rsqrt_estimate_newton(v)
                                                              : 1.0f / sqrtf(v);
    *a = inv * op->weight[c];
    *shift = e->bn_apply == MNV3_BN_APPLY_FMA ? fmaf(-mean, *a, b) : b - mean * *a;
}

MNV3_REF_KERNEL(mnv3_ref_batchnorm) {
    (void)in2, (void)scratch, (void)batch;
    const mnv3_op *op = e->op;
    size_t plane = (size_t)e->out.h * (size_t)e->out.w;
    for (int c = 0; c < e->out.c; c++) {
        const float *x = in + (size_t)c * plane;
        float *y = out + (size_t)c * plane;
        if (e->f64) {
            double a = (double)op->weight[c] / sqrt((double)op->bn_var[c] + (double)op->eps);
            for (size_t i = 0; i < plane; i++)
                y[i] = (float)(((double)x[i] - op->bn_mean[c]) * a + op->bias[c]);
            continue;
        }
        float a, shift;
        mnv3_bn_coefficients(e, c, &a, &shift);
        switch (e->bn_apply) {
        case MNV3_BN_APPLY_MUL_ADD:
            for (size_t i = 0; i < plane; i++) y[i] = x[i] * a + shift;
            break;
        case MNV3_BN_APPLY_SUBTRACT_FIRST: {
            const float mean = op->bn_mean[c], b = op->bias[c];
            for (size_t i = 0; i < plane; i++) y[i] = (x[i] - mean) * a + b;
            break;
        }
        default: /* MNV3_BN_APPLY_FMA */
            for (size_t i = 0; i < plane; i++) y[i] = fmaf(x[i], a, shift);
            break;
        }
    }
}

static float pairwise_sum(const float *x, size_t n) {
    if (n <= 2) return n == 0 ? 0.0f : n == 1 ? x[0] : x[0] + x[1];
    size_t half = n / 2;
    return pairwise_sum(x, half) + pairwise_sum(x + half, n - half);
}

static int ceil_log2(int64_t x) {
    int bits = 0;
    if (x <= 2) return 1;
    for (int64_t v = x - 1; v; v >>= 1) bits++;
    return bits;
}

/* A cascaded row sum: `size` rows of m = nrows * width floats, four levels
 * of accumulators cascading every `step` rows. */
static void cascade_rows(const float *x, int64_t size, int m, float *out) {
    int lp = ceil_log2(size) / 4;
    if (lp < 4) lp = 4;
    const int64_t step = (int64_t)1 << lp, mask = step - 1;
    float acc[4][32] = {{0}};
    int64_t i = 0;
    while (i + step <= size) {
        for (int64_t t = 0; t < step; t++, i++)
            for (int q = 0; q < m; q++) acc[0][q] += x[i * m + q];
        for (int j = 1; j < 4; j++) {
            for (int q = 0; q < m; q++) {
                acc[j][q] += acc[j - 1][q];
                acc[j - 1][q] = 0.0f;
            }
            if (i & (mask << (j * lp))) break;
        }
    }
    for (; i < size; i++)
        for (int q = 0; q < m; q++) acc[0][q] += x[i * m + q];
    for (int q = 0; q < m; q++) {
        acc[0][q] += acc[1][q];
        acc[0][q] += acc[2][q];
        acc[0][q] += acc[3][q];
        out[q] = acc[0][q];
    }
}

/* Row sum over `size` elements of `width` lanes: four interleaved
 * cascades, the leftover elements, then the four partials in order. */
static void cascade_row_sum(const float *x, int64_t size, int width, float *out) {
    float p[32];
    int64_t s4 = size / 4;
    cascade_rows(x, s4, 4 * width, p);
    for (int64_t i = 4 * s4; i < size; i++)
        for (int l = 0; l < width; l++) p[l] += x[i * width + l];
    for (int k = 1; k < 4; k++)
        for (int l = 0; l < width; l++) p[l] += p[k * width + l];
    for (int l = 0; l < width; l++) out[l] = p[l];
}

/* Sum of n floats over 8-lane vectors, cascaded (pool_order CASCADE8). */
static float cascade8_sum(const float *x, int64_t n) {
    if (n == 1) return x[0];
    float s;
    if (n < 8) {
        cascade_row_sum(x, n, 1, &s);
        return s;
    }
    float lanes[8];
    int64_t nv = n / 8;
    cascade_row_sum(x, nv, 8, lanes);
    s = 0.0f;
    for (int64_t k = 8 * nv; k < n; k++) s += x[k]; /* scalar tail first */
    for (int l = 0; l < 8; l++) s += lanes[l];
    return s;
}

float mnv3_plane_sum(const mnv3_exec_op *e, const float *x, size_t n) {
    if (e->pool_order == MNV3_POOL_ORDER_PAIRWISE) return pairwise_sum(x, n);
    if (e->pool_order == MNV3_POOL_ORDER_CASCADE8) return cascade8_sum(x, (int64_t)n);
    float sum = 0.0f;
    for (size_t i = 0; i < n; i++) sum += x[i];
    return sum;
}

/* Global average pooling: sum, then divide by H*W (as every framework's mean). */
MNV3_REF_KERNEL(mnv3_ref_global_pool) {
    (void)in2, (void)scratch, (void)batch;
    size_t plane = (size_t)e->in.h * (size_t)e->in.w;
    for (int c = 0; c < e->in.c; c++) {
        const float *x = in + (size_t)c * plane;
        if (e->f64) {
            double sum = 0.0;
            for (size_t i = 0; i < plane; i++) sum += x[i];
            out[c] = (float)(sum / (double)plane);
            continue;
        }
        out[c] = mnv3_plane_sum(e, x, plane) / (float)plane;
    }
}

const mnv3_kernel_set *mnv3_reference_kernels(void) {
    static const mnv3_kernel_set set = {
        "reference",
        {[MNV3_OP_RESCALE] = mnv3_ref_rescale,
         [MNV3_OP_CONV] = mnv3_ref_conv,
         [MNV3_OP_BATCHNORM] = mnv3_ref_batchnorm,
         [MNV3_OP_RELU] = mnv3_ref_relu,
         [MNV3_OP_HARDSWISH] = mnv3_ref_hardswish,
         [MNV3_OP_HARDSIGMOID] = mnv3_ref_hardsigmoid,
         [MNV3_OP_GLOBAL_POOL] = mnv3_ref_global_pool,
         [MNV3_OP_CHANNEL_SCALE] = mnv3_ref_channel_scale,
         [MNV3_OP_ADD] = mnv3_ref_add,
         [MNV3_OP_LINEAR] = mnv3_ref_linear,
         [MNV3_OP_SOFTMAX] = mnv3_ref_softmax}};
    return &set;
}
