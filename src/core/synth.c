/* Seeded synthetic weights and inputs, so the default run and the tests need
 * no downloaded file. BatchNorm statistics are not made up: one calibration
 * pass measures each layer's real pre-BN mean and variance, then perturbs
 * them, so normalisation is non-trivial yet activations stay in range. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"
#include "factors/factors.h"

typedef struct rng {
    uint64_t state;
} rng;

static uint64_t next_u64(rng *r) { /* splitmix64 */
    uint64_t z = (r->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double uniform(rng *r) { return (double)(next_u64(r) >> 11) * 0x1.0p-53; }

/* Irwin-Hall normal: arithmetic only, so identical on every libm. */
static double normal(rng *r) {
    double s = 0;
    for (int i = 0; i < 12; i++) s += uniform(r);
    return s - 6.0;
}

void mnv3_synth_input(uint64_t seed, int n, int c, int h, int w, float *out) {
    rng r = {seed * 0x2545F4914F6CDD1Dull + 7};
    size_t total = (size_t)n * (size_t)c * (size_t)h * (size_t)w;
    for (size_t i = 0; i < total; i++) {
        double v = normal(&r);
        out[i] = (float)(v < -2.1 ? -2.1 : v > 2.6 ? 2.6 : v);
    }
}

static float *add_tensor(mnv3_tensors *ts, const char *name, int ndim, const int64_t *shape,
                         mnv3_error *err) {
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    float *data = malloc((size_t)n * sizeof *data);
    if (!data) {
        mnv3_fail(err, NULL, "out of memory");
        return NULL;
    }
    if (mnv3_tensors_add(ts, name, MNV3_F32, ndim, shape, data, err) != MNV3_OK) return NULL;
    return data;
}

typedef struct calibration {
    mnv3_model *model;
    rng *r;
} calibration;

/* Tap on every conv output: set the following BN's statistics from it. */
static void calibrate_tap(void *user, int sample, const char *name, int ndim,
                          const int64_t *shape, const float *data) {
    calibration *cal = user;
    size_t len = strlen(name);
    if (sample != 0 || ndim != 4 || len < 5 || strcmp(name + len - 5, ".conv") != 0) return;
    char mean_name[64], var_name[64];
    snprintf(mean_name, sizeof mean_name, "%.*s.bn.running_mean", (int)(len - 5), name);
    snprintf(var_name, sizeof var_name, "%.*s.bn.running_var", (int)(len - 5), name);
    float *mean = (float *)mnv3_tensors_find(&cal->model->tensors, mean_name)->data;
    float *var = (float *)mnv3_tensors_find(&cal->model->tensors, var_name)->data;
    size_t plane = (size_t)shape[2] * (size_t)shape[3];
    for (int64_t c = 0; c < shape[1]; c++) {
        double sum = 0, sq = 0;
        for (size_t i = 0; i < plane; i++) sum += data[(size_t)c * plane + i];
        double mu = sum / (double)plane;
        for (size_t i = 0; i < plane; i++) {
            double d = data[(size_t)c * plane + i] - mu;
            sq += d * d;
        }
        double v = sq / (double)plane + 1e-4;
        mean[c] = (float)(mu + 0.1 * sqrt(v) * normal(cal->r));
        var[c] = (float)(v * (0.7 + 0.6 * uniform(cal->r)));
    }
}

int mnv3_synth_weights(uint64_t seed, int num_classes, mnv3_tensors *out, mnv3_error *err) {
    rng r = {seed};
    mnv3_arch arch;
    mnv3_graph g;
    mnv3_arch_small(&arch, num_classes);
    mnv3_graph_build(&arch, &g);
    mnv3_tensors canonical = {0};
    memset(out, 0, sizeof *out);

    for (int i = 0; i < g.n_ops; i++) {
        mnv3_op *op = &g.ops[i];
        mnv3_param_slot slots[4];
        int n = mnv3_op_params(op, slots);
        for (int s = 0; s < n; s++) {
            char name[96];
            snprintf(name, sizeof name, "%s.%s", op->name, slots[s].suffix);
            float *d = add_tensor(&canonical, name, slots[s].ndim, slots[s].shape, err);
            if (!d) goto fail;
            int64_t count = 1, fan_in = 1;
            for (int k = 0; k < slots[s].ndim; k++) count *= slots[s].shape[k];
            for (int k = 1; k < slots[s].ndim; k++) fan_in *= slots[s].shape[k];
            const char *sfx = slots[s].suffix;
            for (int64_t k = 0; k < count; k++) {
                if (op->kind == MNV3_OP_BATCHNORM) {
                    if (!strcmp(sfx, "weight")) d[k] = (float)(0.6 + 0.8 * uniform(&r));
                    else if (!strcmp(sfx, "bias")) d[k] = (float)(0.25 * normal(&r));
                    else if (!strcmp(sfx, "running_mean")) d[k] = 0.0f;
                    else d[k] = 1.0f; /* running_var: replaced by calibration */
                } else if (!strcmp(sfx, "weight")) {
                    d[k] = (float)(sqrt(2.0 / (double)fan_in) * normal(&r));
                } else { /* biases: SE fc2 bias spreads the gates */
                    double scale = strstr(op->name, ".se.fc2") ? 1.0 : 0.1;
                    d[k] = (float)(scale * normal(&r));
                }
            }
        }
    }

    /* Calibrate BN statistics in one pass: each conv's tap fires before
     * its BatchNorm runs. */
    mnv3_model *m = NULL;
    if (mnv3_model_from_tensors(&canonical, "synthetic", &m, NULL, err) != MNV3_OK) goto fail;
    enum { CAL = 160 };
    float *x = malloc((size_t)3 * CAL * CAL * sizeof *x);
    float *y = malloc((size_t)mnv3_output_size(m) * sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        mnv3_model_free(m);
        mnv3_fail(err, NULL, "out of memory");
        goto fail;
    }
    mnv3_synth_input(seed ^ 0xCA11B8A7Eull, 1, 3, CAL, CAL, x);
    calibration cal = {m, &r};
    /* float64 accumulation: the statistics must not move when a float32
     * factor of some profile is refined. */
    mnv3_profile exact = *mnv3_profile_find("torch");
    exact.option[MNV3_FACTOR_ACCUMULATE] = MNV3_ACCUMULATE_F64;
    mnv3_run_options opt = {&exact, calibrate_tap, &cal, NULL};
    int rc = mnv3_run(m, &opt, x, MNV3_NCHW, 1, CAL, CAL, y, err);
    free(x), free(y);
    if (rc != MNV3_OK) {
        mnv3_model_free(m);
        goto fail;
    }

    /* torchvision naming, with num_batches_tracked: a valid state_dict. */
    rc = mnv3_model_export(m, MNV3_NAMING_TORCHVISION, out, err);
    mnv3_model_free(m);
    mnv3_tensors_free(&canonical);
    if (rc != MNV3_OK) return MNV3_FAIL;
    strcpy(out->format, "synthetic");
    return MNV3_OK;
fail:
    mnv3_tensors_free(&canonical);
    mnv3_tensors_free(out);
    return MNV3_FAIL;
}
