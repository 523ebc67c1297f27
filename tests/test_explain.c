/* Shapley attribution accounts for the total difference: the contributions
 * must add up to distance(B, A) (efficiency), here within 1e-9 relative.
 * And mnv3_side_switch, the one definition of "switched", gives back each
 * player's 'alone' distance exactly, for a group as for a single factor. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "factors/factors.h"
#include "kit.h"

static int run_side(const mnv3_side *s, int n, int h, int w, float *out, mnv3_error *err) {
    mnv3_session_options so = {.kernels = "fast", .threads = s->threads, .max_batch = n};
    mnv3_session *session = NULL;
    if (mnv3_session_create(s->model, &s->profile, h, w, MNV3_NCHW, &so, &session, err) != MNV3_OK)
        return MNV3_FAIL;
    int rc = mnv3_session_run(session, s->input, n, out, err);
    mnv3_session_free(session);
    return rc;
}

/* Each player of a grouped torch-vs-keras attribution, switched alone with
 * mnv3_side_switch, is at its 'alone' distance from A, bit for bit. */
static int check_switch(const mnv3_model *m, const float *x, int n, int h, int w) {
    mnv3_side a = {m, *mnv3_profile_find("torch"), x, NULL, 2};
    mnv3_side b = {m, *mnv3_profile_find("keras"), x, NULL, 2};
    a.profile.option[MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_NONE;
    b.profile.option[MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_NONE;
    a.profile.option[MNV3_FACTOR_OUTPUT] = b.profile.option[MNV3_FACTOR_OUTPUT] = MNV3_OUTPUT_LOGITS;
    mnv3_explain_groups groups = {1, {"conv"}, {0}};
    groups.factors[0] = 1u << MNV3_FACTOR_CONV_ORDER | 1u << MNV3_FACTOR_POINTWISE |
                        1u << MNV3_FACTOR_BIAS;
    mnv3_attribution at;
    mnv3_error err;
    size_t count = (size_t)n * (size_t)mnv3_output_size(m);
    float *base = malloc(count * sizeof *base), *y = malloc(count * sizeof *y);
    int failures = 0, group_seen = 0;
    if (!base || !y || mnv3_explain_grouped(&a, &b, n, h, w, &groups, &at, &err) != MNV3_OK ||
        run_side(&a, n, h, w, base, &err) != MNV3_OK) {
        printf("FAIL switch setup: %s\n", err.message);
        failures = 1;
    }
    for (int i = 0; !failures && i < at.n_factors; i++) {
        mnv3_side s;
        mnv3_side_switch(&a, &b, at.what, at.n_factors, 1u << i, &s);
        if (run_side(&s, n, h, w, y, &err) != MNV3_OK) {
            printf("FAIL switch %s: %s\n", at.name[i], err.message);
            failures++;
            continue;
        }
        double d = mnv3_rel_l2(y, base, count);
        int ok = d == at.alone[i] && d > 0;
        group_seen |= !strcmp(at.name[i], "conv");
        printf("%s A with only %s switched: %.17g, attribution's alone %.17g\n", ok ? "ok  " : "FAIL",
               at.name[i], d, at.alone[i]);
        failures += !ok;
    }
    if (!failures && !group_seen) {
        printf("FAIL the conv group is not a player\n");
        failures++;
    }
    free(base);
    free(y);
    return failures;
}

/* Every profile's default pipeline matches its input contract: a model that
 * rescales inside is fed Keras's loader, the others torchvision's transforms;
 * a -raw pipeline keeps the in-model rescaling, any other switches it off. */
static int check_pipeline_rules(void) {
    int failures = 0;
    for (int i = 0; i < mnv3_profile_count(); i++) {
        const mnv3_profile *p = mnv3_profile_at(i);
        const char *pipeline = mnv3_default_pipeline(p->name);
        int rescales = p->option[MNV3_FACTOR_INPUT_RESCALE] != MNV3_RESCALE_NONE;
        int ok = !strcmp(pipeline, rescales ? "keras-mnv3" : "torchvision-imagenet");
        mnv3_profile raw = *p, cooked = *p;
        mnv3_profile_after_pipeline(&raw, "keras-mnv3-raw");
        mnv3_profile_after_pipeline(&cooked, pipeline);
        ok &= raw.option[MNV3_FACTOR_INPUT_RESCALE] == p->option[MNV3_FACTOR_INPUT_RESCALE] &&
              cooked.option[MNV3_FACTOR_INPUT_RESCALE] == MNV3_RESCALE_NONE;
        printf("%s profile %s: default pipeline %s\n", ok ? "ok  " : "FAIL", p->name, pipeline);
        failures += !ok;
    }
    return failures;
}

int main(void) {
    mnv3_error err;
    mnv3_tensors ts;
    mnv3_model *m = NULL;
    if (mnv3_synth_weights(2, 1000, &ts, &err) != MNV3_OK ||
        mnv3_model_from_tensors(&ts, "synthetic", &m, NULL, &err) != MNV3_OK) {
        printf("setup failed: %s\n", err.message);
        return 1;
    }
    mnv3_tensors_free(&ts);
    enum { N = 2, H = 64, W = 64 };
    float *x = malloc(sizeof(float) * N * 3 * H * W);
    mnv3_synth_input(3, N, 3, H, W, x);
    const char *pairs[][2] = {{"torch", "keras"}, {"torch", "tf-keras"}, {"keras", "litert"},
                              {"torch", "timm-tf"}};
    for (size_t p = 0; p < sizeof pairs / sizeof pairs[0]; p++) {
        mnv3_side a = {m, *mnv3_profile_find(pairs[p][0]), x, NULL, 2};
        mnv3_side b = {m, *mnv3_profile_find(pairs[p][1]), x, NULL, 2};
        a.profile.option[MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_NONE;
        b.profile.option[MNV3_FACTOR_INPUT_RESCALE] = MNV3_RESCALE_NONE;
        mnv3_attribution at;
        if (mnv3_explain(&a, &b, N, H, W, &at, &err) != MNV3_OK) {
            kit_fail("%s vs %s: %s", pairs[p][0], pairs[p][1], err.message);
            continue;
        }
        double sum = 0;
        for (int i = 0; i < at.n_factors; i++) sum += at.shapley[i];
        int ok = at.n_factors > 0 && at.total > 0 && fabs(sum - at.total) <= 1e-9 * at.total;
        printf("%s %s vs %s: %d factors, total %.6g, sum of Shapley %.6g (%d runs)\n",
               ok ? "ok  " : "FAIL", pairs[p][0], pairs[p][1], at.n_factors, at.total, sum,
               at.runs);
        kit_failures += !ok;
    }
    kit_failures += check_switch(m, x, N, H, W);
    kit_failures += check_pipeline_rules();
    /* Identical sides: nothing to attribute, distance 0. */
    mnv3_side a = {m, *mnv3_profile_find("torch"), x, NULL, 2}, b = a;
    mnv3_attribution at;
    if (mnv3_explain(&a, &b, N, H, W, &at, &err) != MNV3_OK || at.n_factors != 0 ||
        at.total != 0) {
        kit_fail("identical sides: %d factors, total %g", at.n_factors, at.total);
    }
    free(x);
    mnv3_model_free(m);
    return kit_failures != 0;
}
