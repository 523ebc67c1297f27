/* Fast kernels, written once over a small vector vocabulary and compiled per
 * instruction set. The including file defines:
 *   FAST_FN             attributes of every function (target("avx2,fma"), ...)
 *   FAST_INLINE         forced inlining of the helpers
 *   V, VL               vector type and lanes; M: a lane mask made by vmask(n)
 *   vset1 vloadu vstoreu vloadm vstorem vadd vsub vmul vdiv vfma vmax vmin
 *   vrelu               x > 0 ? x : 0 (0 for NaN and -0, as the reference)
 *   FAST_PV, FAST_SB, FAST_MB   register blocking (vectors per tile)
 *   FAST_ISA_NAME, FAST_ISA_GETTER
 * vfma(a, b, c) is one fused multiply-add; every other operation rounds once,
 * as the reference's scalar code does under -ffp-contract=off. vmax/vmin
 * return their second operand when the first is NaN, as fmaxf/fminf do for
 * the constant second operands used here. */
#include "factors/factors.h"
#include "kernels/fast/fast.h"

#define FAST_PB (FAST_PV * VL) /* positions per pointwise tile */

/* Complete unrolling of the register-tile loops (fixed trip counts), so the
 * accumulators live in registers at -O2 as well. */
#if defined(__clang__)
#define FAST_UNROLL _Pragma("unroll")
#elif defined(__GNUC__)
#define FAST_UNROLL _Pragma("GCC unroll 16")
#else
#define FAST_UNROLL
#endif

static FAST_INLINE FAST_FN V fast_hswish(V x, int option) {
    V c = vmin(vmax(vadd(x, vset1(3.0f)), vset1(0.0f)), vset1(6.0f));
    switch (option) {
    case MNV3_HSWISH_X_MUL_C_DIV6: return vmul(x, vdiv(c, vset1(6.0f)));
    case MNV3_HSWISH_X_MUL_C_RECIP6: return vmul(x, vmul(c, vset1(1.0f / 6.0f)));
    case MNV3_HSWISH_XC_MUL_RECIP6: return vmul(vmul(x, c), vset1(1.0f / 6.0f));
    case MNV3_HSWISH_X_MUL_CLAMP_FMA:
        return vmul(x, vmin(vmax(vfma(x, vset1(1.0f / 6.0f), vset1(0.5f)), vset1(0.0f)),
                            vset1(1.0f)));
    default: return vdiv(vmul(x, c), vset1(6.0f));
    }
}

static FAST_INLINE FAST_FN V fast_hsig(V x, int option) {
    V c = vmin(vmax(vadd(x, vset1(3.0f)), vset1(0.0f)), vset1(6.0f));
    switch (option) {
    case MNV3_HSIG_MUL_RECIP6: return vmul(c, vset1(1.0f / 6.0f));
    case MNV3_HSIG_MUL_0_16667: return vmul(c, vset1(0.16667f));
    default: return vdiv(c, vset1(6.0f));
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
        case FAST_BN_TORCH_FMA: v = vfma(v, a, vset1(e->bn_c[co])); break;
        case FAST_BN_SUBTRACT_FIRST:
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

/* ---- 1x1 convolution: tile of FAST_PW_COB channels x FAST_PB positions --- */

static FAST_INLINE FAST_FN void fast_pw_tile(const fast_pointwise_args *a, int p0, int cb) {
    const int plane = a->plane, cin = a->cin, co0 = cb * FAST_PW_COB;
    int np = plane - p0 < FAST_PB ? plane - p0 : FAST_PB;
    int nl[FAST_PV];
    M ml[FAST_PV];
    FAST_UNROLL for (int u = 0; u < FAST_PV; u++) {
        int r = np - u * VL;
        nl[u] = r <= 0 ? 0 : r >= VL ? VL : r;
        ml[u] = vmask(nl[u]);
    }
    V acc[FAST_PW_COB][FAST_PV];
    FAST_UNROLL for (int j = 0; j < FAST_PW_COB; j++) {
        float init = 0.0f;
        if (a->epi.bias_mode == FAST_BIAS_IN_ACCUMULATOR && co0 + j < a->cout)
            init = a->epi.bias[co0 + j];
        FAST_UNROLL for (int u = 0; u < FAST_PV; u++) acc[j][u] = vset1(init);
    }
    const float *w = a->wpack + (size_t)cb * (size_t)cin * FAST_PW_COB;
    const float *x = a->in + p0;
    const int full = np == FAST_PB;
#define FAST_PW_LOOP(UPDATE)                                                                  \
    for (int ci = 0; ci < cin; ci++, x += plane, w += FAST_PW_COB) {                          \
        V xv[FAST_PV];                                                                        \
        if (full)                                                                             \
            FAST_UNROLL for (int u = 0; u < FAST_PV; u++) xv[u] = vloadu(x + u * VL);                     \
        else                                                                                  \
            FAST_UNROLL for (int u = 0; u < FAST_PV; u++) xv[u] = vloadm(x + u * VL, ml[u], nl[u]);       \
        FAST_UNROLL for (int j = 0; j < FAST_PW_COB; j++) {                                               \
            V wv = vset1(w[j]);                                                               \
            FAST_UNROLL for (int u = 0; u < FAST_PV; u++) acc[j][u] = UPDATE;                             \
        }                                                                                     \
    }
    if (a->use_fma) FAST_PW_LOOP(vfma(wv, xv[u], acc[j][u]))
    else FAST_PW_LOOP(vadd(acc[j][u], vmul(wv, xv[u])))
#undef FAST_PW_LOOP
    V res[FAST_PW_COB][FAST_PV]; /* acc indexed by constants only: registers */
    FAST_UNROLL for (int j = 0; j < FAST_PW_COB; j++)
        FAST_UNROLL for (int u = 0; u < FAST_PV; u++) res[j][u] = acc[j][u];
    for (int j = 0; j < FAST_PW_COB && co0 + j < a->cout; j++)
        for (int u = 0; u < FAST_PV; u++)
            if (nl[u] > 0)
                fast_epi(&a->epi, co0 + j, (size_t)(co0 + j) * (size_t)plane + (size_t)(p0 + u * VL),
                         res[j][u], nl[u]);
}

/* Position blocks [pb0, pb1) x channel blocks [cb0, cb1), positions outer so
 * the input block stays in cache while the channels sweep over it. */
static FAST_FN void fast_pointwise(const fast_pointwise_args *a, int pb0, int pb1, int cb0,
                                   int cb1) {
    for (int pb = pb0; pb < pb1; pb++)
        for (int cb = cb0; cb < cb1; cb++) fast_pw_tile(a, pb * FAST_PB, cb);
}

/* ---- k x k convolution, one output channel, rows [oy0, oy1) ------------- */

/* R output rows from oy0 (the first nr valid; the others repeat row
 * oy0 + nr - 1 and are not stored) x NV vectors from ox0. R and NV are
 * constants at each call, so the R * NV accumulators stay in registers and
 * their independent chains hide the fma latency. Every accumulator still
 * receives its taps in the reference's order. */
static FAST_INLINE FAST_FN void fast_sp_block(const fast_spatial_args *a, int oy0, int nr,
                                              int ox0, const int R, const int NV) {
    const int k = a->k, kk = k * k, s = a->stride, ow = a->out_w;
    const size_t plane = (size_t)a->out_h * (size_t)ow;
    const float init = a->epi.bias_mode == FAST_BIAS_IN_ACCUMULATOR ? a->epi.bias[a->co] : 0.0f;
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
    V acc[8][FAST_SB];
    FAST_UNROLL for (int r = 0; r < R; r++)
        FAST_UNROLL for (int u = 0; u < NV; u++) acc[r][u] = vset1(init);
#define FAST_SP_TAP(UPDATE)                                                                   \
    do {                                                                                      \
        const float *base = a->padded + (size_t)ci * a->plane_stride +                       \
                            (size_t)ky * (size_t)a->row_stride + (size_t)a->col_off[kx] +     \
                            (size_t)ox0;                                                      \
        V wv = vset1(a->weight[ci * kk + ky * k + kx]);                                       \
        if (full)                                                                             \
            FAST_UNROLL for (int r = 0; r < R; r++)                                           \
                FAST_UNROLL for (int u = 0; u < NV; u++) {                                    \
                    V xv = vloadu(base + roff[r] + u * VL);                                   \
                    acc[r][u] = UPDATE;                                                       \
                }                                                                             \
        else                                                                                  \
            FAST_UNROLL for (int r = 0; r < R; r++)                                           \
                FAST_UNROLL for (int u = 0; u < NV; u++) {                                    \
                    V xv = vloadm(base + roff[r] + u * VL, ml[u], nl[u]);                     \
                    acc[r][u] = UPDATE;                                                       \
                }                                                                             \
    } while (0)
    if (a->order_fma) {
        for (int ky = 0; ky < k; ky++)
            for (int kx = 0; kx < k; kx++)
                for (int ci = 0; ci < a->cin_group; ci++) FAST_SP_TAP(vfma(xv, wv, acc[r][u]));
    } else {
        for (int ci = 0; ci < a->cin_group; ci++)
            for (int ky = 0; ky < k; ky++)
                for (int kx = 0; kx < k; kx++) FAST_SP_TAP(vadd(acc[r][u], vmul(xv, wv)));
    }
#undef FAST_SP_TAP
    V res[8][FAST_SB]; /* acc indexed by constants only: registers */
    FAST_UNROLL for (int r = 0; r < R; r++)
        FAST_UNROLL for (int u = 0; u < NV; u++) res[r][u] = acc[r][u];
    for (int r = 0; r < nr; r++)
        for (int u = 0; u < NV; u++)
            if (nl[u] > 0)
                fast_epi(&a->epi, a->co,
                         (size_t)a->co * plane + (size_t)(oy0 + r) * (size_t)ow +
                             (size_t)(ox0 + u * VL),
                         res[r][u], nl[u]);
}

/* NV vectors per row chunk, R rows per block with R * NV about 8. */
#if FAST_SB >= 8
#define FAST_SP_RB 1
#else
#define FAST_SP_RB 2
#endif
#define FAST_SP_ROWS(NV, R)                                                                   \
    for (int oy = oy0; oy < oy1; oy += (R))                                                   \
        fast_sp_block(a, oy, oy1 - oy < (R) ? oy1 - oy : (R), ox0, (R), (NV))

static FAST_FN void fast_spatial_rows(const fast_spatial_args *a, int oy0, int oy1) {
    const int ow = a->out_w;
    for (int ox0 = 0; ox0 < ow;) {
        int nv = (ow - ox0 + VL - 1) / VL;
        if (nv >= FAST_SB) {
            FAST_SP_ROWS(FAST_SB, FAST_SP_RB);
            nv = FAST_SB;
        }
#if FAST_SB > 3
        else if (nv >= 3) {
            FAST_SP_ROWS(3, 2);
            nv = 3;
        }
#endif
#if FAST_SB > 2
        else if (nv >= 2) {
            FAST_SP_ROWS(2, 4);
            nv = 2;
        }
#endif
        else {
            FAST_SP_ROWS(1, 8);
            nv = 1;
        }
        ox0 += nv * VL;
    }
}
#undef FAST_SP_ROWS

/* ---- matrix-vector: outputs [o0, o1), o0 a multiple of FAST_MB * VL ------ */

static FAST_FN void fast_matvec(const fast_matvec_args *a, int o0, int o1) {
    const fast_epilogue *e = &a->epi;
    for (int o = o0; o < o1; o += FAST_MB * VL) {
        int nl[FAST_MB];
        M ml[FAST_MB];
        V acc[FAST_MB];
        FAST_UNROLL for (int u = 0; u < FAST_MB; u++) {
            int r = (o1 < a->n_out ? o1 : a->n_out) - o - u * VL;
            nl[u] = r <= 0 ? 0 : r >= VL ? VL : r;
            ml[u] = vmask(nl[u]);
            acc[u] = e->bias_mode == FAST_BIAS_IN_ACCUMULATOR
                         ? vloadm(e->bias + o + u * VL, ml[u], nl[u])
                         : vset1(0.0f);
        }
        const float *w = a->wt + (size_t)o * (size_t)a->n_in; /* block o / (FAST_MB * VL) */
#define FAST_MV_LOOP(UPDATE)                                                                  \
    for (int i = 0; i < a->n_in; i++, w += FAST_MB * VL) {                                    \
        V xv = vset1(a->x[i]);                                                                \
        FAST_UNROLL for (int u = 0; u < FAST_MB; u++) {                                                   \
            V wv = vloadu(w + u * VL);                                                        \
            acc[u] = UPDATE;                                                                  \
        }                                                                                     \
    }
        if (a->use_fma) FAST_MV_LOOP(vfma(wv, xv, acc[u]))
        else FAST_MV_LOOP(vadd(acc[u], vmul(wv, xv)))
#undef FAST_MV_LOOP
        FAST_UNROLL for (int u = 0; u < FAST_MB; u++) {
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

const fast_isa *FAST_ISA_GETTER(void) {
    static const fast_isa isa = {FAST_ISA_NAME, VL, FAST_PB, FAST_MB * VL, fast_pointwise, fast_spatial_rows,
                                 fast_matvec, fast_scale_channels};
    return &isa;
}
