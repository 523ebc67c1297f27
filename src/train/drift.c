/* Drift (drift.h): two fine-tunings in lockstep, their distances, and the
 * Shapley attribution of those distances to the conventions that differ. */
#include "train/drift.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "core/util.h"

/* The players: factors that switch together. A differing factor in no group
 * plays alone; the held ones never play (drift.h). */
static const struct {
    const char *name, *factors;
} drift_players[] = {
    {"padding", "padding"},
    {"forward_formulas", "hardsigmoid,hardswish,batchnorm,conv_order,pointwise,bias,pool_sum,accumulate"},
    {"bn_training", "bn_batch_stats,bn_train_apply,bn_momentum,bn_update_variance"},
    {"activation_grad", "activation_grad"},
    {"loss_reduction", "loss_reduction"},
    {"dropout_apply", "dropout_apply"},
    {"optimizer", "optim_sgd,optim_adam,optim_rmsprop,optim_weight_decay,optim_scalars,optim_defaults,lr_schedule,"
                  "optim_tf_graph"},
};
static const int held_factors[] = {MNV3_FACTOR_LAYOUT, MNV3_FACTOR_OUTPUT, MNV3_FACTOR_INPUT_RESCALE};

typedef struct players {
    int k;
    mnv3_factor_set set[MNV3_DRIFT_MAX_PLAYERS];
    char name[MNV3_DRIFT_MAX_PLAYERS][48], detail[MNV3_DRIFT_MAX_PLAYERS][160];
} players;

static void add_player(players *pl, const char *name, mnv3_factor_set set, const mnv3_profile *a,
                       const mnv3_profile *b) {
    if (pl->k < MNV3_DRIFT_MAX_PLAYERS) {
        pl->set[pl->k] = set;
        snprintf(pl->name[pl->k], sizeof pl->name[0], "%s", name);
        char *d = pl->detail[pl->k];
        d[0] = 0;
        for (int f = 0; f < MNV3_FACTOR_COUNT; f++) {
            if (!(set & MNV3_FACTOR_BIT(f))) continue;
            size_t used = strlen(d);
            snprintf(d + used, sizeof pl->detail[0] - used, "%s%s %s -> %s", used ? ", " : "", mnv3_factor_name(f),
                     mnv3_factor_option_name(f, a->option[f]), mnv3_factor_option_name(f, b->option[f]));
        }
    }
    pl->k++;
}

static int find_players(const mnv3_profile *a, const mnv3_profile *b, players *pl, mnv3_error *err) {
    mnv3_factor_set grouped = 0;
    memset(pl, 0, sizeof *pl);
    for (size_t g = 0; g < sizeof drift_players / sizeof drift_players[0]; g++) {
        mnv3_factor_set set = 0;
        char names[256];
        snprintf(names, sizeof names, "%s", drift_players[g].factors);
        for (char *save = NULL, *n = strtok_r(names, ",", &save); n; n = strtok_r(NULL, ",", &save)) {
            int f = mnv3_factor_find(n);
            if (f < 0) return mnv3_fail(err, NULL, "drift: unknown factor '%s' in player %s", n, drift_players[g].name);
            grouped |= MNV3_FACTOR_BIT(f);
            if (a->option[f] != b->option[f]) set |= MNV3_FACTOR_BIT(f);
        }
        if (set) add_player(pl, drift_players[g].name, set, a, b);
    }
    for (int f = 0; f < MNV3_FACTOR_COUNT; f++)
        if (!(grouped & MNV3_FACTOR_BIT(f)) && !mnv3_factor_is_integer(f) && a->option[f] != b->option[f])
            add_player(pl, mnv3_factor_name(f), MNV3_FACTOR_BIT(f), a, b);
    if (pl->k > MNV3_DRIFT_MAX_PLAYERS)
        return mnv3_fail(err, NULL, "drift: %d groups of factors differ; at most %d are attributed", pl->k,
                         MNV3_DRIFT_MAX_PLAYERS);
    return MNV3_OK;
}

/* A with the players in mask switched to B's choices. */
static mnv3_profile subset_profile(const mnv3_profile *a, const mnv3_profile *b, const players *pl, unsigned mask) {
    mnv3_profile p = *a;
    for (int i = 0; i < pl->k; i++)
        if (mask & (1u << i))
            for (int f = 0; f < MNV3_FACTOR_COUNT; f++)
                if (pl->set[i] & MNV3_FACTOR_BIT(f)) p.option[f] = b->option[f];
    return p;
}

/* One fine-tuning run's state as flat vectors: trainable values, statistics. */
typedef struct snapshot {
    float *params, *stats, *logits;
} snapshot;

static void snapshot_free(snapshot *s) {
    free(s->params);
    free(s->stats);
    free(s->logits);
    memset(s, 0, sizeof *s);
}

typedef struct runner {
    const mnv3_drift_setup *s;
    size_t n_params, n_stats, n_logits;
    int classes;
} runner;

/* The held-out logits of the trainer's weights under profile p (eval mode). */
static int eval_held_out(const runner *r, mnv3_trainer *t, const mnv3_profile *p, float *logits, mnv3_error *err) {
    mnv3_tensors ts;
    mnv3_model *m = NULL;
    mnv3_session *session = NULL;
    if (mnv3_trainer_export(t, &ts, err) != MNV3_OK) return MNV3_FAIL;
    int rc = mnv3_model_from_tensors(&ts, "drift", &m, NULL, err);
    mnv3_tensors_free(&ts);
    mnv3_profile q = *p;
    q.option[MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_LOGITS;
    mnv3_session_options so = {.kernels = "fast", .threads = r->s->threads > 0 ? r->s->threads : 1,
                               .max_batch = r->s->n_held};
    if (rc == MNV3_OK)
        rc = mnv3_session_create(m, &q, r->s->data->h, r->s->data->w, MNV3_NCHW, &so, &session, err);
    if (rc == MNV3_OK) rc = mnv3_session_run(session, r->s->held_out, r->s->n_held, logits, err);
    mnv3_session_free(session);
    mnv3_model_free(m);
    return rc;
}

static int take_snapshot(const runner *r, mnv3_finetune *f, const mnv3_profile *p, snapshot *out, mnv3_error *err) {
    mnv3_trainer *t = mnv3_finetune_trainer(f);
    if (!out->params) {
        out->params = malloc((r->n_params + 1) * sizeof(float));
        out->stats = malloc((r->n_stats + 1) * sizeof(float));
        out->logits = malloc((r->n_logits + 1) * sizeof(float));
        if (!out->params || !out->stats || !out->logits) return mnv3_fail(err, NULL, "out of memory");
    }
    size_t np = 0, ns = 0;
    for (int k = 0; k < mnv3_trainer_param_count(t); k++) {
        const mnv3_train_param *tp = mnv3_trainer_param(t, k);
        float *dst = tp->is_buffer ? out->stats + ns : out->params + np;
        memcpy(dst, tp->value, tp->count * sizeof *dst);
        *(tp->is_buffer ? &ns : &np) += tp->count;
    }
    return r->n_logits ? eval_held_out(r, t, p, out->logits, err) : MNV3_OK;
}

static size_t count_values(mnv3_finetune *f, int buffers) {
    mnv3_trainer *t = mnv3_finetune_trainer(f);
    size_t n = 0;
    for (int k = 0; k < mnv3_trainer_param_count(t); k++)
        if (mnv3_trainer_param(t, k)->is_buffer == buffers) n += mnv3_trainer_param(t, k)->count;
    return n;
}

static double top1_agreement(const float *x, const float *y, int n, int classes) {
    int same = 0;
    for (int s = 0; s < n; s++) {
        const float *a = x + (size_t)s * (size_t)classes, *b = y + (size_t)s * (size_t)classes;
        int ia = 0, ib = 0;
        for (int j = 1; j < classes; j++) ia = a[j] > a[ia] ? j : ia, ib = b[j] > b[ib] ? j : ib;
        same += ia == ib;
    }
    return n ? (double)same / n : NAN;
}

static mnv3_finetune *start(const runner *r, const mnv3_profile *p, mnv3_error *err) {
    mnv3_finetune_options o;
    if (mnv3_finetune_options_for(p, r->s->training, &o, err) != MNV3_OK) return NULL;
    mnv3_train_rule rule;
    mnv3_plan_train_rule(&r->s->a, &rule);
    o.dropout_generator = rule.dropout_generator; /* the same masks on every side */
    return mnv3_finetune_new(r->s->model, p, r->s->data, &o, err);
}

/* The lockstep run of A and B: the points, and A's and B's snapshots at the attributed steps. */
static int run_pair(runner *r, mnv3_drift_result *res, snapshot *at_a, snapshot *at_b, mnv3_error *err) {
    const mnv3_drift_setup *s = r->s;
    mnv3_finetune *fa = start(r, &s->a, err), *fb = fa ? start(r, &s->b, err) : NULL;
    if (fa) r->n_params = count_values(fa, 0), r->n_stats = count_values(fa, 1);
    snapshot sa = {0}, sb = {0};
    float *common = r->n_logits ? malloc(r->n_logits * sizeof *common) : NULL;
    int rc = fb && (common || !r->n_logits) ? MNV3_OK : MNV3_FAIL, next_attr = 0;
    if (fb && rc != MNV3_OK) mnv3_fail(err, NULL, "out of memory");
    const long every = s->eval_every > 0 ? s->eval_every : 1;
    mnv3_finetune_batch ba = {0}, bb = {0};
    for (long step = 0; rc == MNV3_OK && step <= s->steps; step++) {
        if (step > 0 && (mnv3_finetune_step(fa, &ba, err) != MNV3_OK || mnv3_finetune_step(fb, &bb, err) != MNV3_OK)) {
            rc = MNV3_FAIL;
            break;
        }
        const int attr = next_attr < s->n_attribute && s->attribute_at[next_attr] == step;
        if (!attr && step % every && step != s->steps) continue;
        if (take_snapshot(r, fa, &s->a, &sa, err) != MNV3_OK || take_snapshot(r, fb, &s->b, &sb, err) != MNV3_OK) {
            rc = MNV3_FAIL;
            break;
        }
        mnv3_drift_point *pt = &res->points[res->n_points++];
        memset(pt, 0, sizeof *pt);
        pt->step = step;
        pt->weights = mnv3_rel_l2(sb.params, sa.params, r->n_params);
        pt->stats = mnv3_rel_l2(sb.stats, sa.stats, r->n_stats);
        pt->loss_a = step ? ba.loss : NAN, pt->loss_b = step ? bb.loss : NAN;
        pt->acc_a = step ? (double)ba.correct / ba.size : NAN, pt->acc_b = step ? (double)bb.correct / bb.size : NAN;
        pt->outputs = pt->outputs_common = pt->top1_agreement = NAN;
        if (r->n_logits) {
            pt->outputs = mnv3_rel_l2(sb.logits, sa.logits, r->n_logits);
            pt->top1_agreement = top1_agreement(sb.logits, sa.logits, s->n_held, r->classes);
            if (eval_held_out(r, mnv3_finetune_trainer(fb), &s->a, common, err) != MNV3_OK) {
                rc = MNV3_FAIL;
                break;
            }
            pt->outputs_common = mnv3_rel_l2(common, sa.logits, r->n_logits);
        }
        mnv3_trainer *ta = mnv3_finetune_trainer(fa), *tb = mnv3_finetune_trainer(fb);
        for (int k = 0; k < mnv3_trainer_param_count(ta); k++) {
            const mnv3_train_param *pa = mnv3_trainer_param(ta, k), *pb = mnv3_trainer_param(tb, k);
            if (pa->is_buffer) continue;
            double d = mnv3_rel_l2(pb->value, pa->value, pa->count);
            if (d > pt->worst_rel_l2) {
                pt->worst_rel_l2 = d;
                snprintf(pt->worst, sizeof pt->worst, "%s", pa->name);
            }
        }
        if (attr) {
            at_a[next_attr] = sa, at_b[next_attr] = sb;
            memset(&sa, 0, sizeof sa), memset(&sb, 0, sizeof sb);
            next_attr++;
        }
    }
    snapshot_free(&sa), snapshot_free(&sb);
    free(common);
    mnv3_finetune_free(fa);
    mnv3_finetune_free(fb);
    return rc;
}

int mnv3_drift_run(const mnv3_drift_setup *s, mnv3_drift_result *res, mnv3_error *err) {
    memset(res, 0, sizeof *res);
    mnv3_drift_setup fixed = *s;
    for (size_t i = 0; i < sizeof held_factors / sizeof held_factors[0]; i++)
        fixed.b.option[held_factors[i]] = s->a.option[held_factors[i]];
    for (int i = 0; i < s->n_attribute; i++)
        if (s->attribute_at[i] < 0 || s->attribute_at[i] > s->steps || (i && s->attribute_at[i] <= s->attribute_at[i - 1]))
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "drift: attributed steps must increase within 0..%ld",
                                  s->steps);
    players pl;
    if (find_players(&fixed.a, &fixed.b, &pl, err) != MNV3_OK) return MNV3_FAIL;
    runner r = {&fixed, 0, 0, (size_t)s->n_held * (size_t)s->model->arch.num_classes, s->model->arch.num_classes};
    const long every = s->eval_every > 0 ? s->eval_every : 1;
    const size_t max_points = (size_t)(s->steps / every) + 2 + (size_t)s->n_attribute;
    res->points = calloc(max_points, sizeof *res->points);
    res->attributions = calloc((size_t)s->n_attribute + 1, sizeof *res->attributions);
    snapshot *at_a = calloc((size_t)s->n_attribute + 1, sizeof *at_a), *at_b = calloc((size_t)s->n_attribute + 1, sizeof *at_b);
    double *values = NULL;
    int rc = MNV3_FAIL;
    if (!res->points || !res->attributions || !at_a || !at_b) {
        mnv3_fail(err, NULL, "out of memory");
        goto done;
    }
    if (run_pair(&r, res, at_a, at_b, err) != MNV3_OK) goto done;
    if (s->n_attribute) {
        const unsigned subsets = 1u << pl.k, all = subsets - 1;
        const size_t per = (size_t)subsets * 2; /* outputs, then weights */
        values = malloc((size_t)s->n_attribute * per * sizeof *values);
        if (!values) {
            mnv3_fail(err, NULL, "out of memory");
            goto done;
        }
        for (int i = 0; i < s->n_attribute; i++) {
            values[i * per + 0] = values[i * per + subsets] = 0;
            values[i * per + all] = r.n_logits ? mnv3_rel_l2(at_b[i].logits, at_a[i].logits, r.n_logits) : 0;
            values[i * per + subsets + all] = mnv3_rel_l2(at_b[i].params, at_a[i].params, r.n_params);
        }
        const long last = s->attribute_at[s->n_attribute - 1];
        for (unsigned mask = 1; mask < all; mask++) {
            mnv3_profile p = subset_profile(&fixed.a, &fixed.b, &pl, mask);
            mnv3_finetune *f = start(&r, &p, err);
            snapshot snap = {0};
            mnv3_finetune_batch b;
            int ok = f != NULL, next = 0;
            for (long step = 0; ok && step <= last; step++) {
                if (step > 0) ok = mnv3_finetune_step(f, &b, err) == MNV3_OK;
                if (!ok || s->attribute_at[next] != step) continue;
                ok = take_snapshot(&r, f, &p, &snap, err) == MNV3_OK;
                if (!ok) break;
                values[next * per + mask] = r.n_logits ? mnv3_rel_l2(snap.logits, at_a[next].logits, r.n_logits) : 0;
                values[next * per + subsets + mask] = mnv3_rel_l2(snap.params, at_a[next].params, r.n_params);
                next++;
            }
            snapshot_free(&snap);
            mnv3_finetune_free(f);
            if (!ok) goto done;
        }
        for (int i = 0; i < s->n_attribute; i++) {
            mnv3_drift_attribution *at = &res->attributions[res->n_attributions++];
            at->step = s->attribute_at[i];
            at->n_players = pl.k;
            at->runs = (int)subsets;
            memcpy(at->name, pl.name, sizeof at->name);
            memcpy(at->detail, pl.detail, sizeof at->detail);
            mnv3_shapley_exact(pl.k, values + i * per, at->outputs);
            mnv3_shapley_exact(pl.k, values + i * per + subsets, at->weights);
            for (int k = 0; k < pl.k; k++) {
                at->outputs_alone[k] = values[i * per + (1u << k)];
                at->weights_alone[k] = values[i * per + subsets + (1u << k)];
            }
            at->outputs_total = values[i * per + all];
            at->weights_total = values[i * per + subsets + all];
        }
    }
    rc = MNV3_OK;
done:
    for (int i = 0; at_a && at_b && i < s->n_attribute; i++) snapshot_free(&at_a[i]), snapshot_free(&at_b[i]);
    free(at_a);
    free(at_b);
    free(values);
    if (rc != MNV3_OK) mnv3_drift_result_free(res);
    return rc;
}

void mnv3_drift_result_free(mnv3_drift_result *r) {
    free(r->points);
    free(r->attributions);
    memset(r, 0, sizeof *r);
}
