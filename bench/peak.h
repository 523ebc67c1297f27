/* One core's peak multiply-accumulate rate, measured (used by mnv3_bench and
 * machine_probe). Needs now() (seconds, monotonic) defined before inclusion. */
#ifndef MNV3_BENCH_PEAK_H
#define MNV3_BENCH_PEAK_H
#include <stdio.h>
#include <string.h>

/* Independent chains (12: more than latency x throughput) on one core, each
 * step one MAC per lane: an fma, or a multiply then an add (mul_add). */
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define PEAK_CHAINS(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) X(9) X(10) X(11)
#define PEAK_LOOP(T, SET, LANES)                                                               \
    T c = SET(1.0001f), d = SET(-0.0001f);                                                     \
    PEAK_CHAINS(PEAK_DECL_##T)                                                                  \
    double t0 = now(), t = 0;                                                                  \
    long long fmas = 0;                                                                        \
    do {                                                                                       \
        for (int k = 0; k < 100000; k++) { PEAK_CHAINS(PEAK_STEP) }                            \
        __asm__ volatile("" ::: "memory");                                                     \
        fmas += 100000LL * 12;                                                                 \
        t = now() - t0;                                                                        \
    } while (t < 0.3);                                                                         \
    T sum = SET(0.0f);                                                                         \
    PEAK_CHAINS(PEAK_SUM)                                                                      \
    float out[LANES];                                                                          \
    memcpy(out, &sum, sizeof out);                                                             \
    if (out[0] == 12345.0f) fprintf(stderr, "?");                                              \
    return (double)fmas * LANES / t * 1e-9;
#define PEAK_STEP(i) a##i = mul_add ? ADD_(MUL_(a##i, c), d) : FMA_(a##i, c, d);
#define PEAK_SUM(i) sum = ADD_(sum, a##i);
#define PEAK_DECL___m512(i) __m512 a##i = _mm512_set1_ps((float)(i));
#define PEAK_DECL___m256(i) __m256 a##i = _mm256_set1_ps((float)(i));
__attribute__((target("avx512f"))) static double peak_avx512(int mul_add) {
#define FMA_ _mm512_fmadd_ps
#define MUL_ _mm512_mul_ps
#define ADD_ _mm512_add_ps
    PEAK_LOOP(__m512, _mm512_set1_ps, 16)
#undef FMA_
#undef MUL_
#undef ADD_
}
__attribute__((target("avx2,fma"))) static double peak_avx2(int mul_add) {
#define FMA_ _mm256_fmadd_ps
#define MUL_ _mm256_mul_ps
#define ADD_ _mm256_add_ps
    PEAK_LOOP(__m256, _mm256_set1_ps, 8)
#undef FMA_
#undef MUL_
#undef ADD_
}
/* GMAC/s of one core (fma, or multiply + add), 0 if unknown here */
static double peak_gmacs(int mul_add) {
    __builtin_cpu_init();
    if (__builtin_cpu_supports("avx512f")) return peak_avx512(mul_add);
    if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) return peak_avx2(mul_add);
    return 0.0;
}
#else
static double peak_gmacs(int mul_add) { return 0.0 * mul_add; }
#endif

#endif
