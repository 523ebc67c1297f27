/* The fast kernels against the reference kernels, bit for bit: every layer
 * (taps) and the output, for each profile, instruction set and thread count,
 * on seeded synthetic weights (with and without the classifier) and, when the
 * shared float TFLite model is present, on its BatchNorm-folded weights.
 *   test_fast [TFLITE]                      exit 0 = all identical */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"

static int planar_maps; /* sessions keep planar maps (mnv3_session_options.planar_maps) */

/* Compares two tap sets; returns the number of layers that differ in any bit. */
static int compare_taps(const kit_tap_set *a, const kit_tap_set *ref, const char *label) {
    int bad = 0;
    if (a->taps.count != ref->taps.count) {
        printf("FAIL %s: %zu taps, reference %zu\n", label, a->taps.count, ref->taps.count);
        return 1;
    }
    for (size_t i = 0; i < ref->taps.count; i++) {
        const mnv3_tensor *r = &ref->taps.items[i];
        const mnv3_tensor *x = mnv3_tensors_find(&a->taps, r->name);
        if (!x || mnv3_tensor_numel(x) != mnv3_tensor_numel(r)) {
            printf("FAIL %s: tap %s missing or misshaped\n", label, r->name);
            bad++;
            continue;
        }
        if (memcmp(x->data, r->data, (size_t)mnv3_tensor_numel(r) * sizeof(float)) != 0) {
            mnv3_diff d;
            mnv3_diff_compute(x->data, r->data, mnv3_tensor_numel(r), &d);
            printf("FAIL %s: tap %s differs: max_ulp %llu identical %.6f\n", label, r->name,
                   (unsigned long long)d.max_ulp, d.frac_identical);
            bad++;
        }
    }
    return bad;
}

static void run_case(const mnv3_model *m, const char *profile, int h, int w, int n,
                     const char *label) {
    const mnv3_profile *p = mnv3_profile_find(profile);
    if (!p) {
        kit_fail("%s", profile);
        return;
    }
    mnv3_layout layout = p->option[mnv3_factor_find("layout")] ? MNV3_NHWC : MNV3_NCHW;
    size_t in_size = (size_t)n * 3 * (size_t)h * (size_t)w;
    int out_size = mnv3_output_size(m);
    float *nchw = malloc(in_size * sizeof *nchw), *x = malloc(in_size * sizeof *x);
    float *ref_out = malloc((size_t)n * (size_t)out_size * sizeof(float));
    float *out = malloc((size_t)n * (size_t)out_size * sizeof(float));
    mnv3_synth_input(5, n, 3, h, w, nchw);
    /* inputs in the profile's layout; Keras profiles get pixel-like values */
    for (int s = 0; s < n; s++)
        for (int c = 0; c < 3; c++)
            for (int i = 0; i < h * w; i++) {
                float v = nchw[((size_t)s * 3 + (size_t)c) * (size_t)(h * w) + (size_t)i];
                if (p->option[mnv3_factor_find("input_rescale")]) v = (v + 2.1f) * 54.0f;
                if (layout == MNV3_NHWC) x[((size_t)s * (size_t)(h * w) + (size_t)i) * 3 + (size_t)c] = v;
                else x[((size_t)s * 3 + (size_t)c) * (size_t)(h * w) + (size_t)i] = v;
            }
    kit_tap_set ref = {0};
    mnv3_run_options ro = {p, kit_taps, &ref, NULL};
    mnv3_error err;
    if (mnv3_run(m, &ro, x, layout, n, h, w, ref_out, &err) != MNV3_OK || ref.failed) {
        printf("FAIL %s: reference run: %s\n", label, err.message);
        kit_failures++;
        goto done;
    }
    static const char *isas[] = {"scalar", "avx2", "avx512"};
    for (int k = -1; k < 3; k++) {
        for (int threads = 1; threads <= 2; threads++) {
            for (int tapped = 0; tapped <= 1; tapped++) {
                kit_tap_set got = {0};
                mnv3_session_options o = {.kernels = k < 0 ? "reference" : "fast",
                                          .threads = threads, .max_batch = n,
                                          .isa = k < 0 ? NULL : isas[k],
                                          .tap = tapped ? kit_taps : NULL,
                                          .tap_user = tapped ? &got : NULL,
                                          .planar_maps = planar_maps};
                mnv3_session *s;
                char what[160];
                snprintf(what, sizeof what, "%s %s %dx%d %s threads %d%s", label, profile, h, w,
                         k < 0 ? "reference" : isas[k], threads, tapped ? " taps" : "");
                if (mnv3_session_create(m, p, h, w, layout, &o, &s, &err) != MNV3_OK) {
                    if (k >= 1 && strstr(err.message, "not available")) break; /* no such ISA */
                    printf("FAIL %s: %s\n", what, err.message);
                    kit_failures++;
                    break;
                }
                memset(out, 0xff, (size_t)n * (size_t)out_size * sizeof(float));
                int ok = mnv3_session_run(s, x, n, out, &err) == MNV3_OK;
                if (!ok) kit_fail("%s", what);
                if (getenv("FAST_DEBUG")) printf("ref %.9g got %.9g\n", ref_out[0], out[0]);
                int same = ok && !memcmp(out, ref_out, (size_t)n * (size_t)out_size * sizeof(float));
                int bad = tapped ? compare_taps(&got, &ref, what) : 0;
                printf("%s %s: output %s%s (%s, arena %zu bytes)\n", same && !bad ? "ok  " : "FAIL",
                       what, same ? "bit-identical" : "DIFFERS",
                       tapped ? (bad ? ", taps differ" : ", all taps bit-identical") : "",
                       mnv3_session_kernels(s), mnv3_session_arena_bytes(s));
                if (!same || bad) kit_failures++;
                mnv3_session_free(s);
                mnv3_tensors_free(&got.taps);
            }
        }
    }
done:
    mnv3_tensors_free(&ref.taps);
    free(nchw), free(x), free(ref_out), free(out);
}

static mnv3_model *synth_model(int classes) {
    mnv3_tensors ts = {0};
    mnv3_model *m = NULL;
    mnv3_error err;
    if (mnv3_synth_weights(3, classes, &ts, &err) != MNV3_OK ||
        mnv3_model_from_tensors(&ts, "synth", &m, NULL, &err) != MNV3_OK) {
        printf("FAIL synth weights: %s\n", err.message);
        kit_failures++;
    }
    mnv3_tensors_free(&ts);
    return m;
}

int main(int argc, char **argv) {
    static const char *profiles[] = {"torch", "keras", "tf-keras", "litert", "timm-tf"};
    mnv3_model *head = synth_model(1000), *backbone = synth_model(0);
    if (!head || !backbone) return 1;
    for (size_t i = 0; i < sizeof profiles / sizeof profiles[0]; i++) {
        run_case(head, profiles[i], 224, 224, 2, "synth+head");
        run_case(backbone, profiles[i], 97, 75, 1, "synth");  /* odd sizes: tails, padding */
    }
    /* a head whose width is no multiple of any vector or block */
    mnv3_model *odd = synth_model(37);
    if (odd) {
        run_case(odd, "torch", 64, 64, 1, "synth+head37");
        run_case(odd, "litert", 64, 64, 1, "synth+head37");
        mnv3_model_free(odd);
    }
    /* the planar layout without taps (normally only sessions with taps use it) */
    planar_maps = 1;
    run_case(head, "torch", 224, 224, 1, "synth+head planar");
    planar_maps = 0;
    /* float64 accumulation falls back to the reference kernels */
    mnv3_model_free(head);
    mnv3_model_free(backbone);
    if (argc > 1) {
        mnv3_model *folded = NULL;
        mnv3_error err;
        if (mnv3_model_load(argv[1], &folded, NULL, &err) == MNV3_OK) {
            run_case(folded, "litert", 224, 224, 1, "tflite");
            run_case(folded, "litert", 61, 83, 1, "tflite");
            mnv3_model_free(folded);
        } else printf("skip %s: %s\n", argv[1], err.message);
    }
    printf("%d failures\n", kit_failures);
    return kit_failures ? 1 : 0;
}
