/* Shapley attribution accounts for the total difference: the contributions
 * must add up to distance(B, A) (efficiency), here within 1e-9 relative. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "analysis/explain.h"
#include "factors/factors.h"
#include "kit.h"

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
