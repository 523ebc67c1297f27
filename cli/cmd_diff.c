/* mnv3 diff: layer-by-layer comparison of two activation dumps. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "cli.h"

void cli_collect_tap(void *user, int sample, const char *name, int ndim, const int64_t *shape,
                     const float *data) {
    cli_tap_collector *d = user;
    if (d->failed) return;
    size_t per = 1;
    for (int i = 1; i < ndim; i++) per *= (size_t)shape[i];
    mnv3_tensor *t = (mnv3_tensor *)mnv3_tensors_find(&d->taps, name);
    if (!t) {
        int64_t full[4];
        for (int i = 0; i < ndim; i++) full[i] = shape[i];
        full[0] = d->n;
        float *buf = malloc(per * (size_t)d->n * sizeof *buf);
        if (!buf || mnv3_tensors_add(&d->taps, name, MNV3_F32, ndim, full, buf, &d->err)) {
            d->failed = 1;
            return;
        }
        t = &d->taps.items[d->taps.count - 1];
    }
    memcpy((float *)t->data + (size_t)sample * per, data, per * sizeof *data);
}

cJSON *cli_diff_json(const char *name, const mnv3_diff *d) {
    cJSON *e = cJSON_CreateObject();
    cJSON_AddStringToObject(e, "name", name);
    cJSON_AddNumberToObject(e, "count", (double)d->count);
    cJSON_AddNumberToObject(e, "max_abs", d->max_abs);
    cJSON_AddNumberToObject(e, "mean_abs", d->mean_abs);
    cJSON_AddNumberToObject(e, "rel_l2", d->rel_l2);
    cJSON_AddNumberToObject(e, "cosine", d->cosine);
    cJSON_AddNumberToObject(e, "max_ulp", (double)d->max_ulp);
    cJSON_AddNumberToObject(e, "median_ulp", d->median_ulp);
    cJSON_AddNumberToObject(e, "p99_ulp", d->p99_ulp);
    cJSON_AddNumberToObject(e, "frac_identical", d->frac_identical);
    return e;
}

void cli_print_json(cJSON *root) {
    char *text = cJSON_Print(root);
    if (text) puts(text);
    free(text);
    cJSON_Delete(root);
}

static int same_shape(const mnv3_tensor *a, const mnv3_tensor *b) {
    if (a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    return 1;
}

int cli_diff_table(const mnv3_tensors *a, const mnv3_tensors *ref, const char *a_label,
                   const char *ref_label, double max_rel_l2, int json) {
    return cli_diff_table_ex(a, ref, a_label, ref_label, max_rel_l2, json, 0);
}

static int diff_normalise_means;

/* The item named name, looked for first at index i: two dumps of one model
 * list their names in one order, and a sequential walk stays in cache where
 * 200,000 binary searches do not (docs/reliability.md, "Name lookups"). */
static const mnv3_tensor *find_near(const mnv3_tensors *ts, const char *name, size_t i) {
    if (i < ts->count && !strcmp(ts->items[i].name, name)) return &ts->items[i];
    return mnv3_tensors_find(ts, name);
}

int cli_diff_table_ex(const mnv3_tensors *a, const mnv3_tensors *ref, const char *a_label,
                      const char *ref_label, double max_rel_l2, int json, int common_only) {
    int bad = 0, skipped = 0;
    double worst = 0;
    const char *worst_name = "";
    cJSON *root = json ? cJSON_CreateObject() : NULL, *layers = NULL;
    if (json) {
        cJSON_AddStringToObject(root, "a", a_label);
        cJSON_AddStringToObject(root, "reference", ref_label);
        cJSON_AddNumberToObject(root, "max_rel_l2_allowed", max_rel_l2);
        layers = cJSON_AddArrayToObject(root, "layers");
    } else {
        printf("a:         %s\nreference: %s\n", a_label, ref_label);
        printf("%-18s %10s %10s %10s %11s %8s %8s %9s\n", "layer", "max_abs", "rel_l2",
               "cosine-1", "max_ulp", "p99_ulp", "med_ulp", "identical");
    }
    for (size_t i = 0; i < a->count; i++) {
        const mnv3_tensor *x = &a->items[i];
        const mnv3_tensor *y = find_near(ref, x->name, i);
        if (!y && common_only) {
            skipped++;
            continue;
        }
        const char *problem = !y ? "missing in reference"
                              : x->dtype != MNV3_F32 || y->dtype != MNV3_F32 ? "not float32"
                              : !same_shape(x, y) ? "shapes differ"
                                                  : NULL;
        if (problem) {
            bad++;
            if (json) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddStringToObject(e, "name", x->name);
                cJSON_AddStringToObject(e, "problem", problem);
                cJSON_AddItemToArray(layers, e);
            } else printf("%-18s %s\n", cli_safe(x->name), problem);
            continue;
        }
        mnv3_diff d;
        mnv3_diff_compute(x->data, y->data, mnv3_tensor_numel(x), &d);
        /* Running means near zero (dead channels) make relative L2 measure rounding noise:
         * with --normalise-means their error is taken in units of the channel's standard
         * deviation, RMS over channels, the scale BatchNorm divides by. */
        size_t len = strlen(x->name);
        if (diff_normalise_means && len > 13 && !strcmp(x->name + len - 13, ".running_mean")) {
            char var_name[160];
            snprintf(var_name, sizeof var_name, "%.*s.running_var", (int)(len - 13), x->name);
            const mnv3_tensor *v = mnv3_tensors_find(ref, var_name);
            if (v && mnv3_tensor_numel(v) == mnv3_tensor_numel(x)) {
                const float *xa = x->data, *ya = y->data, *va = v->data;
                double sum = 0;
                int64_t cnt = mnv3_tensor_numel(x);
                for (int64_t k = 0; k < cnt; k++) {
                    double e = (double)xa[k] - ya[k];
                    sum += e * e / (va[k] > 0 ? va[k] : 1e-30);
                }
                d.rel_l2 = sqrt(sum / (double)(cnt ? cnt : 1));
            }
        }
        int over = !(d.rel_l2 <= max_rel_l2) || d.nonfinite;
        bad += over;
        if (d.rel_l2 > worst) worst = d.rel_l2, worst_name = x->name;
        if (json) {
            cJSON *e = cli_diff_json(x->name, &d);
            cJSON_AddNumberToObject(e, "nonfinite", (double)d.nonfinite);
            cJSON_AddBoolToObject(e, "within", !over);
            cJSON_AddItemToArray(layers, e);
        } else {
            printf("%-18s %10.3e %10.3e %10.3e %11llu %8.0f %8.1f %8.2f%%%s\n", cli_safe(x->name),
                   d.max_abs, d.rel_l2, 1.0 - d.cosine, (unsigned long long)d.max_ulp, d.p99_ulp,
                   d.median_ulp, 100.0 * d.frac_identical, over ? "  OVER" : "");
        }
    }
    for (size_t i = 0; i < ref->count; i++) {
        if (find_near(a, ref->items[i].name, i)) continue;
        if (common_only) {
            skipped++;
            continue;
        }
        bad++;
        if (json) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", ref->items[i].name);
            cJSON_AddStringToObject(e, "problem", "missing in a");
            cJSON_AddItemToArray(layers, e);
        } else printf("%-18s missing in a\n", cli_safe(ref->items[i].name));
    }
    if (json) {
        cJSON_AddNumberToObject(root, "layers_over", bad);
        cJSON_AddNumberToObject(root, "layers_not_in_both", skipped);
        cJSON_AddNumberToObject(root, "worst_rel_l2", worst);
        cJSON_AddStringToObject(root, "worst_layer", worst_name);
        cli_print_json(root);
    } else {
        printf("%zu layers; worst relative L2 %.3e at %s; %d over the bound %.1e", a->count,
               worst, cli_safe(worst_name), bad, max_rel_l2);
        if (common_only) printf("; %d not in both dumps (skipped: --common)", skipped);
        printf("\n");
    }
    return bad;
}

/* Top-5 class order per sample of an [N, K] output; returns mismatches. */
static int check_top5(const mnv3_tensors *a, const mnv3_tensors *ref, const char *name) {
    const mnv3_tensor *x = mnv3_tensors_find(a, name), *y = mnv3_tensors_find(ref, name);
    if (!x || !y || x->ndim != 2 || !same_shape(x, y) || x->shape[1] < 5) {
        printf("top-5: no [N, K>=5] layer '%s' in both dumps\n", name);
        return 1;
    }
    int bad = 0;
    for (int64_t s = 0; s < x->shape[0]; s++) {
        int64_t ia[5], ib[5];
        mnv3_top5((const float *)x->data + s * x->shape[1], x->shape[1], ia);
        mnv3_top5((const float *)y->data + s * y->shape[1], y->shape[1], ib);
        int same = memcmp(ia, ib, sizeof ia) == 0;
        bad += !same;
        printf("top-5 sample %lld: %lld %lld %lld %lld %lld  %s\n", (long long)s,
               (long long)ia[0], (long long)ia[1], (long long)ia[2], (long long)ia[3],
               (long long)ia[4], same ? "identical order" : "DIFFERS from reference");
    }
    printf("top-5 order identical on %lld of %lld samples\n", (long long)(x->shape[0] - bad),
           (long long)x->shape[0]);
    return bad;
}

static int ends_with_npy(const char *path) {
    size_t n = strlen(path);
    return n >= 4 && !strcmp(path + n - 4, ".npy");
}

/* A dump: an .npz of layers, or a single .npy compared as layer "output". */
static int read_dump(const char *path, mnv3_tensors *out, mnv3_error *err) {
    if (!ends_with_npy(path)) return mnv3_read_npz(path, out, err);
    mnv3_tensor t;
    memset(out, 0, sizeof *out);
    if (mnv3_read_npy(path, &t, err) != MNV3_OK) return MNV3_FAIL;
    free(t.name);
    return mnv3_tensors_add(out, "output", t.dtype, t.ndim, t.shape, t.data, err);
}

int cmd_diff(int argc, char **argv) {
    const char *paths[2] = {NULL, NULL};
    const char *top5_layer = NULL;
    int n_paths = 0, json = 0, common = 0;
    double bound = INFINITY;
    for (int i = 0; i < argc; i++) {
        const char *v;
        int r = cli_take(argc, argv, &i, "--check-top5", &top5_layer);
        if (r < 0) return cli_usage_error("--check-top5 needs a layer name");
        if (r) continue;
        r = cli_take(argc, argv, &i, "--max-rel-l2", &v);
        if (r < 0) return cli_usage_error("--max-rel-l2 needs a value");
        if (r) {
            char *end;
            bound = strtod(v, &end);
            if (*end || !(bound >= 0)) return cli_usage_error("bad --max-rel-l2 '%s'", v);
        } else if (!strcmp(argv[i], "--json")) json = 1;
        else if (!strcmp(argv[i], "--common")) common = 1;
        else if (!strcmp(argv[i], "--normalise-means")) diff_normalise_means = 1;
        else if (argv[i][0] == '-') return cli_usage_error("diff: unknown option '%s'", argv[i]);
        else if (n_paths < 2) paths[n_paths++] = argv[i];
        else return cli_usage_error("diff takes two dumps");
    }
    if (n_paths != 2) return cli_usage_error("diff: give A.npz and REFERENCE.npz");
    mnv3_tensors a = {0}, b = {0};
    mnv3_error err;
    if (read_dump(paths[0], &a, &err) != MNV3_OK) return cli_error(&err);
    if (read_dump(paths[1], &b, &err) != MNV3_OK) {
        mnv3_tensors_free(&a);
        return cli_error(&err);
    }
    size_t shared = 0;
    for (size_t i = 0; i < a.count; i++) shared += find_near(&b, a.items[i].name, i) != NULL;
    if (shared == 0) { /* nothing to compare: a table of "missing" lines would hide that */
        fprintf(stderr,
                "mnv3: %s: no array name in common with %s (%zu and %zu arrays): not dumps of "
                "the same model in the same naming? (mnv3 dump and tools/dump_*.py write "
                "canonical names)\n",
                cli_safe(paths[0]), cli_safe(paths[1]), a.count, b.count);
        mnv3_tensors_free(&a);
        mnv3_tensors_free(&b);
        return 1;
    }
    int bad = cli_diff_table_ex(&a, &b, paths[0], paths[1], bound, json, common);
    if (top5_layer && !json) bad += check_top5(&a, &b, top5_layer);
    mnv3_tensors_free(&a);
    mnv3_tensors_free(&b);
    return bad ? 1 : 0;
}
