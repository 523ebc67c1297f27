/* Sessions: a plan resolved once, its ops grouped into fused steps, weights
 * packed for the fast kernels, one arena with buffers reused by liveness, and
 * a thread pool. mnv3_session_run only walks the steps: it allocates nothing.
 *
 * Fused steps (fast kernels):
 *   k x k conv [+ BN] [+ ReLU | hardswish]               -> spatial (padded planes)
 *   1x1 conv   [+ BN] [+ ReLU | hardswish] [+ residual]  -> pointwise
 *   1x1 conv on a 1x1 map / linear [+ activation]        -> matrix-vector
 *   global pool (sequential), SE channel scale           -> own kernels
 * anything else (rescale, softmax, pairwise pooling, float64 profiles) runs
 * the reference kernel. Every fused stage performs the reference's operations
 * in the reference's order, so results are bit-identical. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/model.h"
#include "core/plan.h"
#include "core/util.h"
#include "factors/factors.h"
#include "kernels/fast/fast.h"
#include "kernels/kernels.h"

#define MAX_SIDE 8192
#define MAX_STEPS MNV3_MAX_PLAN_OPS
#define MAX_LANES 64 /* = the most threads a session takes */
#define MAX_SLOTS 64
#define SLACK_FLOATS 64

typedef enum step_kind {
    STEP_REF, STEP_POINTWISE, STEP_SPATIAL, STEP_MATVEC, STEP_POOL, STEP_SCALE
} step_kind;

typedef struct step {
    step_kind kind;
    int first, count;  /* plan ops [first, first + count) */
    int conv, bn, act, add; /* plan op index of each fused stage, -1 if absent */
    /* packed weights (offsets into s->packed), BN parameters */
    size_t wpack;
    size_t bn_params; /* a[C] then c[C] in s->packed */
    int out_stride;   /* matvec: padded outputs */
    /* spatial */
    int ph, pw, rs, shared_pad;
    size_t plane_stride;
    /* blocked layout: epilogue parameters padded to whole channel blocks
     * (bias, BN a, BN c, BN mean, BN beta; offsets into s->packed) */
    size_t cparams;
} step;

/* A value in the blocked layout (channels in blocks of the ISA's lanes);
 * padded values have the zero border their depthwise consumer reads. */
typedef struct bvalue {
    int blocked;
    size_t cbs;          /* floats between channel blocks */
    int ph, pw, pt, pl;  /* pw = 0: unpadded */
} bvalue;

struct mnv3_session {
    const mnv3_model *model;
    mnv3_plan *plan;
    int fast, threads, h, w, max_batch;
    mnv3_layout layout;
    const fast_isa *isa;
    fast_pool *pool;
    char kernels_name[32];
    mnv3_tap_fn tap;
    void *tap_user;
    int n_steps;
    step steps[MAX_STEPS];
    int blocked;                        /* steps use the blocked layout */
    int input_rescaled;                 /* NHWC input converted and rescaled in one pass,
                                           replacing step 0 (Keras Rescaling) */
    bvalue bv[MNV3_MAX_PLAN_OPS + 1];
    float *vp[MNV3_MAX_PLAN_OPS + 1]; /* value -> buffer (NULL: never stored) */
    float *arena;
    size_t arena_bytes;
    double *scratch;          /* reference kernels */
    float *pad;               /* per-thread padded planes, then the shared one */
    size_t pad_per_thread;
    float *packed;
    size_t packed_floats;
    int64_t macs;
    int profile;                /* MNV3_SESSION_PROFILE set: time steps, print at free */
    /* batches: one single-thread lane per thread runs whole samples (own arena,
     * the parent's packed weights), so threads never wait on each other */
    struct mnv3_session *lanes[MAX_LANES];
    int n_lanes;
    int owns_packed;
    double step_seconds[MAX_STEPS];
};

/* ---- helpers ------------------------------------------------------------- */

static int is_act(mnv3_op_kind k) {
    return k == MNV3_OP_RELU || k == MNV3_OP_HARDSWISH || k == MNV3_OP_HARDSIGMOID;
}

static int fast_act_of(const mnv3_exec_op *e, int *option) {
    switch (e->op->kind) {
    case MNV3_OP_RELU: *option = 0; return FAST_ACT_RELU;
    case MNV3_OP_HARDSWISH: *option = e->hardswish; return FAST_ACT_HSWISH;
    case MNV3_OP_HARDSIGMOID: *option = e->hardsigmoid; return FAST_ACT_HSIG;
    default: *option = 0; return FAST_ACT_NONE;
    }
}


static int consumers(const mnv3_plan *pl, int v) {
    int n = 0;
    for (int i = 0; i < pl->n; i++) n += (pl->src[i] == v) + (pl->src2[i] == v);
    return n + (v == pl->n); /* the model output is read by the caller */
}

static int pointwise_shape(const mnv3_exec_op *e) {
    const mnv3_op *op = e->op;
    return op->kind == MNV3_OP_CONV && op->kernel == 1 && op->stride == 1 && op->groups == 1;
}

/* ---- grouping ------------------------------------------------------------ */

static void build_steps(mnv3_session *s) {
    const mnv3_plan *pl = s->plan;
    s->n_steps = 0;
    for (int i = 0; i < pl->n;) {
        step *st = &s->steps[s->n_steps++];
        memset(st, 0, sizeof *st);
        st->first = i;
        st->conv = st->bn = st->act = st->add = -1;
        const mnv3_exec_op *e = &pl->ops[i];
        const mnv3_op *op = e->op;
        st->kind = STEP_REF;
        if (s->fast && !e->f64) {
            size_t plane = (size_t)e->out.h * (size_t)e->out.w;
            if (op->kind == MNV3_OP_CONV)
                st->kind = !pointwise_shape(e) ? STEP_SPATIAL
                                                : plane == 1 ? STEP_MATVEC : STEP_POINTWISE;
            else if (op->kind == MNV3_OP_LINEAR) st->kind = STEP_MATVEC;
            else if (op->kind == MNV3_OP_GLOBAL_POOL) st->kind = STEP_POOL;
            else if (op->kind == MNV3_OP_CHANNEL_SCALE) st->kind = STEP_SCALE;
        }
        int last = i;
        if (st->kind == STEP_SPATIAL || st->kind == STEP_POINTWISE || st->kind == STEP_MATVEC) {
            st->conv = i;
            /* the next op may join if it reads only the previous result, which
             * nothing else reads */
#define JOINS(j) ((j) < pl->n && consumers(pl, last + 1) == 1 &&                               \
                  (pl->src[j] == last + 1 || pl->src2[j] == last + 1) && !pl->ops[j].f64)
            if (st->kind != STEP_MATVEC && JOINS(last + 1) &&
                pl->ops[last + 1].op->kind == MNV3_OP_BATCHNORM)
                st->bn = ++last;
            if (JOINS(last + 1) && is_act(pl->ops[last + 1].op->kind) &&
                (st->kind == STEP_MATVEC || pl->ops[last + 1].op->kind != MNV3_OP_HARDSIGMOID))
                st->act = ++last;
            if (st->kind == STEP_POINTWISE && JOINS(last + 1) &&
                pl->ops[last + 1].op->kind == MNV3_OP_ADD)
                st->add = ++last;
#undef JOINS
        }
        st->count = last - i + 1;
        i = last + 1;
    }
}

/* ---- blocked layout ------------------------------------------------------ */

static int is_depthwise(const mnv3_exec_op *e) {
    return e->op->kind == MNV3_OP_CONV && e->op->groups > 1 && e->op->groups == e->in.c &&
           e->out.c == e->in.c;
}

static int step_result(const step *st) { return st->first + st->count; }

/* Runs every map from the stem on in the blocked layout when the plan is the
 * usual chain (stem, 1x1 and depthwise convolutions, SE, pooling, head):
 * blocked values are read only by blocked kernels, each depthwise input is
 * read by that convolution alone (so its producer writes the zero-bordered
 * plane), and the result is not a map. Otherwise (taps, reference steps
 * inside the chain, other shapes) the session keeps the planar layout. */
static int choose_blocked(mnv3_session *s, int vl) {
    const mnv3_plan *pl = s->plan;
    const char *env = getenv("MNV3_FAST_LAYOUT");
    if (!s->fast || s->tap || !s->isa->cpointwise || (env && !strcmp(env, "planar"))) return 0;
    memset(s->bv, 0, sizeof s->bv);
    step_kind made_by[MNV3_MAX_PLAN_OPS + 1]; /* the step kind that stores each value */
    for (int v = 0; v <= pl->n; v++) made_by[v] = STEP_REF;
    for (int k = 0; k < s->n_steps; k++) {
        const step *st = &s->steps[k];
        const mnv3_exec_op *e = &pl->ops[st->first];
        const int in = pl->src[st->first], res = step_result(st);
        int reads_blocked = s->bv[in].blocked, makes_blocked = 0;
        switch (st->kind) {
        case STEP_SPATIAL:
            if (e->op->groups == 1) {
                if (reads_blocked) return 0;
            } else {
                /* only convolution kernels can store into a padded plane */
                if (!is_depthwise(e) || !reads_blocked || consumers(pl, in) != 1 || in == 0 ||
                    (made_by[in] != STEP_POINTWISE && made_by[in] != STEP_SPATIAL))
                    return 0;
                /* the producer stores into the interior of this plane */
                bvalue *b = &s->bv[in];
                b->ph = (e->out.h - 1) * e->op->stride + e->op->kernel;
                b->pw = (e->out.w - 1) * e->op->stride + e->op->kernel;
                b->pt = e->pad_top, b->pl = e->pad_left;
                if (b->pt < 0 || b->pl < 0) return 0;
            }
            makes_blocked = 1;
            break;
        case STEP_POINTWISE:
            if (!reads_blocked) return 0;
            if (st->add >= 0) {
                const int a = st->add, other = pl->src[a] == a ? pl->src2[a] : pl->src[a];
                if (!s->bv[other].blocked) return 0;
            }
            makes_blocked = 1;
            break;
        case STEP_SCALE:
            if (pl->src2[st->first] >= 0 && s->bv[pl->src2[st->first]].blocked) return 0;
            makes_blocked = reads_blocked;
            break;
        case STEP_POOL: break;
        default: /* matrix-vector, reference kernels: planar operands only */
            if (reads_blocked || (pl->src2[st->first] >= 0 && s->bv[pl->src2[st->first]].blocked))
                return 0;
        }
        if (makes_blocked) s->bv[res].blocked = 1;
        made_by[res] = st->kind;
    }
    if (s->bv[pl->n].blocked) return 0;
    for (int v = 0; v <= pl->n; v++) {
        bvalue *b = &s->bv[v];
        if (!b->blocked) continue;
        const mnv3_shape sh = pl->shape[v];
        const size_t positions = b->pw ? (size_t)b->ph * (size_t)b->pw : (size_t)sh.h * (size_t)sh.w;
        b->cbs = positions * (size_t)vl;
    }
    return 1;
}

/* Floats a value's buffer holds. */
static size_t value_floats(const mnv3_session *s, int v) {
    const bvalue *b = &s->bv[v];
    if (s->blocked && b->blocked) {
        const mnv3_shape sh = s->plan->shape[v];
        const int vl = s->isa->lanes;
        return (size_t)((sh.c + vl - 1) / vl) * b->cbs;
    }
    return mnv3_shape_numel(s->plan->shape[v]);
}

/* ---- packing ------------------------------------------------------------- */

static size_t pack_size(const mnv3_session *s, const step *st) {
    const mnv3_exec_op *e = &s->plan->ops[st->first];
    size_t n = 0;
    if (s->blocked && (st->kind == STEP_POINTWISE || st->kind == STEP_SPATIAL)) {
        const int vl = s->isa->lanes, k = e->op->kernel;
        const size_t cp = (size_t)((e->out.c + vl - 1) / vl * vl);
        const size_t per = st->kind == STEP_POINTWISE ? (size_t)e->in.c
                           : e->op->groups == 1        ? (size_t)(e->in.c * k * k)
                                                       : (size_t)(k * k);
        n = cp * per + 5 * cp;
        return (n + 15) & ~(size_t)15;
    }
    if (st->kind == STEP_POINTWISE)
        n = (size_t)((e->out.c + FAST_PW_COB - 1) / FAST_PW_COB) * FAST_PW_COB * (size_t)e->in.c;
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
    const int per = st->kind == STEP_POINTWISE ? e->in.c : (e->in.c / op->groups) * op->kernel * op->kernel;
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

static void pack_step(mnv3_session *s, step *st, size_t at) {
    const mnv3_exec_op *e = &s->plan->ops[st->first];
    const mnv3_op *op = e->op;
    float *dst = s->packed + at;
    size_t used = 0;
    if (s->blocked && (st->kind == STEP_POINTWISE || st->kind == STEP_SPATIAL)) {
        pack_blocked(s, st, at);
        return;
    }
    st->wpack = at;
    if (st->kind == STEP_POINTWISE) {
        int cin = e->in.c, cout = e->out.c, ncb = (cout + FAST_PW_COB - 1) / FAST_PW_COB;
        for (int cb = 0; cb < ncb; cb++)
            for (int ci = 0; ci < cin; ci++)
                for (int j = 0; j < FAST_PW_COB; j++) {
                    int co = cb * FAST_PW_COB + j;
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

/* ---- buffers ------------------------------------------------------------- */

/* Values each step must store: with taps every value; otherwise the results
 * of steps (and the input when it must be converted). */
static int stored(const mnv3_session *s, const step *st, int op) {
    return s->tap || op == st->first + st->count - 1;
}

static int assign_buffers(mnv3_session *s, size_t *value_offset, size_t *total) {
    const mnv3_plan *pl = s->plan;
    const int nv = pl->n + 1;
    if (s->tap) { /* every value keeps its own place: the plan's layout */
        for (int v = 0; v < nv; v++) value_offset[v] = pl->offset[v];
        *total = pl->arena_floats;
        return 0;
    }
    int last_use[MNV3_MAX_PLAN_OPS + 1], step_of[MNV3_MAX_PLAN_OPS];
    for (int k = 0; k < s->n_steps; k++)
        for (int i = s->steps[k].first; i < s->steps[k].first + s->steps[k].count; i++)
            step_of[i] = k;
    for (int v = 0; v < nv; v++) last_use[v] = -1;
    for (int i = 0; i < pl->n; i++) {
        if (last_use[pl->src[i]] < step_of[i]) last_use[pl->src[i]] = step_of[i];
        if (pl->src2[i] >= 0 && last_use[pl->src2[i]] < step_of[i]) last_use[pl->src2[i]] = step_of[i];
    }
    last_use[pl->n] = s->n_steps; /* the output is read after the last step */
    int slot_of[MNV3_MAX_PLAN_OPS + 1];
    size_t slot_size[MAX_SLOTS];
    int slot_free_after[MAX_SLOTS]; /* slot holds a value last used at this step */
    int n_slots = 0;
    for (int v = 0; v < nv; v++) slot_of[v] = -1;
    /* value 0 is stored only when the input is converted (NHWC) */
    for (int k = -1; k < s->n_steps; k++) {
        int v;
        if (k < 0) {
            if (s->layout != MNV3_NHWC || s->input_rescaled) continue;
            v = 0;
        } else {
            const step *st = &s->steps[k];
            v = st->first + st->count; /* the step's result */
        }
        size_t need = (value_floats(s, v) + 15) & ~(size_t)15;
        int best = -1;
        for (int q = 0; q < n_slots; q++) {
            if (slot_free_after[q] >= k) continue; /* still read by this step or later */
            if (best < 0 ||
                (slot_size[q] >= need && (slot_size[best] < need || slot_size[q] < slot_size[best])) ||
                (slot_size[best] < need && slot_size[q] > slot_size[best]))
                best = q;
        }
        if (best < 0) {
            if (n_slots == MAX_SLOTS) return -1;
            best = n_slots++;
            slot_size[best] = 0;
        }
        if (slot_size[best] < need) slot_size[best] = need;
        slot_free_after[best] = last_use[v];
        slot_of[v] = best;
    }
    size_t at = 0, slot_at[MAX_SLOTS];
    for (int q = 0; q < n_slots; q++) {
        slot_at[q] = at;
        at += slot_size[q];
    }
    for (int v = 0; v < nv; v++) value_offset[v] = slot_of[v] >= 0 ? slot_at[slot_of[v]] : (size_t)-1;
    *total = at;
    return 0;
}

/* ---- creation ------------------------------------------------------------ */

static void spatial_geometry(step *st, const mnv3_exec_op *e) {
    const int k = e->op->kernel, str = e->op->stride;
    st->ph = (e->out.h - 1) * str + k;
    st->pw = (e->out.w - 1) * str + k;
    st->rs = st->pw;
    st->plane_stride = (((size_t)st->ph * (size_t)st->rs) + 15) & ~(size_t)15;
    st->shared_pad = e->op->groups == 1;
}

static int64_t count_macs(const mnv3_plan *pl) {
    int64_t macs = 0;
    for (int i = 0; i < pl->n; i++) {
        const mnv3_exec_op *e = &pl->ops[i];
        if (e->op->kind == MNV3_OP_CONV)
            macs += (int64_t)e->out.c * e->out.h * e->out.w * (e->in.c / e->op->groups) *
                    e->op->kernel * e->op->kernel;
        else if (e->op->kind == MNV3_OP_LINEAR) macs += (int64_t)e->op->in_ch * e->op->out_ch;
    }
    return macs;
}

/* A single-thread copy of s for whole samples: its own plan copy and arena
 * (pointers into s's arena rebased), s's packed weights (not owned). */
static mnv3_session *make_lane(const mnv3_session *s) {
    mnv3_session *l = malloc(sizeof *l);
    if (!l) return NULL;
    memcpy(l, s, sizeof *l);
    l->threads = 1, l->n_lanes = 0, l->owns_packed = 0, l->profile = 0;
    memset(l->lanes, 0, sizeof l->lanes);
    l->plan = NULL, l->arena = NULL, l->pool = NULL;
    l->plan = malloc(sizeof *l->plan);
    l->arena = malloc(s->arena_bytes);
    l->pool = fast_pool_create(1);
    if (!l->plan || !l->arena || !l->pool) {
        mnv3_session_free(l);
        return NULL;
    }
    memcpy(l->plan, s->plan, sizeof *l->plan);
    memset(l->arena, 0, s->arena_bytes);
    const char *base = (const char *)s->arena;
#define REBASE(ptr, T)                                                                        \
    ((ptr) && (const char *)(ptr) >= base && (const char *)(ptr) < base + s->arena_bytes       \
         ? (T *)((char *)l->arena + ((const char *)(ptr) - base))                              \
         : (ptr))
    for (int v = 0; v <= s->plan->n; v++) l->vp[v] = REBASE(s->vp[v], float);
    l->pad = REBASE(s->pad, float);
    l->scratch = REBASE(s->scratch, double);
#undef REBASE
    return l;
}

int mnv3_session_create(const mnv3_model *m, const mnv3_profile *p, int h, int w,
                        mnv3_layout layout, const mnv3_session_options *o,
                        mnv3_session **out, mnv3_error *err) {
    *out = NULL;
    if (!m || !p) return mnv3_fail(err, NULL, "session: no model or profile");
    if (h < 1 || w < 1 || h > MAX_SIDE || w > MAX_SIDE)
        return mnv3_fail(err, NULL, "input size %dx%d is out of range (1..%d per side)", h, w,
                         MAX_SIDE);
    const char *kernels = o && o->kernels ? o->kernels : "fast";
    int fast;
    if (!strcmp(kernels, "fast")) fast = 1;
    else if (!strcmp(kernels, "reference")) fast = 0;
    else return mnv3_fail(err, NULL, "unknown kernels '%s' (reference or fast)", kernels);
    int threads = o && o->threads > 0 ? o->threads : 1;
    if (threads > 64) return mnv3_fail(err, NULL, "threads must be 1..64, got %d", threads);
    if (!fast) threads = 1;

    mnv3_session *s = calloc(1, sizeof *s);
    if (!s) return mnv3_fail(err, NULL, "out of memory");
    s->model = m, s->h = h, s->w = w, s->layout = layout, s->fast = fast;
    s->threads = threads;
    s->max_batch = o ? o->max_batch : 0;
    s->tap = o ? o->tap : NULL;
    s->tap_user = o ? o->tap_user : NULL;
    s->profile = getenv("MNV3_SESSION_PROFILE") != NULL;
    if (fast) {
        s->isa = fast_isa_select(o ? o->isa : NULL);
        if (!s->isa) {
            free(s);
            return mnv3_fail(err, NULL, "instruction set '%s' is not available here",
                             o && o->isa ? o->isa : "(MNV3_FAST_ISA)");
        }
        snprintf(s->kernels_name, sizeof s->kernels_name, "fast/%s", s->isa->name);
    } else snprintf(s->kernels_name, sizeof s->kernels_name, "reference");
    s->plan = malloc(sizeof *s->plan);
    if (!s->plan) {
        free(s);
        return mnv3_fail(err, NULL, "out of memory");
    }
    if (mnv3_plan_build(m, p, h, w, s->plan, err) != MNV3_OK) {
        mnv3_session_free(s);
        return MNV3_FAIL;
    }
    s->macs = count_macs(s->plan);
    build_steps(s);
    s->blocked = fast && choose_blocked(s, s->isa->lanes);
    s->input_rescaled = fast && !s->tap && layout == MNV3_NHWC && s->n_steps > 0 &&
                        s->steps[0].kind == STEP_REF && s->steps[0].count == 1 &&
                        s->plan->ops[0].op->kind == MNV3_OP_RESCALE;
    if (s->blocked) /* "fast/avx512 blocked": maps keep channels in vector lanes */
        snprintf(s->kernels_name, sizeof s->kernels_name, "fast/%s blocked", s->isa->name);

    /* packed weights */
    size_t packed = 0;
    for (int k = 0; k < s->n_steps; k++) packed += pack_size(s, &s->steps[k]);
    if (packed) {
        s->packed = malloc(packed * sizeof *s->packed);
        s->owns_packed = 1;
        if (!s->packed) {
            mnv3_session_free(s);
            return mnv3_fail(err, NULL, "out of memory (%zu packed weights)", packed);
        }
        size_t at = 0;
        for (int k = 0; k < s->n_steps; k++) {
            size_t n = pack_size(s, &s->steps[k]);
            if (n) pack_step(s, &s->steps[k], at);
            at += n;
        }
    }
    s->packed_floats = packed;

    /* arena: values, reference scratch, padded planes */
    size_t value_offset[MNV3_MAX_PLAN_OPS + 1], values = 0;
    if (assign_buffers(s, value_offset, &values) != 0) {
        mnv3_session_free(s);
        return mnv3_fail(err, NULL, "session: too many live buffers");
    }
    size_t pad_thread = 0, pad_shared = 0;
    for (int k = 0; k < s->n_steps; k++) {
        step *st = &s->steps[k];
        if (st->kind != STEP_SPATIAL) continue;
        const mnv3_exec_op *e = &s->plan->ops[st->first];
        spatial_geometry(st, e);
        size_t need = st->plane_stride * (size_t)(e->in.c / e->op->groups) + SLACK_FLOATS;
        if (s->blocked) continue; /* depthwise: its producer's padded plane; full: in place */
        if (st->shared_pad && need > pad_shared) pad_shared = need;
        if (!st->shared_pad && need > pad_thread) pad_thread = need;
    }
    pad_thread = (pad_thread + 15) & ~(size_t)15;
    values = (values + SLACK_FLOATS + 15) & ~(size_t)15;
    size_t floats = values + pad_thread * (size_t)threads + pad_shared;
    s->arena_bytes = floats * sizeof(float) + s->plan->scratch_doubles * sizeof(double) + 64;
    s->arena = malloc(s->arena_bytes);
    if (!s->arena) {
        mnv3_session_free(s);
        return mnv3_fail(err, NULL, "out of memory (arena of %zu bytes)", s->arena_bytes);
    }
    memset(s->arena, 0, s->arena_bytes);
    for (int v = 0; v <= s->plan->n; v++)
        s->vp[v] = value_offset[v] == (size_t)-1 ? NULL : s->arena + value_offset[v];
    s->pad = s->arena + values;
    s->pad_per_thread = pad_thread;
    { /* the reference kernels' doubles after the floats, 64-byte aligned */
        uintptr_t at = (uintptr_t)(s->arena + floats);
        s->scratch = (double *)((at + 63) & ~(uintptr_t)63);
    }
    if (fast) {
        s->pool = fast_pool_create(threads);
        if (!s->pool) {
            mnv3_session_free(s);
            return mnv3_fail(err, NULL, "cannot start %d threads", threads);
        }
    }
    if (fast && threads > 1 && threads <= MAX_LANES && !s->tap && s->max_batch != 1)
        for (int i = 0; i < threads; i++) {
            if (!(s->lanes[i] = make_lane(s))) {
                mnv3_session_free(s);
                return mnv3_fail(err, NULL, "out of memory (batch lane arenas)");
            }
            s->n_lanes = i + 1;
        }
    *out = s;
    return MNV3_OK;
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static const char *step_names[] = {"ref", "pointwise", "spatial", "matvec", "pool", "scale"};

void mnv3_session_free(mnv3_session *s) {
    if (!s) return;
    if (s->profile) {
        double total = 0;
        for (int k = 0; k < s->n_steps; k++) total += s->step_seconds[k];
        for (int k = 0; k < s->n_steps; k++) {
            const step *st = &s->steps[k];
            const mnv3_exec_op *e = &s->plan->ops[st->first];
            fprintf(stderr, "%-10s %-18s %4dx%-4d c%4d->%4d %9.3f ms %5.1f%%\n",
                    step_names[st->kind], e->op->name, e->out.h, e->out.w, e->in.c, e->out.c,
                    s->step_seconds[k] * 1e3, 100.0 * s->step_seconds[k] / total);
        }
        fprintf(stderr, "total %.3f ms\n", total * 1e3);
    }
    for (int i = 0; i < s->n_lanes; i++) mnv3_session_free(s->lanes[i]);
    fast_pool_free(s->pool);
    free(s->arena);
    if (s->owns_packed) free(s->packed);
    free(s->plan);
    free(s);
}

size_t mnv3_session_arena_bytes(const mnv3_session *s) {
    if (!s) return 0;
    size_t bytes = s->arena_bytes;
    for (int i = 0; i < s->n_lanes; i++) bytes += s->lanes[i]->arena_bytes;
    return bytes;
}
size_t mnv3_session_packed_bytes(const mnv3_session *s) {
    return s ? s->packed_floats * sizeof(float) : 0;
}
const char *mnv3_session_kernels(const mnv3_session *s) { return s ? s->kernels_name : ""; }
int64_t mnv3_session_macs(const mnv3_session *s) { return s ? s->macs : 0; }

/* ---- running ------------------------------------------------------------- */

static float *stage_out(const mnv3_session *s, const step *st, int op) {
    return op >= 0 && stored(s, st, op) ? s->vp[op + 1] : NULL;
}

static void fill_epilogue(const mnv3_session *s, const step *st, fast_epilogue *epi) {
    const mnv3_plan *pl = s->plan;
    const mnv3_exec_op *e = &pl->ops[st->conv];
    memset(epi, 0, sizeof *epi);
    epi->bn = FAST_BN_NONE;
    if (e->op->has_bias || e->op->kind == MNV3_OP_LINEAR) {
        epi->bias = e->op->bias;
        epi->bias_mode = e->bias_first ? FAST_BIAS_IN_ACCUMULATOR : FAST_BIAS_SEPARATE_ADD;
    }
    epi->y_conv = stage_out(s, st, st->conv);
    if (st->bn >= 0) {
        const mnv3_exec_op *b = &pl->ops[st->bn];
        epi->bn = b->bn_apply;
        epi->bn_a = s->packed + st->bn_params;
        epi->bn_c = epi->bn_a + b->out.c;
        epi->bn_mean = b->op->bn_mean;
        epi->bn_b = b->op->bias;
        epi->y_bn = stage_out(s, st, st->bn);
    }
    if (st->act >= 0) {
        epi->act = fast_act_of(&pl->ops[st->act], &epi->act_option);
        epi->y_act = stage_out(s, st, st->act);
    }
    if (st->add >= 0) {
        int a = st->add; /* value a is the result of op a - 1, the stage before the add */
        int other = pl->src[a] == a ? pl->src2[a] : pl->src[a];
        epi->skip = s->vp[other];
        epi->y_add = stage_out(s, st, st->add);
    }
}

/* Blocked epilogue: the parameters padded to whole channel blocks. */
static void fill_cepilogue(const mnv3_session *s, const step *st, fast_epilogue *epi) {
    fill_epilogue(s, st, epi);
    const mnv3_exec_op *e = &s->plan->ops[st->conv];
    const int vl = s->isa->lanes, cp = (e->out.c + vl - 1) / vl * vl;
    const float *p = s->packed + st->cparams;
    if (epi->bias) epi->bias = p;
    epi->bn_a = p + cp, epi->bn_c = p + 2 * cp, epi->bn_mean = p + 3 * cp, epi->bn_b = p + 4 * cp;
    epi->y_conv = epi->y_bn = epi->y_act = epi->y_add = NULL;
    epi->skip = NULL;
}

static fast_cdst cdst_of(const mnv3_session *s, int v) {
    const bvalue *b = &s->bv[v];
    fast_cdst d = {s->vp[v], b->cbs, b->ph, b->pw, b->pt, b->pl};
    return d;
}

/* Zero border of a padded blocked value (its buffer is shared with others). */
static void zero_border(const mnv3_session *s, int v) {
    const bvalue *b = &s->bv[v];
    if (!b->pw) return;
    const mnv3_shape sh = s->plan->shape[v];
    const int vl = s->isa->lanes;
    s->isa->czero_border(s->vp[v], b->cbs, (sh.c + vl - 1) / vl, b->ph, b->pw, b->pt, b->pl, sh.h,
                         sh.w);
}

typedef struct task {
    const mnv3_session *s;
    const step *st;
    const mnv3_exec_op *e;
    const float *in, *in2;
    float *out;
    int batch; /* samples in this run (the convolution order may depend on it) */
    int ncb;   /* pointwise: channel blocks */
    fast_pointwise_args pw;
    fast_spatial_args sp;
    fast_matvec_args mv;
    fast_cpw_args cpw;
    fast_cdw_args cdw;
    fast_cfull_args cfull;
} task;


static void run_pointwise(void *ctx, int thread, int begin, int end) {
    (void)thread;
    task *t = ctx;
    const fast_isa *isa = t->s->isa;
    for (int item = begin; item < end;) {
        int pb = item / t->ncb, cb = item % t->ncb;
        int stop = end - item < t->ncb - cb ? cb + (end - item) : t->ncb;
        isa->pointwise(&t->pw, pb, pb + 1, cb, stop);
        item += stop - cb;
    }
}

/* Zero-padded copy of one input plane (the ISA's kernel); stride 2 rows are
 * stored even columns first, then odd columns. */
static void pad_plane(const fast_isa *isa, const float *x, const mnv3_exec_op *e, const step *st,
                      float *dst) {
    isa->pad_plane(x, e->in.h, e->in.w, e->pad_top, e->pad_left, e->op->stride, st->ph, st->pw,
                   st->rs, dst);
}

static void spatial_args(task *t, const float *padded) {
    const step *st = t->st;
    const mnv3_exec_op *e = t->e;
    fast_spatial_args *a = &t->sp;
    a->padded = padded;
    a->plane_stride = st->plane_stride;
    a->row_stride = st->rs;
    a->k = e->op->kernel;
    a->stride = e->op->stride;
    a->cin_group = e->in.c / e->op->groups;
    a->out_h = e->out.h;
    a->out_w = e->out.w;
    a->order_fma = mnv3_conv_sums_fused(e, t->batch);
    const int ne = (st->pw + 1) / 2;
    for (int kx = 0; kx < a->k && kx < 16; kx++)
        a->col_off[kx] = a->stride == 1 ? kx : (kx & 1) ? ne + kx / 2 : kx / 2;
}

static void run_pad_shared(void *ctx, int thread, int begin, int end) {
    (void)thread;
    task *t = ctx;
    const size_t in_plane = (size_t)t->e->in.h * (size_t)t->e->in.w;
    for (int ci = begin; ci < end; ci++)
        pad_plane(t->s->isa, t->in + (size_t)ci * in_plane, t->e, t->st,
                  (float *)t->sp.padded + (size_t)ci * t->st->plane_stride);
}

static void run_spatial_shared(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    fast_spatial_args a = t->sp;
    const int k = a.k, per = a.cin_group * k * k, cout = t->e->out.c;
    for (int b = begin; b < end; b++) { /* blocks of FAST_SP_C output channels */
        a.co = b * FAST_SP_C;
        a.nco = cout - a.co < FAST_SP_C ? cout - a.co : FAST_SP_C;
        a.weight = t->e->op->weight + (size_t)a.co * (size_t)per;
        t->s->isa->spatial_rows(&a, 0, a.out_h);
    }
}

/* Depthwise (or grouped): each thread pads its group's planes, then convolves. */
static void run_spatial_grouped(void *ctx, int thread, int begin, int end) {
    const task *t = ctx;
    const mnv3_session *s = t->s;
    const mnv3_exec_op *e = t->e;
    float *pad = s->pad + (size_t)thread * s->pad_per_thread;
    fast_spatial_args a = t->sp;
    a.padded = pad;
    const int cin_g = a.cin_group, cout_g = e->out.c / e->op->groups, k = a.k;
    const size_t in_plane = (size_t)e->in.h * (size_t)e->in.w;
    int padded_group = -1;
    for (int co = begin; co < end; co++) {
        int g = co / cout_g;
        if (g != padded_group) {
            for (int ci = 0; ci < cin_g; ci++)
                pad_plane(s->isa, t->in + (size_t)(g * cin_g + ci) * in_plane, e, t->st,
                          pad + (size_t)ci * t->st->plane_stride);
            padded_group = g;
        }
        a.co = co;
        a.nco = 1;
        a.weight = e->op->weight + (size_t)co * (size_t)(cin_g * k * k);
        s->isa->spatial_rows(&a, 0, a.out_h);
    }
}

static void run_matvec(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    int blk = t->s->isa->mv_block;
    int o1 = end * blk < t->mv.n_out ? end * blk : t->mv.n_out;
    t->s->isa->matvec(&t->mv, begin * blk, o1);
}

/* Global average pool, sequential sum per channel (the reference order),
 * eight channels interleaved so their chains overlap. */
static void run_pool(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    const size_t plane = (size_t)t->e->in.h * (size_t)t->e->in.w;
    if (t->e->pool_order == MNV3_POOL_ORDER_CASCADE8 && plane >= 8) {
        t->s->isa->pool_cascade8(t->in, (int)plane, begin, end, t->out);
        return;
    }
    if (t->e->pool_order != MNV3_POOL_ORDER_SEQUENTIAL) {
        /* other orders: the reference kernel on this thread's channels */
        mnv3_exec_op part = *t->e;
        part.in.c = part.out.c = end - begin;
        mnv3_reference_kernels()->fn[MNV3_OP_GLOBAL_POOL](
            &part, t->batch, t->in + (size_t)begin * plane, NULL, t->out + begin, NULL);
        return;
    }
    int c = begin;
    for (; c + 8 <= end; c += 8) {
        float sum[8] = {0};
        const float *x = t->in + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++)
            for (int j = 0; j < 8; j++) sum[j] += x[(size_t)j * plane + i];
        for (int j = 0; j < 8; j++) t->out[c + j] = sum[j] / (float)plane;
    }
    for (; c < end; c++) {
        float sum = 0.0f;
        const float *x = t->in + (size_t)c * plane;
        for (size_t i = 0; i < plane; i++) sum += x[i];
        t->out[c] = sum / (float)plane;
    }
}

static void run_scale(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->s->isa->scale_channels(t->in, t->in2, t->out, begin, end,
                              t->e->out.h * t->e->out.w);
}

static void run_cpointwise(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->s->isa->cpointwise(&t->cpw, begin, end);
}
static void run_cdepthwise(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->s->isa->cdepthwise(&t->cdw, begin, end);
}
static void run_cfull(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->s->isa->cfull(&t->cfull, begin, end);
}
static void run_cpool(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    const mnv3_exec_op *e = t->e;
    t->s->isa->cpool(t->in, t->s->bv[t->s->plan->src[t->st->first]].cbs, e->in.h * e->in.w, e->pool_order,
                     e->in.c, begin, end, t->out);
}
static void run_cscale(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->s->isa->cscale(t->in, t->in2, t->out, t->e->out.c, t->e->out.h * t->e->out.w, begin, end);
}

/* One step in the blocked layout (choose_blocked decided which run so). */
static int run_blocked(mnv3_session *s, const step *st, task *t) {
    const mnv3_plan *pl = s->plan;
    const mnv3_exec_op *e = t->e;
    const int in = pl->src[st->first], res = step_result(st), vl = s->isa->lanes;
    if (!s->bv[res].blocked && !(st->kind == STEP_POOL && s->bv[in].blocked)) return 0;
    const int ncb = (e->out.c + vl - 1) / vl;
    switch (st->kind) {
    case STEP_POINTWISE: {
        fast_cpw_args *a = &t->cpw;
        a->in = t->in, a->in_cbs = s->bv[in].cbs;
        a->wpack = s->packed + st->wpack;
        a->cin = e->in.c, a->ncb = ncb, a->plane = e->out.h * e->out.w, a->out_w = e->out.w;
        a->use_fma = e->pointwise_fma;
        fill_cepilogue(s, st, &a->epi);
        if (st->add >= 0) {
            const int ad = st->add, other = pl->src[ad] == ad ? pl->src2[ad] : pl->src[ad];
            a->skip = s->vp[other], a->skip_cbs = s->bv[other].cbs;
        }
        a->dst = cdst_of(s, res);
        zero_border(s, res);
        fast_pool_run(s->pool, s->isa->cpointwise_items(a), run_cpointwise, t);
        return 1;
    }
    case STEP_SPATIAL:
        if (e->op->groups == 1) {
            spatial_args(t, NULL); /* for order_fma */
            fast_cfull_args *a = &t->cfull;
            a->in = t->in;
            a->in_h = e->in.h, a->in_w = e->in.w, a->pad_top = e->pad_top, a->pad_left = e->pad_left;
            a->k = t->sp.k, a->stride = t->sp.stride, a->cin = e->in.c;
            a->out_h = e->out.h, a->out_w = e->out.w, a->order_fma = t->sp.order_fma;
            a->wpack = s->packed + st->wpack;
            fill_cepilogue(s, st, &a->epi);
            a->dst = cdst_of(s, res);
            zero_border(s, res);
            fast_pool_run(s->pool, ncb * e->out.h, run_cfull, t);
        } else {
            spatial_args(t, NULL); /* for order_fma */
            fast_cdw_args *a = &t->cdw;
            a->in = t->in, a->in_cbs = s->bv[in].cbs, a->in_pw = s->bv[in].pw;
            a->wpack = s->packed + st->wpack;
            a->k = e->op->kernel, a->stride = e->op->stride;
            a->out_h = e->out.h, a->out_w = e->out.w, a->order_fma = t->sp.order_fma;
            fill_cepilogue(s, st, &a->epi);
            a->dst = cdst_of(s, res);
            zero_border(s, res);
            fast_pool_run(s->pool, ncb * e->out.h, run_cdepthwise, t);
        }
        return 1;
    case STEP_POOL: fast_pool_run(s->pool, (e->in.c + vl - 1) / vl, run_cpool, t); return 1;
    case STEP_SCALE:
        fast_pool_run(s->pool, ncb * e->out.h * e->out.w, run_cscale, t);
        return 1;
    default: return 0;
    }
}

static void run_step(mnv3_session *s, const step *st, int batch) {
    const mnv3_plan *pl = s->plan;
    const int i = st->first;
    task t;
    memset(&t, 0, sizeof t);
    t.s = s, t.st = st, t.e = &pl->ops[i], t.batch = batch;
    t.in = s->vp[pl->src[i]];
    t.in2 = pl->src2[i] >= 0 ? s->vp[pl->src2[i]] : NULL;
    t.out = s->vp[i + 1];
    const mnv3_exec_op *e = t.e;
    if (s->blocked && run_blocked(s, st, &t)) return;
    switch (st->kind) {
    case STEP_REF:
        mnv3_reference_kernels()->fn[e->op->kind](e, batch, t.in, t.in2, t.out, s->scratch);
        return;
    case STEP_POINTWISE: {
        int plane = e->out.h * e->out.w, pb = s->isa->pw_block;
        t.pw.in = t.in;
        t.pw.wpack = s->packed + st->wpack;
        t.pw.cin = e->in.c, t.pw.cout = e->out.c, t.pw.plane = plane;
        t.pw.use_fma = e->pointwise_fma;
        fill_epilogue(s, st, &t.pw.epi);
        t.ncb = (e->out.c + FAST_PW_COB - 1) / FAST_PW_COB;
        fast_pool_run(s->pool, ((plane + pb - 1) / pb) * t.ncb, run_pointwise, &t);
        return;
    }
    case STEP_SPATIAL:
        spatial_args(&t, s->pad + s->pad_per_thread * (size_t)s->threads);
        fill_epilogue(s, st, &t.sp.epi);
        if (st->shared_pad) {
            fast_pool_run(s->pool, e->in.c, run_pad_shared, &t);
            fast_pool_run(s->pool, (e->out.c + FAST_SP_C - 1) / FAST_SP_C, run_spatial_shared, &t);
        } else fast_pool_run(s->pool, e->out.c, run_spatial_grouped, &t);
        return;
    case STEP_MATVEC: {
        int blk = s->isa->mv_block, n_out = e->op->kind == MNV3_OP_LINEAR ? e->op->out_ch : e->out.c;
        t.mv.x = t.in;
        t.mv.wt = s->packed + st->wpack;
        t.mv.n_in = e->op->in_ch, t.mv.n_out = n_out, t.mv.out_stride = st->out_stride;
        t.mv.use_fma = e->pointwise_fma;
        fill_epilogue(s, st, &t.mv.epi);
        fast_pool_run(s->pool, (n_out + blk - 1) / blk, run_matvec, &t);
        return;
    }
    case STEP_POOL: fast_pool_run(s->pool, e->in.c, run_pool, &t); return;
    case STEP_SCALE: fast_pool_run(s->pool, e->out.c, run_scale, &t); return;
    }
}

static void tap_value(const mnv3_session *s, int sample, int v) {
    mnv3_shape sh = s->plan->shape[v];
    int64_t shape[4] = {1, sh.c, sh.h, sh.w};
    s->tap(s->tap_user, sample, mnv3_plan_value_name(s->plan, v), s->plan->vector[v] ? 2 : 4,
           shape, s->vp[v]);
}

/* NHWC input -> planar value, split into NHWC_ITEMS pixel ranges over threads */
enum { NHWC_ITEMS = 64 };
typedef struct nhwc_task {
    const mnv3_session *s;
    const float *src;
    float *dst;
    size_t plane;
    int rescale;
} nhwc_task;

static void run_nhwc3(void *ctx, int thread, int begin, int end) {
    const nhwc_task *t = ctx;
    (void)thread;
    const size_t per = (t->plane + NHWC_ITEMS - 1) / NHWC_ITEMS;
    const size_t p0 = (size_t)begin * per, p1 = (size_t)end * per;
    if (p0 < t->plane)
        t->s->isa->nhwc3_planar(t->src, t->dst, t->plane, t->rescale, p0,
                                p1 < t->plane ? p1 : t->plane);
}

/* Samples [k0, k1) of a batch of n (kernel choices may depend on n). */
static void run_samples(mnv3_session *s, const float *input, int k0, int k1, int n,
                        float *output) {
    const mnv3_plan *pl = s->plan;
    const size_t plane = (size_t)s->h * (size_t)s->w, per_sample = 3 * plane;
    const int out_size = mnv3_output_size(s->model);
    for (int k = k0; k < k1; k++) {
        const float *src = input + (size_t)k * per_sample;
        int q0 = 0;
        if (s->input_rescaled) { /* value 0 is never stored: step 0 reads the NHWC input */
            nhwc_task t = {s, src, s->vp[1], plane, 1};
            fast_pool_run(s->pool, NHWC_ITEMS, run_nhwc3, &t);
            q0 = 1;
        } else if (s->layout == MNV3_NHWC && s->fast) {
            nhwc_task t = {s, src, s->vp[0], plane, 0};
            fast_pool_run(s->pool, NHWC_ITEMS, run_nhwc3, &t);
        } else if (s->layout == MNV3_NHWC) {
            float *x = s->vp[0];
            for (size_t p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++) x[(size_t)c * plane + p] = src[p * 3 + (size_t)c];
        } else if (s->tap) {
            memcpy(s->vp[0], src, per_sample * sizeof *src);
        } else {
            s->vp[0] = (float *)(uintptr_t)src; /* read only: no step writes value 0 */
        }
        if (s->tap) tap_value(s, k, 0);
        for (int q = q0; q < s->n_steps; q++) {
            const step *st = &s->steps[q];
            double t0 = s->profile ? seconds() : 0.0;
            run_step(s, st, n);
            if (s->profile) s->step_seconds[q] += seconds() - t0;
            if (s->tap)
                for (int i = st->first; i < st->first + st->count; i++) tap_value(s, k, i + 1);
        }
        memcpy(output + (size_t)k * (size_t)out_size, s->vp[pl->n],
               (size_t)out_size * sizeof *output);
    }
}

typedef struct lane_task {
    const mnv3_session *s;
    const float *input;
    int n;
    float *output;
} lane_task;

static void run_lane(void *ctx, int thread, int begin, int end) {
    const lane_task *t = ctx;
    run_samples(t->s->lanes[thread], t->input, begin, end, t->n, t->output);
}

int mnv3_session_run(mnv3_session *s, const float *input, int n, float *output,
                     mnv3_error *err) {
    if (!s || !input || !output || n < 1)
        return mnv3_fail(err, NULL, "session run: no session, input or output, or n < 1");
    if (s->max_batch > 0 && n > s->max_batch)
        return mnv3_fail(err, NULL, "session run: batch %d exceeds max_batch %d", n, s->max_batch);
    if (n > 1 && s->n_lanes > 0) { /* whole samples per thread */
        lane_task t = {s, input, n, output};
        fast_pool_run(s->pool, n, run_lane, &t);
    } else {
        run_samples(s, input, 0, n, n, output);
    }
    return MNV3_OK;
}
