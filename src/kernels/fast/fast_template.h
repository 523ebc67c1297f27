/* Fast kernels, written once over a small vector vocabulary and compiled per
 * instruction set. The including file defines:
 *   FAST_FN             attributes of every function (target("avx2,fma"), ...)
 *   FAST_INLINE         forced inlining of the helpers
 *   V, VL               vector type and lanes; M: a lane mask made by vmask(n)
 *   vset1 vloadu vstoreu vloadm vstorem vadd vsub vmul vdiv vfma vmax vmin
 *   vrelu               x > 0 ? x : 0 (0 for NaN and -0, as the reference)
 *   vevens(a, b)        lanes 0, 2, 4, .. of the concatenation a:b (2 VL lanes)
 *   FAST_PV, FAST_SB, FAST_MB   register blocking (vectors per tile)
 *   FAST_ISA_NAME, FAST_ISA_GETTER
 * vfma(a, b, c) is one fused multiply-add; every other operation rounds once,
 * as the reference's scalar code does under -ffp-contract=off. vmax/vmin
 * return their second operand when the first is NaN, as fmaxf/fminf do for
 * the constant second operands used here. */
#include "kernels/fast/fast.h"

#include <stdint.h>

#define FAST_PB (FAST_PV * VL) /* positions per pointwise tile */

/* Complete unrolling of the register-tile loops (fixed trip counts), so the
 * accumulators live in registers at -O2 as well. */
#if defined(__clang__)
#define FAST_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define FAST_UNROLL _Pragma("GCC unroll 32")
#else
#define FAST_UNROLL
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

/* Stores n lanes of channel co at idx through bias, BatchNorm, activation and
 * residual add, each stage stored where asked. */
static FAST_INLINE FAST_FN void fast_epi(const fast_epilogue *e, int co, size_t idx, V v, int n) {
    M m = vmask(n);
    if (e->bias_mode == FAST_BIAS_SEPARATE_ADD) v = vadd(v, vset1(e->bias[co]));
    if (e->y_conv) vstorem(e->y_conv + idx, v, m, n);
    if (e->bn >= 0) {
        V a = vset1(e->bn_a[co]);
        switch (e->bn) {
        case MNV3_BN_APPLY_FMA: v = vfma(v, a, vset1(e->bn_c[co])); break;
        case MNV3_BN_APPLY_SUBTRACT_FIRST:
            v = vadd(vmul(vsub(v, vset1(e->bn_mean[co])), a), vset1(e->bn_b[co]));
            break;
        default: v = vadd(vmul(v, a), vset1(e->bn_c[co])); break;
        }
        if (e->y_bn) vstorem(e->y_bn + idx, v, m, n);
    }
    if (e->act != FAST_ACT_NONE) {
        v = fast_act(v, e->act, e->act_option);
        if (e->y_act) vstorem(e->y_act + idx, v, m, n);
    }
    if (e->skip) {
        v = vadd(vloadm(e->skip + idx, m, n), v);
        vstorem(e->y_add + idx, v, m, n);
    }
}

/* ---- 1x1 convolution: tile of FAST_POINTWISE_CHANNELS_PER_TILE channels x FAST_PB positions --- */

static FAST_INLINE FAST_FN void fast_pw_tile(const fast_pointwise_args *a, int p0, int cb,
                                             const int NV) {
    const int plane = a->plane, cin = a->cin, co0 = cb * FAST_POINTWISE_CHANNELS_PER_TILE;
    int np = plane - p0 < NV * VL ? plane - p0 : NV * VL;
    int nl[FAST_PV];
    M ml[FAST_PV];
    FAST_UNROLL for (int u = 0; u < NV; u++) {
        int r = np - u * VL;
        nl[u] = r <= 0 ? 0 : r >= VL ? VL : r;
        ml[u] = vmask(nl[u]);
    }
    V acc[FAST_POINTWISE_CHANNELS_PER_TILE][FAST_PV];
    FAST_UNROLL for (int j = 0; j < FAST_POINTWISE_CHANNELS_PER_TILE; j++) {
        float init = 0.0f;
        if (a->epi.bias_mode == FAST_BIAS_IN_ACCUMULATOR && co0 + j < a->cout)
            init = a->epi.bias[co0 + j];
        FAST_UNROLL for (int u = 0; u < NV; u++) acc[j][u] = vset1(init);
    }
    const float *w = a->wpack + (size_t)cb * (size_t)cin * FAST_POINTWISE_CHANNELS_PER_TILE;
    const float *x = a->in + p0;
    const int full = np == NV * VL;
#define FAST_PW_LOOP(UPDATE)                                                                  \
    for (int ci = 0; ci < cin; ci++, x += plane, w += FAST_POINTWISE_CHANNELS_PER_TILE) {                          \
        V xv[FAST_PV];                                                                        \
        if (full)                                                                             \
            FAST_UNROLL for (int u = 0; u < NV; u++) xv[u] = vloadu(x + u * VL);                     \
        else                                                                                  \
            FAST_UNROLL for (int u = 0; u < NV; u++) xv[u] = vloadm(x + u * VL, ml[u], nl[u]);       \
        FAST_UNROLL for (int j = 0; j < FAST_POINTWISE_CHANNELS_PER_TILE; j++) {                                               \
            V wv = vset1(w[j]);                                                               \
            FAST_UNROLL for (int u = 0; u < NV; u++) acc[j][u] = UPDATE;                             \
        }                                                                                     \
    }
    if (a->use_fma) FAST_PW_LOOP(vfma(wv, xv[u], acc[j][u]))
    else FAST_PW_LOOP(vadd(acc[j][u], vmul(wv, xv[u])))
#undef FAST_PW_LOOP
    V res[FAST_POINTWISE_CHANNELS_PER_TILE][FAST_PV]; /* acc indexed by constants only: registers */
    FAST_UNROLL for (int j = 0; j < FAST_POINTWISE_CHANNELS_PER_TILE; j++)
        FAST_UNROLL for (int u = 0; u < NV; u++) res[j][u] = acc[j][u];
    for (int j = 0; j < FAST_POINTWISE_CHANNELS_PER_TILE && co0 + j < a->cout; j++)
        for (int u = 0; u < NV; u++)
            if (nl[u] > 0)
                fast_epi(&a->epi, co0 + j, (size_t)(co0 + j) * (size_t)plane + (size_t)(p0 + u * VL),
                         res[j][u], nl[u]);
}

/* One function per tile width: each gets its own register allocation (clang
 * spills the tiles when several widths share one function). */
#if defined(__GNUC__) || defined(__clang__)
#define FAST_NOINLINE __attribute__((noinline))
#else
#define FAST_NOINLINE
#endif
#define FAST_PW_RUN(NAME, NV)                                                                 \
    static FAST_NOINLINE FAST_FN void NAME(const fast_pointwise_args *a, int p0, int cb0,     \
                                           int cb1) {                                         \
        for (int cb = cb0; cb < cb1; cb++) fast_pw_tile(a, p0, cb, (NV));                     \
    }
FAST_PW_RUN(fast_pw_run_full, FAST_PV)
#if FAST_PV > 1
FAST_PW_RUN(fast_pw_run_1, 1)
#endif
#if FAST_PV > 2
FAST_PW_RUN(fast_pw_run_2, 2)
#endif
#if FAST_PV > 3
FAST_PW_RUN(fast_pw_run_3, 3)
#endif
#undef FAST_PW_RUN

/* Position blocks [pb0, pb1) x channel blocks [cb0, cb1), positions outer so
 * the input block stays in cache while the channels sweep over it. The last
 * block computes only the vectors it needs (196 = 3 x 64 + 4). */
static FAST_FN void fast_pointwise(const fast_pointwise_args *a, int pb0, int pb1, int cb0,
                                   int cb1) {
    for (int pb = pb0; pb < pb1; pb++) {
        const int rest = a->plane - pb * FAST_PB, p0 = pb * FAST_PB;
#if defined(__clang__) /* narrower tail tiles made clang 1.4x slower overall: not used */
        const int nv = FAST_PV;
        (void)rest;
#else
        const int nv = rest >= FAST_PB ? FAST_PV : (rest + VL - 1) / VL;
#endif
        if (nv == FAST_PV) fast_pw_run_full(a, p0, cb0, cb1);
#if FAST_PV > 1
        else if (nv == 1) fast_pw_run_1(a, p0, cb0, cb1);
#endif
#if FAST_PV > 2
        else if (nv == 2) fast_pw_run_2(a, p0, cb0, cb1);
#endif
#if FAST_PV > 3
        else if (nv == 3) fast_pw_run_3(a, p0, cb0, cb1);
#endif
        else fast_pw_run_full(a, p0, cb0, cb1);
    }
}

/* ---- k x k convolution, one output channel, rows [oy0, oy1) ------------- */

/* C output channels from a->co (the first a->nco valid; the others repeat the
 * last one and are not stored) x R output rows from oy0 (the first nr valid;
 * the others repeat row oy0 + nr - 1 and are not stored) x NV vectors from
 * ox0. C, R and NV are constants at each call, so the C * R * NV accumulators
 * stay in registers, their independent chains hide the fma latency and each
 * input load feeds C channels. Every accumulator still receives its taps in
 * the reference's order. */
static FAST_INLINE FAST_FN void fast_sp_block(const fast_spatial_args *a, int oy0, int nr,
                                              int ox0, const int C, const int R, const int NV) {
    const int k = a->k, kk = k * k, s = a->stride, ow = a->out_w;
    const size_t plane = (size_t)a->out_h * (size_t)ow;
    const int per = a->cin_group * kk;
    float init[FAST_SPATIAL_CHANNELS_PER_BLOCK];
    const float *wch[FAST_SPATIAL_CHANNELS_PER_BLOCK];
    FAST_UNROLL for (int j = 0; j < C; j++) {
        int c = a->co + (j < a->nco ? j : a->nco - 1);
        init[j] = a->epi.bias_mode == FAST_BIAS_IN_ACCUMULATOR ? a->epi.bias[c] : 0.0f;
        wch[j] = a->weight + (size_t)(j < a->nco ? j : a->nco - 1) * (size_t)per;
    }
    int nl[FAST_SB];
    M ml[FAST_SB];
    int full = 1;
    for (int u = 0; u < NV; u++) {
        int r = ow - ox0 - u * VL;
        nl[u] = r <= 0 ? 0 : r >= VL ? VL : r;
        ml[u] = vmask(nl[u]);
        full &= nl[u] == VL;
    }
    size_t roff[8];
    FAST_UNROLL for (int r = 0; r < R; r++)
        roff[r] = (size_t)((oy0 + (r < nr ? r : nr - 1)) * s) * (size_t)a->row_stride;
    V acc[FAST_SPATIAL_CHANNELS_PER_BLOCK][8][FAST_SB];
    FAST_UNROLL for (int j = 0; j < C; j++)
        FAST_UNROLL for (int r = 0; r < R; r++)
            FAST_UNROLL for (int u = 0; u < NV; u++) acc[j][r][u] = vset1(init[j]);
#define FAST_SP_TAP(UPDATE)                                                                   \
    do {                                                                                      \
        const float *base = a->padded + (size_t)ci * a->plane_stride +                       \
                            (size_t)ky * (size_t)a->row_stride + (size_t)a->col_off[kx] +     \
                            (size_t)ox0;                                                      \
        V wv[FAST_SPATIAL_CHANNELS_PER_BLOCK];                                                                      \
        FAST_UNROLL for (int j = 0; j < C; j++) wv[j] = vset1(wch[j][ci * kk + ky * k + kx]); \
        if (full)                                                                             \
            FAST_UNROLL for (int r = 0; r < R; r++)                                           \
                FAST_UNROLL for (int u = 0; u < NV; u++) {                                    \
                    V xv = vloadu(base + roff[r] + u * VL);                                   \
                    FAST_UNROLL for (int j = 0; j < C; j++) acc[j][r][u] = UPDATE;            \
                }                                                                             \
        else                                                                                  \
            FAST_UNROLL for (int r = 0; r < R; r++)                                           \
                FAST_UNROLL for (int u = 0; u < NV; u++) {                                    \
                    V xv = vloadm(base + roff[r] + u * VL, ml[u], nl[u]);                     \
                    FAST_UNROLL for (int j = 0; j < C; j++) acc[j][r][u] = UPDATE;            \
                }                                                                             \
    } while (0)
    if (a->order_fma) {
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int ci = 0; ci < a->cin_group; ci++)
                    FAST_SP_TAP(vfma(xv, wv[j], acc[j][r][u]));
    } else {
        for (int ci = 0; ci < a->cin_group; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) FAST_SP_TAP(vadd(acc[j][r][u], vmul(xv, wv[j])));
    }
#undef FAST_SP_TAP
    V res[FAST_SPATIAL_CHANNELS_PER_BLOCK][8][FAST_SB]; /* acc indexed by constants only: registers */
    FAST_UNROLL for (int j = 0; j < C; j++)
        FAST_UNROLL for (int r = 0; r < R; r++)
            FAST_UNROLL for (int u = 0; u < NV; u++) res[j][r][u] = acc[j][r][u];
    for (int j = 0; j < C && j < a->nco; j++)
        for (int r = 0; r < nr; r++)
            for (int u = 0; u < NV; u++)
                if (nl[u] > 0)
                    fast_epi(&a->epi, a->co + j,
                             (size_t)(a->co + j) * plane + (size_t)(oy0 + r) * (size_t)ow +
                                 (size_t)(ox0 + u * VL),
                             res[j][r][u], nl[u]);
}

/* Flattened small maps: output (oy, ox) is lane q = oy * P + ox of the padded
 * plane's row-major order (P = stride x row stride), so every tap is one
 * contiguous load of NV vectors, and a 7x7 map takes 5 vectors of 16 instead
 * of 7 or 8 rows of one. Lanes between rows are computed and dropped. Raw sums
 * go to tmp (exact copies); the epilogue then runs per output row. */
#define FAST_FLAT_MAX 256 /* lanes */
static FAST_INLINE FAST_FN void fast_sp_flat(const fast_spatial_args *a, int q0, int L, float *tmp,
                                             const int NV) {
    const int k = a->k, kk = k * k, rs = a->row_stride;
    const float init = a->epi.bias_mode == FAST_BIAS_IN_ACCUMULATOR ? a->epi.bias[a->co] : 0.0f;
    const int nlast = L - q0 - (NV - 1) * VL < VL ? L - q0 - (NV - 1) * VL : VL;
    const M mlast = vmask(nlast);
    V acc[8];
    FAST_UNROLL for (int u = 0; u < NV; u++) acc[u] = vset1(init);
#define FAST_FLAT_TAP(UPDATE)                                                                 \
    do {                                                                                      \
        const float *base = a->padded + (size_t)ci * a->plane_stride +                       \
                            (size_t)ky * (size_t)rs + (size_t)a->col_off[kx] + (size_t)q0;   \
        V wv = vset1(a->weight[ci * kk + ky * k + kx]);                                       \
        FAST_UNROLL for (int u = 0; u < NV; u++) {                                            \
            V xv = u < NV - 1 ? vloadu(base + u * VL) : vloadm(base + u * VL, mlast, nlast);  \
            acc[u] = UPDATE;                                                                  \
        }                                                                                     \
    } while (0)
    if (a->order_fma) {
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int ci = 0; ci < a->cin_group; ci++) FAST_FLAT_TAP(vfma(xv, wv, acc[u]));
    } else {
        for (int ci = 0; ci < a->cin_group; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) FAST_FLAT_TAP(vadd(acc[u], vmul(xv, wv)));
    }
#undef FAST_FLAT_TAP
    FAST_UNROLL for (int u = 0; u < NV; u++) {
        if (u < NV - 1) vstoreu(tmp + q0 + u * VL, acc[u]);
        else vstorem(tmp + q0 + u * VL, acc[u], mlast, nlast);
    }
}

/* Lanes of the flattened map when it needs fewer vectors than the row blocks
 * (and fits FAST_FLAT_MAX), else 0. */
static FAST_INLINE FAST_FN int fast_flat_lanes(const fast_spatial_args *a) {
    const int oh = a->out_h, ow = a->out_w;
    const int L = (oh - 1) * a->stride * a->row_stride + ow;
    const int nvr = (ow + VL - 1) / VL;
    const int rows = nvr >= FAST_SB ? oh : ((oh + 1) / 2) * 2; /* rows computed, at least */
    if (L > FAST_FLAT_MAX || VL == 1) return 0;
    return (L + VL - 1) / VL < rows * nvr ? L : 0;
}

static FAST_INLINE FAST_FN void fast_spatial_flat(const fast_spatial_args *a, int L) {
    float tmp[FAST_FLAT_MAX + 16];
    for (int q0 = 0; q0 < L; q0 += 8 * VL) {
        switch ((L - q0 + VL - 1) / VL) {
        case 1: fast_sp_flat(a, q0, L, tmp, 1); break;
        case 2: fast_sp_flat(a, q0, L, tmp, 2); break;
        case 3: fast_sp_flat(a, q0, L, tmp, 3); break;
        case 4: fast_sp_flat(a, q0, L, tmp, 4); break;
        case 5: fast_sp_flat(a, q0, L, tmp, 5); break;
        case 6: fast_sp_flat(a, q0, L, tmp, 6); break;
        case 7: fast_sp_flat(a, q0, L, tmp, 7); break;
        default: fast_sp_flat(a, q0, L, tmp, 8); break;
        }
    }
    const int ow = a->out_w, P = a->stride * a->row_stride;
    const size_t plane = (size_t)a->out_h * (size_t)ow;
    for (int oy = 0; oy < a->out_h; oy++)
        for (int ox = 0; ox < ow; ox += VL) {
            const int n = ow - ox < VL ? ow - ox : VL;
            const M m = vmask(n);
            fast_epi(&a->epi, a->co, (size_t)a->co * plane + (size_t)oy * (size_t)ow + (size_t)ox,
                     vloadm(tmp + oy * P + ox, m, n), n);
        }
}

/* NV vectors per row chunk, R rows per block with R * NV about 8 (one
 * channel) or C * R * NV about 16 (FAST_SPATIAL_CHANNELS_PER_BLOCK channels). */
#if FAST_SB >= 8
#define FAST_SP_RB 1
#else
#define FAST_SP_RB 2
#endif
#define FAST_SP_ROWS(C, NV, R)                                                                \
    for (int oy = oy0; oy < oy1; oy += (R))                                                   \
        fast_sp_block(a, oy, oy1 - oy < (R) ? oy1 - oy : (R), ox0, (C), (R), (NV))

static FAST_FN void fast_spatial_rows(const fast_spatial_args *a, int oy0, int oy1) {
    const int ow = a->out_w;
    if (a->nco == 1 && oy0 == 0 && oy1 == a->out_h) {
        const int L = fast_flat_lanes(a);
        if (L > 0) {
            fast_spatial_flat(a, L);
            return;
        }
    }
    for (int ox0 = 0; ox0 < ow;) {
        int nv = (ow - ox0 + VL - 1) / VL;
        if (a->nco > 1) { /* channel blocks (full convolutions) */
            if (nv >= FAST_SB) {
                FAST_SP_ROWS(FAST_SPATIAL_CHANNELS_PER_BLOCK, FAST_SB, 1);
                nv = FAST_SB;
            }
#if FAST_SB > 2
            else if (nv >= 2) {
                FAST_SP_ROWS(FAST_SPATIAL_CHANNELS_PER_BLOCK, 2, 2);
                nv = 2;
            }
#endif
            else {
                FAST_SP_ROWS(FAST_SPATIAL_CHANNELS_PER_BLOCK, 1, 4);
                nv = 1;
            }
        } else if (nv >= FAST_SB) {
            FAST_SP_ROWS(1, FAST_SB, FAST_SP_RB);
            nv = FAST_SB;
        }
#if FAST_SB > 3
        else if (nv >= 3) {
            FAST_SP_ROWS(1, 3, 2);
            nv = 3;
        }
#endif
#if FAST_SB > 2
        else if (nv >= 2) {
            FAST_SP_ROWS(1, 2, 4);
            nv = 2;
        }
#endif
        else if (oy1 - oy0 == 7 || oy1 - oy0 == 14) { /* 7 x 7, 14 x 14: no row wasted */
            FAST_SP_ROWS(1, 1, 7);
            nv = 1;
        } else {
            FAST_SP_ROWS(1, 1, 8);
            nv = 1;
        }
        ox0 += nv * VL;
    }
}
#undef FAST_SP_ROWS

/* ---- matrix-vector: outputs [o0, o1), o0 a multiple of FAST_MB * VL ------ */

/* One block of outputs [o, o + NV * VL) (NV <= FAST_MB vectors: the last
 * block of a layer is packed only as wide as its outputs need). */
static FAST_INLINE FAST_FN void fast_mv_block(const fast_matvec_args *a, int o, int o_end,
                                              const int NV) {
    const fast_epilogue *e = &a->epi;
    int nl[FAST_MB];
    M ml[FAST_MB];
    V acc[FAST_MB];
    FAST_UNROLL for (int u = 0; u < NV; u++) {
        int r = o_end - o - u * VL;
        nl[u] = r <= 0 ? 0 : r >= VL ? VL : r;
        ml[u] = vmask(nl[u]);
        acc[u] = e->bias_mode == FAST_BIAS_IN_ACCUMULATOR ? vloadm(e->bias + o + u * VL, ml[u], nl[u])
                                                          : vset1(0.0f);
    }
    const float *w = a->wt + (size_t)o * (size_t)a->n_in; /* earlier blocks are full width */
#define FAST_MV_LOOP(UPDATE)                                                                  \
    for (int i = 0; i < a->n_in; i++, w += NV * VL) {                                         \
        V xv = vset1(a->x[i]);                                                                \
        FAST_UNROLL for (int u = 0; u < NV; u++) {                                            \
            V wv = vloadu(w + u * VL);                                                        \
            acc[u] = UPDATE;                                                                  \
        }                                                                                     \
    }
    if (a->use_fma) FAST_MV_LOOP(vfma(wv, xv, acc[u]))
    else FAST_MV_LOOP(vadd(acc[u], vmul(wv, xv)))
#undef FAST_MV_LOOP
    FAST_UNROLL for (int u = 0; u < NV; u++) {
        if (nl[u] == 0) continue;
        size_t at = (size_t)(o + u * VL);
        V v = acc[u];
        if (e->bias_mode == FAST_BIAS_SEPARATE_ADD) v = vadd(v, vloadm(e->bias + at, ml[u], nl[u]));
        if (e->y_conv) vstorem(e->y_conv + at, v, ml[u], nl[u]);
        if (e->act != FAST_ACT_NONE) {
            v = fast_act(v, e->act, e->act_option);
            vstorem(e->y_act + at, v, ml[u], nl[u]);
        }
    }
}

static FAST_FN void fast_matvec(const fast_matvec_args *a, int o0, int o1) {
    const int end = o1 < a->n_out ? o1 : a->n_out;
    for (int o = o0; o < end; o += FAST_MB * VL) {
        const int nv = a->n_out - o >= FAST_MB * VL ? FAST_MB : (a->n_out - o + VL - 1) / VL;
        switch (nv) {
#if FAST_MB > 1
        case 1: fast_mv_block(a, o, end, 1); break;
#endif
#if FAST_MB > 2
        case 2: fast_mv_block(a, o, end, 2); break;
#endif
#if FAST_MB > 3
        case 3: fast_mv_block(a, o, end, 3); break;
#endif
#if FAST_MB > 4
        case 4: fast_mv_block(a, o, end, 4); break;
        case 5: fast_mv_block(a, o, end, 5); break;
        case 6: fast_mv_block(a, o, end, 6); break;
        case 7: fast_mv_block(a, o, end, 7); break;
#endif
#if FAST_MB > 8
#error "fast_matvec: add cases for FAST_MB > 8"
#endif
        default: fast_mv_block(a, o, end, FAST_MB); break;
        }
    }
}

/* ---- x[c, :] * gate[c] --------------------------------------------------- */

static FAST_FN void fast_scale_channels(const float *x, const float *gate, float *out, int c0,
                                        int c1, int plane) {
    for (int c = c0; c < c1; c++) {
        const float *xc = x + (size_t)c * (size_t)plane;
        float *oc = out + (size_t)c * (size_t)plane;
        V g = vset1(gate[c]);
        int i = 0;
        for (; i + VL <= plane; i += VL) vstoreu(oc + i, vmul(vloadu(xc + i), g));
        if (i < plane) {
            M m = vmask(plane - i);
            vstorem(oc + i, vmul(vloadm(xc + i, m, plane - i), g), m, plane - i);
        }
    }
}

/* ---- global average pool, the CASCADE8 order ------------------------------ */

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

/* The reference's cascade8_sum for n >= 8 (src/kernels/reference/conv.c): rows of
 * 32 floats summed by the four-level cascade; the 32 lanes are
 * independent, so they are vectorised with each lane's additions unchanged. */
static FAST_FN float fast_cascade8_sum(const float *x, int64_t n) {
    const int64_t nv = n / 8, s4 = nv / 4;
    const int lp = fast_cascade_lp(s4);
    const int64_t step = (int64_t)1 << lp, mask = step - 1;
    enum { NQ = 32 / VL };
    V acc[4][NQ];
    FAST_UNROLL for (int j = 0; j < 4; j++)
        FAST_UNROLL for (int u = 0; u < NQ; u++) acc[j][u] = vset1(0.0f);
    int64_t i = 0;
    while (i + step <= s4) {
        for (int64_t t = 0; t < step; t++, i++)
            FAST_UNROLL for (int u = 0; u < NQ; u++)
                acc[0][u] = vadd(acc[0][u], vloadu(x + i * 32 + u * VL));
        for (int j = 1; j < 4; j++) {
            FAST_UNROLL for (int u = 0; u < NQ; u++) {
                acc[j][u] = vadd(acc[j][u], acc[j - 1][u]);
                acc[j - 1][u] = vset1(0.0f);
            }
            if (i & (mask << (j * lp))) break;
        }
    }
    for (; i < s4; i++)
        FAST_UNROLL for (int u = 0; u < NQ; u++)
            acc[0][u] = vadd(acc[0][u], vloadu(x + i * 32 + u * VL));
    float p[32];
    FAST_UNROLL for (int u = 0; u < NQ; u++) {
        V v = vadd(acc[0][u], acc[1][u]);
        v = vadd(v, acc[2][u]);
        v = vadd(v, acc[3][u]);
        vstoreu(p + u * VL, v);
    }
    for (int64_t r = 4 * s4; r < nv; r++)
        for (int l = 0; l < 8; l++) p[l] += x[r * 8 + l];
    for (int k = 1; k < 4; k++)
        for (int l = 0; l < 8; l++) p[l] += p[k * 8 + l];
    float sum = 0.0f;
    for (int64_t k = 8 * nv; k < n; k++) sum += x[k]; /* scalar tail first */
    for (int l = 0; l < 8; l++) sum += p[l];
    return sum;
}

/* out[c] = sum / plane for channels [c0, c1); plane >= 8 */
static FAST_FN void fast_pool_cascade8(const float *x, int plane, int c0, int c1, float *out) {
    for (int c = c0; c < c1; c++)
        out[c] = fast_cascade8_sum(x + (size_t)c * (size_t)plane, plane) / (float)plane;
}

/* ---- zero-padded copy of one input plane (k x k convolutions) ----------- */

/* Rows of ph x pw (row stride rs); stride 2 rows are stored even columns
 * first, then odd columns, so every tap of the convolution reads contiguous
 * memory. Copies only: the values are the input's bits or +0. */
static FAST_INLINE FAST_FN void fast_zero(float *p, int n) {
    int c = 0;
    for (; c + VL <= n; c += VL) vstoreu(p + c, vset1(0.0f));
    if (c < n) vstorem(p + c, vset1(0.0f), vmask(n - c), n - c);
}

static FAST_FN void fast_pad_plane(const float *x, int ih, int iw, int pt, int pl, int stride,
                                   int ph, int pw, int rs, float *dst) {
    const int ne = (pw + 1) / 2;
    for (int r = 0; r < ph; r++) {
        float *row = dst + (size_t)r * (size_t)rs;
        int iy = r - pt;
        if (iy < 0 || iy >= ih) {
            fast_zero(row, pw);
            continue;
        }
        const float *src = x + (size_t)iy * (size_t)iw;
        if (stride == 1) {
            int left = pl < pw ? pl : pw;
            int copy = iw < pw - left ? iw : pw - left;
            if (copy < 0) copy = 0;
            fast_zero(row, left);
            int j = 0;
            for (; j + VL <= copy; j += VL) vstoreu(row + left + j, vloadu(src + j));
            if (j < copy) {
                M m = vmask(copy - j);
                vstorem(row + left + j, vloadm(src + j, m, copy - j), m, copy - j);
            }
            fast_zero(row + left + copy, pw - left - copy);
        } else {
            /* column c = 2m + par reads ix = c - pl; valid m: [lo, hi) */
            for (int par = 0; par < 2; par++) {
                float *dst_row = row + (par ? ne : 0);
                const int n = par ? pw / 2 : ne, off = par - pl;
                int lo = off >= 0 ? 0 : (-off + 1) / 2;
                int hi = (iw - off + 1) / 2; /* first m with 2m + off >= iw */
                if (hi > n) hi = n;
                if (lo > hi) lo = hi;
                fast_zero(dst_row, lo);
                for (int m = lo; m < hi; m += VL) {
                    const int cnt = hi - m < VL ? hi - m : VL;
                    const float *p = src + 2 * m + off;
                    V va, vb;
                    if (2 * m + off + 2 * VL <= iw) {
                        va = vloadu(p);
                        vb = vloadu(p + VL);
                    } else { /* read only [p, p + 2 cnt - 1): inside the row */
                        const int span = 2 * cnt - 1, na = span < VL ? span : VL;
                        va = vloadm(p, vmask(na), na);
                        vb = vloadm(p + VL, vmask(span - na), span - na);
                    }
                    vstorem(dst_row + m, vevens(va, vb), vmask(cnt), cnt);
                }
                fast_zero(dst_row + hi, n - hi);
            }
        }
    }
}

/* ==== blocked layout (see fast.h): lanes are channels ===================== */

/* Bias, BatchNorm and activation (fast_epi's operations, with per-lane
 * parameters) of n vectors of channels c0.. stored at res, results to out
 * (which may be res); the formulas are chosen once per call, not per vector. */
/* nb channel blocks from channel c0: sums at res + j * rs, results to
 * out + j * os (may equal res), n vectors each. */
#define FAST_CEPI_EACH(EXPR)                                                                  \
    for (int j = 0; j < nb; j++) {                                                            \
        const int cj = c0 + j * VL;                                                           \
        const float *rj = res + (size_t)j * rs;                                               \
        float *oj = out + (size_t)j * os;                                                     \
        const V a = e->bn >= 0 ? vloadu(e->bn_a + cj) : vset1(0.0f);                          \
        const V c = e->bn >= 0 ? vloadu(e->bn_c + cj) : vset1(0.0f);                          \
        const V mean = e->bn == MNV3_BN_APPLY_SUBTRACT_FIRST ? vloadu(e->bn_mean + cj) : vset1(0.0f); \
        const V b = e->bn == MNV3_BN_APPLY_SUBTRACT_FIRST ? vloadu(e->bn_b + cj) : vset1(0.0f);     \
        const V bias = e->bias_mode == FAST_BIAS_SEPARATE_ADD ? vloadu(e->bias + cj) : vset1(0.0f); \
        (void)a, (void)c, (void)mean, (void)b, (void)bias;                                    \
        for (int i = 0; i < n; i++) {                                                         \
            V v = vloadu(rj + (size_t)i * VL);                                                \
            vstoreu(oj + (size_t)i * VL, (EXPR));                                             \
        }                                                                                     \
    }
/* Not inlined: one copy of its 28 loops serves every kernel. */
static FAST_NOINLINE FAST_FN void fast_cepi_nb(const fast_epilogue *e, int c0, const float *res,
                                               size_t rs, float *out, size_t os, int n, int nb) {
    if (e->bias_mode == FAST_BIAS_SEPARATE_ADD) {
        FAST_CEPI_EACH(vadd(v, bias))
        res = out, rs = os;
    }
    /* BatchNorm and activation in one pass: one loop per (formula, activation) */
#define FAST_CEPI_ACT(BN)                                                                     \
    switch (e->act) {                                                                         \
    case FAST_ACT_RELU: FAST_CEPI_EACH(vrelu(BN)) break;                                      \
    case FAST_ACT_HSWISH:                                                                     \
        switch (e->act_option) {                                                              \
        case MNV3_HSWISH_X_MUL_C_DIV6: FAST_CEPI_EACH(fast_hswish(BN, MNV3_HSWISH_X_MUL_C_DIV6)) break; \
        case MNV3_HSWISH_X_MUL_C_RECIP6:                                                      \
            FAST_CEPI_EACH(fast_hswish(BN, MNV3_HSWISH_X_MUL_C_RECIP6)) break;                \
        case MNV3_HSWISH_XC_MUL_RECIP6: FAST_CEPI_EACH(fast_hswish(BN, MNV3_HSWISH_XC_MUL_RECIP6)) break; \
        case MNV3_HSWISH_X_MUL_CLAMP_FMA:                                                     \
            FAST_CEPI_EACH(fast_hswish(BN, MNV3_HSWISH_X_MUL_CLAMP_FMA)) break;               \
        default: FAST_CEPI_EACH(fast_hswish(BN, MNV3_HSWISH_XC_DIV6)) break;                  \
        }                                                                                     \
        break;                                                                                \
    case FAST_ACT_HSIG: FAST_CEPI_EACH(fast_hsig(BN, e->act_option)) break;                   \
    default: FAST_CEPI_EACH(BN) break;                                                        \
    }
    switch (e->bn) {
    case FAST_BN_NONE:
        if (e->act != FAST_ACT_NONE || res != out) FAST_CEPI_ACT(v)
        break;
    case MNV3_BN_APPLY_FMA: FAST_CEPI_ACT(vfma(v, a, c)) break;
    case MNV3_BN_APPLY_SUBTRACT_FIRST: FAST_CEPI_ACT(vadd(vmul(vsub(v, mean), a), b)) break;
    default: FAST_CEPI_ACT(vadd(vmul(v, a), c)) break;
    }
#undef FAST_CEPI_ACT
}

static FAST_INLINE FAST_FN void fast_cepi_to(const fast_epilogue *e, int c0, float *res,
                                             float *out, int n) {
    fast_cepi_nb(e, c0, res, 0, out, 0, n, 1);
}

static FAST_INLINE FAST_FN void fast_cepi_run(const fast_epilogue *e, int c0, float *res, int n) {
    fast_cepi_to(e, c0, res, res, n);
}
#undef FAST_CEPI_EACH

static FAST_INLINE FAST_FN V fast_cinit(const fast_epilogue *e, int c0) {
    return e->bias_mode == FAST_BIAS_IN_ACCUMULATOR ? vloadu(e->bias + c0) : vset1(0.0f);
}

/* Offset of output position (y, x) in a channel block of d, or -1 when a
 * padded plane clips it. */
static FAST_INLINE FAST_FN ptrdiff_t fast_cdst_at(const fast_cdst *d, int y, int x, int out_w) {
    if (!d->pw) return ((ptrdiff_t)y * out_w + x) * VL;
    y += d->pt, x += d->pl;
    if (y >= d->ph || x >= d->pw) return -1;
    return ((ptrdiff_t)y * d->pw + x) * VL;
}

/* ---- 1x1 convolution: NB channel blocks x P positions -------------------- */

/* Epilogue and store of nr outputs of row oy from ox0 (channel block cb),
 * their sums in res (k x k convolutions). */
static FAST_INLINE FAST_FN void fast_crow_out(const fast_epilogue *e, const fast_cdst *d, int out_w,
                                              int cb, int oy, int ox0, float (*res)[VL], int nr) {
    const ptrdiff_t first = fast_cdst_at(d, oy, ox0, out_w);
    if (first >= 0 && fast_cdst_at(d, oy, ox0 + nr - 1, out_w) >= 0) { /* one unclipped run */
        fast_cepi_to(e, cb * VL, res[0], d->data + (size_t)cb * d->cbs + first, nr);
        return;
    }
    fast_cepi_run(e, cb * VL, res[0], nr);
    for (int r = 0; r < nr; r++) {
        const ptrdiff_t at = fast_cdst_at(d, oy, ox0 + r, out_w);
        if (at >= 0) vstoreu(d->data + (size_t)cb * d->cbs + at, vloadu(res[r]));
    }
}

/* One tile function per width: fast_cpw_tile.h with FAST_CPW_NB and
 * FAST_CPW_P set, so the accumulator array has its exact constant size (an
 * oversized array stays in memory under clang). */
#define FAST_CPW_NB 1
#define FAST_CPW_P FAST_CP1
#include "kernels/fast/fast_cpw_tile.h"
#define FAST_CPW_NB 2
#define FAST_CPW_P FAST_CP2
#include "kernels/fast/fast_cpw_tile.h"
#define FAST_CPW_NB 3
#define FAST_CPW_P FAST_CP3
#include "kernels/fast/fast_cpw_tile.h"
#define FAST_CPW_NB 4
#define FAST_CPW_P FAST_CP4
#include "kernels/fast/fast_cpw_tile.h"
#if FAST_CPW_MAXNB > 4
#define FAST_CPW_NB 5
#define FAST_CPW_P FAST_CP5
#include "kernels/fast/fast_cpw_tile.h"
#define FAST_CPW_NB 6
#define FAST_CPW_P FAST_CP6
#include "kernels/fast/fast_cpw_tile.h"
#endif

/* Items: groups of up to FAST_CPW_MAXNB channel blocks (the last group
 * smaller), each over all position tiles of its width. */
static FAST_FN int fast_cpw_width(int nb) {
    static const int p[7] = {0, FAST_CP1, FAST_CP2, FAST_CP3, FAST_CP4, FAST_CP5, FAST_CP6};
    return p[nb];
}
static FAST_FN int fast_cpw_tiles(const fast_cpw_args *a, int nb) {
    return (a->plane + fast_cpw_width(nb) - 1) / fast_cpw_width(nb);
}
static FAST_FN int fast_cpointwise_items(const fast_cpw_args *a) {
    const int groups = (a->ncb + FAST_CPW_MAXNB - 1) / FAST_CPW_MAXNB;
    const int last = a->ncb - FAST_CPW_MAXNB * (groups - 1);
    return (groups - 1) * fast_cpw_tiles(a, FAST_CPW_MAXNB) + fast_cpw_tiles(a, last);
}
static FAST_FN void fast_cpointwise(const fast_cpw_args *a, int item0, int item1) {
    const int full = fast_cpw_tiles(a, FAST_CPW_MAXNB);
    while (item0 < item1) {
        const int g = item0 / full, cb0 = FAST_CPW_MAXNB * g;
        const int nb = a->ncb - cb0 < FAST_CPW_MAXNB ? a->ncb - cb0 : FAST_CPW_MAXNB;
        const int t0 = item0 - g * full, tiles = fast_cpw_tiles(a, nb);
        const int t1 = t0 + (item1 - item0) < tiles ? t0 + (item1 - item0) : tiles;
        switch (nb) {
        case 1: fast_cpw_run_1(a, cb0, t0, t1); break;
        case 2: fast_cpw_run_2(a, cb0, t0, t1); break;
        case 3: fast_cpw_run_3(a, cb0, t0, t1); break;
#if FAST_CPW_MAXNB > 4
        case 5: fast_cpw_run_5(a, cb0, t0, t1); break;
        case 6: fast_cpw_run_6(a, cb0, t0, t1); break;
#endif
        default: fast_cpw_run_4(a, cb0, t0, t1); break;
        }
        item0 += t1 - t0;
    }
}

/* ---- depthwise k x k: FAST_CR positions of one row per block ------------- */

static FAST_INLINE FAST_FN void fast_cdw_block(const fast_cdw_args *a, int cb, int oy, int ox0,
                                               int nr) {
    const int k = a->k, s = a->stride;
    const float *w = a->wpack + (size_t)cb * (size_t)(k * k) * VL;
    const float *in = a->in + (size_t)cb * a->in_cbs + (size_t)oy * (size_t)s * (size_t)a->in_pw * VL;
    int off[FAST_CR];
    FAST_UNROLL for (int r = 0; r < FAST_CR; r++) off[r] = (ox0 + (r < nr ? r : nr - 1)) * s * VL;
    V acc[FAST_CR];
    const V init = fast_cinit(&a->epi, cb * VL);
    FAST_UNROLL for (int r = 0; r < FAST_CR; r++) acc[r] = init;
#define FAST_CDW_LOOP(UPDATE)                                                                 \
    for (int ky = 0; ky < k; ky++, in += (size_t)a->in_pw * VL)                               \
        for (int kx = 0; kx < k; kx++) {                                                      \
            const V wv = vloadu(w + (ky * k + kx) * VL);                                      \
            FAST_UNROLL for (int r = 0; r < FAST_CR; r++) {                                   \
                const V xv = vloadu(in + off[r] + kx * VL);                                   \
                acc[r] = UPDATE;                                                              \
            }                                                                                 \
        }
    if (a->order_fma) FAST_CDW_LOOP(vfma(xv, wv, acc[r]))
    else FAST_CDW_LOOP(vadd(acc[r], vmul(xv, wv)))
#undef FAST_CDW_LOOP
    float res[FAST_CR][VL];
    FAST_UNROLL for (int r = 0; r < FAST_CR; r++) vstoreu(res[r], acc[r]);
    fast_crow_out(&a->epi, &a->dst, a->out_w, cb, oy, ox0, res, nr);
}

#if FAST_CDW_ROWS
#define FAST_CDW_K 3
#define FAST_CDW_S 1
#include "kernels/fast/fast_cdw_rows.h"
#define FAST_CDW_K 3
#define FAST_CDW_S 2
#include "kernels/fast/fast_cdw_rows.h"
#define FAST_CDW_K 5
#define FAST_CDW_S 1
#include "kernels/fast/fast_cdw_rows.h"
#define FAST_CDW_K 5
#define FAST_CDW_S 2
#include "kernels/fast/fast_cdw_rows.h"
#endif

static FAST_FN void fast_cdepthwise(const fast_cdw_args *a, int item0, int item1) {
#if FAST_CDW_ROWS
    void (*rows)(const fast_cdw_args *, int, int, int) = NULL;
    if (a->k == 3) rows = a->stride == 1 ? fast_cdw_rows_3_1 : a->stride == 2 ? fast_cdw_rows_3_2 : NULL;
    if (a->k == 5) rows = a->stride == 1 ? fast_cdw_rows_5_1 : a->stride == 2 ? fast_cdw_rows_5_2 : NULL;
#endif
    for (int it = item0; it < item1; it++) {
        const int cb = it / a->out_h, oy = it % a->out_h;
        for (int ox0 = 0; ox0 < a->out_w; ox0 += FAST_CR) {
            const int nr = a->out_w - ox0 < FAST_CR ? a->out_w - ox0 : FAST_CR;
#if FAST_CDW_ROWS
            if (rows && nr == FAST_CR) {
                rows(a, cb, oy, ox0);
                continue;
            }
#endif
            fast_cdw_block(a, cb, oy, ox0, nr);
        }
    }
}

/* ---- full k x k convolution (stem): planar padded input ------------------ */

/* FAST_CR outputs of row oy from ox0 (nr valid). Interior blocks (every tap
 * inside the input) read the planes directly, with K and CIN constants in the
 * stem's instance (3 x 3 over 3 channels); border blocks read +0 for taps in
 * the padding. Each accumulator gets its taps in the reference's order. */
static FAST_INLINE FAST_FN void fast_cfull_block(const fast_cfull_args *a, int cb, int oy,
                                                 int ox0, int nr, const int K, const int CIN,
                                                 const int interior) {
    const int kk = K * K, s = a->stride, ih = a->in_h, iw = a->in_w;
    const size_t plane = (size_t)ih * (size_t)iw;
    const float *w = a->wpack + (size_t)cb * (size_t)(CIN * kk) * VL;
    const int iy0 = oy * s - a->pad_top, ix0 = ox0 * s - a->pad_left;
    int off[FAST_CR];
    FAST_UNROLL for (int r = 0; r < FAST_CR; r++) off[r] = (r < nr ? r : nr - 1) * s;
    V acc[FAST_CR];
    const V init = fast_cinit(&a->epi, cb * VL);
    FAST_UNROLL for (int r = 0; r < FAST_CR; r++) acc[r] = init;
#define FAST_CFULL_TAP(UPDATE)                                                                \
    do {                                                                                      \
        const V wv = vloadu(w + (ci * kk + ky * K + kx) * VL);                                \
        const int iy = iy0 + ky;                                                              \
        const float *x = a->in + (size_t)ci * plane + (ptrdiff_t)iy * iw + ix0 + kx;          \
        if (interior) {                                                                       \
            FAST_UNROLL for (int r = 0; r < FAST_CR; r++) {                                   \
                const V xv = vset1(x[r * s]);                                                 \
                acc[r] = UPDATE;                                                              \
            }                                                                                 \
        } else {                                                                              \
            FAST_UNROLL for (int r = 0; r < FAST_CR; r++) {                                   \
                const int ix = ix0 + kx + off[r];                                             \
                const V xv = iy >= 0 && iy < ih && ix >= 0 && ix < iw ? vset1(x[off[r]])      \
                                                                      : vset1(0.0f);          \
                acc[r] = UPDATE;                                                              \
            }                                                                                 \
        }                                                                                     \
    } while (0)
    if (a->order_fma) {
        for (int ky = 0; ky < K; ky++)
            for (int kx = 0; kx < K; kx++)
                for (int ci = 0; ci < CIN; ci++) FAST_CFULL_TAP(vfma(xv, wv, acc[r]));
    } else {
        for (int ci = 0; ci < CIN; ci++)
            for (int ky = 0; ky < K; ky++)
                for (int kx = 0; kx < K; kx++) FAST_CFULL_TAP(vadd(acc[r], vmul(xv, wv)));
    }
#undef FAST_CFULL_TAP
    float res[FAST_CR][VL];
    FAST_UNROLL for (int r = 0; r < FAST_CR; r++) vstoreu(res[r], acc[r]);
    fast_crow_out(&a->epi, &a->dst, a->out_w, cb, oy, ox0, res, nr);
}

/* Every tap of outputs [ox0, ox0 + nr) of row oy inside the input? */
static FAST_INLINE FAST_FN int fast_cfull_inside(const fast_cfull_args *a, int oy, int ox0, int nr) {
    const int s = a->stride, iy0 = oy * s - a->pad_top, ix0 = ox0 * s - a->pad_left;
    return nr == FAST_CR && iy0 >= 0 && iy0 + a->k <= a->in_h && ix0 >= 0 &&
           ix0 + (nr - 1) * s + a->k <= a->in_w;
}

static FAST_NOINLINE FAST_FN void fast_cfull_rows_33(const fast_cfull_args *a, int cb, int oy) {
    for (int ox0 = 0; ox0 < a->out_w; ox0 += FAST_CR) {
        const int nr = a->out_w - ox0 < FAST_CR ? a->out_w - ox0 : FAST_CR;
        if (fast_cfull_inside(a, oy, ox0, nr)) fast_cfull_block(a, cb, oy, ox0, nr, 3, 3, 1);
        else fast_cfull_block(a, cb, oy, ox0, nr, 3, 3, 0);
    }
}

static FAST_NOINLINE FAST_FN void fast_cfull_rows(const fast_cfull_args *a, int cb, int oy) {
    for (int ox0 = 0; ox0 < a->out_w; ox0 += FAST_CR) {
        const int nr = a->out_w - ox0 < FAST_CR ? a->out_w - ox0 : FAST_CR;
        fast_cfull_block(a, cb, oy, ox0, nr, a->k, a->cin, 0);
    }
}

static FAST_FN void fast_cfull(const fast_cfull_args *a, int item0, int item1) {
    for (int it = item0; it < item1; it++) {
        const int cb = it / a->out_h, oy = it % a->out_h;
        if (a->k == 3 && a->cin == 3) fast_cfull_rows_33(a, cb, oy);
        else fast_cfull_rows(a, cb, oy);
    }
}

/* ---- global pooling: the reference's orders with a vector per element ---- */

static FAST_FN V fast_cpairwise(const float *x, size_t n) {
    if (n <= 2) return n == 0 ? vset1(0.0f) : n == 1 ? vloadu(x) : vadd(vloadu(x), vloadu(x + VL));
    const size_t half = n / 2;
    return vadd(fast_cpairwise(x, half), fast_cpairwise(x + half * VL, n - half));
}

/* The reference's cascade_rows / cascade_row_sum / cascade8_sum (kernels/reference/
 * conv.c), element e being the vector at x + e * VL. */
static FAST_FN void fast_ccascade(const float *x, int64_t size, int m, V *out) {
    const int lp = fast_cascade_lp(size);
    const int64_t step = (int64_t)1 << lp, mask = step - 1;
    if (size < step) { /* no level ever cascades: levels 1-3 stay +0 */
        for (int q = 0; q < m; q++) {
            V v = vset1(0.0f);
            for (int64_t i = 0; i < size; i++) v = vadd(v, vloadu(x + (i * m + q) * VL));
            out[q] = vadd(v, vset1(0.0f)); /* ((v + 0) + 0) + 0 = v + 0, -0 included */
        }
        return;
    }
    V acc[4][32];
    for (int j = 0; j < 4; j++)
        for (int q = 0; q < m; q++) acc[j][q] = vset1(0.0f);
    int64_t i = 0;
    while (i + step <= size) {
        for (int64_t t = 0; t < step; t++, i++)
            for (int q = 0; q < m; q++) acc[0][q] = vadd(acc[0][q], vloadu(x + (i * m + q) * VL));
        for (int j = 1; j < 4; j++) {
            for (int q = 0; q < m; q++) {
                acc[j][q] = vadd(acc[j][q], acc[j - 1][q]);
                acc[j - 1][q] = vset1(0.0f);
            }
            if (i & (mask << (j * lp))) break;
        }
    }
    for (; i < size; i++)
        for (int q = 0; q < m; q++) acc[0][q] = vadd(acc[0][q], vloadu(x + (i * m + q) * VL));
    for (int q = 0; q < m; q++) {
        V v = vadd(acc[0][q], acc[1][q]);
        v = vadd(v, acc[2][q]);
        out[q] = vadd(v, acc[3][q]);
    }
}

static FAST_FN void fast_crow_sum(const float *x, int64_t size, int width, V *out) {
    V p[32];
    const int64_t s4 = size / 4;
    fast_ccascade(x, s4, 4 * width, p);
    for (int64_t i = 4 * s4; i < size; i++)
        for (int l = 0; l < width; l++) p[l] = vadd(p[l], vloadu(x + (i * width + l) * VL));
    for (int k = 1; k < 4; k++)
        for (int l = 0; l < width; l++) p[l] = vadd(p[l], p[k * width + l]);
    for (int l = 0; l < width; l++) out[l] = p[l];
}

static FAST_FN V fast_ccascade8_sum(const float *x, int64_t n) {
    if (n == 1) return vloadu(x);
    V s;
    if (n < 8) {
        fast_crow_sum(x, n, 1, &s);
        return s;
    }
    V lanes[8];
    const int64_t nv = n / 8;
    fast_crow_sum(x, nv, 8, lanes);
    s = vset1(0.0f);
    for (int64_t k = 8 * nv; k < n; k++) s = vadd(s, vloadu(x + k * VL));
    for (int l = 0; l < 8; l++) s = vadd(s, lanes[l]);
    return s;
}

static FAST_FN void fast_cpool(const float *x, size_t cbs, int plane, int order, int channels,
                               int cb0, int cb1, float *out) {
    for (int cb = cb0; cb < cb1; cb++) {
        const float *xc = x + (size_t)cb * cbs;
        V sum;
        if (order == MNV3_POOL_ORDER_CASCADE8) sum = fast_ccascade8_sum(xc, plane);
        else if (order == MNV3_POOL_ORDER_PAIRWISE) sum = fast_cpairwise(xc, (size_t)plane);
        else {
            sum = vset1(0.0f);
            for (int i = 0; i < plane; i++) sum = vadd(sum, vloadu(xc + (size_t)i * VL));
        }
        const int n = channels - cb * VL < VL ? channels - cb * VL : VL;
        vstorem(out + (size_t)cb * VL, vdiv(sum, vset1((float)plane)), vmask(n), n);
    }
}

/* Zero border of a padded blocked plane (one vector per position): rows
 * outside [pt, pt + ih), columns outside [pl, pl + iw), of every block. */
static FAST_FN void fast_czero_border(float *data, size_t cbs, int ncb, int ph, int pw, int pt,
                                      int pl, int ih, int iw) {
    const V z = vset1(0.0f);
    const int left = pl < pw ? pl : pw, right = pl + iw < pw ? pl + iw : pw;
    for (int cb = 0; cb < ncb; cb++)
        for (int r = 0; r < ph; r++) {
            float *row = data + (size_t)cb * cbs + (size_t)r * (size_t)pw * VL;
            const int inside = r >= pt && r < pt + ih;
            for (int c = 0; c < (inside ? left : pw); c++) vstoreu(row + (size_t)c * VL, z);
            if (inside)
                for (int c = right; c < pw; c++) vstoreu(row + (size_t)c * VL, z);
        }
}

static FAST_FN void fast_cscale(const float *x, const float *gate, float *out, int channels,
                                int plane, int v0, int v1) {
    for (int v = v0; v < v1;) {
        const int cb = v / plane, end = (cb + 1) * plane < v1 ? (cb + 1) * plane : v1;
        const int n = channels - cb * VL < VL ? channels - cb * VL : VL;
        const V g = vloadm(gate + (size_t)cb * VL, vmask(n), n);
        for (; v < end; v++) vstoreu(out + (size_t)v * VL, vmul(vloadu(x + (size_t)v * VL), g));
    }
}

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
    static const fast_isa isa = {FAST_ISA_NAME, VL, FAST_PB, FAST_MB * VL, fast_pointwise, fast_spatial_rows,
                                 fast_matvec, fast_scale_channels, fast_pad_plane, fast_pool_cascade8,
                                 fast_cpointwise, fast_cpointwise_items, fast_cdepthwise, fast_cfull,
                                 fast_cpool, fast_cscale, fast_czero_border, fast_nhwc3_planar,
                                 fast_div6_array};
    return &isa;
}
