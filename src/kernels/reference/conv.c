/* Convolution, linear, BatchNorm and pooling: the ops that sum. Every sum
 * runs in a fixed order (input channel, then kernel row, then column), so
 * results do not depend on threads or on the machine. */
#include <math.h>
#if defined(__SSE__)
#include <xmmintrin.h>
#endif

#include "factors/factors.h"
#include "kernels/reference/reference.h"

static float finish(float sum, const float *bias, int co, int bias_option) {
    return (bias && bias_option == MNV3_BIAS_SEPARATE_ADD) ? sum + bias[co] : sum;
}

static float start(const float *bias, int co, int bias_option) {
    return (bias && bias_option == MNV3_BIAS_IN_ACCUMULATOR) ? bias[co] : 0.0f;
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
        float init = start(bias, co, e->opt_bias);
        for (size_t p = 0; p < plane; p++) o[p] = init;
        for (int ci = 0; ci < e->in.c; ci++) {
            const float *x = in + (size_t)ci * plane;
            float wv = w[ci];
            if (e->opt_pointwise == MNV3_POINTWISE_FMA)
                for (size_t p = 0; p < plane; p++) o[p] = fmaf(wv, x[p], o[p]);
            else
                for (size_t p = 0; p < plane; p++) o[p] += wv * x[p];
        }
        for (size_t p = 0; p < plane; p++) o[p] = finish(o[p], bias, co, e->opt_bias);
    }
}

/* One output of a k x k convolution, kernel position outer, input channel
 * inner, each product fused into the sum (PyTorch CPU's order). */
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
    for (int co = 0; co < e->out.c; co++) {
        int first_ci = (co / cout_group) * cin_group;
        const float *w = op->weight + (size_t)co * (size_t)cin_group * (size_t)(k * k);
        for (int oy = 0; oy < e->out.h; oy++) {
            for (int ox = 0; ox < e->out.w; ox++) {
                double acc64 = bias ? bias[co] : 0.0;
                float acc = start(bias, co, e->opt_bias);
                float *o = out + ((size_t)co * (size_t)e->out.h + (size_t)oy) * (size_t)e->out.w + (size_t)ox;
                if (!e->f64 && e->opt_conv_order == MNV3_CONV_KY_KX_CI_FMA) {
                    acc = conv_point_fma(e, in, w, first_ci, cin_group, oy, ox, acc);
                    *o = finish(acc, bias, co, e->opt_bias);
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
                *o = e->f64 ? (float)acc64 : finish(acc, bias, co, e->opt_bias);
            }
        }
    }
}

MNV3_REF_KERNEL(mnv3_ref_linear) {
    (void)in2, (void)scratch;
    const mnv3_op *op = e->op;
    for (int o = 0; o < op->out_ch; o++) {
        const float *w = op->weight + (size_t)o * (size_t)op->in_ch;
        if (e->f64) {
            double acc = op->bias[o];
            for (int i = 0; i < op->in_ch; i++) acc += (double)w[i] * in[i];
            out[o] = (float)acc;
            continue;
        }
        float acc = start(op->bias, o, e->opt_bias);
        if (e->opt_pointwise == MNV3_POINTWISE_FMA)
            for (int i = 0; i < op->in_ch; i++) acc = fmaf(w[i], in[i], acc);
        else
            for (int i = 0; i < op->in_ch; i++) acc += w[i] * in[i];
        out[o] = finish(acc, op->bias, o, e->opt_bias);
    }
}

/* TensorFlow's CPU rsqrt (Eigen, AVX without FMA): the hardware estimate
 * refined by one Newton step in this exact order. The estimate differs between
 * CPU vendors; without SSE we start from the correctly rounded value. */
static float tf_rsqrt(float a) {
#if defined(__SSE__)
    float y0 = _mm_cvtss_f32(_mm_rsqrt_ss(_mm_set_ss(a)));
#else
    float y0 = 1.0f / sqrtf(a);
#endif
    float r2 = a * y0, half_y0 = y0 * -0.5f;
    float h = r2 * y0 + -1.0f;
    return half_y0 * h + y0;
}

MNV3_REF_KERNEL(mnv3_ref_batchnorm) {
    (void)in2, (void)scratch;
    const mnv3_op *op = e->op;
    size_t plane = (size_t)e->out.h * (size_t)e->out.w;
    for (int c = 0; c < e->out.c; c++) {
        const float *x = in + (size_t)c * plane;
        float *y = out + (size_t)c * plane;
        float mean = op->bn_mean[c], var = op->bn_var[c], w = op->weight[c], b = op->bias[c];
        if (e->f64) {
            double a = (double)w / sqrt((double)var + (double)op->eps);
            for (size_t i = 0; i < plane; i++) y[i] = (float)(((double)x[i] - mean) * a + b);
            continue;
        }
        float inv = e->opt_batchnorm == MNV3_BN_TF_RSQRT ? tf_rsqrt(var + op->eps)
                                                         : 1.0f / sqrtf(var + op->eps);
        float a = inv * w;
        switch (e->opt_batchnorm) {
        case MNV3_BN_TF_RSQRT:
        case MNV3_BN_SCALE_SHIFT: {
            float shift = b - mean * a;
            for (size_t i = 0; i < plane; i++) y[i] = x[i] * a + shift;
            break;
        }
        case MNV3_BN_SUBTRACT_FIRST:
            for (size_t i = 0; i < plane; i++) y[i] = (x[i] - mean) * a + b;
            break;
        default: { /* torch_fma */
            float shift = fmaf(-mean, a, b);
            for (size_t i = 0; i < plane; i++) y[i] = fmaf(x[i], a, shift);
            break;
        }
        }
    }
}

static float pairwise_sum(const float *x, size_t n) {
    if (n <= 2) return n == 0 ? 0.0f : n == 1 ? x[0] : x[0] + x[1];
    size_t half = n / 2;
    return pairwise_sum(x, half) + pairwise_sum(x + half, n - half);
}

/* Global average pooling: sum, then divide by H*W (TF reduce_mean and ATen
 * mean both divide). */
MNV3_REF_KERNEL(mnv3_ref_global_pool) {
    (void)in2, (void)scratch;
    size_t plane = (size_t)e->in.h * (size_t)e->in.w;
    for (int c = 0; c < e->in.c; c++) {
        const float *x = in + (size_t)c * plane;
        if (e->f64) {
            double sum = 0.0;
            for (size_t i = 0; i < plane; i++) sum += x[i];
            out[c] = (float)(sum / (double)plane);
            continue;
        }
        float sum = 0.0f;
        if (e->opt_pool_sum == MNV3_POOL_PAIRWISE) sum = pairwise_sum(x, plane);
        else
            for (size_t i = 0; i < plane; i++) sum += x[i];
        out[c] = sum / (float)plane;
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
