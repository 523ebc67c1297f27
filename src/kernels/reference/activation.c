/* Elementwise ops. Each formula is one operation order; which framework uses
 * which is said once, in src/factors/factors.c. */
#include <math.h>

#include "kernels/kernels.h"
#include "kernels/reference/reference.h"

static float relu6_shift3(float x) { return fminf(fmaxf(x + 3.0f, 0.0f), 6.0f); }

float mnv3_hardsigmoid(float x, int formula) {
    float c = relu6_shift3(x);
    switch (formula) {
    case MNV3_HSIG_MUL_RECIP6: return c * (1.0f / 6.0f);
    case MNV3_HSIG_MUL_0_16667: return c * 0.16667f;
    default: return c / 6.0f;
    }
}

float mnv3_hardswish(float x, int formula) {
    float c = relu6_shift3(x);
    switch (formula) {
    case MNV3_HSWISH_X_MUL_C_DIV6: return x * (c / 6.0f);
    case MNV3_HSWISH_X_MUL_C_RECIP6: return x * (c * (1.0f / 6.0f));
    case MNV3_HSWISH_XC_MUL_RECIP6: return (x * c) * (1.0f / 6.0f);
    case MNV3_HSWISH_X_MUL_CLAMP_FMA:
        return x * fminf(fmaxf(fmaf(x, 1.0f / 6.0f, 0.5f), 0.0f), 1.0f);
    default: return (x * c) / 6.0f;
    }
}

static double hardsigmoid64(double x) { return fmin(fmax(x + 3.0, 0.0), 6.0) / 6.0; }

static size_t count(mnv3_shape s) { return (size_t)s.c * (size_t)s.h * (size_t)s.w; }

void mnv3_ref_relu(const mnv3_exec_op *e, int batch, const float *in, const float *in2, float *out,
                   double *scratch) {
    (void)in2, (void)scratch, (void)batch;
    size_t n = count(e->out);
    for (size_t i = 0; i < n; i++) out[i] = in[i] > 0.0f ? in[i] : 0.0f;
}

void mnv3_ref_hardswish(const mnv3_exec_op *e, int batch, const float *in, const float *in2, float *out,
                        double *scratch) {
    (void)in2, (void)scratch, (void)batch;
    size_t n = count(e->out);
    if (e->f64) {
        for (size_t i = 0; i < n; i++) out[i] = (float)(in[i] * hardsigmoid64(in[i]));
        return;
    }
    for (size_t i = 0; i < n; i++) out[i] = mnv3_hardswish(in[i], e->hardswish);
}

void mnv3_ref_hardsigmoid(const mnv3_exec_op *e, int batch, const float *in, const float *in2, float *out,
                          double *scratch) {
    (void)in2, (void)scratch, (void)batch;
    size_t n = count(e->out);
    if (e->f64) {
        for (size_t i = 0; i < n; i++) out[i] = (float)hardsigmoid64(in[i]);
        return;
    }
    for (size_t i = 0; i < n; i++) out[i] = mnv3_hardsigmoid(in[i], e->hardsigmoid);
}

void mnv3_ref_add(const mnv3_exec_op *e, int batch, const float *in, const float *in2, float *out,
                  double *scratch) {
    (void)scratch, (void)batch;
    size_t n = count(e->out);
    for (size_t i = 0; i < n; i++) out[i] = in[i] + in2[i];
}

/* x[c, :] * gate[c]; the SE multiply. */
void mnv3_ref_channel_scale(const mnv3_exec_op *e, int batch, const float *in, const float *gate,
                            float *out, double *scratch) {
    (void)scratch, (void)batch;
    size_t plane = (size_t)e->out.h * (size_t)e->out.w;
    for (int c = 0; c < e->out.c; c++)
        for (size_t i = 0; i < plane; i++)
            out[(size_t)c * plane + i] = in[(size_t)c * plane + i] * gate[c];
}

/* In-model rescaling x * f32(1/127.5) + (-1): two roundings. */
void mnv3_ref_rescale(const mnv3_exec_op *e, int batch, const float *in, const float *in2, float *out,
                      double *scratch) {
    (void)in2, (void)scratch, (void)batch;
    size_t n = count(e->out);
    const float scale = (float)(1.0 / 127.5), offset = -1.0f;
    for (size_t i = 0; i < n; i++) {
        float scaled = in[i] * scale;
        out[i] = scaled + offset;
    }
}

/* Softmax: exp(x - max), then multiply by 1/sum. */
void mnv3_ref_softmax(const mnv3_exec_op *e, int batch, const float *in, const float *in2, float *out,
                      double *scratch) {
    (void)in2, (void)scratch, (void)batch;
    int n = e->out.c;
    float max = in[0];
    for (int i = 1; i < n; i++) max = in[i] > max ? in[i] : max;
    float sum = 0.0f;
    for (int i = 0; i < n; i++) {
        out[i] = expf(in[i] - max);
        sum += out[i];
    }
    float inv = 1.0f / sum;
    for (int i = 0; i < n; i++) out[i] *= inv;
}
