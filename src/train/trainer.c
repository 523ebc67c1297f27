/* The trainer (see train.h): a batch-major forward pass in training mode
 * that keeps every value, the cross-entropy loss, and the backward pass op by
 * op in reverse. Every value v has a block of max_batch samples. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "factors/factors.h"
#include "kernels/kernels.h"
#include "train/bn_train.h"
#include "train/train.h"

#define MAX_PARAMS (4 * MNV3_MAX_OPS)

typedef struct op_params {
    int weight, bias, running_mean, running_var; /* parameter indices, -1 = none */
    size_t stats_at;                             /* BatchNorm: offset of its saved mean / invstd */
} op_params;

struct mnv3_trainer {
    mnv3_graph graph; /* the model's ops, bound to the trainer's own parameters */
    mnv3_arch arch;
    mnv3_profile profile;
    mnv3_plan plan;
    mnv3_train_rule rule;
    int max_batch, h, w;
    int n_params;
    mnv3_train_param params[MAX_PARAMS];
    op_params op_param[MNV3_MAX_PLAN_OPS];
    float *storage;            /* parameters, then gradients */
    float *values, *dvalues;   /* value v of sample s: values + value_at[v] + s * numel(v) */
    size_t value_at[MNV3_MAX_PLAN_OPS + 1];
    float *save_mean, *save_invstd;
    float *dropped, *ddropped; /* the classifier's dropout output and its gradient */
    float *probs;              /* softmax of the logits, batch x classes */
    double *scratch;
    float *products;           /* one plane, for the backward kernels */
    int head_linear;           /* plan index of the last linear (its input is dropped out), -1 = none */
    int logits_value;          /* value holding the logits */
};

static size_t numel(mnv3_shape s) { return mnv3_shape_numel(s); }

static void *zalloc(size_t count, size_t size) { return count ? calloc(count, size) : calloc(1, size); }

void mnv3_trainer_free(mnv3_trainer *t) {
    if (!t) return;
    free(t->storage);
    free(t->values);
    free(t->dvalues);
    free(t->save_mean);
    free(t->save_invstd);
    free(t->dropped);
    free(t->ddropped);
    free(t->probs);
    free(t->scratch);
    free(t->products);
    free(t);
}

/* Floats for every parameter, gradient and buffer of the graph. */
static size_t count_params(const mnv3_graph *g) {
    size_t total = 0;
    for (int i = 0; i < g->n_ops; i++) {
        mnv3_param_slot slots[4];
        mnv3_op copy = g->ops[i];
        int n = mnv3_op_params(&copy, slots);
        for (int k = 0; k < n; k++) {
            size_t c = 1;
            for (int d = 0; d < slots[k].ndim; d++) c *= (size_t)slots[k].shape[d];
            total += c * (slots[k].is_buffer ? 1 : 2);
        }
    }
    return total;
}

/* Copies every parameter into the trainer and rebinds the ops to the copies. */
static int bind_params(mnv3_trainer *t, mnv3_error *err) {
    size_t total = count_params(&t->graph);
    t->storage = zalloc(total, sizeof(float));
    if (!t->storage) return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory (%zu parameters)", total);
    float *at = t->storage;
    for (int i = 0; i < t->graph.n_ops; i++) {
        mnv3_op *op = &t->graph.ops[i];
        mnv3_param_slot slots[4];
        int n = mnv3_op_params(op, slots);
        for (int k = 0; k < n; k++) {
            if (t->n_params >= MAX_PARAMS) return mnv3_fail_code(err, MNV3_ERR_SHAPE, NULL, "too many parameters");
            mnv3_train_param *p = &t->params[t->n_params++];
            size_t c = 1;
            for (int d = 0; d < slots[k].ndim; d++) c *= (size_t)slots[k].shape[d];
            snprintf(p->name, sizeof p->name, "%s.%s", op->name, slots[k].suffix);
            p->op = op;
            p->suffix = slots[k].suffix;
            p->count = c;
            p->is_buffer = slots[k].is_buffer;
            p->value = at;
            at += c;
            if (!p->is_buffer) {
                p->grad = at;
                at += c;
            }
            if (!*slots[k].bind)
                return mnv3_fail_code(err, MNV3_ERR_SHAPE, NULL, "%s has no values", p->name);
            memcpy(p->value, *slots[k].bind, c * sizeof(float));
            *slots[k].bind = p->value;
        }
    }
    return MNV3_OK;
}

/* Which parameter of plan op i is which. */
static void index_params(mnv3_trainer *t) {
    for (int i = 0; i < t->plan.n; i++) t->op_param[i] = (op_params){-1, -1, -1, -1, 0};
    for (int k = 0; k < t->n_params; k++) {
        const mnv3_train_param *p = &t->params[k];
        for (int i = 0; i < t->plan.n; i++) {
            if (t->plan.ops[i].op != p->op) continue;
            op_params *o = &t->op_param[i];
            if (!strcmp(p->suffix, "weight")) o->weight = k;
            else if (!strcmp(p->suffix, "bias")) o->bias = k;
            else if (!strcmp(p->suffix, "running_mean")) o->running_mean = k;
            else o->running_var = k;
        }
    }
}

mnv3_trainer *mnv3_trainer_new(const mnv3_model *m, const mnv3_profile *p, int max_batch, int h, int w,
                               mnv3_error *err) {
    if (!m || !p || max_batch < 1 || h < 1 || w < 1) {
        mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "trainer: model, profile, batch and size are required");
        return NULL;
    }
    if (m->arch.num_classes < 1) {
        mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "training needs a classifier head (the model is a backbone)");
        return NULL;
    }
    mnv3_trainer *t = calloc(1, sizeof *t);
    if (!t) {
        mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
        return NULL;
    }
    t->graph = m->graph;
    t->arch = m->arch;
    t->profile = *p;
    t->max_batch = max_batch, t->h = h, t->w = w;
    mnv3_plan_train_rule(p, &t->rule);
    /* the plan reads the ops through a model; a shell around the trainer's graph */
    mnv3_model *shell = calloc(1, sizeof *shell);
    if (!shell) {
        mnv3_trainer_free(t);
        mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
        return NULL;
    }
    int rc = bind_params(t, err);
    if (rc == MNV3_OK) {
        shell->arch = t->arch;
        shell->graph = t->graph;
        rc = mnv3_plan_build(shell, p, h, w, &t->plan, err);
        /* the plan points into the shell's graph: repoint it at the trainer's */
        for (int i = 0; rc == MNV3_OK && i < t->plan.n; i++) {
            const mnv3_op *op = t->plan.ops[i].op;
            if (op >= shell->graph.ops && op < shell->graph.ops + shell->graph.n_ops)
                t->plan.ops[i].op = &t->graph.ops[op - shell->graph.ops];
        }
    }
    free(shell);
    if (rc != MNV3_OK) {
        mnv3_trainer_free(t);
        return NULL;
    }
    index_params(t);
    size_t at = 0, stats = 0, scratch = 0;
    t->head_linear = -1;
    t->logits_value = -1;
    for (int v = 0; v <= t->plan.n; v++) {
        t->value_at[v] = at;
        at += numel(t->plan.shape[v]) * (size_t)max_batch;
    }
    for (int i = 0; i < t->plan.n; i++) {
        const mnv3_exec_op *e = &t->plan.ops[i];
        if (e->op->kind == MNV3_OP_BATCHNORM) {
            t->op_param[i].stats_at = stats;
            stats += (size_t)e->out.c;
        }
        if (e->op->kind == MNV3_OP_LINEAR) t->head_linear = i, t->logits_value = i + 1;
        size_t plane = (size_t)e->out.h * (size_t)e->out.w;
        if (plane > scratch) scratch = plane;
    }
    const int classes = t->arch.num_classes;
    const size_t head_in = t->head_linear >= 0 ? numel(t->plan.ops[t->head_linear].in) * (size_t)max_batch : 1;
    t->values = zalloc(at, sizeof(float));
    t->dvalues = zalloc(at, sizeof(float));
    t->save_mean = zalloc(stats, sizeof(float));
    t->save_invstd = zalloc(stats, sizeof(float));
    t->dropped = zalloc(head_in, sizeof(float));
    t->ddropped = zalloc(head_in, sizeof(float));
    t->probs = zalloc((size_t)classes * (size_t)max_batch, sizeof(float));
    t->scratch = zalloc(scratch, sizeof(double));
    t->products = zalloc(scratch, sizeof(float));
    if (!t->values || !t->dvalues || !t->save_mean || !t->save_invstd || !t->dropped || !t->ddropped ||
        !t->probs || !t->scratch || !t->products) {
        mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory (%zu floats of activations for batch %d)",
                       2 * at, max_batch);
        mnv3_trainer_free(t);
        return NULL;
    }
    return t;
}

int mnv3_trainer_param_count(const mnv3_trainer *t) { return t ? t->n_params : 0; }

mnv3_train_param *mnv3_trainer_param(mnv3_trainer *t, int i) {
    return t && i >= 0 && i < t->n_params ? &t->params[i] : NULL;
}

const float *mnv3_trainer_logits(const mnv3_trainer *t) {
    return t->logits_value >= 0 ? t->values + t->value_at[t->logits_value] : NULL;
}

static float *value(mnv3_trainer *t, int v, int sample) {
    return t->values + t->value_at[v] + (size_t)sample * numel(t->plan.shape[v]);
}

/* The classifier's dropout on the head linear's input. */
static void dropout_forward(mnv3_trainer *t, const float *x, size_t n, const mnv3_train_step_options *o) {
    const float scale = t->rule.dropout_scale_f32_divide ? 1.0f / (float)(1.0 - o->dropout_p)
                                                         : (float)(1.0 / (1.0 - o->dropout_p));
    for (size_t i = 0; i < n; i++) {
        if (t->rule.dropout_negative_zero) t->dropped[i] = x[i] * (o->keep[i] ? scale : 0.0f);
        else t->dropped[i] = o->keep[i] ? x[i] * scale : 0.0f;
    }
}

static void dropout_backward(mnv3_trainer *t, float *dx, size_t n, const mnv3_train_step_options *o) {
    const float scale = t->rule.dropout_scale_f32_divide ? 1.0f / (float)(1.0 - o->dropout_p)
                                                         : (float)(1.0 / (1.0 - o->dropout_p));
    for (size_t i = 0; i < n; i++) dx[i] += o->keep[i] ? t->ddropped[i] * scale : 0.0f;
}

static int forward(mnv3_trainer *t, const float *x, int batch, const mnv3_train_step_options *o,
                   mnv3_error *err) {
    const mnv3_kernel_set *k = mnv3_reference_kernels();
    memcpy(value(t, 0, 0), x, (size_t)batch * numel(t->plan.shape[0]) * sizeof(float));
    for (int i = 0; i < t->plan.n; i++) {
        const mnv3_exec_op *e = &t->plan.ops[i];
        const int src = t->plan.src[i], src2 = t->plan.src2[i];
        if (e->op->kind == MNV3_OP_SOFTMAX) continue; /* the loss takes the logits */
        if (e->op->kind == MNV3_OP_BATCHNORM) {
            float *ins[MNV3_MAX_BATCH_TRAIN], *outs[MNV3_MAX_BATCH_TRAIN];
            for (int s = 0; s < batch; s++) ins[s] = value(t, src, s), outs[s] = value(t, i + 1, s);
            const op_params *p = &t->op_param[i];
            if (mnv3_bn_train_op(e, ins, outs, batch, o->bn_momentum, t->params[p->running_mean].value,
                                 t->params[p->running_var].value, t->save_mean + p->stats_at,
                                 t->save_invstd + p->stats_at, err) != MNV3_OK)
                return MNV3_FAIL;
            continue;
        }
        const float *in = value(t, src, 0);
        if (i == t->head_linear && o->keep) {
            dropout_forward(t, in, (size_t)batch * numel(e->in), o);
            in = t->dropped;
        }
        for (int s = 0; s < batch; s++) {
            const float *a = in + (size_t)s * numel(e->in);
            const float *b = src2 >= 0 ? value(t, src2, s) : NULL;
            k->fn[e->op->kind](e, batch, a, b, value(t, i + 1, s), t->scratch);
        }
    }
    return MNV3_OK;
}

/* Softmax cross-entropy on the logits; writes the gradient of the logits. */
static float loss_and_grad(mnv3_trainer *t, const int *labels, int batch, const mnv3_loss_options *lo,
                           float *dlogits) {
    const int K = t->arch.num_classes;
    const float *z = mnv3_trainer_logits(t);
    const float eps = lo ? lo->label_smoothing : 0.0f;
    const float *cw = lo ? lo->class_weights : NULL;
    double divisor = 0.0, total = 0.0;
    for (int b = 0; b < batch; b++) divisor += t->rule.loss_divides_by_weight_sum && cw ? cw[labels[b]] : 1.0;
    for (int b = 0; b < batch; b++) {
        const float *zb = z + (size_t)b * (size_t)K;
        float *p = t->probs + (size_t)b * (size_t)K;
        float max = zb[0];
        for (int j = 1; j < K; j++) max = zb[j] > max ? zb[j] : max;
        float sum = 0.0f;
        for (int j = 0; j < K; j++) sum += expf(zb[j] - max);
        const float log_sum = logf(sum);
        const int y = labels[b];
        const float wy = cw ? cw[y] : 1.0f;
        /* target weights t_j: the loss is -sum_j t_j log p_j */
        double tsum = 0.0;
        for (int j = 0; j < K; j++) {
            const float logp = zb[j] - max - log_sum;
            p[j] = expf(logp);
            float tj;
            if (t->rule.loss_divides_by_weight_sum) /* smoothing spreads each class's own weight */
                tj = (j == y ? (1.0f - eps) * wy : 0.0f) + eps / (float)K * (cw ? cw[j] : 1.0f);
            else
                tj = wy * ((j == y ? 1.0f - eps : 0.0f) + eps / (float)K);
            total -= (double)tj * logp;
            tsum += tj;
            dlogits[(size_t)b * (size_t)K + (size_t)j] = tj;
        }
        for (int j = 0; j < K; j++) {
            float *d = &dlogits[(size_t)b * (size_t)K + (size_t)j];
            *d = (float)(((double)p[j] * tsum - *d) / divisor);
        }
    }
    return (float)(total / divisor);
}

static void backward(mnv3_trainer *t, int batch, const mnv3_train_step_options *o) {
    for (int i = t->plan.n - 1; i >= 0; i--) {
        const mnv3_exec_op *e = &t->plan.ops[i];
        if (e->op->kind == MNV3_OP_SOFTMAX || e->op->kind == MNV3_OP_RESCALE) continue;
        const int src = t->plan.src[i], src2 = t->plan.src2[i];
        const op_params *p = &t->op_param[i];
        const int dropped = i == t->head_linear && o->keep;
        const size_t in_n = (size_t)batch * numel(e->in);
        mnv3_backward_io io = {
            .batch = batch,
            .x = dropped ? t->dropped : value(t, src, 0),
            .x2 = src2 >= 0 ? value(t, src2, 0) : NULL,
            .y = value(t, i + 1, 0),
            .dy = t->dvalues + t->value_at[i + 1],
            .dx = src > 0 ? t->dvalues + t->value_at[src] : NULL, /* value 0, the input, needs none */
            .dx2 = src2 > 0 ? t->dvalues + t->value_at[src2] : NULL,
            .dweight = p->weight >= 0 ? t->params[p->weight].grad : NULL,
            .dbias = p->bias >= 0 ? t->params[p->bias].grad : NULL,
            .save_mean = t->save_mean + p->stats_at,
            .save_invstd = t->save_invstd + p->stats_at,
            .products = t->products,
        };
        if (dropped && io.dx) {
            memset(t->ddropped, 0, in_n * sizeof(float));
            float *dx = io.dx;
            io.dx = t->ddropped;
            mnv3_backward_op(e, &io);
            dropout_backward(t, dx, in_n, o);
            continue;
        }
        mnv3_backward_op(e, &io);
    }
}

int mnv3_trainer_step(mnv3_trainer *t, const float *x, const int *labels, int batch,
                      const mnv3_train_step_options *opt, float *loss, mnv3_error *err) {
    if (!t || !x || !labels || !opt) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "trainer step: missing argument");
    if (batch < 1 || batch > t->max_batch || batch > MNV3_MAX_BATCH_TRAIN)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "batch %d is out of range (1..%d)", batch,
                              t->max_batch < MNV3_MAX_BATCH_TRAIN ? t->max_batch : MNV3_MAX_BATCH_TRAIN);
    if (opt->keep && !(opt->dropout_p >= 0.0 && opt->dropout_p < 1.0))
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "dropout probability %g is not in [0, 1)", opt->dropout_p);
    for (int b = 0; b < batch; b++)
        if (labels[b] < 0 || labels[b] >= t->arch.num_classes)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "label %d of sample %d is not a class (0..%d)", labels[b],
                                  b, t->arch.num_classes - 1);
    if (forward(t, x, batch, opt, err) != MNV3_OK) return MNV3_FAIL;
    memset(t->dvalues, 0, t->value_at[t->plan.n] * sizeof(float) +
                              numel(t->plan.shape[t->plan.n]) * (size_t)t->max_batch * sizeof(float));
    float l = loss_and_grad(t, labels, batch, &opt->loss, t->dvalues + t->value_at[t->logits_value]);
    if (loss) *loss = l;
    backward(t, batch, opt);
    return MNV3_OK;
}

int mnv3_trainer_export(const mnv3_trainer *t, mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    for (int k = 0; k < t->n_params; k++) {
        const mnv3_train_param *p = &t->params[k];
        mnv3_param_slot slots[4];
        mnv3_op copy = *p->op;
        int n = mnv3_op_params(&copy, slots), found = -1;
        for (int s = 0; s < n; s++)
            if (!strcmp(slots[s].suffix, p->suffix)) found = s;
        if (found < 0) continue;
        float *copy_of = malloc(p->count * sizeof(float));
        if (!copy_of) {
            mnv3_tensors_free(out);
            return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
        }
        memcpy(copy_of, p->value, p->count * sizeof(float));
        if (mnv3_tensors_add(out, p->name, MNV3_F32, slots[found].ndim, slots[found].shape, copy_of, err) != MNV3_OK) {
            mnv3_tensors_free(out);
            return MNV3_FAIL;
        }
    }
    return MNV3_OK;
}
