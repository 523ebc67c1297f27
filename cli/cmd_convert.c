/* mnv3 convert IN OUT [--to torch|keras|canonical]: weights between the
 * frameworks' names and layouts, bit-exact, plus a measured warning that the
 * same weights compute a different function under the other framework. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "formats/keras_h5.h"

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && !strcmp(s + n - m, suffix);
}

/* Final output of m under profile p on the built-in input. */
static int run_builtin(const mnv3_model *m, const mnv3_profile *p, float *out, mnv3_error *err) {
    enum { SIZE = 224 };
    float *x = malloc((size_t)3 * SIZE * SIZE * sizeof *x);
    if (!x) return MNV3_FAIL;
    mnv3_synth_input(1, 1, 3, SIZE, SIZE, x);
    mnv3_run_options opt = {p, NULL, NULL, NULL};
    int rc = mnv3_run(m, &opt, x, MNV3_NCHW, 1, SIZE, SIZE, out, err);
    free(x);
    return rc;
}

static int argmax(const float *v, int n) {
    int best = 0;
    for (int i = 1; i < n; i++) best = v[i] > v[best] ? i : best;
    return best;
}

/* Runs the model under both frameworks' profiles (model numerics only: no
 * in-model rescaling, no softmax) and prints how far the outputs are. */
static void quantify(const mnv3_model *m, const char *from, const char *to) {
    mnv3_profile a = *mnv3_profile_find(from), b = *mnv3_profile_find(to), pad = a;
    mnv3_error err;
    const char *model_only[] = {"input_rescale=none", "output=logits"};
    for (int i = 0; i < 2; i++) {
        mnv3_profile_set(&a, model_only[i], &err);
        mnv3_profile_set(&b, model_only[i], &err);
        mnv3_profile_set(&pad, model_only[i], &err);
    }
    int pf = mnv3_factor_find("padding");
    pad.option[pf] = b.option[pf];
    int n = mnv3_output_size(m);
    float *ya = malloc((size_t)n * sizeof *ya), *yb = malloc((size_t)n * sizeof *yb),
          *yp = malloc((size_t)n * sizeof *yp);
    if (ya && yb && yp && !run_builtin(m, &a, ya, &err) && !run_builtin(m, &b, yb, &err) &&
        !run_builtin(m, &pad, yp, &err)) {
        mnv3_diff all, padding;
        mnv3_diff_compute(yb, ya, n, &all);
        mnv3_diff_compute(yp, ya, n, &padding);
        printf("warning: the same weights compute a different function under %s than under %s:\n"
               "  stride-2 padding differs (torchvision: (k-1)/2 on every side; Keras: 'same' on "
               "the stem and\n  correct_pad + 'valid' on depthwise convs, i.e. one pixel less "
               "before than after).\n"
               "  On the built-in 224x224 input, the %s under %s differ from those under %s by\n"
               "  relative L2 %.3g (max abs %.3g); switching padding alone gives %.3g. Top-1 %s.\n",
               to, from, mnv3_model_arch(m)->num_classes ? "logits" : "pooled features", to, from,
               all.rel_l2, all.max_abs, padding.rel_l2,
               mnv3_model_arch(m)->num_classes
                   ? (argmax(ya, n) == argmax(yb, n) ? "agrees" : "DIFFERS")
                   : "not applicable (no classifier)");
    }
    free(ya), free(yb), free(yp);
}

int cmd_convert(int argc, char **argv) {
    const char *paths[2] = {NULL, NULL}, *to = NULL;
    int n_paths = 0, quiet = 0;
    for (int i = 0; i < argc; i++) {
        int r = cli_take(argc, argv, &i, "--to", &to);
        if (r < 0) return cli_usage_error("--to needs torch, keras or canonical");
        if (r) continue;
        if (!strcmp(argv[i], "--quiet")) quiet = 1;
        else if (argv[i][0] == '-') return cli_usage_error("convert: unknown option '%s'", argv[i]);
        else if (n_paths < 2) paths[n_paths++] = argv[i];
        else return cli_usage_error("convert takes IN and OUT");
    }
    if (n_paths != 2) return cli_usage_error("convert: give IN and OUT");
    mnv3_error err;
    mnv3_tensors in = {0};
    if (mnv3_read_weights(paths[0], &in, &err) != MNV3_OK) return cli_error(&err);
    mnv3_model *m = NULL;
    mnv3_load_report report;
    int rc = mnv3_model_from_tensors(&in, paths[0], &m, &report, &err);
    mnv3_tensors_free(&in);
    if (rc != MNV3_OK) return cli_error(&err);

    int from_keras = !strcmp(report.naming, "keras");
    if (!to) to = ends_with(paths[1], ".h5") ? "keras" : from_keras ? "torch" : "keras";
    mnv3_naming naming;
    if (!strcmp(to, "torch")) naming = MNV3_NAMING_TORCHVISION;
    else if (!strcmp(to, "keras")) naming = MNV3_NAMING_KERAS;
    else if (!strcmp(to, "canonical")) naming = MNV3_NAMING_CANONICAL;
    else {
        mnv3_model_free(m);
        return cli_usage_error("--to must be torch, keras or canonical, got '%s'", to);
    }
    mnv3_tensors out;
    int status = 0;
    if (mnv3_model_export(m, naming, &out, &err) != MNV3_OK) {
        status = cli_error(&err);
    } else {
        if (ends_with(paths[1], ".weights.h5")) {
            if (naming != MNV3_NAMING_KERAS) status = cli_usage_error("a .weights.h5 file holds Keras names: use --to keras");
            else rc = mnv3_write_keras_weights_h5(paths[1], &out, &err);
        } else if (ends_with(paths[1], ".safetensors")) {
            rc = mnv3_write_safetensors(paths[1], &out, &err);
        } else if (ends_with(paths[1], ".pth")) {
            if (naming != MNV3_NAMING_TORCHVISION) status = cli_usage_error("a .pth state dict holds torchvision names: use --to torch");
            else rc = mnv3_write_pth(paths[1], &out, &err);
        } else {
            status = cli_usage_error("convert: OUT must end in .safetensors, .pth or .weights.h5");
        }
        if (!status && rc != MNV3_OK) status = cli_error(&err);
        if (!status)
            printf("wrote %zu tensors (%s naming) to %s\n", out.count, to, paths[1]);
        mnv3_tensors_free(&out);
    }
    const char *from_profile = from_keras ? "keras" : "torch";
    const char *to_profile = naming == MNV3_NAMING_KERAS ? "keras" : "torch";
    if (!status && !quiet && strcmp(from_profile, to_profile)) quantify(m, from_profile, to_profile);
    mnv3_model_free(m);
    return status;
}
