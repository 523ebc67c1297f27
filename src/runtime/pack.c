/* pack.c: weights repacked once, at session creation, in the order the
 * step's kernel reads them, with the BatchNorm coefficients beside them. */
#include <string.h>

#include "runtime/runtime.h"

enum { PLANAR_TILE = FAST_POINTWISE_CHANNELS_PER_TILE };

static int blocked_step(const mnv3_session *s, const step *st) {
    return s->blocked && (st->kind == STEP_POINTWISE || st->kind == STEP_SPATIAL);
}

/* Floats of packed weights a step needs (a multiple of 16). */
size_t runtime_pack_size(const mnv3_session *s, const step *st) {
    const mnv3_exec_op *e = &s->plan->ops[st->first];
    size_t n = 0;
    if (blocked_step(s, st)) {
        const int vl = s->isa->lanes, k = e->op->kernel;
        const size_t padded_out = (size_t)((e->out.c + vl - 1) / vl * vl);
        const size_t per = st->kind == STEP_POINTWISE ? (size_t)e->in.c
                           : e->op->groups == 1        ? (size_t)(e->in.c * k * k)
                                                       : (size_t)(k * k);
        n = padded_out * per + 5 * padded_out;
        return (n + 15) & ~(size_t)15;
    }
    if (st->kind == STEP_POINTWISE)
        n = (size_t)((e->out.c + PLANAR_TILE - 1) / PLANAR_TILE) * PLANAR_TILE * (size_t)e->in.c;
    else if (st->kind == STEP_MATVEC) {
        size_t blk = (size_t)s->isa->mv_block;
        size_t stride = ((size_t)e->op->out_ch + blk - 1) / blk * blk;
        n = stride * (size_t)e->op->in_ch;
    }
    if (st->bn >= 0) n += 2 * (size_t)e->out.c;
    return (n + 15) & ~(size_t)15;
}

/* Blocked weights, [block][per][lanes] with per the weights of one output
 * channel in the reference's index order, then the padded epilogue
 * parameters (zeros past the channel count). */
static void pack_blocked(mnv3_session *s, step *st, size_t at) {
    const mnv3_exec_op *e = &s->plan->ops[st->first];
    const mnv3_op *op = e->op;
    const int vl = s->isa->lanes, cout = e->out.c, cp = (cout + vl - 1) / vl * vl;
    const int per = st->kind == STEP_POINTWISE ? e->in.c
                                               : (e->in.c / op->groups) * op->kernel * op->kernel;
    float *dst = s->packed + at;
    st->wpack = at;
    for (int cb = 0; cb < cp / vl; cb++)
        for (int q = 0; q < per; q++)
            for (int l = 0; l < vl; l++) {
                const int co = cb * vl + l;
                *dst++ = co < cout ? op->weight[(size_t)co * (size_t)per + (size_t)q] : 0.0f;
            }
    st->cparams = at + (size_t)cp * (size_t)per;
    float *bias = dst, *pa = bias + cp, *pc = pa + cp, *mean = pc + cp, *beta = mean + cp;
    memset(bias, 0, 5 * (size_t)cp * sizeof *bias);
    if (op->has_bias) memcpy(bias, op->bias, (size_t)cout * sizeof *bias);
    if (st->bn >= 0) {
        const mnv3_exec_op *b = &s->plan->ops[st->bn];
        for (int c = 0; c < cout; c++) {
            mnv3_bn_coefficients(b, c, &pa[c], &pc[c]);
            mean[c] = b->op->bn_mean[c];
            beta[c] = b->op->bias[c];
        }
    }
}

void runtime_pack_step(mnv3_session *s, step *st, size_t at) {
    const mnv3_exec_op *e = &s->plan->ops[st->first];
    const mnv3_op *op = e->op;
    float *dst = s->packed + at;
    size_t used = 0;
    if (blocked_step(s, st)) {
        pack_blocked(s, st, at);
        return;
    }
    st->wpack = at;
    if (st->kind == STEP_POINTWISE) {
        /* [channel tile][cin][PLANAR_TILE] */
        int cin = e->in.c, cout = e->out.c, tiles = (cout + PLANAR_TILE - 1) / PLANAR_TILE;
        for (int cb = 0; cb < tiles; cb++)
            for (int ci = 0; ci < cin; ci++)
                for (int j = 0; j < PLANAR_TILE; j++) {
                    int co = cb * PLANAR_TILE + j;
                    dst[used++] = co < cout ? op->weight[(size_t)co * (size_t)cin + (size_t)ci] : 0.0f;
                }
    } else if (st->kind == STEP_MATVEC) {
        int blk = s->isa->mv_block;
        st->out_stride = (op->out_ch + blk - 1) / blk * blk;
        /* [out block][in][blk]: each block's weights are one contiguous stream */
        for (int ob = 0; ob < st->out_stride; ob += blk) {
            /* the last block only as wide as its outputs need (whole vectors) */
            const int lanes = s->isa->lanes;
            const int width = op->out_ch - ob >= blk ? blk : (op->out_ch - ob + lanes - 1) / lanes * lanes;
            for (int i = 0; i < op->in_ch; i++)
                for (int o = ob; o < ob + width; o++)
                    dst[used++] = o < op->out_ch ? op->weight[(size_t)o * (size_t)op->in_ch + (size_t)i] : 0.0f;
        }
    }
    if (st->bn >= 0) {
        const mnv3_exec_op *b = &s->plan->ops[st->bn];
        st->bn_params = at + used;
        float *pa = dst + used, *pc = pa + b->out.c;
        for (int c = 0; c < b->out.c; c++) mnv3_bn_coefficients(b, c, &pa[c], &pc[c]);
    }
}
