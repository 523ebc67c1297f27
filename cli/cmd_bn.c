/* mnv3 bn: the BatchNorm lab (training-mode BatchNorm, running statistics,
 * momentum conventions, folding). See docs/batchnorm.md. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bnlab/bnlab.h"
#include "analysis/analysis.h"
#include "cli.h"

static void bn_usage(FILE *f) {
    fprintf(f,
            "usage: mnv3 bn momentum (--torch M | --keras M)\n"
            "       mnv3 bn train --weights W --convention torch|keras|tf-keras --input X.npy\n"
            "              [--layout nchw|nhwc] [--batch B] [--momentum M] [--cumulative]\n"
            "              [--bessel on|off] [--set factor=option] [--out ACTS.npz]\n"
            "              [--stats-out STATS.npz] [--output Y.npy]\n"
            "         X is split into batches of B (default: all of X); each batch is one training\n"
            "         step; ACTS holds the first batch's training-mode activations, STATS the\n"
            "         running statistics after the last step (<bn>.running_mean/.running_var).\n"
            "       mnv3 bn report --weights W [--size S] [--steps K] [--batch B] [--seed N] [--json]\n"
            "         (a) train vs eval outputs for batch 1,2,4,8,32; (b) running-statistic drift\n"
            "         after K steps per convention; (c) its effect on eval outputs; (d) folding.\n");
}

static int parse_double(const char *text, const char *what, double *out) {
    char *end;
    double v = strtod(text, &end);
    if (*end || end == text || !isfinite(v)) return cli_usage_error("%s must be a number, got '%s'", what, text);
    *out = v;
    return 0;
}

/* ---- mnv3 bn momentum ---------------------------------------------------------- */

static int bn_momentum(int argc, char **argv) {
    double m = -1;
    int from = -1;
    for (int i = 0; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_take(argc, argv, &i, "--torch", &v)) || (r = cli_take(argc, argv, &i, "--keras", &v))) {
            if (r < 0) return cli_usage_error("%s needs a value", argv[i]);
            from = !strcmp(argv[i - 1], "--torch") ? 0 : 1;
            if (parse_double(v, argv[i - 1], &m)) return 2;
        } else return cli_usage_error("bn momentum: unknown option '%s'", argv[i]);
    }
    if (from < 0) return cli_usage_error("bn momentum: give --torch M or --keras M");
    if (m < 0 || m > 1) return cli_usage_error("momentum must be in [0, 1]");
    const mnv3_profile *torch = mnv3_profile_find("torch"), *keras = mnv3_profile_find("keras");
    const mnv3_profile *given = from == 0 ? torch : keras;
    double t = mnv3_bn_momentum_convert(m, given, torch);
    double k = mnv3_bn_momentum_convert(m, given, keras);
    printf("torch momentum %.9g  (running = (1 - %.9g) * running + %.9g * batch)\n", t, t, t);
    printf("keras momentum %.9g  (moving = moving * %.9g + batch * (1 - %.9g)), same for tf-keras\n", k, k, k);
    printf("an old value's weight halves after %.4g steps\n", t > 0 && t < 1 ? log(0.5) / log(1 - t) : INFINITY);
    return 0;
}

/* ---- mnv3 bn train ----------------------------------------------------------------- */

static int write_stats(const char *path, const mnv3_bn_stats *st) {
    mnv3_tensors ts;
    mnv3_error err;
    if (mnv3_bn_stats_to_tensors(st, &ts, &err) != MNV3_OK) return cli_error(&err);
    int rc = mnv3_write_npz(path, &ts, &err) != MNV3_OK ? cli_error(&err) : 0;
    mnv3_tensors_free(&ts);
    return rc;
}

static int bn_train(int argc, char **argv) {
    cli_model_args a = {0};
    const char *conv_name = NULL, *out_path = NULL, *stats_path = NULL, *output = NULL, *bessel = NULL;
    long batch = 0;
    double momentum = -1;
    int cumulative = 0, status = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--profile")) return cli_usage_error("bn train: use --convention, not --profile");
        if (cli_model_arg(argc, argv, &i, &a, &status)) {
            if (status) return status;
            continue;
        }
        const char *v;
        int r;
        if ((r = cli_take(argc, argv, &i, "--convention", &conv_name))) {
            if (r < 0) return cli_usage_error("--convention needs a value");
        } else if ((r = cli_take(argc, argv, &i, "--out", &out_path))) {
            if (r < 0) return cli_usage_error("--out needs a value");
        } else if ((r = cli_take(argc, argv, &i, "--stats-out", &stats_path))) {
            if (r < 0) return cli_usage_error("--stats-out needs a value");
        } else if ((r = cli_take(argc, argv, &i, "--output", &output))) {
            if (r < 0) return cli_usage_error("--output needs a value");
        } else if ((r = cli_take(argc, argv, &i, "--bessel", &bessel))) {
            if (r < 0 || (strcmp(bessel, "on") && strcmp(bessel, "off")))
                return cli_usage_error("--bessel must be on or off");
        } else if ((r = cli_take(argc, argv, &i, "--batch", &v))) {
            if (r < 0 || cli_parse_int(v, "--batch", 1, 1 << 20, &batch)) return 2;
        } else if ((r = cli_take(argc, argv, &i, "--momentum", &v))) {
            if (r < 0 || parse_double(v, "--momentum", &momentum)) return 2;
            if (momentum < 0 || momentum > 1) return cli_usage_error("--momentum must be in [0, 1]");
        } else if (!strcmp(argv[i], "--cumulative")) cumulative = 1;
        else return cli_usage_error("bn train: unknown option '%s'", argv[i]);
    }
    if (!conv_name) return cli_usage_error("bn train: --convention is required");
    const mnv3_profile *convention = mnv3_profile_find(conv_name);
    if (!convention) return cli_usage_error("unknown convention '%s' (a profile: torch, keras, tf-keras)", conv_name);
    if (cumulative && !mnv3_bn_momentum_weights_batch(convention))
        return cli_usage_error("--cumulative is PyTorch's momentum=None");
    a.profile_name = conv_name;
    cli_session s;
    if ((status = cli_session_open(&a, &s))) return status;
    mnv3_error err;
    if (bessel && mnv3_profile_set(&s.profile, strcmp(bessel, "on") ? "bn_update_variance=biased"
                                                                    : "bn_update_variance=unbiased",
                                   &err) != MNV3_OK) {
        cli_session_close(&s);
        return cli_error(&err);
    }
    if (!batch) batch = s.n;
    if (s.n % batch) {
        cli_session_close(&s);
        return cli_usage_error("%d samples do not split into batches of %ld", s.n, batch);
    }
    mnv3_bn_stats st;
    if (mnv3_bn_stats_from_model(s.model, &st, &err) != MNV3_OK) {
        cli_session_close(&s);
        return cli_error(&err);
    }
    mnv3_bn_options o;
    mnv3_bn_options_init(&o, &s.profile);
    o.momentum = momentum;
    o.cumulative = cumulative;
    cli_tap_collector d = {.n = (int)batch};
    int size = mnv3_output_size(s.model);
    float *out = malloc((size_t)s.n * (size_t)size * sizeof *out);
    if (!out) status = cli_usage_error("out of memory");
    size_t per = (size_t)3 * (size_t)s.h * (size_t)s.w;
    int steps = s.n / (int)batch;
    for (int k = 0; k < steps && !status; k++) {
        o.tap = k == 0 && out_path ? cli_collect_tap : NULL;
        o.tap_user = &d;
        if (mnv3_bn_forward(s.model, &o, &st, (const float *)s.input.data + (size_t)k * (size_t)batch * per,
                            s.layout, (int)batch, s.h, s.w, out + (size_t)k * (size_t)batch * (size_t)size,
                            &err) != MNV3_OK)
            status = cli_error(&err);
        else if (d.failed) status = cli_error(&d.err);
    }
    if (!status && out_path) {
        if (mnv3_write_npz(out_path, &d.taps, &err) != MNV3_OK) status = cli_error(&err);
        else printf("wrote %zu layers x %ld samples (training mode, %s) to %s\n", d.taps.count, batch,
                    conv_name, out_path);
    }
    if (!status && stats_path) {
        status = write_stats(stats_path, &st);
        if (!status)
            printf("wrote running statistics of %d BatchNorm layers after %d step(s) of %ld to %s\n",
                   st.count, steps, batch, stats_path);
    }
    if (!status && output) {
        mnv3_tensor t = {0};
        t.name = (char *)"output";
        t.ndim = 2;
        t.shape[0] = s.n, t.shape[1] = size;
        t.data = out;
        if (mnv3_write_npy(output, &t, &err) != MNV3_OK) status = cli_error(&err);
    }
    free(out);
    mnv3_tensors_free(&d.taps);
    mnv3_bn_stats_free(&st);
    cli_session_close(&s);
    return status;
}

/* ---- mnv3 bn report ------------------------------------------------------------- */

typedef struct report_ctx {
    const mnv3_model *m;
    int size, out_size;
    cJSON *root;
    int json;
} report_ctx;

/* The frameworks the report compares, by profile. */
static const char *const conventions[] = {"torch", "keras", "tf-keras"};
enum { N_CONVENTIONS = (int)(sizeof conventions / sizeof conventions[0]) };

/* setting: an extra factor=option, or NULL */
static int forward(const report_ctx *c, const char *convention, int training, int fold,
                   mnv3_bn_stats *stats, double momentum, const char *setting, const float *x, int n,
                   float *y, mnv3_error *err) {
    /* The same inputs for every convention: ImageNet-normalised values, so the
     * Keras profiles' in-model Rescaling (for pixels) is switched off here. */
    mnv3_profile p = *mnv3_profile_find(convention);
    if (mnv3_profile_set(&p, "input_rescale=none", err) != MNV3_OK) return MNV3_FAIL;
    if (setting && mnv3_profile_set(&p, setting, err) != MNV3_OK) return MNV3_FAIL;
    mnv3_bn_options o;
    mnv3_bn_options_init(&o, &p);
    o.training = training, o.fold = fold, o.momentum = momentum;
    return mnv3_bn_forward(c->m, &o, stats, x, MNV3_NCHW, n, c->size, c->size, y, err);
}

static float *seeded(uint64_t seed, int n, int size) {
    float *x = malloc((size_t)n * 3 * (size_t)size * (size_t)size * sizeof *x);
    if (x) mnv3_synth_input(seed, n, 3, size, size, x);
    return x;
}

/* (a) train-mode vs eval-mode outputs by batch size */
static int report_batch(report_ctx *c, long seed) {
    static const int sizes[] = {1, 2, 4, 8, 32};
    const int nb = (int)(sizeof sizes / sizeof sizes[0]);
    cJSON *arr = cJSON_AddArrayToObject(c->root, "train_vs_eval");
    if (!c->json)
        printf("\n(a) training-mode vs eval-mode output, relative L2 (same samples, seed %ld, %dx%d)\n"
               "    %-10s%14s%14s%14s%14s%14s\n", seed, c->size, c->size, "convention", "N=1", "N=2", "N=4",
               "N=8", "N=32");
    float *x = seeded((uint64_t)seed, 32, c->size);
    float *ye = malloc((size_t)32 * (size_t)c->out_size * sizeof *ye), *yt = malloc((size_t)32 * (size_t)c->out_size * sizeof *yt);
    if (!x || !ye || !yt) return free(x), free(ye), free(yt), cli_usage_error("out of memory");
    for (int cv = 0; cv < N_CONVENTIONS; cv++) {
        mnv3_error err;
        if (!c->json) printf("    %-10s", conventions[cv]);
        for (int b = 0; b < nb; b++) {
            int n = sizes[b];
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "convention", conventions[cv]);
            cJSON_AddNumberToObject(e, "batch", n);
            if (forward(c, conventions[cv], 0, 0, NULL, -1, NULL, x, n, ye, &err) ||
                forward(c, conventions[cv], 1, 0, NULL, -1, NULL, x, n, yt, &err)) {
                cJSON_AddStringToObject(e, "error", err.message);
                if (!c->json) printf("%14s", "error");
            } else {
                double r = mnv3_rel_l2(yt, ye, (size_t)n * (size_t)c->out_size);
                cJSON_AddNumberToObject(e, "rel_l2", r);
                if (!c->json) printf("%14.4g", r);
            }
            cJSON_AddItemToArray(arr, e);
        }
        if (!c->json) printf("\n");
    }
    free(x), free(ye), free(yt);
    return 0;
}

typedef struct drift_run {
    const char *label, *convention;
    double momentum;
    const char *setting; /* factor=option beyond the profile, or NULL */
    mnv3_bn_stats stats;
} drift_run;

/* (b) drift of running statistics, (c) its effect on eval outputs */
static int report_drift(report_ctx *c, long seed, int steps, int batch) {
    drift_run runs[] = {
        {"torch m=0.01 (torchvision)", "torch", 0.01, NULL, {0}},
        {"keras m=0.999 (Keras apps)", "keras", 0.999, NULL, {0}},
        {"tf-keras m=0.999 (fused)", "tf-keras", 0.999, NULL, {0}},
        {"torch m=0.001 (= keras 0.999)", "torch", 0.001, NULL, {0}},
        {"keras m=0.99 (= torch 0.01)", "keras", 0.99, NULL, {0}},
        {"torch m=0.01 biased update", "torch", 0.01, "bn_update_variance=biased", {0}},
    };
    const int nr = (int)(sizeof runs / sizeof runs[0]);
    mnv3_error err;
    mnv3_bn_stats init;
    if (mnv3_bn_stats_from_model(c->m, &init, &err) != MNV3_OK) return cli_error(&err);
    float *y = malloc((size_t)batch * (size_t)c->out_size * sizeof *y);
    int status = y ? 0 : cli_usage_error("out of memory");
    for (int r = 0; r < nr && !status; r++) {
        if (mnv3_bn_stats_copy(&init, &runs[r].stats, &err) != MNV3_OK) {
            status = cli_error(&err);
            break;
        }
        for (int k = 0; k < steps && !status; k++) {
            float *x = seeded((uint64_t)seed + 1000 + (uint64_t)k, batch, c->size);
            if (!x) status = cli_usage_error("out of memory");
            else if (forward(c, runs[r].convention, 1, 0, &runs[r].stats, runs[r].momentum, runs[r].setting, x, batch, y, &err))
                status = cli_error(&err);
            free(x);
        }
    }
    free(y);
    if (status) goto done;

    /* (b) */
    cJSON *jb = cJSON_AddArrayToObject(c->root, "drift");
    if (!c->json)
        printf("\n(b) running statistics after %d steps of %d seeded %dx%d inputs, from the model's own\n"
               "    %-32s%16s%16s\n", steps, batch, c->size, c->size, "run", "mean vs start", "var vs start");
    for (int r = 0; r < nr; r++) {
        double dm, dv;
        mnv3_bn_stats_distance(&runs[r].stats, &init, &dm, &dv);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "run", runs[r].label);
        cJSON_AddNumberToObject(e, "mean_rel_l2_vs_start", dm);
        cJSON_AddNumberToObject(e, "var_rel_l2_vs_start", dv);
        cJSON_AddItemToArray(jb, e);
        if (!c->json) printf("    %-32s%16.4g%16.4g\n", runs[r].label, dm, dv);
    }
    static const int pairs[][2] = {{0, 1}, {0, 3}, {3, 1}, {4, 1}, {0, 4}, {1, 2}, {0, 5}};
    const int np = (int)(sizeof pairs / sizeof pairs[0]);
    cJSON *jp = cJSON_AddArrayToObject(c->root, "drift_pairs");
    if (!c->json) printf("    between runs (relative L2, second is the reference):\n");
    for (int p = 0; p < np; p++) {
        double dm, dv;
        const drift_run *a = &runs[pairs[p][0]], *b = &runs[pairs[p][1]];
        mnv3_bn_stats_distance(&a->stats, &b->stats, &dm, &dv);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "a", a->label);
        cJSON_AddStringToObject(e, "b", b->label);
        cJSON_AddNumberToObject(e, "mean_rel_l2", dm);
        cJSON_AddNumberToObject(e, "var_rel_l2", dv);
        cJSON_AddItemToArray(jp, e);
        if (!c->json) printf("    %-30s vs %-30s mean %10.4g  var %10.4g\n", a->label, b->label, dm, dv);
    }

    /* (c): eval outputs on held-out samples, each run's statistics under the
     * torch profile, against the model's own statistics and against run 0 */
    {
        int n = 8;
        float *x = seeded((uint64_t)seed + 7, n, c->size);
        float *y0 = malloc((size_t)n * (size_t)c->out_size * sizeof *y0);
        float *yr = malloc((size_t)n * (size_t)c->out_size * sizeof *yr);
        float *yt = malloc((size_t)n * (size_t)c->out_size * sizeof *yt);
        cJSON *jc = cJSON_AddArrayToObject(c->root, "drift_effect");
        if (!x || !y0 || !yr || !yt) status = cli_usage_error("out of memory");
        else if (forward(c, "torch", 0, 0, NULL, -1, NULL, x, n, y0, &err) ||
                 forward(c, "torch", 0, 0, &runs[0].stats, -1, NULL, x, n, yt, &err))
            status = cli_error(&err);
        if (!status && !c->json)
            printf("\n(c) eval-mode output (torch profile, 8 held-out samples) with each run's statistics,\n"
                   "    relative L2 against the model's own statistics and against run 'torch m=0.01'\n");
        for (int r = 0; r < nr && !status; r++) {
            if (forward(c, "torch", 0, 0, &runs[r].stats, -1, NULL, x, n, yr, &err)) {
                status = cli_error(&err);
                break;
            }
            double d0 = mnv3_rel_l2(yr, y0, (size_t)n * (size_t)c->out_size);
            double dt = mnv3_rel_l2(yr, yt, (size_t)n * (size_t)c->out_size);
            cJSON *e = cJSON_CreateObject();
            cJSON_AddStringToObject(e, "run", runs[r].label);
            cJSON_AddNumberToObject(e, "rel_l2_vs_model_stats", d0);
            cJSON_AddNumberToObject(e, "rel_l2_vs_torch_run", dt);
            cJSON_AddItemToArray(jc, e);
            if (!c->json) printf("    %-32s%14.4g%14.4g\n", runs[r].label, d0, dt);
        }
        free(x), free(y0), free(yr), free(yt);
    }
done:
    for (int r = 0; r < nr; r++) mnv3_bn_stats_free(&runs[r].stats);
    mnv3_bn_stats_free(&init);
    return status;
}

/* (d) folding */
static int report_fold(report_ctx *c, long seed) {
    int n = 8;
    float *x = seeded((uint64_t)seed + 3, n, c->size);
    float *yu = malloc((size_t)n * (size_t)c->out_size * sizeof *yu), *yf = malloc((size_t)n * (size_t)c->out_size * sizeof *yf);
    int status = (!x || !yu || !yf) ? cli_usage_error("out of memory") : 0;
    cJSON *jd = cJSON_AddArrayToObject(c->root, "fold");
    if (!status && !c->json)
        printf("\n(d) BatchNorm folded into the convolution (float32) vs unfolded, eval mode, 8 samples\n"
               "    %-10s%14s%14s%14s\n", "profile", "rel L2", "max |diff|", "cosine");
    for (int cv = 0; cv < N_CONVENTIONS && !status; cv++) {
        mnv3_error err;
        if (forward(c, conventions[cv], 0, 0, NULL, -1, NULL, x, n, yu, &err) ||
            forward(c, conventions[cv], 0, 1, NULL, -1, NULL, x, n, yf, &err)) {
            status = cli_error(&err);
            break;
        }
        mnv3_diff d;
        mnv3_diff_compute(yf, yu, (int64_t)n * c->out_size, &d);
        cJSON *e = cJSON_CreateObject();
        cJSON_AddStringToObject(e, "profile", conventions[cv]);
        cJSON_AddNumberToObject(e, "rel_l2", d.rel_l2);
        cJSON_AddNumberToObject(e, "max_abs", d.max_abs);
        cJSON_AddNumberToObject(e, "cosine", d.cosine);
        cJSON_AddItemToArray(jd, e);
        if (!c->json)
            printf("    %-10s%14.4g%14.4g%14.9f\n", conventions[cv],
                   d.rel_l2, d.max_abs, d.cosine);
    }
    free(x), free(yu), free(yf);
    return status;
}

static int bn_report(int argc, char **argv) {
    const char *weights = NULL;
    long size = 64, steps = 20, batch = 8, seed = 1;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_take(argc, argv, &i, "--weights", &weights))) {
            if (r < 0) return cli_usage_error("--weights needs a value");
        } else if ((r = cli_take(argc, argv, &i, "--size", &v))) {
            if (r < 0 || cli_parse_int(v, "--size", 32, 512, &size)) return 2;
        } else if ((r = cli_take(argc, argv, &i, "--steps", &v))) {
            if (r < 0 || cli_parse_int(v, "--steps", 1, 10000, &steps)) return 2;
        } else if ((r = cli_take(argc, argv, &i, "--batch", &v))) {
            if (r < 0 || cli_parse_int(v, "--batch", 1, 256, &batch)) return 2;
        } else if ((r = cli_take(argc, argv, &i, "--seed", &v))) {
            if (r < 0 || cli_parse_int(v, "--seed", 0, 1L << 30, &seed)) return 2;
        } else if (!strcmp(argv[i], "--json")) json = 1;
        else return cli_usage_error("bn report: unknown option '%s'", argv[i]);
    }
    if (!weights) return cli_usage_error("bn report: --weights is required");
    mnv3_error err;
    mnv3_model *m;
    if (mnv3_model_load(weights, &m, NULL, &err) != MNV3_OK) return cli_error(&err);
    if (mnv3_model_arch(m)->bn_folded) {
        mnv3_model_free(m);
        return cli_usage_error("%s: BatchNorm is already folded into this model", weights);
    }
    report_ctx c = {m, (int)size, mnv3_output_size(m), cJSON_CreateObject(), json};
    cJSON_AddStringToObject(c.root, "weights", weights);
    cJSON_AddNumberToObject(c.root, "size", (double)size);
    cJSON_AddNumberToObject(c.root, "steps", (double)steps);
    cJSON_AddNumberToObject(c.root, "batch", (double)batch);
    cJSON_AddNumberToObject(c.root, "seed", (double)seed);
    cJSON_AddStringToObject(c.root, "output", mnv3_model_arch(m)->num_classes ? "head" : "pooled features");
    if (!json)
        printf("BatchNorm lab: %s, %ldx%ld inputs (ImageNet-normalised; Keras profiles without their\n"
               "in-model Rescaling), output = %s (%d values per sample)\n", weights, size, size,
               mnv3_model_arch(m)->num_classes ? "classifier head (keras/tf-keras: softmax)" : "pooled features",
               c.out_size);
    int status = report_batch(&c, seed);
    if (!status) status = report_drift(&c, seed, (int)steps, (int)batch);
    if (!status) status = report_fold(&c, seed);
    if (!status && json) {
        char *text = cJSON_Print(c.root);
        if (text) puts(text);
        free(text);
    }
    cJSON_Delete(c.root);
    mnv3_model_free(m);
    return status;
}

int cmd_bn(int argc, char **argv) {
    if (argc < 1 || !strcmp(argv[0], "-h") || !strcmp(argv[0], "--help")) {
        bn_usage(argc < 1 ? stderr : stdout);
        return argc < 1 ? 2 : 0;
    }
    if (!strcmp(argv[0], "momentum")) return bn_momentum(argc - 1, argv + 1);
    if (!strcmp(argv[0], "train")) return bn_train(argc - 1, argv + 1);
    if (!strcmp(argv[0], "report")) return bn_report(argc - 1, argv + 1);
    return cli_usage_error("bn: unknown subcommand '%s' (momentum, train, report)", argv[0]);
}
