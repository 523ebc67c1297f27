/* Fast kernels in portable C: one lane, the same tiling and fusion. */
#include <math.h>

#define FAST_FN
typedef float V;
typedef int M;
#if defined(__GNUC__) || defined(__clang__)
#define FAST_INLINE inline __attribute__((always_inline))
#else
#define FAST_INLINE inline
#endif
#define VL 1
#define FAST_POINTWISE_VECTORS_PER_TILE 8
#define FAST_SPATIAL_VECTORS_PER_ROW 8
#define FAST_MATVEC_VECTORS_PER_BLOCK 8
/* blocked kernels: positions per 1x1 tile of 1..6 channel blocks (groups of at
 * most FAST_BLOCKED_POINTWISE_MAX_BLOCKS); positions per k x k block */
#define FAST_BLOCKED_POINTWISE_POSITIONS_1 8
#define FAST_BLOCKED_POINTWISE_POSITIONS_2 4
#define FAST_BLOCKED_POINTWISE_POSITIONS_3 2
#define FAST_BLOCKED_POINTWISE_POSITIONS_4 2
#define FAST_BLOCKED_POINTWISE_POSITIONS_5 2
#define FAST_BLOCKED_POINTWISE_POSITIONS_6 2
#define FAST_BLOCKED_POINTWISE_MAX_BLOCKS 4
#define FAST_BLOCKED_SPATIAL_POSITIONS 7
#define FAST_DEPTHWISE_ROW_IN_REGISTERS 0 /* registers for a depthwise row of inputs */
#define FAST_ISA_NAME "scalar"
#define FAST_ISA_GETTER fast_isa_scalar

static inline M vmask(int n) { return n; }
static inline V vset1(float x) { return x; }
static inline V vloadu(const float *p) { return *p; }
static inline void vstoreu(float *p, V v) { *p = v; }
static inline V vloadm(const float *p, M m, int n) { (void)n; return m > 0 ? *p : 0.0f; }
static inline void vstorem(float *p, V v, M m, int n) { (void)n; if (m > 0) *p = v; }
static inline V vadd(V a, V b) { return a + b; }
static inline V vsub(V a, V b) { return a - b; }
static inline V vmul(V a, V b) { return a * b; }
static inline V vdiv(V a, V b) { return a / b; }
static inline V vfma(V a, V b, V c) { return fmaf(a, b, c); }
#define FAST_DIV6_FMA 0 /* one division per element is cheap enough here */
static inline V vmax(V a, V b) { return fmaxf(a, b); }
static inline V vmin(V a, V b) { return fminf(a, b); }
static inline V vrelu(V a) { return a > 0.0f ? a : 0.0f; }

static inline V vevens(V a, V b) { (void)b; return a; }

#include "kernels/fast/fast_template.h"
