/* Fast kernels for x86 AVX2 + FMA (8 lanes), selected at run time. */
#include "kernels/fast/fast.h"

#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

#define FAST_FN __attribute__((target("avx2,fma")))
typedef __m256 V;
typedef __m256i M;
#define FAST_INLINE inline __attribute__((always_inline))
#define VL 8
#define FAST_POINTWISE_VECTORS_PER_TILE 2
#define FAST_SPATIAL_VECTORS_PER_ROW 4
#define FAST_MATVEC_VECTORS_PER_BLOCK 4
/* blocked kernels: positions per 1x1 tile of 1..6 channel blocks (groups of at
 * most FAST_BLOCKED_POINTWISE_MAX_BLOCKS); positions per k x k block */
#define FAST_BLOCKED_POINTWISE_POSITIONS_1 12
#define FAST_BLOCKED_POINTWISE_POSITIONS_2 6
#define FAST_BLOCKED_POINTWISE_POSITIONS_3 4
#define FAST_BLOCKED_POINTWISE_POSITIONS_4 2
#define FAST_BLOCKED_POINTWISE_POSITIONS_5 2
#define FAST_BLOCKED_POINTWISE_POSITIONS_6 2
#define FAST_BLOCKED_POINTWISE_MAX_BLOCKS 4
#define FAST_BLOCKED_SPATIAL_POSITIONS 7
#define FAST_DEPTHWISE_ROW_IN_REGISTERS 0 /* registers for a depthwise row of inputs */
#define FAST_ISA_NAME "avx2"
#define FAST_ISA_GETTER fast_isa_avx2

static inline FAST_FN M vmask(int n) {
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}
static inline FAST_FN V vset1(float x) { return _mm256_set1_ps(x); }
static inline FAST_FN V vloadu(const float *p) { return _mm256_loadu_ps(p); }
static inline FAST_FN void vstoreu(float *p, V v) { _mm256_storeu_ps(p, v); }
static inline FAST_FN V vloadm(const float *p, M m, int n) {
    return n == VL ? _mm256_loadu_ps(p) : _mm256_maskload_ps(p, m);
}
static inline FAST_FN void vstorem(float *p, V v, M m, int n) {
    if (n == VL) _mm256_storeu_ps(p, v);
    else _mm256_maskstore_ps(p, m, v);
}
static inline FAST_FN V vadd(V a, V b) { return _mm256_add_ps(a, b); }
static inline FAST_FN V vsub(V a, V b) { return _mm256_sub_ps(a, b); }
static inline FAST_FN V vmul(V a, V b) { return _mm256_mul_ps(a, b); }
static inline FAST_FN V vdiv(V a, V b) { return _mm256_div_ps(a, b); }
static inline FAST_FN V vfma(V a, V b, V c) { return _mm256_fmadd_ps(a, b, c); }
static inline FAST_FN V vfms(V a, V b, V c) { return _mm256_fmsub_ps(a, b, c); }   /* a*b - c */
static inline FAST_FN V vfnma(V a, V b, V c) { return _mm256_fnmadd_ps(a, b, c); } /* c - a*b */
/* every lane 0 or 2^-125 <= |y| < inf (where fast_div6 is exact) */
static inline FAST_FN int vdiv6_ok(V y) {
    const __m256i a = _mm256_and_si256(_mm256_castps_si256(y), _mm256_set1_epi32(0x7fffffff));
    const __m256i in = _mm256_and_si256(_mm256_cmpgt_epi32(a, _mm256_set1_epi32(0x00ffffff)),
                                        _mm256_cmpgt_epi32(_mm256_set1_epi32(0x7f800000), a));
    const __m256i ok = _mm256_or_si256(in, _mm256_cmpeq_epi32(a, _mm256_setzero_si256()));
    return _mm256_movemask_ps(_mm256_castsi256_ps(ok)) == 0xFF;
}
#define FAST_DIV6_FMA 1
/* maxps/minps return the second operand when the first is NaN: fmaxf(x, k). */
static inline FAST_FN V vmax(V a, V b) { return _mm256_max_ps(a, b); }
static inline FAST_FN V vmin(V a, V b) { return _mm256_min_ps(a, b); }
static inline FAST_FN V vrelu(V a) { return _mm256_max_ps(a, _mm256_setzero_ps()); }

static inline FAST_FN V vevens(V a, V b) {
    const __m256i idx = _mm256_setr_epi32(0, 2, 4, 6, 1, 3, 5, 7);
    V pa = _mm256_permutevar8x32_ps(a, idx), pb = _mm256_permutevar8x32_ps(b, idx);
    return _mm256_permute2f128_ps(pa, pb, 0x20);
}

#include "kernels/fast/fast_template.h"
#else
const fast_isa *fast_isa_avx2(void) { return 0; }
#endif
