/* mnv3 weights-diff A B: the two files' weights after mapping names and
 * layouts, tensor by tensor, and a verdict: the same weights, a conversion
 * (rounding-level differences), or different trainings. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

/* A canonical tensor of m, folding BatchNorm into the preceding convolution
 * (in float64) when the other side is BN-folded: weight and bias of X.conv. */
typedef struct folded {
    float *data;
    int64_t count;
} folded;

static const mnv3_tensor *get(const mnv3_model *m, const char *name) {
    return mnv3_tensors_find(mnv3_model_tensors(m), name);
}

static int fold(const mnv3_model *m, const char *conv, int want_bias, folded *out) {
    char name[160];
    const char *prefix_end = strrchr(conv, '.');
    int plen = (int)(prefix_end - conv);
    snprintf(name, sizeof name, "%s.weight", conv);
    const mnv3_tensor *w = get(m, name);
    snprintf(name, sizeof name, "%.*s.bn.weight", plen, conv);
    const mnv3_tensor *g = get(m, name);
    snprintf(name, sizeof name, "%.*s.bn.bias", plen, conv);
    const mnv3_tensor *b = get(m, name);
    snprintf(name, sizeof name, "%.*s.bn.running_mean", plen, conv);
    const mnv3_tensor *mu = get(m, name);
    snprintf(name, sizeof name, "%.*s.bn.running_var", plen, conv);
    const mnv3_tensor *var = get(m, name);
    if (!w || !g || !b || !mu || !var) return 0;
    int64_t oc = w->shape[0], per = mnv3_tensor_numel(w) / oc;
    out->count = want_bias ? oc : mnv3_tensor_numel(w);
    out->data = malloc((size_t)out->count * sizeof *out->data);
    if (!out->data) return 0;
    const float *W = w->data, *G = g->data, *B = b->data, *M = mu->data, *V = var->data;
    for (int64_t o = 0; o < oc; o++) {
        double a = G[o] / sqrt((double)V[o] + mnv3_model_arch(m)->bn_eps);
        if (want_bias) out->data[o] = (float)(B[o] - M[o] * a);
        else
            for (int64_t k = 0; k < per; k++) out->data[o * per + k] = (float)(W[o * per + k] * a);
    }
    return 1;
}

int cmd_weights_diff(int argc, char **argv) {
    const char *paths[2] = {NULL, NULL};
    int n_paths = 0, json = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-') return cli_usage_error("weights-diff: unknown option '%s'", argv[i]);
        else if (n_paths < 2) paths[n_paths++] = argv[i];
        else return cli_usage_error("weights-diff takes two files");
    }
    if (n_paths != 2) return cli_usage_error("weights-diff: give two weight files");
    mnv3_model *m[2] = {NULL, NULL};
    mnv3_error err;
    for (int k = 0; k < 2; k++)
        if (mnv3_model_load(paths[k], &m[k], NULL, &err) != MNV3_OK) {
            mnv3_model_free(m[0]);
            return cli_error(&err);
        }
    int fold_side = -1; /* which side's BatchNorm is folded to match the other */
    if (mnv3_model_arch(m[0])->bn_folded != mnv3_model_arch(m[1])->bn_folded)
        fold_side = mnv3_model_arch(m[0])->bn_folded ? 1 : 0;
    const mnv3_tensors *ref = mnv3_model_tensors(m[fold_side == 0 ? 1 : 0]);
    cJSON *root = json ? cJSON_CreateObject() : NULL, *arr = NULL;
    if (json) {
        cJSON_AddStringToObject(root, "a", paths[0]);
        cJSON_AddStringToObject(root, "b", paths[1]);
        arr = cJSON_AddArrayToObject(root, "tensors");
    } else {
        printf("A: %s\nB: %s\n", paths[0], paths[1]);
        if (fold_side >= 0)
            printf("note: %s has BatchNorm folded into its convolutions; %s's BatchNorm is "
                   "folded the same way (float64) to compare\n", paths[fold_side ? 0 : 1],
                   paths[fold_side]);
        printf("%-28s %10s %10s %10s %9s\n", "tensor", "rel_l2", "max_abs", "cosine", "identical");
    }
    int compared = 0, identical_tensors = 0, missing = 0;
    double cos_sum = 0, worst = 0;
    for (size_t i = 0; i < ref->count; i++) {
        const mnv3_tensor *t = &ref->items[i];
        const float *a = NULL, *b = NULL;
        folded f = {0};
        int64_t n = mnv3_tensor_numel(t);
        if (fold_side < 0) {
            const mnv3_tensor *other = get(m[1], t->name);
            if (other && mnv3_tensor_numel(other) == n) a = t->data, b = other->data;
        } else {
            /* t is on the folded side; build the same tensor from the other one */
            const float *from_unfolded = NULL;
            size_t len = strlen(t->name);
            int is_bias = len > 5 && !strcmp(t->name + len - 5, ".bias");
            char conv[96];
            snprintf(conv, sizeof conv, "%.*s", (int)(len - (is_bias ? 5 : 7)), t->name);
            if (fold(m[fold_side], conv, is_bias, &f) && f.count == n) {
                from_unfolded = f.data;
            } else {
                const mnv3_tensor *other = get(m[fold_side], t->name);
                if (other && mnv3_tensor_numel(other) == n) from_unfolded = other->data;
            }
            if (from_unfolded) {
                a = fold_side == 0 ? from_unfolded : t->data;
                b = fold_side == 0 ? t->data : from_unfolded;
            }
        }
        if (!a || !b) {
            missing++;
            free(f.data);
            continue;
        }
        mnv3_diff d;
        mnv3_diff_compute(b, a, n, &d);
        compared++;
        cos_sum += d.cosine;
        identical_tensors += d.frac_identical == 1.0;
        if (d.rel_l2 > worst) worst = d.rel_l2;
        if (json) {
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "name", t->name);
            cJSON_AddNumberToObject(e, "rel_l2", d.rel_l2);
            cJSON_AddNumberToObject(e, "max_abs", d.max_abs);
            cJSON_AddNumberToObject(e, "cosine", d.cosine);
            cJSON_AddNumberToObject(e, "frac_identical", d.frac_identical);
            cJSON_AddItemToArray(arr, e);
        } else {
            printf("%-28s %10.3g %10.3g %10.4f %8.1f%%\n", t->name, d.rel_l2, d.max_abs, d.cosine,
                   100 * d.frac_identical);
        }
        free(f.data);
    }
    double mean_cos = compared ? cos_sum / compared : 0;
    const char *verdict =
        !compared                        ? "nothing comparable"
        : identical_tensors == compared  ? "the same weights (bit-identical after mapping)"
        : worst < 1e-2 && mean_cos > 0.9999 ? "conversions of one another (rounding-level differences)"
        : mean_cos < 0.5 ? "DIFFERENT TRAININGS, not conversions of one another: expect different "
                           "outputs whatever the framework"
                         : "related but not equal (fine-tuned, quantized or partly different)";
    if (json) {
        cJSON_AddNumberToObject(root, "compared", compared);
        cJSON_AddNumberToObject(root, "identical_tensors", identical_tensors);
        cJSON_AddNumberToObject(root, "mean_cosine", mean_cos);
        cJSON_AddNumberToObject(root, "worst_rel_l2", worst);
        cJSON_AddStringToObject(root, "verdict", verdict);
        cli_print_json(root);
    } else {
        printf("\n%d tensors compared (%d not comparable), %d bit-identical, mean cosine %.4f, "
               "worst relative L2 %.3g\n", compared, missing, identical_tensors, mean_cos, worst);
        printf("%s%s\n", mean_cos < 0.5 && compared ? "warning: " : "verdict: ", verdict);
    }
    mnv3_model_free(m[0]);
    mnv3_model_free(m[1]);
    return 0;
}
