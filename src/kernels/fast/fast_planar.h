/* fast_planar.h: the planar kernel family, part of fast_template.h (compiled
 * once per instruction set; see there for the vector vocabulary). Maps are
 * [C][H][W]; vectors run along output positions (1x1 and k x k
 * convolutions) or output channels (matrix-vector). */

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

/* ---- 1x1 convolution: tile of FAST_POINTWISE_CHANNELS_PER_TILE channels x FAST_POINTWISE_POSITIONS_PER_TILE positions --- */

static FAST_INLINE FAST_FN void fast_pw_tile(const fast_pointwise_args *a, int p0, int cb,
                                             const int NV) {
    const int plane = a->plane, cin = a->cin, co0 = cb * FAST_POINTWISE_CHANNELS_PER_TILE;
    int np = plane - p0 < NV * VL ? plane - p0 : NV * VL;
    int nl[FAST_POINTWISE_VECTORS_PER_TILE];
    M ml[FAST_POINTWISE_VECTORS_PER_TILE];
    FAST_UNROLL for (int u = 0; u < NV; u++) {
        int r = np - u * VL;
        nl[u] = r <= 0 ? 0 : r >= VL ? VL : r;
        ml[u] = vmask(nl[u]);
    }
    V acc[FAST_POINTWISE_CHANNELS_PER_TILE][FAST_POINTWISE_VECTORS_PER_TILE];
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
        V xv[FAST_POINTWISE_VECTORS_PER_TILE];                                                                        \
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
    V res[FAST_POINTWISE_CHANNELS_PER_TILE][FAST_POINTWISE_VECTORS_PER_TILE]; /* acc indexed by constants only: registers */
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
#define FAST_PW_RUN(NAME, NV)                                                                 \
    static FAST_NOINLINE FAST_FN void NAME(const fast_pointwise_args *a, int p0, int cb0,     \
                                           int cb1) {                                         \
        for (int cb = cb0; cb < cb1; cb++) fast_pw_tile(a, p0, cb, (NV));                     \
    }
FAST_PW_RUN(fast_pw_run_full, FAST_POINTWISE_VECTORS_PER_TILE)
#if FAST_POINTWISE_VECTORS_PER_TILE > 1
FAST_PW_RUN(fast_pw_run_1, 1)
#endif
#if FAST_POINTWISE_VECTORS_PER_TILE > 2
FAST_PW_RUN(fast_pw_run_2, 2)
#endif
#if FAST_POINTWISE_VECTORS_PER_TILE > 3
FAST_PW_RUN(fast_pw_run_3, 3)
#endif
#undef FAST_PW_RUN

/* Position blocks [pb0, pb1) x channel blocks [cb0, cb1), positions outer so
 * the input block stays in cache while the channels sweep over it. The last
 * block computes only the vectors it needs (196 = 3 x 64 + 4). */
static FAST_FN void fast_pointwise(const fast_pointwise_args *a, int pb0, int pb1, int cb0,
                                   int cb1) {
    for (int pb = pb0; pb < pb1; pb++) {
        const int rest = a->plane - pb * FAST_POINTWISE_POSITIONS_PER_TILE, p0 = pb * FAST_POINTWISE_POSITIONS_PER_TILE;
#if defined(__clang__) /* narrower tail tiles made clang 1.4x slower overall: not used */
        const int nv = FAST_POINTWISE_VECTORS_PER_TILE;
        (void)rest;
#else
        const int nv = rest >= FAST_POINTWISE_POSITIONS_PER_TILE ? FAST_POINTWISE_VECTORS_PER_TILE : (rest + VL - 1) / VL;
#endif
        if (nv == FAST_POINTWISE_VECTORS_PER_TILE) fast_pw_run_full(a, p0, cb0, cb1);
#if FAST_POINTWISE_VECTORS_PER_TILE > 1
        else if (nv == 1) fast_pw_run_1(a, p0, cb0, cb1);
#endif
#if FAST_POINTWISE_VECTORS_PER_TILE > 2
        else if (nv == 2) fast_pw_run_2(a, p0, cb0, cb1);
#endif
#if FAST_POINTWISE_VECTORS_PER_TILE > 3
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
    int nl[FAST_SPATIAL_VECTORS_PER_ROW];
    M ml[FAST_SPATIAL_VECTORS_PER_ROW];
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
    V acc[FAST_SPATIAL_CHANNELS_PER_BLOCK][8][FAST_SPATIAL_VECTORS_PER_ROW];
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
    V res[FAST_SPATIAL_CHANNELS_PER_BLOCK][8][FAST_SPATIAL_VECTORS_PER_ROW]; /* acc indexed by constants only: registers */
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
    const int rows = nvr >= FAST_SPATIAL_VECTORS_PER_ROW ? oh : ((oh + 1) / 2) * 2; /* rows computed, at least */
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
#if FAST_SPATIAL_VECTORS_PER_ROW >= 8
#define FAST_SPATIAL_ROWS_PER_BLOCK 1
#else
#define FAST_SPATIAL_ROWS_PER_BLOCK 2
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
            if (nv >= FAST_SPATIAL_VECTORS_PER_ROW) {
                FAST_SP_ROWS(FAST_SPATIAL_CHANNELS_PER_BLOCK, FAST_SPATIAL_VECTORS_PER_ROW, 1);
                nv = FAST_SPATIAL_VECTORS_PER_ROW;
            }
#if FAST_SPATIAL_VECTORS_PER_ROW > 2
            else if (nv >= 2) {
                FAST_SP_ROWS(FAST_SPATIAL_CHANNELS_PER_BLOCK, 2, 2);
                nv = 2;
            }
#endif
            else {
                FAST_SP_ROWS(FAST_SPATIAL_CHANNELS_PER_BLOCK, 1, 4);
                nv = 1;
            }
        } else if (nv >= FAST_SPATIAL_VECTORS_PER_ROW) {
            FAST_SP_ROWS(1, FAST_SPATIAL_VECTORS_PER_ROW, FAST_SPATIAL_ROWS_PER_BLOCK);
            nv = FAST_SPATIAL_VECTORS_PER_ROW;
        }
#if FAST_SPATIAL_VECTORS_PER_ROW > 3
        else if (nv >= 3) {
            FAST_SP_ROWS(1, 3, 2);
            nv = 3;
        }
#endif
#if FAST_SPATIAL_VECTORS_PER_ROW > 2
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

/* ---- matrix-vector: outputs [o0, o1), o0 a multiple of FAST_MATVEC_VECTORS_PER_BLOCK * VL ------ */

/* One block of outputs [o, o + NV * VL) (NV <= FAST_MATVEC_VECTORS_PER_BLOCK vectors: the last
 * block of a layer is packed only as wide as its outputs need). */
static FAST_INLINE FAST_FN void fast_mv_block(const fast_matvec_args *a, int o, int o_end,
                                              const int NV) {
    const fast_epilogue *e = &a->epi;
    int nl[FAST_MATVEC_VECTORS_PER_BLOCK];
    M ml[FAST_MATVEC_VECTORS_PER_BLOCK];
    V acc[FAST_MATVEC_VECTORS_PER_BLOCK];
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
    for (int o = o0; o < end; o += FAST_MATVEC_VECTORS_PER_BLOCK * VL) {
        const int nv = a->n_out - o >= FAST_MATVEC_VECTORS_PER_BLOCK * VL ? FAST_MATVEC_VECTORS_PER_BLOCK : (a->n_out - o + VL - 1) / VL;
        switch (nv) {
#if FAST_MATVEC_VECTORS_PER_BLOCK > 1
        case 1: fast_mv_block(a, o, end, 1); break;
#endif
#if FAST_MATVEC_VECTORS_PER_BLOCK > 2
        case 2: fast_mv_block(a, o, end, 2); break;
#endif
#if FAST_MATVEC_VECTORS_PER_BLOCK > 3
        case 3: fast_mv_block(a, o, end, 3); break;
#endif
#if FAST_MATVEC_VECTORS_PER_BLOCK > 4
        case 4: fast_mv_block(a, o, end, 4); break;
        case 5: fast_mv_block(a, o, end, 5); break;
        case 6: fast_mv_block(a, o, end, 6); break;
        case 7: fast_mv_block(a, o, end, 7); break;
#endif
#if FAST_MATVEC_VECTORS_PER_BLOCK > 8
#error "fast_matvec: add cases for FAST_MATVEC_VECTORS_PER_BLOCK > 8"
#endif
        default: fast_mv_block(a, o, end, FAST_MATVEC_VECTORS_PER_BLOCK); break;
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

static FAST_FN void fast_pad_plane(const float *x, int ih, int iw, int pad_top, int pad_left, int stride,
                                   int ph, int pw, int rs, float *dst) {
    const int ne = (pw + 1) / 2;
    for (int r = 0; r < ph; r++) {
        float *row = dst + (size_t)r * (size_t)rs;
        int iy = r - pad_top;
        if (iy < 0 || iy >= ih) {
            fast_zero(row, pw);
            continue;
        }
        const float *src = x + (size_t)iy * (size_t)iw;
        if (stride == 1) {
            int left = pad_left < pw ? pad_left : pw;
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
            /* column c = 2m + par reads ix = c - pad_left; valid m: [lo, hi) */
            for (int par = 0; par < 2; par++) {
                float *dst_row = row + (par ? ne : 0);
                const int n = par ? pw / 2 : ne, off = par - pad_left;
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
