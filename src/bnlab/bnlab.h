/* The BatchNorm lab: training-mode BatchNorm, running-statistic updates and
 * folding, each under one framework's convention (see docs/batchnorm.md).
 *
 * The rules are the profile's factors, resolved by the plan into per-op
 * fields (kernels/kernels.h); nothing here asks which framework it is.
 * The runner walks a plan batch-major: every sample goes through op k before
 * any goes through op k + 1, because a training-mode BatchNorm normalises with
 * statistics over N x H x W. Every other op runs with the reference kernels,
 * per sample, exactly as mnv3_run does. */
#ifndef MNV3_BNLAB_H
#define MNV3_BNLAB_H

#include "train/bn_train.h"
#include "mnv3.h"

/* A framework's training conventions are factors of its profile
 * (src/factors/factors.c): bn_batch_stats, bn_train_apply, bn_momentum and
 * bn_update_variance, switchable with mnv3_profile_set like any other. */

/* MobileNetV3's momentum in the profile's own meaning of the number
 * (bn_momentum): 0.01 where it weights the batch (torchvision), 0.999 where it
 * weights the old value (Keras applications). */
double mnv3_bn_default_momentum(const mnv3_profile *p);
/* The same update rule in another profile's meaning: m <-> 1 - m when one
 * weights the batch and the other the old value. */
double mnv3_bn_momentum_convert(double momentum, const mnv3_profile *from, const mnv3_profile *to);
/* Does the profile's update weight the batch by the momentum? */
int mnv3_bn_momentum_weights_batch(const mnv3_profile *p);

/* Running statistics of every BatchNorm, in execution order. */
typedef struct mnv3_bn_layer_stats {
    char name[48]; /* canonical op name, e.g. "b3.dw.bn" */
    int channels;
    float *mean, *var; /* owned */
} mnv3_bn_layer_stats;

typedef struct mnv3_bn_stats {
    int count;
    mnv3_bn_layer_stats *layers;
    int64_t num_batches_tracked; /* PyTorch's counter (used when cumulative) */
} mnv3_bn_stats;

/* A copy of the model's running statistics (num_batches_tracked starts at 0). */
int mnv3_bn_stats_from_model(const mnv3_model *m, mnv3_bn_stats *out, mnv3_error *err);
int mnv3_bn_stats_copy(const mnv3_bn_stats *src, mnv3_bn_stats *out, mnv3_error *err);
void mnv3_bn_stats_free(mnv3_bn_stats *s);
/* "<bn>.running_mean" and "<bn>.running_var", float32, shape (C). */
int mnv3_bn_stats_to_tensors(const mnv3_bn_stats *s, mnv3_tensors *out, mnv3_error *err);
/* Relative L2 of a against b over all layers' means and over all variances. */
void mnv3_bn_stats_distance(const mnv3_bn_stats *a, const mnv3_bn_stats *b, double *mean_rel_l2,
                            double *var_rel_l2);

typedef struct mnv3_bn_options {
    const mnv3_profile *profile; /* every op, training BatchNorm included */
    int training;    /* 1: batch statistics (and update stats when given); 0: eval mode */
    double momentum; /* in the profile's own meaning; negative: the MobileNetV3 default */
    int cumulative;  /* momentum=None (bn_momentum=torch only): average over num_batches_tracked */
    int fold;        /* eval only: BatchNorm folded into the preceding convolution (float32) */
    mnv3_tap_fn tap; /* optional, per sample, as mnv3_run */
    void *tap_user;
} mnv3_bn_options;

void mnv3_bn_options_init(mnv3_bn_options *o, const mnv3_profile *p);

/* n samples through the model. Training: BatchNorm uses the batch statistics
 * and, when stats is not NULL, updates them once (one training step). Eval:
 * BatchNorm uses stats, or the model's own when stats is NULL. Fails like the
 * framework does where it fails (bn_batch_stats=aten: one value per channel). */
int mnv3_bn_forward(const mnv3_model *m, const mnv3_bn_options *o, mnv3_bn_stats *stats,
                    const float *input, mnv3_layout layout, int n, int h, int w, float *output,
                    mnv3_error *err);

#endif
