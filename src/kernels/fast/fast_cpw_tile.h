/* Blocked 1x1 convolution tile of FAST_CPW_NB channel blocks x FAST_CPW_P
 * positions, included by fast_template.h once per width. Defines
 * fast_cpw_run_<NB>(a, cb0, t0, t1): position tiles [t0, t1) of the channel
 * blocks from cb0. */
#define FAST_CAT_(a, b) a##b
#define FAST_CAT(a, b) FAST_CAT_(a, b)
#define FAST_CPW_TILE FAST_CAT(fast_cpw_tile_, FAST_CPW_NB)
#define FAST_CPW_RUN FAST_CAT(fast_cpw_run_, FAST_CPW_NB)

static FAST_INLINE FAST_FN void FAST_CPW_TILE(const fast_cpw_args *a, int cb0, int p0, int np) {
    enum { NB = FAST_CPW_NB, P = FAST_CPW_P };
    const int cin = a->cin;
    V acc[NB][P];
    FAST_UNROLL for (int j = 0; j < NB; j++) {
        V init = fast_cinit(&a->epi, (cb0 + j) * VL);
        FAST_UNROLL for (int i = 0; i < P; i++) acc[j][i] = init;
    }
    const float *w = a->wpack + (size_t)cb0 * (size_t)cin * VL;
    const size_t wstride = (size_t)cin * VL;
    int off[P]; /* positions past np repeat the last one (not stored) */
    FAST_UNROLL for (int i = 0; i < P; i++) off[i] = (i < np ? i : np - 1) * VL;
#define FAST_CPW_LOOP(OFF, UPDATE)                                                            \
    for (int cb = 0; cb * VL < cin; cb++) {                                                   \
        const float *xb = a->in + (size_t)cb * a->in_cbs + (size_t)p0 * VL;                   \
        const int nl = cin - cb * VL < VL ? cin - cb * VL : VL;                               \
        for (int l = 0; l < nl; l++, w += VL) {                                               \
            V wv[NB];                                                                         \
            FAST_UNROLL for (int j = 0; j < NB; j++) wv[j] = vloadu(w + (size_t)j * wstride); \
            FAST_UNROLL for (int i = 0; i < P; i++) {                                         \
                V xv = vset1(xb[(OFF) + l]);                                                  \
                FAST_UNROLL for (int j = 0; j < NB; j++) acc[j][i] = UPDATE;                  \
            }                                                                                 \
        }                                                                                     \
    }
    if (np == P) {
        if (a->use_fma) FAST_CPW_LOOP(i * VL, vfma(wv[j], xv, acc[j][i]))
        else FAST_CPW_LOOP(i * VL, vadd(acc[j][i], vmul(wv[j], xv)))
    } else {
        if (a->use_fma) FAST_CPW_LOOP(off[i], vfma(wv[j], xv, acc[j][i]))
        else FAST_CPW_LOOP(off[i], vadd(acc[j][i], vmul(wv[j], xv)))
    }
#undef FAST_CPW_LOOP
    /* sums leave the registers through explicit stores, so every access to
     * acc has constant indices */
    float res[NB][P][VL];
    FAST_UNROLL for (int j = 0; j < NB; j++)
        FAST_UNROLL for (int i = 0; i < P; i++) vstoreu(res[j][i], acc[j][i]);
    int y = p0 / a->out_w, x = p0 % a->out_w;
    if (!a->skip && (!a->dst.pw || x + np <= a->out_w)) { /* contiguous in dst: no copy */
        const ptrdiff_t first = fast_cdst_at(&a->dst, y, x, a->out_w);
        if (first >= 0 && fast_cdst_at(&a->dst, y, x + np - 1, a->out_w) >= 0) {
            fast_cepi_nb(&a->epi, cb0 * VL, res[0][0], P * VL,
                         a->dst.data + (size_t)cb0 * a->dst.cbs + first, a->dst.cbs, np, NB);
            return;
        }
    }
    fast_cepi_nb(&a->epi, cb0 * VL, res[0][0], P * VL, res[0][0], P * VL, np, NB);
    for (int i = 0; i < np; i++) {
        const ptrdiff_t at = fast_cdst_at(&a->dst, y, x, a->out_w);
        for (int j = 0; j < NB && at >= 0; j++) {
            V v = vloadu(res[j][i]);
            if (a->skip)
                v = vadd(vloadu(a->skip + (size_t)(cb0 + j) * a->skip_cbs + (size_t)(p0 + i) * VL), v);
            vstoreu(a->dst.data + (size_t)(cb0 + j) * a->dst.cbs + at, v);
        }
        if (++x == a->out_w) x = 0, y++;
    }
}

static FAST_NOINLINE FAST_FN void FAST_CPW_RUN(const fast_cpw_args *a, int cb0, int t0, int t1) {
    for (int t = t0; t < t1; t++) {
        const int p0 = t * FAST_CPW_P;
        FAST_CPW_TILE(a, cb0, p0, a->plane - p0 < FAST_CPW_P ? a->plane - p0 : FAST_CPW_P);
    }
}

#undef FAST_CPW_TILE
#undef FAST_CPW_RUN
#undef FAST_CAT
#undef FAST_CAT_
#undef FAST_CPW_NB
#undef FAST_CPW_P
