#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "cli.h"
#include "core/util.h"
#include "image/image.h"

/* digits with an optional K, M or G suffix, times base^k; 0 when unusable */
static unsigned long long env_amount(const char *s, unsigned long long base) {
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10), mul = 1;
    int k = *end == 'K' || *end == 'k' ? 1 : *end == 'M' || *end == 'm' ? 2
            : *end == 'G' || *end == 'g'                                 ? 3
                                                                         : 0;
    for (int i = 0; i < k; i++) mul *= base;
    if (k) end++;
    if (errno || end == s || *end || v == 0 || v > ULLONG_MAX / mul) return 0;
    return v * mul;
}

int cli_budgets_from_env(void) {
    const char *bytes = getenv("MNV3_MAX_FILE_BYTES"), *pixels = getenv("MNV3_MAX_IMAGE_PIXELS");
    if (bytes && *bytes) {
        unsigned long long v = env_amount(bytes, 1024);
        if (!v || v > SIZE_MAX) {
            fprintf(stderr, "mnv3: MNV3_MAX_FILE_BYTES='%s' is not a number of bytes (e.g. 2G)\n",
                    cli_safe(bytes));
            return 2;
        }
        mnv3_set_file_budget((size_t)v);
    }
    if (pixels && *pixels) {
        unsigned long long v = env_amount(pixels, 1000);
        if (!v) {
            fprintf(stderr, "mnv3: MNV3_MAX_IMAGE_PIXELS='%s' is not a number of pixels "
                            "(e.g. 200M)\n",
                    cli_safe(pixels));
            return 2;
        }
        mnv3_set_image_pixel_budget((uint64_t)v);
    }
    const char *scans = getenv("MNV3_MAX_JPEG_SCANS");
    if (scans && *scans) {
        unsigned long long v = env_amount(scans, 1000);
        if (!v || v > 1000000) {
            fprintf(stderr, "mnv3: MNV3_MAX_JPEG_SCANS='%s' is not a number of scans from 1 to "
                            "1000000 (e.g. 500)\n",
                    cli_safe(scans));
            return 2;
        }
        mnv3_set_jpeg_scan_limit((int)v);
    }
    return 0;
}

const char *cli_safe(const char *text) {
    static char buffers[8][512];
    static unsigned next;
    char *buf = buffers[next++ % 8];
    mnv3_escape_text(buf, sizeof buffers[0], text ? text : "");
    return buf;
}

int cli_input_not_finite(const mnv3_tensor *t, const char *path) {
    int64_t nonfinite = 0, numel = mnv3_tensor_numel(t);
    const float *x = t->data;
    for (int64_t i = 0; i < numel; i++) nonfinite += !isfinite(x[i]);
    if (!nonfinite || mnv3_allow_problems()) return 0;
    fprintf(stderr, "mnv3: %s: input holds %lld NaN/Inf values of %lld: the network would "
                    "spread them to every output (--allow-problems runs it anyway)\n",
            cli_safe(path), (long long)nonfinite, (long long)numel);
    return 1;
}

int cli_error(const mnv3_error *err) {
    fprintf(stderr, "mnv3: %s\n", err->message);
    return 1;
}

int cli_usage_error(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "mnv3: ");
    vfprintf(stderr, fmt, ap);
    fprintf(stderr, " (see mnv3 --help)\n");
    va_end(ap);
    return 2;
}

int cli_take(int argc, char **argv, int *i, const char *name, const char **value) {
    if (strcmp(argv[*i], name) != 0) return 0;
    if (*i + 1 >= argc) {
        *value = NULL;
        return -1;
    }
    *value = argv[++*i];
    return 1;
}

int cli_parse_int(const char *text, const char *what, long lo, long hi, long *out) {
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || *end || end == text || v < lo || v > hi)
        return cli_usage_error("%s must be an integer in %ld..%ld, got '%s'", what, lo, hi, text);
    *out = v;
    return 0;
}

int cli_model_arg(int argc, char **argv, int *i, cli_model_args *a, int *status) {
    static const char *names[] = {"--weights", "--input", "--profile", "--layout", "--set",
                                  "--image", "--pipeline"};
    for (size_t k = 0; k < sizeof names / sizeof names[0]; k++) {
        const char *v;
        int r = cli_take(argc, argv, i, names[k], &v);
        if (r == 0) continue;
        if (r < 0) {
            *status = cli_usage_error("%s needs a value", names[k]);
            return 1;
        }
        switch (k) {
        case 0: a->weights = v; break;
        case 1: a->input = v; break;
        case 2: a->profile_name = v; break;
        case 3: a->layout_name = v; break;
        case 5: a->image = v; break;
        case 6: a->pipeline = v; break;
        default:
            if (a->n_sets == (int)(sizeof a->sets / sizeof a->sets[0])) {
                *status = cli_usage_error("too many --set options");
                return 1;
            }
            a->sets[a->n_sets++] = v;
        }
        return 1;
    }
    return 0;
}

int cli_session_open(const cli_model_args *a, cli_session *s) {
    mnv3_error err;
    memset(s, 0, sizeof *s);
    if (!a->weights) return cli_usage_error("--weights is required");
    if (!a->input && !a->image) return cli_usage_error("--input X.npy or --image FILE is required");
    if (a->input && a->image) return cli_usage_error("give --input or --image, not both");
    if (a->image && !a->pipeline)
        return cli_usage_error("--image needs --pipeline (see mnv3 pipelines)");
    const mnv3_profile *p = mnv3_profile_find(a->profile_name ? a->profile_name : "torch");
    if (!p) return cli_usage_error("unknown profile '%s' (see mnv3 profiles)", a->profile_name);
    s->profile = *p;
    for (int i = 0; i < a->n_sets; i++)
        if (mnv3_profile_set(&s->profile, a->sets[i], &err) != MNV3_OK) return cli_error(&err);
    int layout_factor = mnv3_factor_find("layout");
    s->layout = s->profile.option[layout_factor] ? MNV3_NHWC : MNV3_NCHW;
    if (a->layout_name) {
        if (!strcmp(a->layout_name, "nchw")) s->layout = MNV3_NCHW;
        else if (!strcmp(a->layout_name, "nhwc")) s->layout = MNV3_NHWC;
        else return cli_usage_error("--layout must be nchw or nhwc, got '%s'", a->layout_name);
    }

    if (a->image) {
        if (mnv3_preprocess(a->pipeline, a->image, s->layout, &s->input, &err) != MNV3_OK)
            return cli_error(&err);
        mnv3_profile_after_pipeline(&s->profile, a->pipeline);
    } else if (mnv3_read_npy(a->input, &s->input, &err) != MNV3_OK) {
        return cli_error(&err);
    }
    mnv3_tensor *t = &s->input;
    int chan_axis = s->layout == MNV3_NCHW ? 1 : 3;
    int ok = t->ndim == 4 && t->shape[chan_axis] == 3;
    for (int i = 0; ok && i < 4; i++) ok = t->shape[i] >= 1 && t->shape[i] <= 8192;
    if (!ok) {
        char shape[96];
        mnv3_shape_text(shape, sizeof shape, t->ndim, t->shape);
        cli_session_close(s);
        fprintf(stderr, "mnv3: %s: input shape %s is not %s of float32 (layout %s)\n",
                a->input ? a->input : a->image,
                shape, s->layout == MNV3_NCHW ? "[N, 3, H, W]" : "[N, H, W, 3]",
                s->layout == MNV3_NCHW ? "nchw" : "nhwc");
        return 1;
    }
    if (cli_input_not_finite(t, a->input ? a->input : a->image)) {
        cli_session_close(s);
        return 1;
    }
    s->n = (int)t->shape[0];
    s->h = (int)(s->layout == MNV3_NCHW ? t->shape[2] : t->shape[1]);
    s->w = (int)(s->layout == MNV3_NCHW ? t->shape[3] : t->shape[2]);

    if (mnv3_model_load(a->weights, &s->model, NULL, &err) != MNV3_OK) {
        cli_session_close(s);
        return cli_error(&err);
    }
    return 0;
}

void cli_session_close(cli_session *s) {
    mnv3_model_free(s->model);
    s->model = NULL;
    free(s->input.name);
    free(s->input.data);
    memset(&s->input, 0, sizeof s->input);
}
