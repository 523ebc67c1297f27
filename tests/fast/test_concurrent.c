/* One session, two threads running it at once: every output must be
 * bit-identical to the same input run alone (itself checked against the
 * reference kernels). Covers the planar and blocked layouts, one and two
 * threads per run, single samples and batches (lanes), and a session with
 * fewer run contexts than callers (the second caller waits). */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnv3.h"

#define CALLERS 2
#define ROUNDS 3

typedef struct caller {
    mnv3_session *s;
    const float *x; /* batch samples */
    float *y;       /* ROUNDS outputs of batch samples */
    int batch, out_size, failed;
} caller;

static void *call(void *arg) {
    caller *c = arg;
    mnv3_error err;
    for (int r = 0; r < ROUNDS; r++)
        if (mnv3_session_run(c->s, c->x, c->batch, c->y + (size_t)r * (size_t)c->batch * (size_t)c->out_size,
                             &err) != MNV3_OK)
            c->failed = 1;
    return NULL;
}

static int run_case(const mnv3_model *m, const char *profile, int threads, int contexts, int batch,
                    int planar_maps) {
    const mnv3_profile *p = mnv3_profile_find(profile);
    const mnv3_layout layout = p->option[mnv3_factor_find("layout")] ? MNV3_NHWC : MNV3_NCHW;
    const int h = 96, w = 112, out_size = mnv3_output_size(m);
    const size_t per_x = (size_t)batch * 3 * (size_t)(h * w), per_y = (size_t)batch * (size_t)out_size;
    float *x = malloc(CALLERS * per_x * sizeof *x);
    float *alone = malloc(CALLERS * per_y * sizeof *alone);
    float *y = malloc(CALLERS * ROUNDS * per_y * sizeof *y);
    if (!x || !alone || !y) return 1;
    for (int k = 0; k < CALLERS; k++) mnv3_synth_input(20 + (uint64_t)k, batch, 3, h, w, x + k * per_x);
    mnv3_session_options o = {.kernels = "fast", .threads = threads, .max_batch = batch,
                              .planar_maps = planar_maps, .max_concurrent_runs = contexts};
    mnv3_session *s;
    mnv3_error err;
    char what[160];
    snprintf(what, sizeof what, "%s, %d thread(s) per run, %d context(s), batch %d%s", profile,
             threads, contexts, batch, planar_maps ? ", planar" : "");
    if (mnv3_session_create(m, p, h, w, layout, &o, &s, &err) != MNV3_OK) {
        printf("FAIL %s: %s\n", what, err.message);
        return 1;
    }
    int bad = 0;
    /* each input alone, and by the reference kernels on one thread */
    mnv3_session_options ro = {.kernels = "reference", .max_batch = batch};
    mnv3_session *ref;
    float *ref_y = malloc(per_y * sizeof *ref_y);
    if (!ref_y || mnv3_session_create(m, p, h, w, layout, &ro, &ref, &err) != MNV3_OK) return 1;
    for (int k = 0; k < CALLERS; k++) {
        bad |= mnv3_session_run(s, x + k * per_x, batch, alone + k * per_y, &err) != MNV3_OK;
        bad |= mnv3_session_run(ref, x + k * per_x, batch, ref_y, &err) != MNV3_OK;
        if (memcmp(ref_y, alone + k * per_y, per_y * sizeof *ref_y)) {
            printf("FAIL %s: input %d alone differs from the reference kernels\n", what, k);
            bad = 1;
        }
    }
    mnv3_session_free(ref);
    free(ref_y);
    /* both at once, the same session */
    caller c[CALLERS];
    pthread_t id[CALLERS];
    int started[CALLERS];
    for (int k = 0; k < CALLERS; k++) {
        c[k] = (caller){s, x + k * per_x, y + (size_t)k * ROUNDS * per_y, batch, out_size, 0};
        started[k] = pthread_create(&id[k], NULL, call, &c[k]) == 0;
        if (!started[k]) c[k].failed = 1;
    }
    for (int k = 0; k < CALLERS; k++)
        if (started[k]) pthread_join(id[k], NULL);
    int differ = 0;
    for (int k = 0; k < CALLERS; k++) {
        bad |= c[k].failed;
        for (int r = 0; r < ROUNDS; r++)
            differ += memcmp(c[k].y + (size_t)r * per_y, alone + k * per_y, per_y * sizeof *y) != 0;
    }
    printf("%s %s (%s): %d of %d concurrent outputs bit-identical to the same input alone\n",
           !bad && !differ ? "ok  " : "FAIL", what, mnv3_session_kernels(s),
           CALLERS * ROUNDS - differ, CALLERS * ROUNDS);
    mnv3_session_free(s);
    free(x), free(alone), free(y);
    return bad || differ;
}

int main(void) {
    mnv3_tensors ts = {0};
    mnv3_model *m = NULL;
    mnv3_error err;
    if (mnv3_synth_weights(5, 1000, &ts, &err) != MNV3_OK ||
        mnv3_model_from_tensors(&ts, "synth", &m, NULL, &err) != MNV3_OK) {
        printf("FAIL synth: %s\n", err.message);
        return 1;
    }
    mnv3_tensors_free(&ts);
    int failures = 0;
    failures += run_case(m, "torch", 1, 2, 1, 0);
    failures += run_case(m, "torch", 2, 2, 1, 0);
    failures += run_case(m, "keras", 2, 2, 2, 0);  /* NHWC input, batch lanes */
    failures += run_case(m, "litert", 1, 2, 1, 1); /* planar maps */
    failures += run_case(m, "torch", 2, 1, 2, 0);  /* one context: callers take turns */
    mnv3_model_free(m);
    printf("%d failures\n", failures);
    return failures ? 1 : 0;
}
