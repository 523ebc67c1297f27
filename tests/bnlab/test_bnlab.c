/* BatchNorm lab, fast tests without Python: momentum conversion, the
 * conventions' statistics on hand-made channels, a batch of one with 1x1 maps
 * (PyTorch raises, Keras and tf-keras give beta), folding within float32
 * bounds, and the update rules. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bnlab/bnlab.h"
#include "kernels/kernels.h"
#include "mnv3.h"

#include "kit.h"

/* The three frameworks' training conventions, by profile. */
static const char *const conventions[] = {"torch", "keras", "tf-keras"};
enum { TORCH, KERAS, TF_KERAS, N_CONVENTIONS };
#define P(c) mnv3_profile_find(conventions[c])

static mnv3_model *synth_model(int classes) {
    mnv3_tensors ts;
    mnv3_error err;
    mnv3_model *m = NULL;
    if (mnv3_synth_weights(3, classes, &ts, &err) != MNV3_OK ||
        mnv3_model_from_tensors(&ts, "synthetic", &m, NULL, &err) != MNV3_OK) {
        printf("cannot build model: %s\n", err.message);
        exit(1);
    }
    mnv3_tensors_free(&ts);
    return m;
}

static void test_momentum(void) {
    CHECKF(fabs(mnv3_bn_momentum_convert(0.01, P(TORCH), P(KERAS)) - 0.99) < 1e-15, "torch 0.01 -> keras 0.99");
    CHECKF(fabs(mnv3_bn_momentum_convert(0.999, P(KERAS), P(TORCH)) - 0.001) < 1e-15, "keras 0.999 -> torch 0.001");
    CHECKF(mnv3_bn_momentum_convert(0.999, P(KERAS), P(TF_KERAS)) == 0.999, "keras = tf-keras meaning");
    CHECKF(mnv3_bn_default_momentum(P(TORCH)) == 0.01 && mnv3_bn_default_momentum(P(KERAS)) == 0.999,
          "MobileNetV3 defaults");
}

static void test_moments(void) {
    /* 2 samples x 3 values: mean 2, biased var 2/3 * ... exact in every convention */
    const float a[3] = {1, 2, 3}, b[3] = {1, 2, 3};
    const float *planes[2] = {a, b};
    static const int methods[] = {MNV3_BN_STATS_DOUBLE_SUMS, MNV3_BN_STATS_QUAD_SUM_DIVIDE,
                                  MNV3_BN_STATS_QUAD_SUM_TIMES_INVERSE};
    for (int c = 0; c < 3; c++) {
        mnv3_bn_moments mo = mnv3_bn_channel_moments(methods[c], planes, 2, 3);
        CHECKF(mo.mean == 2.0f, "method %d mean %g", c, mo.mean);
        CHECKF(fabsf(mo.var - 2.0f / 3.0f) < 1e-7f, "method %d var %g", c, mo.var);
    }
    /* one value per channel: variance 0 */
    const float one[1] = {5};
    const float *p1[1] = {one};
    for (int c = 0; c < 3; c++) {
        mnv3_bn_moments mo = mnv3_bn_channel_moments(methods[c], p1, 1, 1);
        CHECKF(mo.mean == 5.0f && mo.var == 0.0f, "single value: mean %g var %g", mo.mean, mo.var);
    }
    /* Eigen's four accumulators differ from a sequential float sum on 16+ rows */
    float big[20];
    const float *pb[1] = {big};
    for (int i = 0; i < 20; i++) big[i] = i % 2 ? 1e8f : 1.0f;
    mnv3_bn_moments k = mnv3_bn_channel_moments(MNV3_BN_STATS_QUAD_SUM_DIVIDE, pb, 1, 20);
    mnv3_bn_moments t = mnv3_bn_channel_moments(MNV3_BN_STATS_DOUBLE_SUMS, pb, 1, 20);
    CHECKF(k.mean == 5e7f, "keras four-accumulator mean %.9g", k.mean);          /* the 1s vanish in float */
    CHECKF(t.mean == (float)((10 * 1e8 + 10) / 20.0), "torch double mean %.9g", t.mean);
}

/* A batch of one at 32x32 reaches 1x1 maps (b8 onwards). */
static void test_batch_one(mnv3_model *m) {
    float *x = malloc(3 * 32 * 32 * sizeof *x);
    float y[1000];
    mnv3_synth_input(9, 1, 3, 32, 32, x);
    mnv3_error err;
    mnv3_bn_options o;
    mnv3_bn_options_init(&o, P(TORCH));
    int rc = mnv3_bn_forward(m, &o, NULL, x, MNV3_NCHW, 1, 32, 32, y, &err);
    CHECKF(rc == MNV3_FAIL && strstr(err.message, "Expected more than 1 value per channel when training") &&
              strstr(err.message, "b8.dw.bn"),
          "torch batch 1 at 1x1 must fail like PyTorch: %s", rc ? err.message : "(succeeded)");
    /* at 64x64 the last maps are 2x2: PyTorch accepts a batch of one */
    float *x64 = malloc(3 * 64 * 64 * sizeof *x64);
    mnv3_synth_input(9, 1, 3, 64, 64, x64);
    CHECKF(mnv3_bn_forward(m, &o, NULL, x64, MNV3_NCHW, 1, 64, 64, y, &err) == MNV3_OK, "torch batch 1 at 64x64");
    free(x64);

    /* Keras 3 and tf-keras run (variance 0); test_beta checks the values */
    for (int c = KERAS; c <= TF_KERAS; c++) {
        mnv3_bn_options_init(&o, P(c));
        rc = mnv3_bn_forward(m, &o, NULL, x, MNV3_NCHW, 1, 32, 32, y, &err);
        CHECKF(rc == MNV3_OK, "%s batch 1 at 1x1 must run: %s", conventions[c],
              rc ? err.message : "");
    }
    free(x);
}

/* Tap checking "last.bn" == beta for a batch of one at 32x32. */
typedef struct beta_check {
    const mnv3_tensors *ts;
    double worst;
    int seen;
} beta_check;

static void beta_tap(void *user, int sample, const char *name, int ndim, const int64_t *shape, const float *data) {
    (void)sample, (void)ndim;
    beta_check *b = user;
    if (strcmp(name, "last.bn") && strcmp(name, "b9.project.bn")) return;
    char key[64];
    snprintf(key, sizeof key, "%s.bias", name);
    const mnv3_tensor *t = mnv3_tensors_find(b->ts, key);
    if (!t) return;
    b->seen++;
    for (int64_t c = 0; c < shape[1]; c++) {
        double d = fabs((double)data[c] - ((const float *)t->data)[c]);
        if (d > b->worst) b->worst = d;
    }
}

static void test_beta(mnv3_model *m) {
    float *x = malloc(3 * 32 * 32 * sizeof *x);
    float y[1000];
    mnv3_synth_input(9, 1, 3, 32, 32, x);
    for (int c = KERAS; c <= TF_KERAS; c++) {
        beta_check b = {mnv3_model_tensors(m), 0, 0};
        mnv3_bn_options o;
        mnv3_error err;
        mnv3_bn_options_init(&o, P(c));
        o.tap = beta_tap, o.tap_user = &b;
        int rc = mnv3_bn_forward(m, &o, NULL, x, MNV3_NCHW, 1, 32, 32, y, &err);
        CHECKF(rc == MNV3_OK && b.seen == 2, "%s: ran %d, taps %d", conventions[c], rc, b.seen);
        if (c == TF_KERAS) CHECKF(b.worst == 0, "tf-keras 1x1 batch of one: output must be beta, off by %g", b.worst);
        else CHECKF(b.worst < 1e-5, "keras 1x1 batch of one: output must be beta within rounding, off by %g", b.worst);
    }
    free(x);
}

static void test_fold(mnv3_model *m) {
    int n = 2, size = 64, out = mnv3_output_size(m);
    float *x = malloc((size_t)n * 3 * (size_t)(size * size) * sizeof *x);
    float *yu = malloc((size_t)n * (size_t)out * sizeof *yu), *yf = malloc((size_t)n * (size_t)out * sizeof *yf);
    mnv3_synth_input(4, n, 3, size, size, x);
    for (int c = 0; c < N_CONVENTIONS; c++) {
        mnv3_bn_options o;
        mnv3_error err;
        mnv3_bn_options_init(&o, P(c));
        o.training = 0;
        int rc = mnv3_bn_forward(m, &o, NULL, x, MNV3_NCHW, n, size, size, yu, &err);
        o.fold = 1;
        rc |= mnv3_bn_forward(m, &o, NULL, x, MNV3_NCHW, n, size, size, yf, &err);
        CHECKF(rc == MNV3_OK, "fold run: %s", err.message);
        mnv3_diff d;
        mnv3_diff_compute(yf, yu, (int64_t)n * out, &d);
        CHECKF(d.rel_l2 > 0 && d.rel_l2 < 1e-5, "%s folded vs unfolded rel L2 %g (expected rounding-level, > 0)",
              conventions[c], d.rel_l2);
        /* eval through the lab == mnv3_run */
        mnv3_run_options ro = {P(c), NULL, NULL, NULL};
        CHECKF(mnv3_run(m, &ro, x, MNV3_NCHW, n, size, size, yf, &err) == MNV3_OK, "run");
        CHECKF(!memcmp(yf, yu, (size_t)n * (size_t)out * sizeof *yf), "%s: lab eval differs from mnv3_run",
              conventions[c]);
    }
    free(x), free(yu), free(yf);
}

/* Update rules on the model: after one step from the model's stats, stats move
 * by the convention's momentum; torch cumulative with one batch = batch stats. */
static void test_updates(mnv3_model *m) {
    int n = 4, size = 32, out = mnv3_output_size(m);
    float *x = malloc((size_t)n * 3 * (size_t)(size * size) * sizeof *x), *y = malloc((size_t)n * (size_t)out * sizeof *y);
    mnv3_synth_input(5, n, 3, size, size, x);
    mnv3_bn_stats s0, st, sk, sc;
    mnv3_error err;
    if (mnv3_bn_stats_from_model(m, &s0, &err) || mnv3_bn_stats_copy(&s0, &st, &err) ||
        mnv3_bn_stats_copy(&s0, &sk, &err) || mnv3_bn_stats_copy(&s0, &sc, &err)) {
        CHECKF(0, "stats: %s", err.message);
        return;
    }
    CHECKF(s0.count == 34, "34 BatchNorm layers, got %d", s0.count);
    mnv3_bn_options o;
    mnv3_bn_options_init(&o, P(TORCH));
    CHECKF(mnv3_bn_forward(m, &o, &st, x, MNV3_NCHW, n, size, size, y, &err) == MNV3_OK, "torch step");
    mnv3_bn_options_init(&o, P(KERAS)); /* default momentum 0.999 = torch 0.001 */
    CHECKF(mnv3_bn_forward(m, &o, &sk, x, MNV3_NCHW, n, size, size, y, &err) == MNV3_OK, "keras step");
    mnv3_bn_options_init(&o, P(TORCH));
    o.cumulative = 1;
    CHECKF(mnv3_bn_forward(m, &o, &sc, x, MNV3_NCHW, n, size, size, y, &err) == MNV3_OK, "cumulative step");
    double tm, tv, km, kv, cm, cv;
    mnv3_bn_stats_distance(&st, &s0, &tm, &tv);
    mnv3_bn_stats_distance(&sk, &s0, &km, &kv);
    mnv3_bn_stats_distance(&sc, &s0, &cm, &cv);
    /* the step size is the batch weight: torch 0.01, keras 0.001 -> ratio ~10 */
    CHECKF(tm > 5 * km && tm < 20 * km, "torch/keras mean step ratio %g", tm / km);
    CHECKF(cm > 50 * tm, "cumulative first step replaces the stats (%g vs %g)", cm, tm);
    CHECKF(st.num_batches_tracked == 1, "num_batches_tracked");
    mnv3_bn_stats_free(&s0), mnv3_bn_stats_free(&st), mnv3_bn_stats_free(&sk), mnv3_bn_stats_free(&sc);
    free(x), free(y);
}

int main(void) {
    mnv3_model *m = synth_model(0);
    test_momentum();
    test_moments();
    test_batch_one(m);
    test_beta(m);
    test_fold(m);
    test_updates(m);
    mnv3_model_free(m);
    if (kit_failures) {
        printf("%d failure(s)\n", kit_failures);
        return 1;
    }
    printf("bnlab: all checks passed\n");
    return 0;
}
