/* The trainer: one training step of MobileNetV3 as a framework takes it.
 *
 *   mnv3_trainer *t = mnv3_trainer_new(model, profile, max_batch, h, w, &err);
 *   mnv3_trainer_step(t, x, labels, batch, keep, &opt, &loss, &err);
 *   for (i = 0; i < mnv3_trainer_param_count(t); i++) {
 *       mnv3_train_param *p = mnv3_trainer_param(t, i);  // p->value, p->grad
 *       ... an optimizer updates p->value from p->grad ...
 *   }
 *   mnv3_trainer_export(t, &tensors, &err);  // canonical names, for writers
 *
 * A step runs the forward pass in training mode (BatchNorm normalises with
 * the batch statistics and updates its running statistics), the softmax
 * cross-entropy loss on the logits, and the backward pass, leaving every
 * trainable parameter's gradient in p->grad (overwritten, not accumulated).
 * Everything a framework does its own way (the BatchNorm sums and update,
 * the activation gradients at their kinks, the loss reduction, dropout's
 * multiply) is a training factor of the profile, resolved by the plan into
 * the per-op fields the backward kernels read (backward.c).
 *
 * Core only: libm, no threads, no files. The trainer owns float copies of
 * the model's parameters; the model may be freed after mnv3_trainer_new. */
#ifndef MNV3_TRAIN_H
#define MNV3_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "core/model.h"
#include "core/plan.h"

typedef struct mnv3_trainer mnv3_trainer;

#define MNV3_MAX_BATCH_TRAIN 1024

typedef struct mnv3_train_param {
    char name[64];       /* canonical, e.g. "b3.dw.conv.weight" */
    const mnv3_op *op;   /* the op it belongs to (torchvision / Keras names via the naming table) */
    const char *suffix;  /* "weight", "bias", "running_mean", "running_var" */
    float *value;
    float *grad;         /* NULL for buffers */
    size_t count;
    int is_buffer;       /* BatchNorm running statistic: updated by the step, no gradient */
} mnv3_train_param;

typedef struct mnv3_loss_options {
    float label_smoothing;      /* 0 = none */
    const float *class_weights; /* NULL = all 1; else one per class */
} mnv3_loss_options;

typedef struct mnv3_train_step_options {
    mnv3_loss_options loss;
    double bn_momentum;    /* in the profile's own convention (bnlab's mnv3_bn_default_momentum) */
    double dropout_p;      /* drop probability of the classifier's dropout */
    const uint8_t *keep;   /* batch x head_hidden, 1 = keep; NULL = no dropout */
} mnv3_train_step_options;

mnv3_trainer *mnv3_trainer_new(const mnv3_model *m, const mnv3_profile *p, int max_batch, int h, int w,
                               mnv3_error *err);
void mnv3_trainer_free(mnv3_trainer *t);

/* x: batch samples, NCHW float32, as the model takes them (after any
 * pipeline; an in-model rescale is part of the step). labels: batch class
 * indices. loss: the reduced loss of the batch. */
int mnv3_trainer_step(mnv3_trainer *t, const float *x, const int *labels, int batch,
                      const mnv3_train_step_options *opt, float *loss, mnv3_error *err);

int mnv3_trainer_param_count(const mnv3_trainer *t);
mnv3_train_param *mnv3_trainer_param(mnv3_trainer *t, int i);
/* The logits of the last step, batch x classes. */
const float *mnv3_trainer_logits(const mnv3_trainer *t);
/* Every parameter and buffer under its canonical name (float32), the form
 * mnv3_model_from_tensors and the weight writers take. */
int mnv3_trainer_export(const mnv3_trainer *t, mnv3_tensors *out, mnv3_error *err);

/* ---- backward kernels (backward.c), for the trainer and the per-op tests ---- */

/* Sample-batched values: value v of sample s at base + s * numel(v). */
typedef struct mnv3_backward_io {
    int batch;
    const float *x, *x2; /* the op's inputs (x2: second operand or NULL) */
    const float *y;      /* its output */
    const float *dy;     /* gradient of the output */
    float *dx, *dx2;     /* gradients of the inputs, accumulated (+=); NULL = not needed */
    float *dweight, *dbias; /* parameter gradients, overwritten; NULL = not needed */
    const float *save_mean, *save_invstd; /* BatchNorm in training mode */
    float *products;                      /* scratch of one plane */
} mnv3_backward_io;

void mnv3_backward_op(const mnv3_exec_op *e, const mnv3_backward_io *io);

#endif
