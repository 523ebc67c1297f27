/* Training-mode BatchNorm, the formulas every training path shares (the
 * BatchNorm lab, the trainer): batch moments per summation method, the
 * normalisation with batch statistics, the running-statistics update. They
 * read the plain per-op fields the plan resolves (bn_batch_stats,
 * bn_train_apply, bn_update, bn_update_unbiased); see docs/batchnorm.md for
 * the measurements behind each. */
#ifndef MNV3_BN_TRAIN_H
#define MNV3_BN_TRAIN_H

#include <stddef.h>

#include "kernels/kernels.h"

/* One channel's batch statistics by method (enum mnv3_bn_batch_stats):
 * n_samples planes of plane_size values. */
typedef struct mnv3_bn_moments {
    float mean;
    float var;     /* biased, the one that normalises */
    float var_sum; /* PyTorch's sum of squared deviations (float) */
} mnv3_bn_moments;
mnv3_bn_moments mnv3_bn_channel_moments(int batch_stats, const float *const *planes,
                                        int n_samples, size_t plane_size);

/* The decimal a float eps was written as (0.001f -> 0.001), as a double. */
double mnv3_bn_decimal_eps(float eps);

/* One channel's running statistics after a step over count values. */
void mnv3_bn_update_running(const mnv3_exec_op *e, mnv3_bn_moments mo, size_t count, double momentum,
                            float *mean, float *var);

/* Training-mode BatchNorm of op e over n samples (in[s], out[s]: planes of
 * sample s, NCHW); updates running_mean/var when not NULL, and keeps each
 * channel's batch mean and 1/sqrt(var + eps) in save_mean/save_invstd when
 * not NULL (the backward pass reads them). Fails where the framework fails
 * (one value per channel under bn_refuse_single_value). */
int mnv3_bn_train_op(const mnv3_exec_op *e, float *const *in, float *const *out, int n, double momentum,
                     float *running_mean, float *running_var, float *save_mean, float *save_invstd,
                     mnv3_error *err);

#endif
