/* The fine-tuning loop that `mnv3 train` runs and `mnv3 drift` runs twice.
 *
 *   mnv3_finetune *f = mnv3_finetune_new(model, profile, &data, &options, &err);
 *   for (step = 1; step <= steps; step++) mnv3_finetune_step(f, &batch, &err);
 *   mnv3_trainer_export(mnv3_finetune_trainer(f), &tensors, &err);
 *
 * One step: the next batch (file order, or PyTorch's DataLoader order drawn
 * at each epoch's start), the next dropout mask from the seeded generator,
 * the training step (train.h), then the optimizer on every trainable tensor
 * with the learning rate the schedule gives. Everything that differs between
 * frameworks comes from the profile's resolved rules (plan, optim.h); this
 * file only sequences them. Core only: no files, no threads. */
#ifndef MNV3_TRAIN_FINETUNE_H
#define MNV3_TRAIN_FINETUNE_H

#include <stdint.h>

#include "train/optim.h"
#include "train/train.h"

typedef struct mnv3_finetune mnv3_finetune;

typedef struct mnv3_finetune_data {
    const float *x;     /* n samples, NCHW, or NHWC when nhwc */
    const int64_t *y;   /* n labels, each a class of the model's head */
    int n, h, w, nhwc;
} mnv3_finetune_data;

typedef struct mnv3_finetune_options {
    mnv3_optim_hyper hyper;           /* from mnv3_optim_hyper_defaults, then the user's values */
    const mnv3_lr_schedule *schedule; /* NULL: hyper.lr at every step */
    double bn_momentum;               /* in the profile's convention; < 0: its framework's default */
    double dropout;                   /* the classifier's drop probability; 0 = none */
    double label_smoothing;
    int batch;
    int shuffle;                      /* PyTorch DataLoader order from the seed, else file order */
    uint64_t seed;
    int dropout_generator;            /* enum mnv3_dropout_generator; -1 = the profile's. `drift` fixes
                                         one so that both runs draw the same masks */
} mnv3_finetune_options;

/* What one step did. */
typedef struct mnv3_finetune_batch {
    long step, epoch; /* 1-based */
    int size, correct; /* samples, and those whose top-1 logit is the label */
    float loss;
    double lr;
} mnv3_finetune_batch;

/* The user's training choices; the optimizer's other hyper-parameters are each
 * profile's framework defaults. */
typedef struct mnv3_training_choice {
    mnv3_optimizer_kind optimizer;
    double lr, momentum, weight_decay, dropout, label_smoothing;
    int have_momentum, batch, shuffle;
    uint64_t seed;
} mnv3_training_choice;

/* The finetune options that profile p gives those choices. */
int mnv3_finetune_options_for(const mnv3_profile *p, const mnv3_training_choice *c, mnv3_finetune_options *o,
                              mnv3_error *err);

mnv3_finetune *mnv3_finetune_new(const mnv3_model *m, const mnv3_profile *p, const mnv3_finetune_data *d,
                                 const mnv3_finetune_options *o, mnv3_error *err);
int mnv3_finetune_step(mnv3_finetune *f, mnv3_finetune_batch *out, mnv3_error *err);
long mnv3_finetune_steps_per_epoch(const mnv3_finetune *f);
mnv3_trainer *mnv3_finetune_trainer(mnv3_finetune *f);
void mnv3_finetune_free(mnv3_finetune *f);

#endif
