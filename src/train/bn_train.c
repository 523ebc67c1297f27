/* Training-mode BatchNorm formulas (see bn_train.h). Moved here from the
 * BatchNorm lab so the trainer and the lab run one implementation. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"
#include "train/bn_train.h"


/* The rsqrt estimate on whole 8-wide packets (Eigen, AVX, EIGEN_FAST_MATH);
 * elements past the last full packet take the scalar path, 1 / sqrt. */
static float packet_rsqrt(float a, int in_packet) {
    return in_packet ? mnv3_rsqrt_estimate_newton(a) : 1.0f / sqrtf(a);
}

/* The value at row r (sample-major, then spatial) of one channel. */
#define AT(planes, plane, r) ((planes)[(r) / (plane)][(r) % (plane)])

/* Eigen's reduction over the outer dimension of [rows, C] (row-major), one
 * channel's lane of a packet: with 16 or more rows, four accumulators take
 * rows j, j+1, j+2, j+3 in turn, are combined 0+1, +2, +3, then the leftover
 * rows are added; fewer rows are summed in order. sq: sum (x - mean)^2. */
static float eigen_outer_sum(const float *const *planes, size_t plane, size_t rows, int sq,
                             float mean) {
#define VAL(r) (sq ? (AT(planes, plane, r) - mean) * (AT(planes, plane, r) - mean) : AT(planes, plane, r))
    float a0 = 0.0f;
    if (rows >= 16) {
        float a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
        size_t u = rows / 4 * 4, j;
        for (j = 0; j < u; j += 4) {
            a0 += VAL(j);
            a1 += VAL(j + 1);
            a2 += VAL(j + 2);
            a3 += VAL(j + 3);
        }
        a0 += a1;
        a0 += a2;
        a0 += a3;
        for (; j < rows; j++) a0 += VAL(j);
    } else {
        for (size_t j = 0; j < rows; j++) a0 += VAL(j);
    }
    return a0;
#undef VAL
}

mnv3_bn_moments mnv3_bn_channel_moments(int batch_stats, const float *const *planes,
                                        int n_samples, size_t plane) {
    mnv3_bn_moments mo = {0, 0, 0};
    size_t count = (size_t)n_samples * plane;
    if (batch_stats == MNV3_BN_STATS_DOUBLE_SUMS) {
        if (plane == 1 && n_samples > 1) {
            /* N x C x 1 x 1 is also channels-last: the channels-last
             * statistics (one thread): float sums over the batch, the variance
             * term fused (fma), each total widened to double once. */
            float s = 0.0f;
            for (int i = 0; i < n_samples; i++) s += planes[i][0];
            mo.mean = (float)((double)s / (double)count);
            float v = 0.0f;
            for (int i = 0; i < n_samples; i++) {
                float d = planes[i][0] - mo.mean;
                v = fmaf(d, d, v);
            }
            mo.var_sum = (float)(double)v;
        } else {
            /* contiguous: double sums in order (sample, then position); the
             * deviation and its square in float. */
            double s = 0.0;
            for (size_t r = 0; r < count; r++) s += AT(planes, plane, r);
            mo.mean = (float)(s / (double)count);
            double v = 0.0;
            for (size_t r = 0; r < count; r++) {
                float d = AT(planes, plane, r) - mo.mean;
                v += (double)(d * d);
            }
            mo.var_sum = (float)v;
        }
        mo.var = mo.var_sum / (float)count;
    } else if (batch_stats == MNV3_BN_STATS_QUAD_SUM_DIVIDE) {
        /* reduce_mean(x) = sum / count; reduce_mean of squared_difference(x, mean) */
        mo.mean = eigen_outer_sum(planes, plane, count, 0, 0.0f) / (float)count;
        mo.var = eigen_outer_sum(planes, plane, count, 1, mo.mean) / (float)count;
    } else {
        /* sums times rest_size_inv = 1 / count */
        float inv = 1.0f / (float)count;
        mo.mean = eigen_outer_sum(planes, plane, count, 0, 0.0f) * inv;
        mo.var = eigen_outer_sum(planes, plane, count, 1, mo.mean) * inv;
    }
    return mo;
}

/* The decimal a float eps was written as (0.001f -> 0.001), as a double: the
 * double-invstd formula receives the module's decimal eps. */
double mnv3_bn_decimal_eps(float eps) {
    char buf[32];
    for (int prec = 1; prec <= 9; prec++) {
        snprintf(buf, sizeof buf, "%.*g", prec, (double)eps);
        if (strtof(buf, NULL) == eps) return strtod(buf, NULL);
    }
    return eps;
}

/* One channel's running statistics after a training step. */
void mnv3_bn_update_running(const mnv3_exec_op *e, mnv3_bn_moments mo, size_t count, double momentum,
                            float *mean, float *var) {
    const float unbiased_scale = count > 1 ? (float)count / (float)(count - 1) : 1.0f;
    switch (e->bn_update) {
    case MNV3_BN_UPDATE_BATCH_WEIGHT: {
        const float m = (float)momentum, om = 1.0f - m;
        const float batch_var = e->bn_update_unbiased ? mo.var_sum / (float)(count - 1) : mo.var;
        *mean = m * mo.mean + om * *mean;
        /* the unbiased variance is a double there: the update runs in double */
        *var = (float)((double)m * (double)batch_var + (double)(om * *var));
        break;
    }
    case MNV3_BN_UPDATE_OLD_WEIGHT: {
        const float m = (float)momentum, om = (float)(1.0 - momentum);
        const float batch_var = e->bn_update_unbiased ? mo.var * unbiased_scale : mo.var;
        *mean = *mean * m + mo.mean * om;
        *var = *var * m + batch_var * om;
        break;
    }
    default: { /* MNV3_BN_UPDATE_OLD_WEIGHT_FACTOR */
        const float f = (float)(1.0 - momentum), om = 1.0f - f;
        const float adjust = e->bn_update_unbiased ? unbiased_scale : 1.0f;
        *mean = om * *mean + f * mo.mean;
        *var = om * *var + (f * adjust) * mo.var;
        break;
    }
    }
}

/* Training-mode BatchNorm of one op over the batch (planes of every sample). */
int mnv3_bn_train_op(const mnv3_exec_op *e, float *const *in, float *const *out, int n, double momentum,
                     float *running_mean, float *running_var, float *save_mean, float *save_invstd,
                     mnv3_error *err) {
    const mnv3_op *op = e->op;
    size_t plane = (size_t)e->out.h * (size_t)e->out.w, count = (size_t)n * plane;
    if (e->bn_refuse_single_value && count == 1)
        return mnv3_fail_code(err, MNV3_ERR_SHAPE, NULL,
                         "%s: Expected more than 1 value per channel when training, got input "
                         "size torch.Size([%d, %d, %d, %d]) (PyTorch raises here)",
                         op->name, n, e->out.c, e->out.h, e->out.w);
    const float **planes = malloc((size_t)n * sizeof *planes);
    if (!planes) return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    int full_packets = e->out.c / 8 * 8;
    for (int c = 0; c < e->out.c; c++) {
        for (int s = 0; s < n; s++) planes[s] = in[s] + (size_t)c * plane;
        mnv3_bn_moments mo = mnv3_bn_channel_moments(e->bn_batch_stats, planes, n, plane);
        const float w = op->weight[c], b = op->bias[c];
        if (save_mean) save_mean[c] = mo.mean;
        if (save_invstd) save_invstd[c] = (float)(1.0 / sqrt((double)mo.var + mnv3_bn_decimal_eps(op->eps)));
        switch (e->bn_train_apply) {
        case MNV3_BN_TRAIN_FMA_DOUBLE_INVSTD: {
            float invstd = (float)(1.0 / sqrt((double)mo.var + mnv3_bn_decimal_eps(op->eps)));
            float alpha = invstd * w, beta = fmaf(-mo.mean, alpha, b);
            for (int s = 0; s < n; s++) {
                const float *x = planes[s];
                float *y = out[s] + (size_t)c * plane;
                for (size_t i = 0; i < plane; i++) y[i] = fmaf(x[i], alpha, beta);
            }
            break;
        }
        case MNV3_BN_TRAIN_MUL_ADD_ESTIMATE: {
            float inv = packet_rsqrt(mo.var + op->eps, c < full_packets) * w;
            float shift = b - mo.mean * inv;
            for (int s = 0; s < n; s++) {
                const float *x = planes[s];
                float *y = out[s] + (size_t)c * plane;
                for (size_t i = 0; i < plane; i++) y[i] = x[i] * inv + shift;
            }
            break;
        }
        default: { /* MNV3_BN_TRAIN_SUBTRACT_FIRST_ESTIMATE */
            float scale = packet_rsqrt(mo.var + op->eps, c < full_packets) * w;
            for (int s = 0; s < n; s++) {
                const float *x = planes[s];
                float *y = out[s] + (size_t)c * plane;
                for (size_t i = 0; i < plane; i++) y[i] = (x[i] - mo.mean) * scale + b;
            }
            break;
        }
        }
        if (running_mean) mnv3_bn_update_running(e, mo, count, momentum, &running_mean[c], &running_var[c]);
    }
    free(planes);
    return MNV3_OK;
}

