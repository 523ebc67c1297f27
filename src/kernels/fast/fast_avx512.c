/* Fast kernels for x86 AVX-512F (16 lanes, masked tails), selected at run time. */
#include "kernels/fast/fast.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FAST_FN __attribute__((target("avx512f,avx2,fma")))
typedef __m512 V;
typedef __mmask16 M;
#define FAST_INLINE inline __attribute__((always_inline))
#define VL 16
#define FAST_POINTWISE_VECTORS_PER_TILE 4
#define FAST_SPATIAL_VECTORS_PER_ROW 4
#define FAST_MATVEC_VECTORS_PER_BLOCK 4
/* blocked kernels: positions per 1x1 tile of 1..6 channel blocks (groups of at
 * most FAST_BLOCKED_POINTWISE_MAX_BLOCKS); positions per k x k block */
#define FAST_BLOCKED_POINTWISE_POSITIONS_1 24
#define FAST_BLOCKED_POINTWISE_POSITIONS_2 12
#define FAST_BLOCKED_POINTWISE_POSITIONS_3 8
#define FAST_BLOCKED_POINTWISE_POSITIONS_4 6
#define FAST_BLOCKED_POINTWISE_POSITIONS_5 4
#define FAST_BLOCKED_POINTWISE_POSITIONS_6 4
#define FAST_BLOCKED_POINTWISE_MAX_BLOCKS 6
#define FAST_BLOCKED_SPATIAL_POSITIONS 7
#define FAST_DEPTHWISE_ROW_IN_REGISTERS 1 /* registers for a depthwise row of inputs */
#define FAST_ISA_NAME "avx512"
#define FAST_ISA_GETTER fast_isa_avx512

static inline FAST_FN M vmask(int n) { return (M)((1u << n) - 1u); }
static inline FAST_FN V vset1(float x) { return _mm512_set1_ps(x); }
static inline FAST_FN V vloadu(const float *p) { return _mm512_loadu_ps(p); }
static inline FAST_FN void vstoreu(float *p, V v) { _mm512_storeu_ps(p, v); }
static inline FAST_FN V vloadm(const float *p, M m, int n) {
    (void)n;
    return _mm512_maskz_loadu_ps(m, p);
}
static inline FAST_FN void vstorem(float *p, V v, M m, int n) {
    (void)n;
    _mm512_mask_storeu_ps(p, m, v);
}
static inline FAST_FN V vadd(V a, V b) { return _mm512_add_ps(a, b); }
static inline FAST_FN V vsub(V a, V b) { return _mm512_sub_ps(a, b); }
static inline FAST_FN V vmul(V a, V b) { return _mm512_mul_ps(a, b); }
static inline FAST_FN V vdiv(V a, V b) { return _mm512_div_ps(a, b); }
static inline FAST_FN V vfma(V a, V b, V c) { return _mm512_fmadd_ps(a, b, c); }
static inline FAST_FN V vfms(V a, V b, V c) { return _mm512_fmsub_ps(a, b, c); }   /* a*b - c */
static inline FAST_FN V vfnma(V a, V b, V c) { return _mm512_fnmadd_ps(a, b, c); } /* c - a*b */
/* every lane 0 or 2^-125 <= |y| < inf (where fast_div6 is exact) */
static inline FAST_FN int vdiv6_ok(V y) {
    const __m512i a = _mm512_and_si512(_mm512_castps_si512(y), _mm512_set1_epi32(0x7fffffff));
    const __mmask16 ok =
        _mm512_cmplt_epu32_mask(_mm512_sub_epi32(a, _mm512_set1_epi32(0x01000000)),
                                _mm512_set1_epi32(0x7f800000 - 0x01000000)) |
        _mm512_testn_epi32_mask(a, a);
    return ok == 0xFFFF;
}
#define FAST_DIV6_FMA 1
/* maxps/minps return the second operand when the first is NaN: fmaxf(x, k). */
static inline FAST_FN V vmax(V a, V b) { return _mm512_max_ps(a, b); }
static inline FAST_FN V vmin(V a, V b) { return _mm512_min_ps(a, b); }
static inline FAST_FN V vrelu(V a) { return _mm512_max_ps(a, _mm512_setzero_ps()); }

static inline FAST_FN V vevens(V a, V b) {
    return _mm512_permutex2var_ps(
        a, _mm512_setr_epi32(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30), b);
}

/* c[k] = channel k of the 16 pixels at p (48 floats, NHWC with 3 channels):
 * element 3i + k, first from a|b (indices < 32), then the rest from d */
#define FAST_HAS_DEINT3 1
static inline FAST_FN void vdeint3(const float *p, V c[3]) {
    static const int ab[3][16] = {{0, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 0, 0, 0, 0, 0},
                                  {1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31, 0, 0, 0, 0, 0},
                                  {2, 5, 8, 11, 14, 17, 20, 23, 26, 29, 0, 0, 0, 0, 0, 0}};
    static const int td[3][16] = {{0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 17, 20, 23, 26, 29},
                                  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 18, 21, 24, 27, 30},
                                  {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 16, 19, 22, 25, 28, 31}};
    const V a = _mm512_loadu_ps(p), b = _mm512_loadu_ps(p + 16), d = _mm512_loadu_ps(p + 32);
    for (int k = 0; k < 3; k++) {
        const V t = _mm512_permutex2var_ps(a, _mm512_loadu_si512(ab[k]), b);
        c[k] = _mm512_permutex2var_ps(t, _mm512_loadu_si512(td[k]), d);
    }
}

#include "kernels/fast/fast_template.h"
#else
const fast_isa *fast_isa_avx512(void) { return 0; }
#endif
