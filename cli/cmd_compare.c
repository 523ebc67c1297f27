/* mnv3 compare and mnv3 explain: do two sides differ, by how much, where
 * first, and why. A side is a profile + weights (+ pipeline), or a dump. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "factors/factors.h"
#include "report.h"
#include "sides.h"

static const char *compare_usage =
    "[--a-profile P] [--a-weights W] [--a-pipeline PL] [--a-set f=o] [--a-dump D.npz]\n"
    "       [--b-...] [--input X.npy | --image FILE] [--json] [--html REPORT.html]";

/* Softmax in double, for agreement statistics. */
static void softmax64(const float *x, int n, double *p) {
    double max = x[0], sum = 0;
    for (int i = 1; i < n; i++) max = x[i] > max ? x[i] : max;
    for (int i = 0; i < n; i++) sum += p[i] = exp((double)x[i] - max);
    for (int i = 0; i < n; i++) p[i] /= sum;
}

/* Agreement of the final outputs: [n, k] logits, or features (k = 576). */
void cli_output_agreement(const float *a, const float *b, int n, int k, int classes,
                          cli_agreement *g) {
    memset(g, 0, sizeof *g);
    g->samples = n;
    mnv3_diff d;
    mnv3_diff_compute(b, a, (int64_t)n * k, &d);
    g->rel_l2 = d.rel_l2;
    g->max_abs = d.max_abs;
    if (!classes || k < 5) return;
    g->has_classes = 1;
    double *pa = malloc((size_t)k * sizeof *pa), *pb = malloc((size_t)k * sizeof *pb);
    if (!pa || !pb) {
        free(pa), free(pb);
        return;
    }
    for (int s = 0; s < n; s++) {
        const float *x = a + (size_t)s * (size_t)k, *y = b + (size_t)s * (size_t)k;
        int64_t ta[5], tb[5];
        mnv3_top5(x, k, ta);
        mnv3_top5(y, k, tb);
        g->top1_agree += ta[0] == tb[0];
        g->top5_same_order += memcmp(ta, tb, sizeof ta) == 0;
        for (int i = 0; i < 5; i++)
            for (int j = 0; j < 5; j++) g->top5_overlap += ta[i] == tb[j];
        softmax64(x, k, pa);
        softmax64(y, k, pb);
        double kl = 0;
        for (int i = 0; i < k; i++)
            if (pa[i] > 0) kl += pa[i] * log(pa[i] / (pb[i] > 0 ? pb[i] : 1e-300));
        g->kl_mean += kl / n;
    }
    g->top5_overlap /= 5.0 * n;
    free(pa), free(pb);
}

/* First divergent layer: the first layer whose relative L2 exceeds ten times
 * what float32 accumulation alone produces there, measured as the larger of
 * the two sides' float32-vs-float64 distances (1e-7 at least). */
static const char *first_divergent(const cli_compare *c, const mnv3_tensors *floor_a,
                                   const mnv3_tensors *floor_b, double *ratio) {
    const mnv3_tensors *a = &c->side[0].dump, *b = &c->side[1].dump;
    for (size_t i = 0; i < a->count; i++) {
        const mnv3_tensor *x = &a->items[i], *y = mnv3_tensors_find(b, x->name);
        if (!y || mnv3_tensor_numel(x) != mnv3_tensor_numel(y) || x->dtype != MNV3_F32) continue;
        mnv3_diff d;
        mnv3_diff_compute(y->data, x->data, mnv3_tensor_numel(x), &d);
        double floor = 1e-7;
        const mnv3_tensors *floors[2] = {floor_a, floor_b};
        const mnv3_tensor *own[2] = {x, y};
        for (int k = 0; k < 2; k++) {
            const mnv3_tensor *f = floors[k] ? mnv3_tensors_find(floors[k], x->name) : NULL;
            if (!f || mnv3_tensor_numel(f) != mnv3_tensor_numel(own[k])) continue;
            mnv3_diff fd;
            mnv3_diff_compute(own[k]->data, f->data, mnv3_tensor_numel(f), &fd);
            floor = fd.rel_l2 > floor ? fd.rel_l2 : floor;
        }
        if (d.rel_l2 > 10.0 * floor) {
            *ratio = d.rel_l2 / floor;
            return x->name;
        }
    }
    return NULL;
}

static int float64_floor(const cli_compare *c, int k, mnv3_tensors *out) {
    memset(out, 0, sizeof *out);
    if (!c->side[k].model) return MNV3_OK;
    mnv3_side s = cli_side_view(c, k);
    s.profile.option[MNV3_FACTOR_ACCUMULATE] = MNV3_ACCUMULATE_F64;
    float *y = malloc((size_t)c->n * (size_t)mnv3_output_size(s.model) * sizeof *y);
    mnv3_error err;
    int rc = y ? cli_side_run(c, &s, out, y, &err) : MNV3_FAIL;
    free(y);
    return rc;
}

/* The first divergent layer of the two sides, against their float64 runs. */
static const char *divergence(const cli_compare *c, double *ratio) {
    mnv3_tensors floor_a, floor_b;
    float64_floor(c, 0, &floor_a);
    float64_floor(c, 1, &floor_b);
    *ratio = 0;
    const char *first = first_divergent(c, &floor_a, &floor_b, ratio); /* a name in A's dump */
    mnv3_tensors_free(&floor_a);
    mnv3_tensors_free(&floor_b);
    return first;
}

static int parse_compare(int argc, char **argv, cli_compare_args *a, const char *cmd) {
    int status = 0;
    for (int i = 0; i < argc; i++) {
        if (cli_compare_arg(argc, argv, &i, a, &status)) {
            if (status) return status;
            continue;
        }
        return cli_usage_error("%s: unknown option '%s'; usage: mnv3 %s %s", cmd, argv[i], cmd,
                               compare_usage);
    }
    return 0;
}

int cmd_compare(int argc, char **argv) {
    cli_compare_args a = {0};
    int status = parse_compare(argc, argv, &a, "compare");
    if (status) return status;
    cli_compare c;
    if ((status = cli_compare_open(&a, 1, &c))) return status;
    double ratio;
    const char *first = divergence(&c, &ratio);

    cli_agreement g = {0};
    int have_outputs = c.side[0].output && c.side[1].output;
    if (have_outputs) {
        int k = mnv3_output_size(c.side[0].model);
        if (k == mnv3_output_size(c.side[1].model))
            cli_output_agreement(c.side[0].output, c.side[1].output, c.n, k,
                                 mnv3_model_arch(c.side[0].model)->num_classes, &g);
        else have_outputs = 0;
    }
    if (a.json) {
        cJSON *root = cli_compare_json(&c, first, ratio, have_outputs ? &g : NULL);
        cli_print_json(root);
    } else {
        printf("A: %s\nB: %s\n", cli_safe(c.side[0].label), cli_safe(c.side[1].label));
        if (c.note[0]) printf("note: %s\n", c.note);
        printf("\n");
        cli_diff_table_ex(&c.side[1].dump, &c.side[0].dump, "B", "A (reference)", INFINITY, 0, 1);
        printf("\nfirst divergent layer: %s", first ? cli_safe(first) : "none");
        if (first) printf(" (%.3g x the float32 accumulation floor)", ratio);
        printf("\n  definition: the first layer whose relative L2 exceeds 10x the larger of the "
               "two sides'\n  float32-vs-float64 distance there (at least 1e-7)\n");
        if (have_outputs) cli_print_agreement(&g);
    }
    if (a.html_path) status = cli_write_compare_html(a.html_path, &c, first, ratio,
                                                     have_outputs ? &g : NULL, NULL);
    cli_compare_close(&c);
    return status;
}

int cmd_explain(int argc, char **argv) {
    cli_compare_args a = {0};
    int status = parse_compare(argc, argv, &a, "explain");
    if (status) return status;
    if (a.side[0].dump || a.side[1].dump)
        return cli_usage_error("explain needs runnable sides (profile + weights), not dumps");
    cli_compare c;
    if ((status = cli_compare_open(&a, a.html_path != NULL, &c))) return status;
    mnv3_side sa = cli_side_view(&c, 0), sb = cli_side_view(&c, 1);
    mnv3_attribution at;
    mnv3_error err;
    mnv3_explain_groups groups = {0};
    for (int i = 0; i < a.n_groups; i++) {
        const char *eq = strchr(a.groups[i], '=');
        if (!eq || eq == a.groups[i] || (size_t)(eq - a.groups[i]) >= sizeof groups.name[0]) {
            cli_compare_close(&c);
            return cli_usage_error("--group needs name=factor,factor (got '%s')", a.groups[i]);
        }
        snprintf(groups.name[i], sizeof groups.name[i], "%.*s", (int)(eq - a.groups[i]), a.groups[i]);
        char list[256];
        snprintf(list, sizeof list, "%s", eq + 1);
        for (char *tok = strtok(list, ","); tok; tok = strtok(NULL, ",")) {
            int f = mnv3_factor_find(tok);
            if (f < 0) {
                cli_compare_close(&c);
                return cli_usage_error("--group: unknown factor '%s'", tok);
            }
            groups.factors[i] |= MNV3_FACTOR_BIT(f);
        }
        groups.n++;
    }
    if (mnv3_explain_grouped(&sa, &sb, c.n, c.h, c.w, &groups, &at, &err) != MNV3_OK) {
        cli_compare_close(&c);
        return cli_error(&err);
    }
    if (a.json) {
        cJSON *root = cli_explain_json(&c, &at);
        cli_print_json(root);
    } else {
        cli_print_explain(&c, &at);
    }
    if (a.html_path) {
        double ratio;
        const char *first = divergence(&c, &ratio);
        cli_agreement g = {0};
        int k = mnv3_output_size(c.side[0].model);
        cli_output_agreement(c.side[0].output, c.side[1].output, c.n, k,
                             mnv3_model_arch(c.side[0].model)->num_classes, &g);
        status = cli_write_compare_html(a.html_path, &c, first, ratio, &g, &at);
    }
    cli_compare_close(&c);
    return status;
}
