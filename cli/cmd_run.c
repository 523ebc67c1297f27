/* mnv3 run / mnv3 dump */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "analysis/analysis.h"
#include "cli.h"
#include "factors/factors.h"


typedef struct feature_stats {
    double mean, std, min, max, l2;
} feature_stats;

static feature_stats stats_of(const float *v, int n) {
    feature_stats s = {0, 0, INFINITY, -INFINITY, 0};
    for (int i = 0; i < n; i++) {
        s.mean += v[i];
        s.l2 += (double)v[i] * v[i];
        if (v[i] < s.min) s.min = v[i];
        if (v[i] > s.max) s.max = v[i];
    }
    s.mean /= n;
    s.std = sqrt(fmax(s.l2 / n - s.mean * s.mean, 0));
    s.l2 = sqrt(s.l2);
    return s;
}

static void print_text(const cli_session *s, const float *out, int size, int classes) {
    char contract[320];
    mnv3_input_contract(&s->profile, s->layout, contract, sizeof contract);
    printf("input contract of profile %s: %s\n", s->profile.name, contract);
    for (int i = 0; i < s->n; i++) {
        const float *v = out + (size_t)i * (size_t)size;
        if (classes) {
            int64_t idx[5];
            mnv3_top5(v, size, idx);
            printf("sample %d: top-5 of %d classes\n", i, size);
            for (int k = 0; k < 5 && idx[k] >= 0; k++) {
                const char *label = cli_imagenet_label(classes, (int)idx[k]);
                printf("  %d. class %4d  %10.6f  %s\n", k + 1, (int)idx[k], v[idx[k]],
                       label ? label : "");
            }
        } else {
            feature_stats st = stats_of(v, size);
            printf("sample %d: %d pooled features: mean %.6f std %.6f min %.6f max %.6f "
                   "L2 %.6f  first: %.6f %.6f %.6f %.6f\n",
                   i, size, st.mean, st.std, st.min, st.max, st.l2, v[0], v[1], v[2], v[3]);
        }
    }
}

static void print_json(const cli_session *s, const cli_model_args *a, const float *out,
                       int size, int classes) {
    cJSON *root = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "weights", a->weights);
    cJSON_AddStringToObject(root, "profile", s->profile.name);
    cJSON_AddStringToObject(root, "input", a->input);
    char contract_text[320];
    mnv3_input_contract(&s->profile, s->layout, contract_text, sizeof contract_text);
    cJSON *contract = cJSON_AddObjectToObject(root, "input_contract");
    cJSON_AddStringToObject(contract, "layout", s->layout == MNV3_NHWC ? "nhwc" : "nchw");
    cJSON_AddStringToObject(contract, "input_rescale",
                            mnv3_factor_option_name(MNV3_FACTOR_INPUT_RESCALE,
                                                    s->profile.option[MNV3_FACTOR_INPUT_RESCALE]));
    cJSON_AddStringToObject(contract, "text", contract_text);
    cJSON_AddStringToObject(root, "output_kind", classes ? "logits" : "features");
    cJSON_AddNumberToObject(root, "output_size", size);
    cJSON *samples = cJSON_AddArrayToObject(root, "samples");
    for (int i = 0; i < s->n; i++) {
        const float *v = out + (size_t)i * (size_t)size;
        cJSON *sample = cJSON_CreateObject();
        if (classes) {
            int64_t idx[5];
            mnv3_top5(v, size, idx);
            cJSON *arr = cJSON_AddArrayToObject(sample, "top5");
            for (int k = 0; k < 5 && idx[k] >= 0; k++) {
                cJSON *e = cJSON_CreateObject();
                cJSON_AddNumberToObject(e, "index", (double)idx[k]);
                cJSON_AddNumberToObject(e, "score", v[idx[k]]);
                const char *label = cli_imagenet_label(classes, (int)idx[k]);
                if (label) cJSON_AddStringToObject(e, "label", label);
                cJSON_AddItemToArray(arr, e);
            }
        } else {
            feature_stats st = stats_of(v, size);
            cJSON_AddNumberToObject(sample, "mean", st.mean);
            cJSON_AddNumberToObject(sample, "std", st.std);
            cJSON_AddNumberToObject(sample, "min", st.min);
            cJSON_AddNumberToObject(sample, "max", st.max);
            cJSON_AddNumberToObject(sample, "l2", st.l2);
        }
        cJSON_AddItemToArray(samples, sample);
    }
    cli_print_json(root);
}

/* Normalised values (negative ones) fed to a model that rescales 0..255
 * pixels inside give plausible-looking but wrong outputs: say so. */
static void warn_normalised_input(const cli_session *s) {
    if (s->profile.option[MNV3_FACTOR_INPUT_RESCALE] == MNV3_RESCALE_NONE) return;
    const float *x = s->input.data;
    int64_t count = mnv3_tensor_numel(&s->input), negative = 0;
    for (int64_t i = 0; i < count; i++) negative += x[i] < 0;
    if (negative)
        fprintf(stderr, "mnv3: note: %lld input values are negative, but profile %s rescales "
                "0..255 pixels inside the model (--set input_rescale=none for normalised input)\n",
                (long long)negative, s->profile.name);
}

/* --kernels reference|fast and --threads N: run through a session (no
 * allocation during inference); without them, mnv3_run as before. */
typedef struct kernel_args {
    const char *kernels;
    long threads;
} kernel_args;

static int kernel_arg(int argc, char **argv, int *i, kernel_args *k, int *status) {
    const char *v;
    int r = cli_take(argc, argv, i, "--kernels", &v);
    if (r < 0) return *status = cli_usage_error("--kernels needs reference or fast"), 1;
    if (r) {
        if (strcmp(v, "reference") && strcmp(v, "fast"))
            return *status = cli_usage_error("--kernels must be reference or fast, got '%s'", v), 1;
        k->kernels = v;
        return 1;
    }
    r = cli_take(argc, argv, i, "--threads", &v);
    if (r < 0) return *status = cli_usage_error("--threads needs a value"), 1;
    if (r) {
        *status = cli_parse_int(v, "--threads", 1, 64, &k->threads);
        return 1;
    }
    return 0;
}

static int run_session(const cli_session *s, const kernel_args *k, mnv3_tap_fn tap, void *user,
                       float *out, mnv3_error *err) {
    mnv3_session_options o = {.kernels = k->kernels ? k->kernels : "fast",
                              .threads = k->threads ? (int)k->threads : 1, .max_batch = s->n,
                              .tap = tap, .tap_user = user};
    cli_session_env(&o);
    mnv3_session *ss;
    if (mnv3_session_create(s->model, &s->profile, s->h, s->w, s->layout, &o, &ss, err) != MNV3_OK)
        return MNV3_FAIL;
    int r = mnv3_session_run(ss, s->input.data, s->n, out, err);
    cli_print_step_times(ss);
    mnv3_session_free(ss);
    return r;
}

int cmd_run(int argc, char **argv) {
    if (cli_weights_are_quantized(argc, argv)) return cmd_run_quant(argc, argv); /* cmd_run_quant.c */
    cli_model_args a = {0};
    kernel_args k = {0};
    const char *output = NULL;
    int json = 0, status = 0;
    for (int i = 0; i < argc; i++) {
        if (cli_model_arg(argc, argv, &i, &a, &status) || kernel_arg(argc, argv, &i, &k, &status)) {
            if (status) return status;
            continue;
        }
        int r = cli_take(argc, argv, &i, "--output", &output);
        if (r < 0) return cli_usage_error("--output needs a value");
        if (r) continue;
        if (!strcmp(argv[i], "--json")) json = 1;
        else return cli_usage_error("run: unknown option '%s'", argv[i]);
    }
    cli_session s;
    if ((status = cli_session_open(&a, &s))) return status;
    warn_normalised_input(&s);
    int size = mnv3_output_size(s.model), classes = mnv3_model_arch(s.model)->num_classes;
    float *out = malloc((size_t)s.n * (size_t)size * sizeof *out);
    mnv3_error err;
    mnv3_run_options opt = {&s.profile, NULL, NULL, NULL};
    if (!out) {
        cli_session_close(&s);
        return cli_usage_error("out of memory");
    }
    if ((k.kernels || k.threads)
            ? run_session(&s, &k, NULL, NULL, out, &err) != MNV3_OK
            : mnv3_run(s.model, &opt, s.input.data, s.layout, s.n, s.h, s.w, out, &err) != MNV3_OK) {
        free(out);
        cli_session_close(&s);
        return cli_error(&err);
    }
    int64_t nonfinite = 0, n_out = (int64_t)s.n * size;
    for (int64_t i = 0; i < n_out; i++) nonfinite += !isfinite(out[i]);
    if (nonfinite && !mnv3_allow_problems()) {
        fprintf(stderr, "mnv3: %s: the output holds %lld NaN/Inf values from finite input: "
                        "float32 overflowed inside the network (mnv3 dump shows where; "
                        "--allow-problems keeps the output)\n",
                a.weights, (long long)nonfinite);
        free(out);
        cli_session_close(&s);
        return 1;
    }
    if (json) print_json(&s, &a, out, size, classes);
    else print_text(&s, out, size, classes);
    if (output) {
        mnv3_tensor t = {0};
        t.name = (char *)"output";
        t.dtype = MNV3_F32;
        t.ndim = 2;
        t.shape[0] = s.n;
        t.shape[1] = size;
        t.data = out;
        if (mnv3_write_npy(output, &t, &err) != MNV3_OK) status = cli_error(&err);
    }
    free(out);
    cli_session_close(&s);
    return status;
}

int cmd_dump(int argc, char **argv) {
    cli_model_args a = {0};
    kernel_args k = {0};
    const char *out_path = NULL, *replay_path = NULL;
    int status = 0;
    for (int i = 0; i < argc; i++) {
        if (cli_model_arg(argc, argv, &i, &a, &status) || kernel_arg(argc, argv, &i, &k, &status)) {
            if (status) return status;
            continue;
        }
        int r = cli_take(argc, argv, &i, "--out", &out_path);
        if (r < 0) return cli_usage_error("--out needs a value");
        if (r) continue;
        r = cli_take(argc, argv, &i, "--replay", &replay_path);
        if (r < 0) return cli_usage_error("--replay needs a dump");
        if (!r) return cli_usage_error("dump: unknown option '%s'", argv[i]);
    }
    if (!out_path) return cli_usage_error("dump: --out ACTS.npz is required");
    if (replay_path && (k.kernels || k.threads))
        return cli_usage_error("dump: --replay runs the reference runner; drop --kernels/--threads");
    cli_session s;
    if ((status = cli_session_open(&a, &s))) return status;
    cli_tap_collector d = {.n = s.n};
    mnv3_tensors replay = {0};
    mnv3_error err;
    if (replay_path && mnv3_read_npz(replay_path, &replay, &err) != MNV3_OK) {
        cli_session_close(&s);
        return cli_error(&err);
    }
    int size = mnv3_output_size(s.model);
    float *out = malloc((size_t)s.n * (size_t)size * sizeof *out);
    mnv3_run_options opt = {&s.profile, cli_collect_tap, &d, replay_path ? &replay : NULL};
    if (!out) status = cli_usage_error("out of memory");
    else if ((k.kernels || k.threads)
                 ? run_session(&s, &k, cli_collect_tap, &d, out, &err)
                 : mnv3_run(s.model, &opt, s.input.data, s.layout, s.n, s.h, s.w, out, &err))
        status = cli_error(&err);
    else if (d.failed) status = cli_error(&d.err);
    else if (mnv3_write_npz(out_path, &d.taps, &err)) status = cli_error(&err);
    else printf("wrote %zu layers x %d samples to %s\n", d.taps.count, s.n, out_path);
    free(out);
    mnv3_tensors_free(&d.taps);
    mnv3_tensors_free(&replay);
    cli_session_close(&s);
    return status;
}
