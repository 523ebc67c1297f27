/* Shapley attribution over the factors that differ between two sides.
 * v(S) = distance(run with the factors in S switched to B's choice, run A);
 * v(empty) = 0 and v(all) = distance(B, A), so by Shapley's efficiency the
 * contributions add up to the total exactly, whatever the interactions. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "core/util.h"
#include "factors/factors.h"

typedef struct game {
    const mnv3_side *a, *b;
    int n, h, w, k, out_size;
    const mnv3_switch *sw; /* the attribution's players */
    float *base;   /* output of A */
    double *value; /* v(S) for every subset mask, NAN until computed */
    float *scratch;
    int runs;
} game;

static int run_subset(game *g, unsigned mask, float *out, mnv3_error *err) {
    mnv3_side s;
    mnv3_side_switch(g->a, g->b, g->sw, g->k, mask, &s);
    s.profile.option[MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_LOGITS;
    g->runs++;
    /* The fast kernels give the reference kernels' results bit for bit (tests/fast). */
    mnv3_session_options so = {.kernels = "fast", .threads = s.threads > 0 ? s.threads : 1,
                               .max_batch = g->n};
    mnv3_session *session = NULL;
    if (mnv3_session_create(s.model, &s.profile, g->h, g->w, MNV3_NCHW, &so, &session, err) !=
        MNV3_OK)
        return MNV3_FAIL;
    int rc = mnv3_session_run(session, s.input, g->n, out, err);
    mnv3_session_free(session);
    return rc;
}

static int value_of(game *g, unsigned mask, double *v, mnv3_error *err) {
    if (!isnan(g->value[mask])) {
        *v = g->value[mask];
        return MNV3_OK;
    }
    if (run_subset(g, mask, g->scratch, err) != MNV3_OK) return MNV3_FAIL;
    g->value[mask] = mnv3_rel_l2(g->scratch, g->base, (size_t)g->n * (size_t)g->out_size);
    *v = g->value[mask];
    return MNV3_OK;
}

static double factorial(int n) {
    double f = 1;
    for (int i = 2; i <= n; i++) f *= i;
    return f;
}

/* phi_i = sum over S not containing i of |S|! (k-|S|-1)! / k! * (v(S + i) - v(S)). */
void mnv3_shapley_exact(int k, const double *value, double *phi) {
    const unsigned all = (1u << k) - 1;
    for (int i = 0; i < k; i++) {
        const unsigned bit = 1u << i;
        phi[i] = 0;
        for (unsigned s = 0; s <= all; s++) {
            if (s & bit) continue;
            int size = 0;
            for (unsigned r = s; r; r &= r - 1) size++;
            phi[i] += factorial(size) * factorial(k - size - 1) / factorial(k) * (value[s | bit] - value[s]);
        }
    }
}

int mnv3_explain(const mnv3_side *a, const mnv3_side *b, int n, int h, int w,
                 mnv3_attribution *out, mnv3_error *err) {
    return mnv3_explain_grouped(a, b, n, h, w, NULL, out, err);
}

int mnv3_explain_grouped(const mnv3_side *a, const mnv3_side *b, int n, int h, int w,
                         const mnv3_explain_groups *groups, mnv3_attribution *out,
                         mnv3_error *err) {
    memset(out, 0, sizeof *out);
    if (mnv3_output_size(a->model) != mnv3_output_size(b->model))
        return mnv3_fail(err, NULL, "the two sides have different outputs (%d vs %d values)",
                         mnv3_output_size(a->model), mnv3_output_size(b->model));
    game g = {a, b, n, h, w, 0, mnv3_output_size(a->model), out->what, NULL, NULL, NULL, 0};
    mnv3_factor_set grouped = 0;
    for (int i = 0; groups && i < groups->n; i++) {
        mnv3_factor_set differing = 0; /* a factor plays in its first group only */
        for (int f = 0; f < MNV3_FACTOR_COUNT; f++)
            if ((groups->factors[i] & ~grouped & MNV3_FACTOR_BIT(f)) &&
                a->profile.option[f] != b->profile.option[f])
                differing |= MNV3_FACTOR_BIT(f);
        grouped |= groups->factors[i];
        if (!differing) continue;
        out->what[g.k] = (mnv3_switch){MNV3_SWITCH_FACTORS, differing};
        snprintf(out->name[g.k], sizeof out->name[g.k], "%s", groups->name[i]);
        char *detail = out->detail[g.k];
        detail[0] = 0;
        for (int f = 0; f < MNV3_FACTOR_COUNT; f++) {
            if (!(differing & MNV3_FACTOR_BIT(f))) continue;
            size_t used = strlen(detail), room = sizeof out->detail[g.k] - used;
            snprintf(detail + used, room, "%s%s", used ? ", " : "", mnv3_factor_name(f));
        }
        g.k++;
    }
    for (int f = 0; f < MNV3_FACTOR_COUNT; f++) {
        if (f == MNV3_FACTOR_LAYOUT || f == MNV3_FACTOR_OUTPUT || f == MNV3_FACTOR_INPUT_RESCALE ||
            mnv3_factor_is_training(f) || mnv3_factor_is_integer(f))
            continue; /* conventions of the interface, part of the input switch, or no effect here */
        if (a->profile.option[f] == b->profile.option[f] || (grouped & MNV3_FACTOR_BIT(f))) continue;
        out->what[g.k] = (mnv3_switch){MNV3_SWITCH_FACTORS, MNV3_FACTOR_BIT(f)};
        snprintf(out->name[g.k], sizeof out->name[g.k], "%s", mnv3_factor_name(f));
        snprintf(out->detail[g.k], sizeof out->detail[g.k], "%s -> %s",
                 mnv3_factor_option_name(f, a->profile.option[f]),
                 mnv3_factor_option_name(f, b->profile.option[f]));
        g.k++;
    }
    if (a->model != b->model) {
        out->what[g.k] = (mnv3_switch){MNV3_SWITCH_WEIGHTS, 0};
        strcpy(out->name[g.k], "weights");
        strcpy(out->detail[g.k], "side A's file -> side B's file");
        g.k++;
    }
    int rescale_differs = a->profile.option[MNV3_FACTOR_INPUT_RESCALE] !=
                          b->profile.option[MNV3_FACTOR_INPUT_RESCALE];
    size_t input_values = (size_t)n * 3 * (size_t)h * (size_t)w;
    int inputs_differ = a->input != b->input &&
                        memcmp(a->input, b->input, input_values * sizeof *a->input) != 0;
    if (inputs_differ || rescale_differs) {
        out->what[g.k] = (mnv3_switch){MNV3_SWITCH_INPUT, 0};
        strcpy(out->name[g.k], "input");
        snprintf(out->detail[g.k], sizeof out->detail[g.k], "%s -> %s",
                 a->input_label ? a->input_label : "A's input",
                 b->input_label ? b->input_label : "B's input");
        g.k++;
    }
    out->n_factors = g.k;
    if (g.k > 12)
        return mnv3_fail(err, NULL, "%d factors differ; at most 12 are attributed", g.k);

    size_t total = (size_t)n * (size_t)g.out_size, subsets = (size_t)1 << g.k;
    g.base = malloc(total * sizeof *g.base);
    g.scratch = malloc(total * sizeof *g.scratch);
    g.value = malloc(subsets * sizeof *g.value);
    int rc = MNV3_FAIL;
    float *b_out = NULL;
    if (!g.base || !g.scratch || !g.value) {
        mnv3_fail(err, NULL, "out of memory");
        goto done;
    }
    for (size_t s = 0; s < subsets; s++) g.value[s] = NAN;
    if (run_subset(&g, 0, g.base, err) != MNV3_OK) goto done;
    g.value[0] = 0.0;

    unsigned all = (unsigned)subsets - 1;
    if (value_of(&g, all, &out->total, err) != MNV3_OK) goto done;
    b_out = malloc(total * sizeof *b_out);
    if (!b_out) {
        mnv3_fail(err, NULL, "out of memory");
        goto done;
    }
    if (run_subset(&g, all, b_out, err) != MNV3_OK) goto done;
    for (int i = 0; i < g.k; i++) {
        unsigned bit = 1u << i;
        if (value_of(&g, bit, &out->alone[i], err) != MNV3_OK) goto done;
        /* B with this one factor put back to A's choice, against B. */
        if (run_subset(&g, all & ~bit, g.scratch, err) != MNV3_OK) goto done;
        out->last[i] = mnv3_rel_l2(g.scratch, b_out, total);
        g.value[all & ~bit] = mnv3_rel_l2(g.scratch, g.base, total);
    }
    for (unsigned s = 0; s <= all; s++) {
        double v;
        if (value_of(&g, s, &v, err) != MNV3_OK) goto done;
    }
    mnv3_shapley_exact(g.k, g.value, out->shapley);
    out->exact = 1;
    out->runs = g.runs;
    rc = MNV3_OK;
done:
    free(b_out);
    free(g.base);
    free(g.scratch);
    free(g.value);
    return rc;
}
