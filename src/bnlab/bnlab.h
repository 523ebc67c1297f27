/* The BatchNorm lab: training-mode BatchNorm, running-statistic updates and
 * folding, each under one framework's convention (see docs/batchnorm.md).
 *
 * The runner walks a plan batch-major: every sample goes through op k before
 * any goes through op k + 1, because a training-mode BatchNorm normalises with
 * statistics over N x H x W. Every other op runs with the reference kernels,
 * per sample, exactly as mnv3_run does. */
#ifndef MNV3_BNLAB_H
#define MNV3_BNLAB_H

#include "mnv3.h"

typedef enum mnv3_bn_convention {
    MNV3_BN_TORCH,    /* PyTorch CPU (ATen), torchvision MobileNetV3 (momentum 0.01) */
    MNV3_BN_KERAS,    /* Keras 3 on TensorFlow: tf.nn.moments + tf.nn.batch_normalization */
    MNV3_BN_TF_KERAS, /* tf-keras (Keras 2): FusedBatchNormV3 */
    MNV3_BN_CONVENTION_COUNT
} mnv3_bn_convention;

const char *mnv3_bn_convention_name(mnv3_bn_convention c);
/* -1 if unknown. Accepts "torch", "keras", "tf-keras". */
int mnv3_bn_convention_find(const char *name);
/* The eval-mode profile of the same framework ("torch", "keras", "tf-keras"). */
const char *mnv3_bn_convention_profile(mnv3_bn_convention c);
/* MobileNetV3's momentum in the convention's own meaning: torch 0.01 (weight of
 * the batch), Keras 0.999 (weight of the old value). */
double mnv3_bn_default_momentum(mnv3_bn_convention c);
/* Same update rule expressed in another convention: torch m <-> Keras 1 - m. */
double mnv3_bn_momentum_convert(double momentum, mnv3_bn_convention from, mnv3_bn_convention to);

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
    mnv3_bn_convention convention;
    const mnv3_profile *profile; /* non-BN ops and eval BN; NULL: the convention's profile */
    int training;    /* 1: batch statistics (and update stats when given); 0: eval mode */
    double momentum; /* in the convention's own meaning; negative: the MobileNetV3 default */
    int cumulative;  /* PyTorch momentum=None: cumulative average over num_batches_tracked */
    int bessel;      /* variance in the update: -1 convention's own, 0 biased, 1 unbiased */
    int fold;        /* eval only: BatchNorm folded into the preceding convolution (float32) */
    mnv3_tap_fn tap; /* optional, per sample, as mnv3_run */
    void *tap_user;
} mnv3_bn_options;

void mnv3_bn_options_init(mnv3_bn_options *o, mnv3_bn_convention c);

/* n samples through the model. Training: BatchNorm uses the batch statistics
 * and, when stats is not NULL, updates them once (one training step). Eval:
 * BatchNorm uses stats, or the model's own when stats is NULL. Fails like the
 * framework does where it fails (PyTorch: one value per channel in training). */
int mnv3_bn_forward(const mnv3_model *m, const mnv3_bn_options *o, mnv3_bn_stats *stats,
                    const float *input, mnv3_layout layout, int n, int h, int w, float *output,
                    mnv3_error *err);

/* One channel's batch statistics under a convention, for tests: x holds
 * n_samples planes of plane_size values (sample-major). */
typedef struct mnv3_bn_moments {
    float mean;
    float var;     /* biased, the one that normalises */
    float var_sum; /* PyTorch's sum of squared deviations (float) */
} mnv3_bn_moments;
mnv3_bn_moments mnv3_bn_channel_moments(mnv3_bn_convention c, const float *const *planes,
                                        int n_samples, size_t plane_size);

#endif
