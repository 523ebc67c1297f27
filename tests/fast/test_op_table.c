/* The per-op table test (after ggml's test-backend-ops): for every option of
 * every factor, every instruction set this CPU has and 1 and 2 threads, the
 * fast kernels equal the reference kernels bit for bit, at every op's output
 * (with a tap the fast session keeps the planar layout and reports each
 * layer) and at the model output (without a tap it runs the blocked layout).
 *
 * Each row of the table is a base profile with one factor set to one option.
 * The table is proved sensitive: a row's reference result must differ from
 * its base profile's somewhere, so a fast kernel that mishandled the option
 * would be seen; the options that cannot differ on these inputs are listed
 * below with the reason. Small odd inputs, a 37-class head and a backbone,
 * batches of 1 and 3 exercise partial vector blocks, the batch lanes and the
 * batch-dependent convolution order. Only the public API (mnv3.h) is used.
 *   test_op_table [--rotate] [ROW]
 *     --rotate: each fast run (isa x threads x taps) of a row on one of its
 *               shapes, in turn (sanitizer builds, whose kernels run ~30x slower)
 *     ROW:      only the rows whose name contains it
 *   exit 0 = every row bit-identical and sensitive */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"

/* Names and labels are short by construction; truncation would only shorten one. */
static void format_text(char *dst, size_t size, const char *fmt, ...) KIT_PRINTF(3, 4);
static void format_text(char *dst, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}

/* ---- what the table covers ------------------------------------------------- */

/* The base profile of each factor's rows: one whose other options let each
 * option of the factor show (torch has no Rescaling layer, keras no fma
 * pointwise, ...). A factor not listed (a new one) gets torch. */
static const struct {
    const char *factor, *profile;
} base_of[] = {
    {"padding", "keras"},       {"hardsigmoid", "keras"}, {"hardswish", "litert"},
    {"batchnorm", "tf-keras"},  {"conv_order", "torch"},  {"pointwise", "litert"},
    {"bias", "torch"},          {"pool_sum", "torch"},    {"accumulate", "timm-tf"},
    {"input_rescale", "torch"}, {"output", "torch"},      {"layout", "keras"},
};

/* Options whose reference result cannot differ from the base's on any input. */
static const struct {
    const char *assignment, *reason;
} cannot_differ[] = {
    {"layout=nchw", "layout only names the input's memory order; values are the same "
                    "(the fast NCHW/NHWC input paths are still compared)"},
};

/* One set of synthetic weights: with the head, without it, and with
 * BatchNorm folded into the convolutions. */
enum { HEAD37, BACKBONE, FOLDED, N_MODELS };
static const char *const model_names[N_MODELS] = {"head37", "backbone", "folded"};
static mnv3_model *models[N_MODELS];

typedef struct shape_case {
    int model; /* HEAD37, BACKBONE or FOLDED */
    int h, w, n;
} shape_case;

/* Every row runs on these. */
static const shape_case shapes[] = {
    /* odd sizes: partial vector blocks; the last maps are 2x2 */
    {HEAD37, 33, 35, 1},
    /* even height (TF SAME pads unevenly at every stride), a batch: lanes,
     * torch_cpu's batch rule; the last maps are 1x1 (matrix-vector steps) */
    {BACKBONE, 32, 18, 3},
    /* a bias in every convolution (BatchNorm folded, as in TFLite models) */
    {FOLDED, 33, 33, 1},
};
/* Rows that choose the convolution order by torch_cpu's rule (the torch
 * profile, conv_order rows) also run one sample above its threshold of 20480
 * input values (3 x 83 x 85 = 21165): the rule's other side at batch 1. */
static const shape_case big_stem_shape = {BACKBONE, 83, 85, 1};

static const char *const isas[] = {"scalar", "avx2", "avx512"};

/* ---- a row ------------------------------------------------------------------ */

typedef struct row {
    char name[96];            /* "hardsigmoid=mul_0.16667 (keras)" or "profile torch" */
    char assignment[64];      /* empty for a profile row */
    mnv3_profile profile;
    const mnv3_profile *base; /* NULL for a profile row */
    int big_stem;             /* runs big_stem_shape too */
} row;

static int option_is(const mnv3_profile *p, const char *factor, const char *option) {
    int f = mnv3_factor_find(factor);
    return f >= 0 && !strcmp(mnv3_factor_option_name(f, p->option[f]), option);
}

static const char *base_profile_name(const char *factor) {
    for (size_t i = 0; i < sizeof base_of / sizeof base_of[0]; i++)
        if (!strcmp(base_of[i].factor, factor)) return base_of[i].profile;
    return "torch";
}

static const char *cannot_differ_reason(const char *assignment) {
    for (size_t i = 0; i < sizeof cannot_differ / sizeof cannot_differ[0]; i++)
        if (!strcmp(cannot_differ[i].assignment, assignment)) return cannot_differ[i].reason;
    return NULL;
}

/* ---- models ----------------------------------------------------------------- */

static int add_copy(mnv3_tensors *out, const mnv3_tensor *t, mnv3_error *err) {
    size_t bytes = (size_t)mnv3_tensor_numel(t) * sizeof(float);
    float *copy = malloc(bytes ? bytes : 1);
    if (!copy) return MNV3_FAIL;
    memcpy(copy, t->data, bytes);
    return mnv3_tensors_add(out, t->name, MNV3_F32, t->ndim, t->shape, copy, err);
}

/* BatchNorm folded into the preceding convolution, in canonical names (as
 * the TFLite reader gives them): any folding formula makes a valid model. */
static int fold_batchnorm(const mnv3_tensors *ts, float eps, mnv3_tensors *out,
                          mnv3_error *err) {
    for (size_t i = 0; i < ts->count; i++) {
        const mnv3_tensor *t = &ts->items[i];
        const char *bn = strstr(t->name, ".bn.");
        if (!bn) {
            if (add_copy(out, t, err) != MNV3_OK) return MNV3_FAIL;
            continue;
        }
        if (strcmp(bn, ".bn.weight")) continue; /* one fold per BatchNorm */
        char prefix[96], key[128];
        format_text(prefix, sizeof prefix, "%.*s", (int)(bn - t->name), t->name);
        const float *gamma = t->data, *part[3];
        static const char *const parts[3] = {"bias", "running_mean", "running_var"};
        for (int k = 0; k < 3; k++) {
            format_text(key, sizeof key, "%s.bn.%s", prefix, parts[k]);
            part[k] = mnv3_tensors_find(ts, key)->data;
        }
        format_text(key, sizeof key, "%s.conv.weight", prefix);
        const mnv3_tensor *w = mnv3_tensors_find(out, key); /* copied: the conv comes first */
        int64_t channels = mnv3_tensor_numel(t);
        float *bias = malloc((size_t)channels * sizeof *bias);
        if (!w || !bias) return MNV3_FAIL;
        int64_t per_channel = mnv3_tensor_numel(w) / channels;
        float *wd = w->data;
        for (int64_t c = 0; c < channels; c++) {
            float a = gamma[c] / sqrtf(part[2][c] + eps);
            for (int64_t k = 0; k < per_channel; k++) wd[c * per_channel + k] *= a;
            bias[c] = part[0][c] - part[1][c] * a;
        }
        format_text(key, sizeof key, "%s.conv.bias", prefix);
        if (mnv3_tensors_add(out, key, MNV3_F32, 1, &channels, bias, err) != MNV3_OK)
            return MNV3_FAIL;
    }
    return MNV3_OK;
}

static int make_models(void) {
    mnv3_tensors synth = {0}, backbone = {0}, folded = {0};
    mnv3_error err = {0};
    int ok = mnv3_synth_weights(3, 37, &synth, &err) == MNV3_OK &&
             mnv3_model_from_tensors(&synth, "synth", &models[HEAD37], NULL, &err) == MNV3_OK;
    /* the backbone: the same weights without the classifier (canonical "head.*") */
    const mnv3_tensors *canonical = ok ? mnv3_model_tensors(models[HEAD37]) : NULL;
    for (size_t i = 0; ok && i < canonical->count; i++)
        if (strncmp(canonical->items[i].name, "head.", 5))
            ok = add_copy(&backbone, &canonical->items[i], &err) == MNV3_OK;
    ok = ok &&
         mnv3_model_from_tensors(&backbone, "backbone", &models[BACKBONE], NULL, &err) == MNV3_OK;
    const float eps = ok ? mnv3_model_arch(models[BACKBONE])->bn_eps : 0.0f;
    ok = ok && fold_batchnorm(&backbone, eps, &folded, &err) == MNV3_OK &&
         mnv3_model_from_tensors(&folded, "folded", &models[FOLDED], NULL, &err) == MNV3_OK &&
         mnv3_model_arch(models[FOLDED])->bn_folded;
    CHECKF(ok, "synthetic models: %s", err.message);
    mnv3_tensors_free(&synth);
    mnv3_tensors_free(&backbone);
    mnv3_tensors_free(&folded);
    return ok;
}

#define MAX_LAYERS (MNV3_MAX_BLOCKS * 16) /* room for every layer of the architecture */

/* Op kind of a tap, from the layer list ("conv", "hardsigmoid", ...). */
static const char *op_kind(const mnv3_model *m, const char *tap) {
    static mnv3_layer_name names[MAX_LAYERS];
    static const mnv3_model *names_of;
    static int n_names;
    const char *layer = strchr(tap, '/') ? strchr(tap, '/') + 1 : tap;
    if (names_of != m) {
        n_names = mnv3_layer_names(mnv3_model_arch(m), names, MAX_LAYERS);
        names_of = m;
    }
    for (int i = 0; i < n_names; i++)
        if (!strcmp(names[i].canonical, layer)) return names[i].op;
    return layer; /* "input", "rescale", "softmax": ops the profile adds */
}

/* ---- running ---------------------------------------------------------------- */

typedef struct result {
    kit_tap_set taps; /* empty when run without a tap */
    float *output;
    int ok;
    char kernels[48];
} result;

static void result_free(result *r) {
    mnv3_tensors_free(&r->taps.taps);
    free(r->output);
    memset(r, 0, sizeof *r);
}

/* The seeded input in the profile's layout; pixel-like when it rescales. */
static float *make_input(const mnv3_profile *p, const shape_case *sc, mnv3_layout *layout) {
    size_t plane = (size_t)sc->h * (size_t)sc->w, total = (size_t)sc->n * 3 * plane;
    float *nchw = malloc(total * sizeof *nchw), *x = malloc(total * sizeof *x);
    if (!nchw || !x) {
        free(nchw), free(x);
        return NULL;
    }
    *layout = option_is(p, "layout", "nhwc") ? MNV3_NHWC : MNV3_NCHW;
    int pixels = !option_is(p, "input_rescale", "none");
    mnv3_synth_input(5, sc->n, 3, sc->h, sc->w, nchw);
    for (size_t s = 0; s < (size_t)sc->n; s++)
        for (size_t c = 0; c < 3; c++)
            for (size_t i = 0; i < plane; i++) {
                float v = nchw[(s * 3 + c) * plane + i];
                if (pixels) v = (v + 2.1f) * 54.0f;
                if (*layout == MNV3_NHWC) x[(s * plane + i) * 3 + c] = v;
                else x[(s * 3 + c) * plane + i] = v;
            }
    free(nchw);
    return x;
}

/* isa NULL: the reference kernels. Returns 0 when the ISA is not on this CPU. */
static int run_session(const mnv3_profile *p, const shape_case *sc, const char *isa, int threads,
                       int tapped, result *r, const char *label) {
    const mnv3_model *m = models[sc->model];
    memset(r, 0, sizeof *r);
    mnv3_layout layout = MNV3_NCHW;
    float *x = make_input(p, sc, &layout);
    size_t out_n = (size_t)sc->n * (size_t)mnv3_output_size(m);
    r->output = malloc(out_n * sizeof *r->output);
    mnv3_session_options o = {.kernels = isa ? "fast" : "reference", .threads = threads,
                              .max_batch = sc->n, .isa = isa, .tap = tapped ? kit_taps : NULL,
                              .tap_user = tapped ? &r->taps : NULL};
    mnv3_session *s = NULL;
    mnv3_error err = {0};
    int available = 1;
    if (!x || !r->output) {
        kit_fail("%s: out of memory", label);
    } else if (mnv3_session_create(m, p, sc->h, sc->w, layout, &o, &s, &err) != MNV3_OK) {
        if (isa && strstr(err.message, "not available")) available = 0;
        else kit_fail("%s: %s", label, err.message);
    } else {
        memset(r->output, 0xff, out_n * sizeof *r->output); /* NaN: unwritten values show */
        r->ok = mnv3_session_run(s, x, sc->n, r->output, &err) == MNV3_OK && !r->taps.failed;
        CHECKF(r->ok, "%s: run: %s", label, err.message);
        format_text(r->kernels, sizeof r->kernels, "%s", mnv3_session_kernels(s));
    }
    mnv3_session_free(s);
    free(x);
    return available;
}

/* First tap (in execution order) whose bits differ: 1 and a description. */
static int first_tap_difference(const mnv3_model *m, const result *a, const result *ref,
                                char *what, size_t size) {
    for (size_t i = 0; i < ref->taps.taps.count; i++) {
        const mnv3_tensor *r = &ref->taps.taps.items[i];
        const mnv3_tensor *x = mnv3_tensors_find(&a->taps.taps, r->name);
        int64_t n = mnv3_tensor_numel(r);
        if (!x || mnv3_tensor_numel(x) != n) {
            format_text(what, size, "op %s %s: missing or misshaped", op_kind(m, r->name), r->name);
            return 1;
        }
        int64_t at = kit_first_difference(x->data, r->data, n);
        if (at >= 0) {
            format_text(what, size,
                        "op %s %s: first difference at index %lld of %lld: %.9g, reference %.9g",
                        op_kind(m, r->name), r->name, (long long)at, (long long)n,
                        ((const float *)x->data)[at], ((const float *)r->data)[at]);
            return 1;
        }
    }
    if (a->taps.taps.count != ref->taps.taps.count) {
        format_text(what, size, "%zu taps, reference %zu", a->taps.taps.count,
                    ref->taps.taps.count);
        return 1;
    }
    return 0;
}

static int64_t output_difference(const mnv3_model *m, const shape_case *sc, const result *a,
                                 const result *ref) {
    return kit_first_difference(a->output, ref->output, (int64_t)sc->n * mnv3_output_size(m));
}

/* Op kinds whose outputs were compared, to prove every kind is covered. */
static char kinds_seen[32][24];
static int n_kinds_seen;

static void note_kinds(const mnv3_model *m, const result *ref) {
    for (size_t i = 0; i < ref->taps.taps.count; i++) {
        const char *kind = op_kind(m, ref->taps.taps.items[i].name);
        int known = 0;
        for (int k = 0; k < n_kinds_seen && !known; k++) known = !strcmp(kinds_seen[k], kind);
        if (!known && n_kinds_seen < 32)
            format_text(kinds_seen[n_kinds_seen++], sizeof kinds_seen[0], "%s", kind);
    }
}

/* The fast runs of a row on a shape: instruction set x threads x taps. */
#define N_COMBOS 12
static const char *combo_isa(int c) { return isas[c / 4]; }
static int combo_threads(int c) { return 1 + c / 2 % 2; }
static int combo_tapped(int c) { return c % 2; }

/* One row on shape k of its n_shapes: the reference (tapped), then the fast
 * runs against it: all of them, or with rotate only those with
 * (combo + row) % n_shapes == k, so each combination runs on one shape of the
 * row and meets every shape across the table. Keeps the reference in *ref. */
static void run_row_shape(const row *rw, int row_index, const shape_case *sc, int k,
                          int n_shapes, int rotate, result *ref) {
    const mnv3_model *m = models[sc->model];
    char label[200], what[300], run_label[300], ran[N_COMBOS * 24] = "";
    format_text(label, sizeof label, "%s %s %dx%d n%d", rw->name, model_names[sc->model], sc->h,
                sc->w, sc->n);
    format_text(run_label, sizeof run_label, "%s reference", label);
    run_session(&rw->profile, sc, NULL, 1, 1, ref, run_label);
    if (!ref->ok) return;
    note_kinds(m, ref);
    int compared = 0, bad = 0;
    for (int c = 0; c < N_COMBOS; c++) {
        if (rotate && (c + row_index) % n_shapes != k) continue;
        const char *isa = combo_isa(c);
        const int threads = combo_threads(c), tapped = combo_tapped(c);
        format_text(run_label, sizeof run_label, "%s %s threads %d %s", label, isa, threads,
                    tapped ? "taps" : "no taps");
        result got;
        if (!run_session(&rw->profile, sc, isa, threads, tapped, &got, run_label)) {
            c |= 3; /* this CPU lacks the instruction set: skip its other runs */
            result_free(&got);
            continue;
        }
        if (got.ok) {
            compared++;
            char one[24];
            format_text(one, sizeof one, " %s/%dt/%s", isa, threads, tapped ? "taps" : "blocked");
            strcat(ran, one);
            int64_t at = output_difference(m, sc, &got, ref);
            if (tapped && first_tap_difference(m, &got, ref, what, sizeof what)) {
                kit_fail("%s (%s): %s", run_label, got.kernels, what);
                bad++;
            } else if (at >= 0) {
                kit_fail("%s (%s): output: first difference at index %lld: %.9g, reference %.9g",
                         run_label, got.kernels, (long long)at, got.output[at], ref->output[at]);
                bad++;
            }
        }
        result_free(&got);
    }
    CHECKF(compared > 0, "%s: no fast session ran", label);
    const char *all = " all isas x 1,2 threads x taps,blocked";
    if (!bad && compared)
        printf("ok   %-40s %-9s %dx%d n%d:%s\n", rw->name, model_names[sc->model], sc->h, sc->w,
               sc->n, rotate || compared < N_COMBOS ? ran : all);
}

/* Whether two reference results differ anywhere: a common tap or the output. */
static int references_differ(const mnv3_model *m, const shape_case *sc, const result *a,
                             const result *b) {
    if (a->taps.taps.count != b->taps.taps.count) return 1;
    char ignored[300];
    return first_tap_difference(m, a, b, ignored, sizeof ignored) ||
           output_difference(m, sc, a, b) >= 0;
}

/* Whether torch's stem convolution (conv_order=torch_cpu) on this shape takes
 * oneDNN's order, that is equals conv_order=ky_kx_ci_fma's bit for bit. */
static int stem_takes_onednn_order(const shape_case *sc) {
    mnv3_profile onednn = *mnv3_profile_find("torch");
    mnv3_error err;
    if (mnv3_profile_set(&onednn, "conv_order=ky_kx_ci_fma", &err) != MNV3_OK) return -1;
    result a, b;
    run_session(mnv3_profile_find("torch"), sc, NULL, 1, 1, &a, "torch stem");
    run_session(&onednn, sc, NULL, 1, 1, &b, "ky_kx_ci_fma stem");
    const mnv3_tensor *x = mnv3_tensors_find(&a.taps.taps, "0/stem.conv");
    const mnv3_tensor *y = mnv3_tensors_find(&b.taps.taps, "0/stem.conv");
    int same = -1;
    if (x && y && mnv3_tensor_numel(x) == mnv3_tensor_numel(y))
        same = kit_first_difference(x->data, y->data, mnv3_tensor_numel(x)) < 0;
    result_free(&a);
    result_free(&b);
    return same;
}

/* ---- the table -------------------------------------------------------------- */

static int build_rows(row *rows, int max) {
    int n = 0;
    mnv3_error err;
    for (int i = 0; i < mnv3_profile_count() && n < max; i++, n++) {
        row *rw = &rows[n];
        memset(rw, 0, sizeof *rw);
        rw->profile = *mnv3_profile_at(i);
        format_text(rw->name, sizeof rw->name, "profile %s", rw->profile.name);
        rw->big_stem = option_is(&rw->profile, "conv_order", "torch_cpu");
    }
    for (int f = 0; f < mnv3_factor_count(); f++) {
        if (mnv3_factor_is_training(f)) continue; /* no effect on inference: tests/bnlab */
        if (mnv3_factor_is_integer(f)) continue;  /* quantized models only: tests/int8 */
        const char *base_name = base_profile_name(mnv3_factor_name(f));
        const mnv3_profile *base = mnv3_profile_find(base_name);
        CHECKF(base != NULL, "factor %s: no base profile %s", mnv3_factor_name(f), base_name);
        if (!base) continue;
        for (int o = 0; o < mnv3_factor_option_count(f) && n < max; o++) {
            if (o == base->option[f]) continue; /* that row is the profile's own */
            row *rw = &rows[n];
            memset(rw, 0, sizeof *rw);
            rw->profile = *base;
            rw->base = base;
            format_text(rw->assignment, sizeof rw->assignment, "%s=%s", mnv3_factor_name(f),
                        mnv3_factor_option_name(f, o));
            format_text(rw->name, sizeof rw->name, "%s (%s)", rw->assignment, base->name);
            rw->big_stem = !strcmp(mnv3_factor_name(f), "conv_order") &&
                           option_is(&rw->profile, "conv_order", "torch_cpu");
            if (mnv3_profile_set(&rw->profile, rw->assignment, &err) != MNV3_OK) {
                kit_fail("%s: %s", rw->assignment, err.message);
                continue;
            }
            n++;
        }
    }
    return n;
}

int main(int argc, char **argv) {
    int rotate = argc > 1 && !strcmp(argv[1], "--rotate");
    const char *only = argc > 1 + rotate ? argv[1 + rotate] : NULL;
    if (!make_models()) return 1;

    static row rows[256];
    int n_rows = build_rows(rows, 256);
    /* base profile references, for the sensitivity check: [profile][shape] */
    const int n_shapes = (int)(sizeof shapes / sizeof shapes[0]) + 1;
    result *base_refs = calloc((size_t)mnv3_profile_count() * (size_t)n_shapes, sizeof *base_refs);
    if (!base_refs) return 1;
    int rows_run = 0, sensitive_rows = 0, exempt_rows = 0;
    for (int r = 0; r < n_rows; r++) {
        const row *rw = &rows[r];
        if (only && !strstr(rw->name, only)) continue;
        rows_run++;
        int differs = 0, row_shapes = n_shapes - !rw->big_stem;
        for (int k = 0; k < row_shapes; k++) {
            const shape_case *sc = k < n_shapes - 1 ? &shapes[k] : &big_stem_shape;
            result ref;
            run_row_shape(rw, r, sc, k, row_shapes, rotate, &ref);
            if (rw->base && ref.ok) {
                int b = (int)(rw->base - mnv3_profile_at(0));
                result *base_ref = &base_refs[b * n_shapes + k];
                if (!base_ref->output) {
                    char base_label[128];
                    format_text(base_label, sizeof base_label, "base %s reference", rw->base->name);
                    run_session(rw->base, sc, NULL, 1, 1, base_ref, base_label);
                }
                differs |= base_ref->ok && references_differ(models[sc->model], sc, &ref, base_ref);
            }
            result_free(&ref);
        }
        if (!rw->base) continue;
        const char *reason = cannot_differ_reason(rw->assignment);
        if (reason) {
            exempt_rows++;
            CHECKF(!differs,
                   "%s is listed as unable to differ, yet its reference differs from %s's: "
                   "remove it from cannot_differ",
                   rw->assignment, rw->base->name);
            printf("note %s: cannot differ from %s: %s\n", rw->assignment, rw->base->name, reason);
        } else {
            sensitive_rows += differs;
            if (!differs)
                kit_fail("%s: the reference result equals %s's on every shape: the table does "
                         "not exercise this option (choose another base or input)",
                         rw->assignment, rw->base->name);
        }
    }
    for (int i = 0; i < mnv3_profile_count() * n_shapes; i++) result_free(&base_refs[i]);
    free(base_refs);

    if (!only) { /* both sides of torch_cpu's input-size rule at batch 1 are in the table */
        CHECKF(stem_takes_onednn_order(&big_stem_shape) == 1,
               "%dx%d is not above torch_cpu's input-size threshold", big_stem_shape.h,
               big_stem_shape.w);
        CHECKF(stem_takes_onednn_order(&shapes[0]) == 0,
               "%dx%d is not below torch_cpu's input-size threshold", shapes[0].h, shapes[0].w);
    }
    if (!only) { /* every op kind of the model, and the ops profiles add, compared */
        static const char *const added[] = {"input", "rescale", "softmax"};
        static mnv3_layer_name names[MAX_LAYERS];
        int n = mnv3_layer_names(mnv3_model_arch(models[HEAD37]), names, MAX_LAYERS);
        for (int i = 0; i < n + 3; i++) {
            const char *kind = i < n ? names[i].op : added[i - n];
            int seen = 0;
            for (int k = 0; k < n_kinds_seen && !seen; k++) seen = !strcmp(kinds_seen[k], kind);
            CHECKF(seen, "op kind %s was never compared", kind);
        }
        printf("op kinds compared:");
        for (int k = 0; k < n_kinds_seen; k++) printf(" %s", kinds_seen[k]);
        printf("\n");
    }
    for (int i = 0; i < N_MODELS; i++) mnv3_model_free(models[i]);
    printf("%d rows (%d options proved sensitive, %d exempt), %d failures\n", rows_run,
           sensitive_rows, exempt_rows, kit_failures);
    return kit_failures != 0;
}
