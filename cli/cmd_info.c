/* mnv3 info / profiles / layers */
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

static const char *problem_kind(mnv3_problem_kind k) {
    static const char *const names[] = {
        [MNV3_PROBLEM_MISSING] = "missing", [MNV3_PROBLEM_EXTRA] = "extra",
        [MNV3_PROBLEM_SHAPE] = "shape",     [MNV3_PROBLEM_NONFINITE] = "nonfinite",
        [MNV3_PROBLEM_DTYPE] = "dtype",     [MNV3_PROBLEM_VALUE] = "value"};
    _Static_assert(sizeof names / sizeof names[0] == MNV3_PROBLEM_KIND_COUNT,
                   "a name for every problem kind");
    return k >= 0 && k < MNV3_PROBLEM_KIND_COUNT ? names[k] : "?";
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    int json = 0;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--json")) json = 1;
        else if (argv[i][0] == '-') return cli_usage_error("info: unknown option '%s'", argv[i]);
        else path = argv[i];
    }
    if (!path) return cli_usage_error("info: give a weight file");
    mnv3_error err;
    mnv3_tensors ts = {0};
    if (mnv3_read_weights(path, &ts, &err) != MNV3_OK) return cli_error(&err);
    mnv3_load_report r;
    mnv3_model *m = NULL;
    int ok = mnv3_model_from_tensors(&ts, path, &m, &r, &err) == MNV3_OK;
    int64_t stored = 0;
    for (size_t i = 0; i < ts.count; i++) stored += mnv3_tensor_numel(&ts.items[i]);
    if (!ok && r.n_problems == 0) { /* not recognisable at all */
        mnv3_tensors_free(&ts);
        return cli_error(&err);
    }
    if (json) {
        cJSON *root = cJSON_CreateObject();
        cJSON_AddStringToObject(root, "file", path);
        cJSON_AddStringToObject(root, "format", ts.format);
        cJSON_AddStringToObject(root, "naming", r.naming);
        cJSON_AddStringToObject(root, "variant", r.variant);
        cJSON_AddNumberToObject(root, "tensors", (double)r.n_tensors);
        cJSON_AddNumberToObject(root, "values", (double)stored);
        cJSON_AddNumberToObject(root, "parameters", (double)r.n_parameters);
        cJSON_AddNumberToObject(root, "bn_statistics", (double)r.n_buffers);
        cJSON_AddNumberToObject(root, "num_classes", r.num_classes);
        cJSON *probs = cJSON_AddArrayToObject(root, "problems");
        for (size_t i = 0; i < r.n_problems; i++) {
            cJSON *p = cJSON_CreateObject();
            cJSON_AddStringToObject(p, "kind", problem_kind(r.problems[i].kind));
            cJSON_AddStringToObject(p, "text", r.problems[i].text);
            cJSON_AddItemToArray(probs, p);
        }
        cJSON_AddNumberToObject(root, "problems_not_listed", (double)r.n_problems_dropped);
        cli_print_json(root);
    } else {
        printf("file        %s\n", cli_safe(path));
        printf("format      %s\n", ts.format);
        printf("naming      %s\n", r.naming);
        printf("variant     %s\n", r.variant);
        printf("tensors     %zu (%lld values)\n", r.n_tensors, (long long)stored);
        printf("parameters  %lld learnable + %lld BatchNorm statistics\n",
               (long long)r.n_parameters, (long long)r.n_buffers);
        printf("output      %s\n", r.num_classes ? "logits" : "576 pooled features");
        printf("problems    %zu\n", r.n_problems + r.n_problems_dropped);
        for (size_t i = 0; i < r.n_problems; i++)
            printf("  %s\n", r.problems[i].text);
        if (r.n_problems_dropped) printf("  ... and %zu more\n", r.n_problems_dropped);
    }
    mnv3_model_free(m);
    mnv3_tensors_free(&ts);
    /* the report is on stdout; the refusal is still one line on stderr */
    return ok ? 0 : cli_error(&err);
}

int cmd_profiles(int argc, char **argv) {
    (void)argv;
    if (argc) return cli_usage_error("profiles takes no options");
    int nf = mnv3_factor_count();
    printf("%-19s", "factor");
    for (int p = 0; p < mnv3_profile_count(); p++) printf("  %-18s", mnv3_profile_at(p)->name);
    printf("\n");
    for (int f = 0; f < nf; f++) {
        printf("%-19s", mnv3_factor_name(f));
        for (int p = 0; p < mnv3_profile_count(); p++)
            printf("  %-18s", mnv3_factor_option_name(f, mnv3_profile_at(p)->option[f]));
        printf("\n");
    }
    printf("\nprofiles:\n");
    for (int p = 0; p < mnv3_profile_count(); p++)
        printf("  %-10s %s\n", mnv3_profile_at(p)->name, mnv3_profile_at(p)->description);
    printf("\nfactors and their options (switch one with --set factor=option):\n");
    for (int f = 0; f < nf; f++) {
        printf("  %s: %s\n", mnv3_factor_name(f), mnv3_factor_description(f));
        for (int o = 0; o < mnv3_factor_option_count(f); o++)
            printf("      %-18s %s\n", mnv3_factor_option_name(f, o),
                   mnv3_factor_option_description(f, o));
    }
    printf("\nthis CPU's rsqrt estimate (batchnorm=tf_rsqrt): fingerprint %08x\n",
           (unsigned)mnv3_tf_rsqrt_fingerprint());
    return 0;
}

int cmd_layers(int argc, char **argv) {
    long classes = 1000;
    int markdown = 0;
    for (int i = 0; i < argc; i++) {
        const char *v;
        int r = cli_take(argc, argv, &i, "--classes", &v);
        if (r < 0) return cli_usage_error("--classes needs a value");
        if (r) {
            if (cli_parse_int(v, "--classes", 0, 100000, &classes)) return 2;
        } else if (!strcmp(argv[i], "--markdown")) markdown = 1;
        else return cli_usage_error("layers: unknown option '%s'", argv[i]);
    }
    mnv3_arch arch;
    mnv3_arch_small(&arch, (int)classes);
    static mnv3_layer_name names[256];
    int n = mnv3_layer_names(&arch, names, 256);
    if (markdown) {
        printf("| # | canonical | op | torchvision module | Keras 3 layer |\n|---|---|---|---|---|\n");
        for (int i = 0; i < n; i++)
            printf("| %d | `%s` | %s | `%s` | %s |\n", i + 1, names[i].canonical, names[i].op,
                   names[i].torchvision, names[i].keras);
        return 0;
    }
    printf("%-18s %-14s %-26s %s\n", "canonical", "op", "torchvision", "keras");
    for (int i = 0; i < n; i++)
        printf("%-18s %-14s %-26s %s\n", names[i].canonical, names[i].op, names[i].torchvision,
               names[i].keras);
    return 0;
}
