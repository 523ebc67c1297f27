/* The fine-tuning loop (finetune.h): batches, masks, step, optimizer. */
#include "train/finetune.h"

#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "train/rng.h"

struct mnv3_finetune {
    mnv3_trainer *trainer;
    mnv3_finetune_data data;
    mnv3_finetune_options opt;
    mnv3_optim_rule rule;
    mnv3_dropout_stream stream;
    mnv3_torch_generator own_order; /* the order's generator when the masks' is not PyTorch's */
    int classes, hidden, n_params;
    double bn_momentum;
    long step, per_epoch;
    float *x, **state;
    int *labels;
    int64_t *order;
    uint8_t *keep;
};

void mnv3_finetune_free(mnv3_finetune *f) {
    if (!f) return;
    for (int k = 0; f->state && k < f->n_params; k++) free(f->state[k]);
    free(f->state);
    free(f->x);
    free(f->labels);
    free(f->order);
    free(f->keep);
    mnv3_trainer_free(f->trainer);
    free(f);
}

mnv3_finetune *mnv3_finetune_new(const mnv3_model *m, const mnv3_profile *p, const mnv3_finetune_data *d,
                                 const mnv3_finetune_options *o, mnv3_error *err) {
    if (o->batch < 1 || o->batch > MNV3_MAX_BATCH_TRAIN || d->n < 1) {
        mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "fine-tuning needs a batch of 1 to %d and at least one sample",
                       MNV3_MAX_BATCH_TRAIN);
        return NULL;
    }
    mnv3_finetune *f = calloc(1, sizeof *f);
    if (!f) {
        mnv3_fail(err, NULL, "out of memory");
        return NULL;
    }
    f->data = *d;
    f->opt = *o;
    f->classes = m->arch.num_classes;
    f->hidden = m->arch.head_hidden;
    f->per_epoch = (d->n + o->batch - 1) / o->batch;
    f->bn_momentum = o->bn_momentum >= 0 ? o->bn_momentum : mnv3_plan_bn_default_momentum(p);
    if (mnv3_optim_rule_from_profile(p, &f->rule, err) != MNV3_OK ||
        mnv3_optim_hyper_check(&f->rule, &o->hyper, err) != MNV3_OK ||
        !(f->trainer = mnv3_trainer_new(m, p, o->batch, d->h, d->w, err))) {
        mnv3_finetune_free(f);
        return NULL;
    }
    f->n_params = mnv3_trainer_param_count(f->trainer);
    const size_t sample = 3 * (size_t)d->h * (size_t)d->w;
    f->x = malloc((size_t)o->batch * sample * sizeof *f->x);
    f->labels = malloc((size_t)o->batch * sizeof *f->labels);
    f->order = malloc((size_t)d->n * sizeof *f->order);
    f->keep = malloc((size_t)o->batch * (size_t)(f->hidden > 0 ? f->hidden : 1));
    f->state = calloc((size_t)f->n_params, sizeof *f->state);
    int ok = f->x && f->labels && f->order && f->keep && f->state;
    for (int k = 0; ok && k < f->n_params; k++) {
        const mnv3_train_param *t = mnv3_trainer_param(f->trainer, k);
        if (t->is_buffer) continue;
        ok = (f->state[k] = calloc(mnv3_optim_state_floats(&f->rule, &o->hyper, t->count) + 1, sizeof(float))) != NULL;
    }
    if (!ok) {
        mnv3_fail(err, NULL, "out of memory");
        mnv3_finetune_free(f);
        return NULL;
    }
    mnv3_train_rule train_rule;
    mnv3_plan_train_rule(p, &train_rule);
    const int generator = o->dropout_generator >= 0 ? o->dropout_generator : train_rule.dropout_generator;
    mnv3_dropout_stream_init(&f->stream, generator, o->seed);
    mnv3_torch_generator_seed(&f->own_order, o->seed);
    return f;
}

int mnv3_finetune_options_for(const mnv3_profile *p, const mnv3_training_choice *c, mnv3_finetune_options *o,
                              mnv3_error *err) {
    mnv3_optim_rule rule;
    if (mnv3_optim_rule_from_profile(p, &rule, err) != MNV3_OK) return MNV3_FAIL;
    memset(o, 0, sizeof *o);
    mnv3_optim_hyper_defaults(&rule, c->optimizer, &o->hyper);
    o->hyper.lr = c->lr;
    if (c->have_momentum) o->hyper.momentum = c->momentum;
    o->hyper.weight_decay = c->weight_decay;
    o->bn_momentum = -1;
    o->dropout = c->dropout;
    o->label_smoothing = c->label_smoothing;
    o->batch = c->batch;
    o->shuffle = c->shuffle;
    o->seed = c->seed;
    o->dropout_generator = -1;
    return mnv3_optim_hyper_check(&rule, &o->hyper, err);
}

/* Sample s of the data into dst as NCHW. */
static void take_sample(const mnv3_finetune_data *d, int s, float *dst) {
    const size_t plane = (size_t)d->h * (size_t)d->w;
    const float *src = d->x + (size_t)s * 3 * plane;
    if (!d->nhwc) {
        memcpy(dst, src, 3 * plane * sizeof *dst);
        return;
    }
    for (size_t q = 0; q < plane; q++)
        for (int c = 0; c < 3; c++) dst[(size_t)c * plane + q] = src[q * 3 + (size_t)c];
}

int mnv3_finetune_step(mnv3_finetune *f, mnv3_finetune_batch *out, mnv3_error *err) {
    const long step = ++f->step, in_epoch = (step - 1) % f->per_epoch;
    const mnv3_finetune_data *d = &f->data;
    if (in_epoch == 0) {
        /* PyTorch's DataLoader draws the order from the generator the masks use. */
        mnv3_torch_generator *g = f->stream.generator == MNV3_DROPOUT_MT19937_BERNOULLI ? &f->stream.torch : &f->own_order;
        if (f->opt.shuffle) mnv3_torch_dataloader_epoch_order(g, d->n, f->order);
        else
            for (int i = 0; i < d->n; i++) f->order[i] = i;
    }
    const long first = in_epoch * f->opt.batch;
    const int b = (int)(first + f->opt.batch <= d->n ? f->opt.batch : d->n - first);
    const size_t sample = 3 * (size_t)d->h * (size_t)d->w;
    for (int s = 0; s < b; s++) {
        take_sample(d, (int)f->order[first + s], f->x + (size_t)s * sample);
        f->labels[s] = (int)d->y[f->order[first + s]];
    }
    mnv3_train_step_options so = {
        .loss = {.label_smoothing = (float)f->opt.label_smoothing},
        .bn_momentum = f->bn_momentum,
        .dropout_p = f->opt.dropout,
    };
    if (f->opt.dropout > 0) {
        mnv3_dropout_stream_next(&f->stream, f->opt.dropout, (size_t)b * (size_t)f->hidden, f->keep);
        so.keep = f->keep;
    }
    double lr = f->opt.hyper.lr;
    if (f->opt.schedule && mnv3_lr_at(&f->rule, f->opt.schedule, step, &lr, err) != MNV3_OK) return MNV3_FAIL;
    float loss = 0;
    if (mnv3_trainer_step(f->trainer, f->x, f->labels, b, &so, &loss, err) != MNV3_OK) return MNV3_FAIL;
    for (int k = 0; k < f->n_params; k++) {
        mnv3_train_param *t = mnv3_trainer_param(f->trainer, k);
        if (t->is_buffer) continue;
        if (mnv3_optim_step_tensor(&f->rule, &f->opt.hyper, step, lr, t->value, t->grad, t->count, f->state[k], err) !=
            MNV3_OK)
            return MNV3_FAIL;
    }
    const float *z = mnv3_trainer_logits(f->trainer);
    const size_t K = (size_t)f->classes;
    int correct = 0;
    for (int s = 0; s < b; s++) {
        size_t best = 0;
        for (size_t j = 1; j < K; j++) best = z[(size_t)s * K + j] > z[(size_t)s * K + best] ? j : best;
        correct += (int)best == f->labels[s];
    }
    *out = (mnv3_finetune_batch){step, (step - 1) / f->per_epoch + 1, b, correct, loss, lr};
    return MNV3_OK;
}

long mnv3_finetune_steps_per_epoch(const mnv3_finetune *f) { return f->per_epoch; }
mnv3_trainer *mnv3_finetune_trainer(mnv3_finetune *f) { return f->trainer; }
