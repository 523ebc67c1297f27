/* Blocked depthwise block for a fixed kernel size and stride, included by
 * fast_template.h once per (FAST_CDW_K, FAST_CDW_S) where the ISA has the
 * registers (FAST_DEPTHWISE_ROW_IN_REGISTERS). Each kernel row's input vectors are loaded once
 * and shared by the FAST_BLOCKED_SPATIAL_POSITIONS outputs and k taps that read them (the generic
 * block loads one vector per tap); each accumulator still receives its taps in
 * the order ky, kx. Full blocks only (nr = FAST_BLOCKED_SPATIAL_POSITIONS). */
#define FAST_CAT_(a, b, c) a##b##_##c
#define FAST_CAT(a, b, c) FAST_CAT_(a, b, c)
#define FAST_CDW_ROWS_FN FAST_CAT(fast_cdw_rows_, FAST_CDW_K, FAST_CDW_S)

static FAST_NOINLINE FAST_FN void FAST_CDW_ROWS_FN(const fast_cdw_args *a, int cb, int oy,
                                                   int ox0) {
    enum { K = FAST_CDW_K, S = FAST_CDW_S, R = FAST_BLOCKED_SPATIAL_POSITIONS, NX = (FAST_BLOCKED_SPATIAL_POSITIONS - 1) * FAST_CDW_S + FAST_CDW_K };
    const float *w = a->wpack + (size_t)cb * (size_t)(K * K) * VL;
    const float *in = a->in + (size_t)cb * a->in_cbs +
                      ((size_t)oy * S * (size_t)a->in_pw + (size_t)ox0 * S) * VL;
    V acc[R];
    const V init = fast_cinit(&a->epi, cb * VL);
    FAST_UNROLL for (int r = 0; r < R; r++) acc[r] = init;
#define FAST_CDW_ROW(UPDATE)                                                                  \
    for (int ky = 0; ky < K; ky++, in += (size_t)a->in_pw * VL) {                             \
        V x[NX];                                                                              \
        FAST_UNROLL for (int q = 0; q < NX; q++) x[q] = vloadu(in + q * VL);                  \
        FAST_UNROLL for (int kx = 0; kx < K; kx++) {                                          \
            const V wv = vloadu(w + (ky * K + kx) * VL);                                      \
            FAST_UNROLL for (int r = 0; r < R; r++) acc[r] = UPDATE;                          \
        }                                                                                     \
    }
    if (a->order_fma) FAST_CDW_ROW(vfma(x[r * S + kx], wv, acc[r]))
    else FAST_CDW_ROW(vadd(acc[r], vmul(x[r * S + kx], wv)))
#undef FAST_CDW_ROW
    float res[R][VL];
    FAST_UNROLL for (int r = 0; r < R; r++) vstoreu(res[r], acc[r]);
    fast_crow_out(&a->epi, &a->dst, a->out_w, cb, oy, ox0, res, R);
}

#undef FAST_CDW_ROWS_FN
#undef FAST_CAT
#undef FAST_CAT_
#undef FAST_CDW_K
#undef FAST_CDW_S
