/* The BatchNorm lab (see bnlab.h and docs/batchnorm.md for the formulas and
 * the measurements behind each of them). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnlab/bnlab.h"
#include "core/model.h"
#include "core/plan.h"
#include "core/util.h"
#include "kernels/kernels.h"
#include "train/bn_train.h"

int mnv3_bn_momentum_weights_batch(const mnv3_profile *p) {
    return mnv3_plan_bn_update_rule(p) == MNV3_BN_UPDATE_BATCH_WEIGHT;
}

double mnv3_bn_default_momentum(const mnv3_profile *p) {
    return mnv3_plan_bn_default_momentum(p);
}

double mnv3_bn_momentum_convert(double m, const mnv3_profile *from, const mnv3_profile *to) {
    return mnv3_bn_momentum_weights_batch(from) == mnv3_bn_momentum_weights_batch(to) ? m : 1.0 - m;
}

/* ---- statistics ------------------------------------------------------------ */

void mnv3_bn_stats_free(mnv3_bn_stats *s) {
    if (!s) return;
    for (int i = 0; i < s->count; i++) {
        free(s->layers[i].mean);
        free(s->layers[i].var);
    }
    free(s->layers);
    memset(s, 0, sizeof *s);
}

static int stats_alloc(mnv3_bn_stats *s, int count, mnv3_error *err) {
    memset(s, 0, sizeof *s);
    s->layers = calloc((size_t)(count ? count : 1), sizeof *s->layers);
    if (!s->layers) return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    s->count = count;
    return MNV3_OK;
}

static int layer_set(mnv3_bn_layer_stats *l, const char *name, int channels, const float *mean,
                     const float *var, mnv3_error *err) {
    snprintf(l->name, sizeof l->name, "%s", name);
    l->channels = channels;
    l->mean = malloc((size_t)channels * sizeof *l->mean);
    l->var = malloc((size_t)channels * sizeof *l->var);
    if (!l->mean || !l->var) return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    memcpy(l->mean, mean, (size_t)channels * sizeof *mean);
    memcpy(l->var, var, (size_t)channels * sizeof *var);
    return MNV3_OK;
}

int mnv3_bn_stats_from_model(const mnv3_model *m, mnv3_bn_stats *out, mnv3_error *err) {
    int count = 0;
    for (int i = 0; i < m->graph.n_ops; i++) count += m->graph.ops[i].kind == MNV3_OP_BATCHNORM;
    if (stats_alloc(out, count, err) != MNV3_OK) return MNV3_FAIL;
    for (int i = 0, k = 0; i < m->graph.n_ops; i++) {
        const mnv3_op *op = &m->graph.ops[i];
        if (op->kind != MNV3_OP_BATCHNORM) continue;
        if (layer_set(&out->layers[k++], op->name, op->out_ch, op->bn_mean, op->bn_var, err)) {
            mnv3_bn_stats_free(out);
            return MNV3_FAIL;
        }
    }
    return MNV3_OK;
}

int mnv3_bn_stats_copy(const mnv3_bn_stats *src, mnv3_bn_stats *out, mnv3_error *err) {
    if (stats_alloc(out, src->count, err) != MNV3_OK) return MNV3_FAIL;
    out->num_batches_tracked = src->num_batches_tracked;
    for (int k = 0; k < src->count; k++) {
        const mnv3_bn_layer_stats *l = &src->layers[k];
        if (layer_set(&out->layers[k], l->name, l->channels, l->mean, l->var, err)) {
            mnv3_bn_stats_free(out);
            return MNV3_FAIL;
        }
    }
    return MNV3_OK;
}

int mnv3_bn_stats_to_tensors(const mnv3_bn_stats *s, mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    snprintf(out->format, sizeof out->format, "npz");
    for (int k = 0; k < s->count; k++) {
        const mnv3_bn_layer_stats *l = &s->layers[k];
        for (int which = 0; which < 2; which++) {
            char name[64];
            snprintf(name, sizeof name, "%s.%s", l->name, which ? "running_var" : "running_mean");
            float *data = malloc((size_t)l->channels * sizeof *data);
            int64_t shape[1] = {l->channels};
            if (!data) {
                mnv3_tensors_free(out);
                return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
            }
            memcpy(data, which ? l->var : l->mean, (size_t)l->channels * sizeof *data);
            if (mnv3_tensors_add(out, name, MNV3_F32, 1, shape, data, err) != MNV3_OK) {
                mnv3_tensors_free(out);
                return MNV3_FAIL;
            }
        }
    }
    return MNV3_OK;
}

void mnv3_bn_stats_distance(const mnv3_bn_stats *a, const mnv3_bn_stats *b, double *mean_rel_l2,
                            double *var_rel_l2) {
    double dm = 0, rm = 0, dv = 0, rv = 0;
    for (int k = 0; k < a->count && k < b->count; k++) {
        const mnv3_bn_layer_stats *x = &a->layers[k], *y = &b->layers[k];
        for (int c = 0; c < x->channels && c < y->channels; c++) {
            double d = (double)x->mean[c] - y->mean[c];
            dm += d * d, rm += (double)y->mean[c] * y->mean[c];
            d = (double)x->var[c] - y->var[c];
            dv += d * d, rv += (double)y->var[c] * y->var[c];
        }
    }
    if (mean_rel_l2) *mean_rel_l2 = rm > 0 ? sqrt(dm / rm) : sqrt(dm);
    if (var_rel_l2) *var_rel_l2 = rv > 0 ? sqrt(dv / rv) : sqrt(dv);
}

typedef struct bn_update {
    int enabled;
    float *mean, *var;
} bn_update;

/* ---- the batch-major runner -------------------------------------------------- */

void mnv3_bn_options_init(mnv3_bn_options *o, const mnv3_profile *p) {
    memset(o, 0, sizeof *o);
    o->profile = p;
    o->training = 1;
    o->momentum = -1.0;
}

typedef struct runner {
    mnv3_plan plan;
    mnv3_op ops[MNV3_MAX_PLAN_OPS]; /* per-plan-op copies, patched for eval stats / folding */
    int skip[MNV3_MAX_PLAN_OPS];    /* folded BatchNorm: output = input */
    float *folded[MNV3_MAX_PLAN_OPS][2];
} runner;

static void runner_free(runner *r) {
    if (!r) return;
    for (int i = 0; i < MNV3_MAX_PLAN_OPS; i++) free(r->folded[i][0]), free(r->folded[i][1]);
    free(r);
}

static const mnv3_bn_layer_stats *find_stats(const mnv3_bn_stats *s, const char *name) {
    for (int k = 0; s && k < s->count; k++)
        if (!strcmp(s->layers[k].name, name)) return &s->layers[k];
    return NULL;
}

/* Folds BatchNorm op i into the convolution that produces its input. */
static int fold_into_conv(runner *r, int i, mnv3_error *err) {
    mnv3_plan *plan = &r->plan;
    int j = plan->src[i] - 1;
    if (j < 0 || r->ops[j].kind != MNV3_OP_CONV)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "%s: no convolution before it to fold into", r->ops[i].name);
    mnv3_op *bn = &r->ops[i], *cv = &r->ops[j];
    size_t per_out = (size_t)(cv->in_ch / cv->groups) * (size_t)cv->kernel * (size_t)cv->kernel;
    float *w = malloc((size_t)cv->out_ch * per_out * sizeof *w);
    float *b = malloc((size_t)cv->out_ch * sizeof *b);
    r->folded[j][0] = w, r->folded[j][1] = b;
    if (!w || !b) return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    for (int c = 0; c < cv->out_ch; c++) {
        /* float32, as a deployment converter computes it */
        float a = bn->weight[c] / sqrtf(bn->bn_var[c] + bn->eps);
        float b0 = cv->has_bias ? cv->bias[c] : 0.0f;
        for (size_t k = 0; k < per_out; k++) w[(size_t)c * per_out + k] = cv->weight[(size_t)c * per_out + k] * a;
        b[c] = bn->bias[c] + (b0 - bn->bn_mean[c]) * a;
    }
    cv->weight = w, cv->bias = b, cv->has_bias = 1;
    r->skip[i] = 1;
    return MNV3_OK;
}

int mnv3_bn_forward(const mnv3_model *m, const mnv3_bn_options *o, mnv3_bn_stats *stats,
                    const float *input, mnv3_layout layout, int n, int h, int w, float *output,
                    mnv3_error *err) {
    if (!m || !o || !o->profile) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "bn: no model, options or profile");
    if (n < 1 || h < 1 || w < 1 || h > 4096 || w > 4096)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "input size %dx%dx%d is out of range", n, h, w);
    if (o->training && o->fold) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "folding applies to eval mode only");
    const mnv3_profile *p = o->profile;
    if (o->cumulative && !mnv3_bn_momentum_weights_batch(p))
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "cumulative averaging (momentum=None) needs bn_momentum=torch");

    runner *r = calloc(1, sizeof *r);
    if (!r) return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    mnv3_plan *plan = &r->plan;
    if (mnv3_plan_build(m, p, h, w, plan, err) != MNV3_OK) {
        runner_free(r);
        return MNV3_FAIL;
    }
    for (int i = 0; i < plan->n; i++) {
        r->ops[i] = *plan->ops[i].op;
        plan->ops[i].op = &r->ops[i];
    }
    /* eval statistics and folding */
    for (int i = 0; i < plan->n; i++) {
        mnv3_op *op = &r->ops[i];
        if (op->kind != MNV3_OP_BATCHNORM) continue;
        if (!o->training && stats) {
            const mnv3_bn_layer_stats *l = find_stats(stats, op->name);
            if (!l || l->channels != op->out_ch) {
                mnv3_fail_code(err, MNV3_ERR_SHAPE, NULL, "%s: no running statistics of %d channels", op->name, op->out_ch);
                runner_free(r);
                return MNV3_FAIL;
            }
            op->bn_mean = l->mean, op->bn_var = l->var;
        }
        if (o->fold && fold_into_conv(r, i, err) != MNV3_OK) {
            runner_free(r);
            return MNV3_FAIL;
        }
    }

    size_t total;
    if (!mnv3_mul_size(plan->arena_floats, (size_t)n, &total)) {
        runner_free(r);
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "batch too large");
    }
    float *arena = malloc(total * sizeof *arena);
    double *scratch = malloc((plan->scratch_doubles ? plan->scratch_doubles : 1) * sizeof *scratch);
    float **ins = malloc((size_t)n * sizeof *ins), **outs = malloc((size_t)n * sizeof *outs);
    if (!arena || !scratch || !ins || !outs) {
        free(arena), free(scratch), free(ins), free(outs);
        runner_free(r);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory (%zu floats for %d samples)", total, n);
    }
    const mnv3_kernel_set *k = mnv3_reference_kernels();
    const size_t plane = (size_t)h * (size_t)w, per_sample = 3 * plane;
    for (int s = 0; s < n; s++) {
        float *x = arena + (size_t)s * plan->arena_floats;
        const float *src = input + (size_t)s * per_sample;
        if (layout == MNV3_NHWC)
            for (size_t q = 0; q < plane; q++)
                for (int c = 0; c < 3; c++) x[(size_t)c * plane + q] = src[q * 3 + (size_t)c];
        else memcpy(x, src, per_sample * sizeof *x);
        if (o->tap) {
            int64_t shape[4] = {1, 3, h, w};
            o->tap(o->tap_user, s, "input", 4, shape, x);
        }
    }
    int rc = MNV3_OK;
    double mom_d = o->momentum >= 0 ? o->momentum : mnv3_bn_default_momentum(p);
    if (stats && o->training && mnv3_bn_momentum_weights_batch(p)) { /* num_batches_tracked */
        stats->num_batches_tracked++;
        if (o->cumulative) mom_d = 1.0 / (double)stats->num_batches_tracked;
    }
    for (int i = 0; i < plan->n && rc == MNV3_OK; i++) {
        const mnv3_exec_op *e = &plan->ops[i];
        size_t numel = mnv3_shape_numel(e->out);
        for (int s = 0; s < n; s++) {
            float *base = arena + (size_t)s * plan->arena_floats;
            ins[s] = base + plan->offset[plan->src[i]];
            outs[s] = base + plan->offset[i + 1];
        }
        if (e->op->kind == MNV3_OP_BATCHNORM && r->skip[i]) {
            for (int s = 0; s < n; s++) memcpy(outs[s], ins[s], numel * sizeof(float));
        } else if (e->op->kind == MNV3_OP_BATCHNORM && o->training) {
            bn_update up = {0, NULL, NULL};
            mnv3_bn_layer_stats *l = stats ? (mnv3_bn_layer_stats *)find_stats(stats, e->op->name) : NULL;
            if (stats && (!l || l->channels != e->out.c)) {
                rc = mnv3_fail_code(err, MNV3_ERR_SHAPE, NULL, "%s: no running statistics of %d channels", e->op->name, e->out.c);
                break;
            }
            if (l) up = (bn_update){1, l->mean, l->var};
            rc = mnv3_bn_train_op(e, ins, outs, n, mom_d, up.enabled ? up.mean : NULL, up.enabled ? up.var : NULL, NULL, NULL, err);
        } else {
            for (int s = 0; s < n; s++) {
                float *base = arena + (size_t)s * plan->arena_floats;
                const float *b = plan->src2[i] >= 0 ? base + plan->offset[plan->src2[i]] : NULL;
                k->fn[e->op->kind](e, n, ins[s], b, outs[s], scratch);
            }
        }
        if (rc == MNV3_OK && o->tap && !r->skip[i])
            for (int s = 0; s < n; s++) {
                int64_t shape[4] = {1, e->out.c, e->out.h, e->out.w};
                o->tap(o->tap_user, s, e->op->tap, plan->vector[i + 1] ? 2 : 4, shape, outs[s]);
            }
    }
    if (rc == MNV3_OK) {
        int out_size = mnv3_output_size(m);
        for (int s = 0; s < n; s++)
            memcpy(output + (size_t)s * (size_t)out_size,
                   arena + (size_t)s * plan->arena_floats + plan->offset[plan->n],
                   (size_t)out_size * sizeof *output);
    }
    free(arena), free(scratch), free(ins), free(outs);
    runner_free(r);
    return rc;
}
