/* fast_blocked.h: the channel-blocked kernel family, part of fast_template.h
 * (compiled once per instruction set; see there for the vector vocabulary).
 * Maps are [C/VL][H][W][VL] (fast.h, "blocked layout"); a vector holds VL
 * channels of one position. The tile bodies are fast_cpw_tile.h (1x1) and
 * fast_cdw_rows.h (depthwise rows in registers). */

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
    y += d->pad_top, x += d->pad_left;
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
#define FAST_CPW_P FAST_BLOCKED_POINTWISE_POSITIONS_1
#include "kernels/fast/fast_cpw_tile.h"
#define FAST_CPW_NB 2
#define FAST_CPW_P FAST_BLOCKED_POINTWISE_POSITIONS_2
#include "kernels/fast/fast_cpw_tile.h"
#define FAST_CPW_NB 3
#define FAST_CPW_P FAST_BLOCKED_POINTWISE_POSITIONS_3
#include "kernels/fast/fast_cpw_tile.h"
#define FAST_CPW_NB 4
#define FAST_CPW_P FAST_BLOCKED_POINTWISE_POSITIONS_4
#include "kernels/fast/fast_cpw_tile.h"
#if FAST_BLOCKED_POINTWISE_MAX_BLOCKS > 4
#define FAST_CPW_NB 5
#define FAST_CPW_P FAST_BLOCKED_POINTWISE_POSITIONS_5
#include "kernels/fast/fast_cpw_tile.h"
#define FAST_CPW_NB 6
#define FAST_CPW_P FAST_BLOCKED_POINTWISE_POSITIONS_6
#include "kernels/fast/fast_cpw_tile.h"
#endif

/* Items: groups of up to FAST_BLOCKED_POINTWISE_MAX_BLOCKS channel blocks (the last group
 * smaller), each over all position tiles of its width. */
static FAST_FN int fast_cpw_width(int nb) {
    static const int p[7] = {0, FAST_BLOCKED_POINTWISE_POSITIONS_1, FAST_BLOCKED_POINTWISE_POSITIONS_2, FAST_BLOCKED_POINTWISE_POSITIONS_3, FAST_BLOCKED_POINTWISE_POSITIONS_4, FAST_BLOCKED_POINTWISE_POSITIONS_5, FAST_BLOCKED_POINTWISE_POSITIONS_6};
    return p[nb];
}
static FAST_FN int fast_cpw_tiles(const fast_cpw_args *a, int nb) {
    return (a->plane + fast_cpw_width(nb) - 1) / fast_cpw_width(nb);
}
static FAST_FN int fast_cpointwise_items(const fast_cpw_args *a) {
    const int groups = (a->ncb + FAST_BLOCKED_POINTWISE_MAX_BLOCKS - 1) / FAST_BLOCKED_POINTWISE_MAX_BLOCKS;
    const int last = a->ncb - FAST_BLOCKED_POINTWISE_MAX_BLOCKS * (groups - 1);
    return (groups - 1) * fast_cpw_tiles(a, FAST_BLOCKED_POINTWISE_MAX_BLOCKS) + fast_cpw_tiles(a, last);
}
static FAST_FN void fast_cpointwise(const fast_cpw_args *a, int item0, int item1) {
    const int full = fast_cpw_tiles(a, FAST_BLOCKED_POINTWISE_MAX_BLOCKS);
    while (item0 < item1) {
        const int g = item0 / full, cb0 = FAST_BLOCKED_POINTWISE_MAX_BLOCKS * g;
        const int nb = a->ncb - cb0 < FAST_BLOCKED_POINTWISE_MAX_BLOCKS ? a->ncb - cb0 : FAST_BLOCKED_POINTWISE_MAX_BLOCKS;
        const int t0 = item0 - g * full, tiles = fast_cpw_tiles(a, nb);
        const int t1 = t0 + (item1 - item0) < tiles ? t0 + (item1 - item0) : tiles;
        switch (nb) {
        case 1: fast_cpw_run_1(a, cb0, t0, t1); break;
        case 2: fast_cpw_run_2(a, cb0, t0, t1); break;
        case 3: fast_cpw_run_3(a, cb0, t0, t1); break;
#if FAST_BLOCKED_POINTWISE_MAX_BLOCKS > 4
        case 5: fast_cpw_run_5(a, cb0, t0, t1); break;
        case 6: fast_cpw_run_6(a, cb0, t0, t1); break;
#endif
        default: fast_cpw_run_4(a, cb0, t0, t1); break;
        }
        item0 += t1 - t0;
    }
}

/* ---- depthwise k x k: FAST_BLOCKED_SPATIAL_POSITIONS positions of one row per block ------------- */

static FAST_INLINE FAST_FN void fast_cdw_block(const fast_cdw_args *a, int cb, int oy, int ox0,
                                               int nr) {
    const int k = a->k, s = a->stride;
    const float *w = a->wpack + (size_t)cb * (size_t)(k * k) * VL;
    const float *in = a->in + (size_t)cb * a->in_cbs + (size_t)oy * (size_t)s * (size_t)a->in_pw * VL;
    int off[FAST_BLOCKED_SPATIAL_POSITIONS];
    FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) off[r] = (ox0 + (r < nr ? r : nr - 1)) * s * VL;
    V acc[FAST_BLOCKED_SPATIAL_POSITIONS];
    const V init = fast_cinit(&a->epi, cb * VL);
    FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) acc[r] = init;
#define FAST_CDW_LOOP(UPDATE)                                                                 \
    for (int ky = 0; ky < k; ky++, in += (size_t)a->in_pw * VL)                               \
        for (int kx = 0; kx < k; kx++) {                                                      \
            const V wv = vloadu(w + (ky * k + kx) * VL);                                      \
            FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) {                                   \
                const V xv = vloadu(in + off[r] + kx * VL);                                   \
                acc[r] = UPDATE;                                                              \
            }                                                                                 \
        }
    if (a->order_fma) FAST_CDW_LOOP(vfma(xv, wv, acc[r]))
    else FAST_CDW_LOOP(vadd(acc[r], vmul(xv, wv)))
#undef FAST_CDW_LOOP
    float res[FAST_BLOCKED_SPATIAL_POSITIONS][VL];
    FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) vstoreu(res[r], acc[r]);
    fast_crow_out(&a->epi, &a->dst, a->out_w, cb, oy, ox0, res, nr);
}

#if FAST_DEPTHWISE_ROW_IN_REGISTERS
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
#if FAST_DEPTHWISE_ROW_IN_REGISTERS
    void (*rows)(const fast_cdw_args *, int, int, int) = NULL;
    if (a->k == 3) rows = a->stride == 1 ? fast_cdw_rows_3_1 : a->stride == 2 ? fast_cdw_rows_3_2 : NULL;
    if (a->k == 5) rows = a->stride == 1 ? fast_cdw_rows_5_1 : a->stride == 2 ? fast_cdw_rows_5_2 : NULL;
#endif
    for (int it = item0; it < item1; it++) {
        const int cb = it / a->out_h, oy = it % a->out_h;
        for (int ox0 = 0; ox0 < a->out_w; ox0 += FAST_BLOCKED_SPATIAL_POSITIONS) {
            const int nr = a->out_w - ox0 < FAST_BLOCKED_SPATIAL_POSITIONS ? a->out_w - ox0 : FAST_BLOCKED_SPATIAL_POSITIONS;
#if FAST_DEPTHWISE_ROW_IN_REGISTERS
            if (rows && nr == FAST_BLOCKED_SPATIAL_POSITIONS) {
                rows(a, cb, oy, ox0);
                continue;
            }
#endif
            fast_cdw_block(a, cb, oy, ox0, nr);
        }
    }
}

/* ---- full k x k convolution (stem): planar padded input ------------------ */

/* FAST_BLOCKED_SPATIAL_POSITIONS outputs of row oy from ox0 (nr valid). Interior blocks (every tap
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
    int off[FAST_BLOCKED_SPATIAL_POSITIONS];
    FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) off[r] = (r < nr ? r : nr - 1) * s;
    V acc[FAST_BLOCKED_SPATIAL_POSITIONS];
    const V init = fast_cinit(&a->epi, cb * VL);
    FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) acc[r] = init;
#define FAST_CFULL_TAP(UPDATE)                                                                \
    do {                                                                                      \
        const V wv = vloadu(w + (ci * kk + ky * K + kx) * VL);                                \
        const int iy = iy0 + ky;                                                              \
        const float *x = a->in + (size_t)ci * plane + (ptrdiff_t)iy * iw + ix0 + kx;          \
        if (interior) {                                                                       \
            FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) {                                   \
                const V xv = vset1(x[r * s]);                                                 \
                acc[r] = UPDATE;                                                              \
            }                                                                                 \
        } else {                                                                              \
            FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) {                                   \
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
    float res[FAST_BLOCKED_SPATIAL_POSITIONS][VL];
    FAST_UNROLL for (int r = 0; r < FAST_BLOCKED_SPATIAL_POSITIONS; r++) vstoreu(res[r], acc[r]);
    fast_crow_out(&a->epi, &a->dst, a->out_w, cb, oy, ox0, res, nr);
}

/* Every tap of outputs [ox0, ox0 + nr) of row oy inside the input? */
static FAST_INLINE FAST_FN int fast_cfull_inside(const fast_cfull_args *a, int oy, int ox0, int nr) {
    const int s = a->stride, iy0 = oy * s - a->pad_top, ix0 = ox0 * s - a->pad_left;
    return nr == FAST_BLOCKED_SPATIAL_POSITIONS && iy0 >= 0 && iy0 + a->k <= a->in_h && ix0 >= 0 &&
           ix0 + (nr - 1) * s + a->k <= a->in_w;
}

static FAST_NOINLINE FAST_FN void fast_cfull_rows_33(const fast_cfull_args *a, int cb, int oy) {
    for (int ox0 = 0; ox0 < a->out_w; ox0 += FAST_BLOCKED_SPATIAL_POSITIONS) {
        const int nr = a->out_w - ox0 < FAST_BLOCKED_SPATIAL_POSITIONS ? a->out_w - ox0 : FAST_BLOCKED_SPATIAL_POSITIONS;
        if (fast_cfull_inside(a, oy, ox0, nr)) fast_cfull_block(a, cb, oy, ox0, nr, 3, 3, 1);
        else fast_cfull_block(a, cb, oy, ox0, nr, 3, 3, 0);
    }
}

static FAST_NOINLINE FAST_FN void fast_cfull_rows(const fast_cfull_args *a, int cb, int oy) {
    for (int ox0 = 0; ox0 < a->out_w; ox0 += FAST_BLOCKED_SPATIAL_POSITIONS) {
        const int nr = a->out_w - ox0 < FAST_BLOCKED_SPATIAL_POSITIONS ? a->out_w - ox0 : FAST_BLOCKED_SPATIAL_POSITIONS;
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
 * outside [pad_top, pad_top + ih), columns outside [pad_left, pad_left + iw), of every block. */
static FAST_FN void fast_czero_border(float *data, size_t cbs, int ncb, int ph, int pw, int pad_top,
                                      int pad_left, int ih, int iw) {
    const V z = vset1(0.0f);
    const int left = pad_left < pw ? pad_left : pw, right = pad_left + iw < pw ? pad_left + iw : pw;
    for (int cb = 0; cb < ncb; cb++)
        for (int r = 0; r < ph; r++) {
            float *row = data + (size_t)cb * cbs + (size_t)r * (size_t)pw * VL;
            const int inside = r >= pad_top && r < pad_top + ih;
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
