/* Proves that inference allocates nothing after session creation: malloc,
 * calloc, realloc, free, aligned_alloc and posix_memalign are interposed with
 * counters (glibc's __libc_* entry points do the work), the session runs
 * several times at 1 and 2 threads, fast and reference kernels, and the
 * counters must not move during the runs (also with two run contexts).
 * Skipped (77) under sanitizers, which interpose the allocator themselves,
 * and off glibc. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnv3.h"

#if defined(__SANITIZE_ADDRESS__)
#define MNV3_NO_INTERPOSE 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(memory_sanitizer) || __has_feature(thread_sanitizer)
#define MNV3_NO_INTERPOSE 1
#endif
#endif
#if !defined(__GLIBC__) && !defined(MNV3_NO_INTERPOSE)
#include <features.h>
#endif

#if defined(__GLIBC__) && !defined(MNV3_NO_INTERPOSE)
#include <stdatomic.h>
#include <stdint.h>

extern void *__libc_malloc(size_t size);
extern void *__libc_calloc(size_t n, size_t size);
extern void *__libc_realloc(void *p, size_t size);
extern void *__libc_memalign(size_t alignment, size_t size);
extern void __libc_free(void *p);

static atomic_long allocations, releases;

void *malloc(size_t size) {
    atomic_fetch_add(&allocations, 1);
    return __libc_malloc(size);
}
void *calloc(size_t n, size_t size) {
    atomic_fetch_add(&allocations, 1);
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t size) {
    atomic_fetch_add(&allocations, 1);
    return __libc_realloc(p, size);
}
void *aligned_alloc(size_t alignment, size_t size) {
    atomic_fetch_add(&allocations, 1);
    return __libc_memalign(alignment, size);
}
int posix_memalign(void **out, size_t alignment, size_t size) {
    atomic_fetch_add(&allocations, 1);
    *out = __libc_memalign(alignment, size);
    return *out ? 0 : 12; /* ENOMEM */
}
void free(void *p) {
    if (p) atomic_fetch_add(&releases, 1);
    __libc_free(p);
}

static int run_case(const mnv3_model *m, const char *profile, const char *kernels, int threads,
                    int concurrent_runs) {
    const mnv3_profile *p = mnv3_profile_find(profile);
    mnv3_layout layout = p->option[mnv3_factor_find("layout")] ? MNV3_NHWC : MNV3_NCHW;
    const int n = 2, h = 224, w = 224, out_size = mnv3_output_size(m);
    float *x = malloc((size_t)n * 3 * (size_t)(h * w) * sizeof *x);
    float *y = malloc((size_t)n * (size_t)out_size * sizeof *y);
    mnv3_synth_input(7, n, 3, h, w, x);
    mnv3_session_options o = {.kernels = kernels, .threads = threads, .max_batch = n,
                              .max_concurrent_runs = concurrent_runs};
    mnv3_session *s;
    mnv3_error err;
    if (mnv3_session_create(m, p, h, w, layout, &o, &s, &err) != MNV3_OK) {
        printf("FAIL %s: %s\n", profile, err.message);
        return 1;
    }
    long a0 = atomic_load(&allocations), r0 = atomic_load(&releases);
    int ok = 1;
    for (int k = 0; k < 5; k++) ok &= mnv3_session_run(s, x, n, y, &err) == MNV3_OK;
    long da = atomic_load(&allocations) - a0, dr = atomic_load(&releases) - r0;
    printf("%s %-8s %-9s %d thread(s): 5 runs of batch %d: %ld allocations, %ld frees "
           "(arena %zu bytes, packed weights %zu bytes)\n",
           ok && !da && !dr ? "ok  " : "FAIL", profile, mnv3_session_kernels(s), threads, n,
           da, dr, mnv3_session_arena_bytes(s), mnv3_session_packed_bytes(s));
    mnv3_session_free(s);
    free(x), free(y);
    return !(ok && !da && !dr);
}

int main(void) {
    mnv3_tensors ts = {0};
    mnv3_model *m = NULL;
    mnv3_error err;
    if (mnv3_synth_weights(3, 1000, &ts, &err) != MNV3_OK ||
        mnv3_model_from_tensors(&ts, "synth", &m, NULL, &err) != MNV3_OK) {
        printf("FAIL synth: %s\n", err.message);
        return 1;
    }
    mnv3_tensors_free(&ts);
    /* the counters must see allocations at all, or the interposition failed */
    long before = atomic_load(&allocations);
    void *volatile probe = malloc(16); /* volatile: the pair cannot be optimised away */
    free(probe);
    if (atomic_load(&allocations) == before) {
        printf("FAIL: malloc is not interposed\n");
        return 1;
    }
    int bad = 0;
    static const char *profiles[] = {"torch", "keras", "litert"};
    for (int i = 0; i < 3; i++)
        for (int t = 1; t <= 2; t++) bad += run_case(m, profiles[i], "fast", t, 1);
    bad += run_case(m, "torch", "fast", 2, 2); /* a session for two concurrent callers */
    bad += run_case(m, "torch", "reference", 1, 1);
    mnv3_model_free(m);
    printf("%d failures\n", bad);
    return bad ? 1 : 0;
}
#else
int main(void) {
    printf("skip: allocator interposition needs glibc and no sanitizer\n");
    return 77;
}
#endif
