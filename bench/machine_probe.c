/* machine_probe: the limits docs/performance.md quotes, measured on this machine.
 *
 *   machine_probe
 *
 * 1. One core's read bandwidth from arrays past its L2: an array of S MB read
 *    with zmm/ymm loads, after streaming E MB of other data (best of 30).
 * 2. The fma and multiply+add peaks on 1 and on 2 threads at once (peak.h,
 *    as mnv3_bench: 12 independent chains per thread with distinct start
 *    values, so the compiler cannot merge them).
 * 3. The cost of one hand-off of the fast kernels' thread pool (2 threads,
 *    empty work), which every fused step pays once per image. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "kernels/fast/fast.h"

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* sum of n floats (n a multiple of 64), four independent partial sums */
static float read_all(const float *p, size_t n) {
    float s[4][16] = {{0}};
    for (size_t i = 0; i < n; i += 64)
        for (int k = 0; k < 4; k++)
            for (int l = 0; l < 16; l++) s[k][l] += p[i + 16 * (size_t)k + (size_t)l];
    float t = 0;
    for (int k = 0; k < 4; k++)
        for (int l = 0; l < 16; l++) t += s[k][l];
    return t;
}

static void bandwidth(int size_mb, int evict_mb) {
    const size_t n = (size_t)size_mb << 18, ne = ((size_t)evict_mb << 18) + 64;
    float *a = malloc(n * sizeof *a), *e = malloc(ne * sizeof *e);
    if (!a || !e) {
        free(a), free(e);
        return;
    }
    for (size_t i = 0; i < n; i++) a[i] = 1.0f;
    for (size_t i = 0; i < ne; i++) e[i] = 1.0f;
    double best = 1e9;
    float sum = 0;
    for (int r = 0; r < 30; r++) {
        if (evict_mb) sum += read_all(e, ne & ~(size_t)63);
        double t = now();
        sum += read_all(a, n);
        t = now() - t;
        if (t < best) best = t;
    }
    printf("  %2d MB after reading %2d MB of other data: %5.1f GB/s%s\n", size_mb, evict_mb,
           (double)n * sizeof *a / best * 1e-9, sum == 0.5f ? " " : ""); /* sum keeps the reads */
    free(a), free(e);
}

#include "peak.h"

typedef struct {
    int mul_add;
    double gmacs;
} peak_arg;

static void *peak_thread(void *p) {
    peak_arg *arg = p;
    arg->gmacs = peak_gmacs(arg->mul_add);
    return NULL;
}

static void peaks(void) {
    for (int mul_add = 0; mul_add <= 1; mul_add++) {
        peak_arg one = {mul_add, 0}, two[2] = {{mul_add, 0}, {mul_add, 0}};
        peak_thread(&one);
        if (one.gmacs == 0) {
            printf("  (no AVX-512 or AVX2 here: peaks not measured)\n");
            return;
        }
        pthread_t id;
        int started = pthread_create(&id, NULL, peak_thread, &two[1]) == 0;
        peak_thread(&two[0]);
        if (started) pthread_join(id, NULL);
        printf("  %-16s 1 thread %5.1f GMAC/s; 2 threads %5.1f + %5.1f\n",
               mul_add ? "multiply + add:" : "fma:", one.gmacs, two[0].gmacs, two[1].gmacs);
    }
}

static void nothing(void *ctx, int thread, int begin, int end) {
    (void)ctx, (void)thread, (void)begin, (void)end;
}

static void handoff(void) {
    fast_threads *p = fast_threads_create(2);
    if (!p) return;
    double best = 1e9;
    for (int r = 0; r < 20; r++) {
        double t = now();
        for (int i = 0; i < 1000; i++) fast_threads_run(p, 64, nothing, NULL);
        t = (now() - t) / 1000;
        if (t < best) best = t;
    }
    printf("  fast_threads_run, 2 threads, empty work: %.2f us per hand-off\n", best * 1e6);
    fast_threads_free(p);
}

int main(void) {
    printf("one core's read bandwidth:\n");
    static const int cases[][2] = {{1, 0}, {2, 0}, {4, 0}, {6, 0}, {6, 4}, {6, 16}, {6, 64}, {64, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) bandwidth(cases[i][0], cases[i][1]);
    printf("peak multiply-accumulates (independent vector chains):\n");
    peaks();
    printf("thread pool:\n");
    handoff();
    return 0;
}
