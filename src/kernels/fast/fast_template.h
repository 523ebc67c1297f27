/* Fast kernels, written once over a small vector vocabulary and compiled per
 * instruction set. The including file defines:
 *   FAST_FN             attributes of every function (target("avx2,fma"), ...)
 *   FAST_INLINE         forced inlining of the helpers
 *   V, VL               vector type and lanes; M: a lane mask made by vmask(n)
 *   vset1 vloadu vstoreu vloadm vstorem vadd vsub vmul vdiv vfma vmax vmin
 *   vrelu               x > 0 ? x : 0 (0 for NaN and -0, as the reference)
 *   vevens(a, b)        lanes 0, 2, 4, .. of the concatenation a:b (2 VL lanes)
 *   register blocking, in vectors:
 *     FAST_POINTWISE_VECTORS_PER_TILE   positions of a planar 1x1 tile
 *     FAST_SPATIAL_VECTORS_PER_ROW      positions of a k x k block's row chunk
 *     FAST_MATVEC_VECTORS_PER_BLOCK     outputs of a matrix-vector block
 *   blocked kernels, in positions (lanes are channels there):
 *     FAST_BLOCKED_POINTWISE_POSITIONS_1..6  per 1x1 tile of 1..6 channel blocks
 *     FAST_BLOCKED_POINTWISE_MAX_BLOCKS      channel blocks of the widest 1x1 tile
 *     FAST_BLOCKED_SPATIAL_POSITIONS         of one row per depthwise / stem block
 *     FAST_DEPTHWISE_ROW_IN_REGISTERS        1: depthwise 3x3 / 5x5 rows kept in registers
 *   FAST_ISA_NAME, FAST_ISA_GETTER
 * vfma(a, b, c) is one fused multiply-add; every other operation rounds once,
 * as the reference's scalar code does under -ffp-contract=off. vmax/vmin
 * return their second operand when the first is NaN, as fmaxf/fminf do for
 * the constant second operands used here. */
#include "kernels/fast/fast.h"

#include <stdint.h>

#define FAST_POINTWISE_POSITIONS_PER_TILE (FAST_POINTWISE_VECTORS_PER_TILE * VL) /* positions per pointwise tile */

/* Complete unrolling of the register-tile loops (fixed trip counts), so the
 * accumulators live in registers at -O2 as well. */
#if defined(__clang__)
#define FAST_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define FAST_UNROLL _Pragma("GCC unroll 32")
#else
#define FAST_UNROLL
#endif

/* The file is split in two families (fast_planar.h, fast_blocked.h) that
 * share the helpers below. */

/* One function per tile width: each gets its own register allocation (clang
 * spills the tiles when several widths share one function). */
#if defined(__GNUC__) || defined(__clang__)
#define FAST_NOINLINE __attribute__((noinline))
#else
#define FAST_NOINLINE
#endif

/* y / 6 rounded once. Where every lane is 0 or 2^-125 <= |y| < inf, without
 * a division: q = y * f32(1/6), e = q * 6 - y (exact, one fma), then q - e *
 * f32(1/6) rounded once, which equals the correctly rounded y / 6 on that
 * whole range (tests/fast/test_div6.c checks all 2^32 inputs on every ISA).
 * Other vectors (subnormal-range lanes, inf, NaN) divide. */
static FAST_INLINE FAST_FN V fast_div6(V y) {
#if FAST_DIV6_FMA
    if (vdiv6_ok(y)) {
        const V q = vmul(y, vset1(1.0f / 6.0f));
        return vfnma(vfms(q, vset1(6.0f), y), vset1(1.0f / 6.0f), q);
    }
#endif
    return vdiv(y, vset1(6.0f));
}

static FAST_INLINE FAST_FN V fast_hswish(V x, int option) {
    V c = vmin(vmax(vadd(x, vset1(3.0f)), vset1(0.0f)), vset1(6.0f));
    switch (option) {
    case MNV3_HSWISH_X_MUL_C_DIV6: return vmul(x, fast_div6(c));
    case MNV3_HSWISH_X_MUL_C_RECIP6: return vmul(x, vmul(c, vset1(1.0f / 6.0f)));
    case MNV3_HSWISH_XC_MUL_RECIP6: return vmul(vmul(x, c), vset1(1.0f / 6.0f));
    case MNV3_HSWISH_X_MUL_CLAMP_FMA:
        return vmul(x, vmin(vmax(vfma(x, vset1(1.0f / 6.0f), vset1(0.5f)), vset1(0.0f)),
                            vset1(1.0f)));
    default: return fast_div6(vmul(x, c));
    }
}

static FAST_INLINE FAST_FN V fast_hsig(V x, int option) {
    V c = vmin(vmax(vadd(x, vset1(3.0f)), vset1(0.0f)), vset1(6.0f));
    switch (option) {
    case MNV3_HSIG_MUL_RECIP6: return vmul(c, vset1(1.0f / 6.0f));
    case MNV3_HSIG_MUL_0_16667: return vmul(c, vset1(0.16667f));
    default: return fast_div6(c);
    }
}

static FAST_INLINE FAST_FN V fast_act(V v, int act, int option) {
    switch (act) {
    case FAST_ACT_RELU: return vrelu(v);
    case FAST_ACT_HSWISH: return fast_hswish(v, option);
    case FAST_ACT_HSIG: return fast_hsig(v, option);
    default: return v;
    }
}

/* ---- shared by both families ------------------------------------------------ */

/* log2 of the rows between cascade levels of the cascaded row sum over size
 * rows: ceil(log2(size)) / 4, at least 4. */
static FAST_INLINE FAST_FN int fast_cascade_lp(int64_t size) {
    int bits = 0;
    if (size <= 2) bits = 1;
    else
        for (int64_t v = size - 1; v; v >>= 1) bits++;
    bits /= 4;
    return bits < 4 ? 4 : bits;
}

/* The planar family: maps [C][H][W], vectors along positions. */
#include "kernels/fast/fast_planar.h"
/* The channel-blocked family: maps [C/VL][H][W][VL], vectors across channels. */
#include "kernels/fast/fast_blocked.h"

/* NHWC image with 3 channels -> planar [3][plane] for pixels [p0, p1), each
 * value x or, with rescale, the reference's in-model rescaling: x * f32(1/127.5)
 * then + (-1), two roundings. */
static FAST_FN void fast_nhwc3_planar(const float *src, float *dst, size_t plane, int rescale,
                                      size_t p0, size_t p1) {
    const float scale = (float)(1.0 / 127.5), offset = -1.0f;
    const V vs = vset1(scale), vo = vset1(offset);
    size_t p = p0;
#ifdef FAST_HAS_DEINT3
    for (; p + VL <= p1; p += VL) {
        V c[3];
        vdeint3(src + 3 * p, c);
        for (int k = 0; k < 3; k++)
            vstoreu(dst + (size_t)k * plane + p, rescale ? vadd(vmul(c[k], vs), vo) : c[k]);
    }
#else
    (void)vs, (void)vo;
#endif
    for (; p < p1; p++)
        for (int k = 0; k < 3; k++) {
            const float x = src[3 * p + (size_t)k];
            float scaled = x * scale;
            dst[(size_t)k * plane + p] = rescale ? scaled + offset : x;
        }
}

/* out[i] = in[i] / 6 through fast_div6 (for the exhaustive test) */
static FAST_FN void fast_div6_array(const float *in, float *out, int n) {
    int i = 0;
    for (; i + VL <= n; i += VL) vstoreu(out + i, fast_div6(vloadu(in + i)));
    for (; i < n; i++) out[i] = in[i] / 6.0f;
}

const fast_isa *FAST_ISA_GETTER(void) {
    static const fast_isa isa = {FAST_ISA_NAME, VL, FAST_POINTWISE_POSITIONS_PER_TILE, FAST_MATVEC_VECTORS_PER_BLOCK * VL, fast_pointwise, fast_spatial_rows,
                                 fast_matvec, fast_scale_channels, fast_pad_plane, fast_pool_cascade8,
                                 fast_cpointwise, fast_cpointwise_items, fast_cdepthwise, fast_cfull,
                                 fast_cpool, fast_cscale, fast_czero_border, fast_nhwc3_planar,
                                 fast_div6_array};
    return &isa;
}
