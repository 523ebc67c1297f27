/* run.c: one run of a session, walking its steps against one context.
 *
 * A frame resolves the session's arena offsets against the arena of the
 * context in use; nothing here writes into the session. Each step hands
 * its kernel to the context's threads as items (channel blocks, rows,
 * position tiles); which thread computes an item never changes how. */
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "runtime/runtime.h"

/* NHWC input -> planar value, in this many pixel ranges over threads */
enum { NHWC_PIXEL_RANGES = 64 };
enum { PLANAR_TILE = FAST_POINTWISE_CHANNELS_PER_TILE,
       SPATIAL_BLOCK = FAST_SPATIAL_CHANNELS_PER_BLOCK };

/* One run's view of the arena of its context. */
typedef struct frame {
    const mnv3_session *s;
    const fast_isa *isa;
    fast_threads *workers; /* NULL: the calling thread alone */
    int threads;
    float *value[MNV3_MAX_PLAN_OPS + 1]; /* value -> buffer (NULL: never stored) */
    float *pad;                          /* per-thread padded planes, then the shared one */
    double *scratch;                     /* reference kernels */
    double *step_seconds;                /* NULL: steps not timed */
} frame;

static void frame_open(frame *f, const mnv3_session *s, run_context *c) {
    f->s = s;
    f->isa = s->isa;
    f->workers = c->workers;
    f->threads = c->threads;
    for (int v = 0; v <= s->plan->n; v++)
        f->value[v] = s->value_at[v] == RUNTIME_NOT_STORED ? NULL : c->arena + s->value_at[v];
    f->pad = c->arena + s->pad_at;
    const uintptr_t at = (uintptr_t)(c->arena + s->scratch_at);
    f->scratch = (double *)((at + 63) & ~(uintptr_t)63);
    f->step_seconds = s->time_steps ? c->step_seconds : NULL;
}

/* Items [0, n) of fn over the frame's threads (or all on this one). */
static void spread(const frame *f, int n, fast_task_fn fn, void *ctx) {
    if (f->workers) fast_threads_run(f->workers, n, fn, ctx);
    else if (n > 0) fn(ctx, 0, 0, n);
}

static double seconds(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- epilogues ------------------------------------------------------------ */

static int fast_act_of(const mnv3_exec_op *e, int *option) {
    switch (e->op->kind) {
    case MNV3_OP_RELU: *option = 0; return FAST_ACT_RELU;
    case MNV3_OP_HARDSWISH: *option = e->hardswish; return FAST_ACT_HSWISH;
    case MNV3_OP_HARDSIGMOID: *option = e->hardsigmoid; return FAST_ACT_HSIG;
    default: *option = 0; return FAST_ACT_NONE;
    }
}

/* Where a fused stage's output goes: with taps every stage is stored,
 * otherwise only the step's result. */
static float *stage_out(const frame *f, const step *st, int op) {
    return op >= 0 && (f->s->tap || op == step_result(st) - 1) ? f->value[op + 1] : NULL;
}

static void fill_epilogue(const frame *f, const step *st, fast_epilogue *epi) {
    const mnv3_session *s = f->s;
    const mnv3_plan *plan = s->plan;
    const mnv3_exec_op *e = &plan->ops[st->conv];
    memset(epi, 0, sizeof *epi);
    epi->bn = FAST_BN_NONE;
    if (e->op->has_bias || e->op->kind == MNV3_OP_LINEAR) {
        epi->bias = e->op->bias;
        epi->bias_mode = e->bias_first ? FAST_BIAS_IN_ACCUMULATOR : FAST_BIAS_SEPARATE_ADD;
    }
    epi->y_conv = stage_out(f, st, st->conv);
    if (st->bn >= 0) {
        const mnv3_exec_op *b = &plan->ops[st->bn];
        epi->bn = b->bn_apply;
        epi->bn_a = s->packed + st->bn_params;
        epi->bn_c = epi->bn_a + b->out.c;
        epi->bn_mean = b->op->bn_mean;
        epi->bn_b = b->op->bias;
        epi->y_bn = stage_out(f, st, st->bn);
    }
    if (st->act >= 0) {
        epi->act = fast_act_of(&plan->ops[st->act], &epi->act_option);
        epi->y_act = stage_out(f, st, st->act);
    }
    if (st->add >= 0) {
        int a = st->add; /* value a is the result of op a - 1, the stage before the add */
        int other = plan->src[a] == a ? plan->src2[a] : plan->src[a];
        epi->skip = f->value[other];
        epi->y_add = stage_out(f, st, st->add);
    }
}

/* Blocked epilogue: the parameters padded to whole channel blocks. */
static void fill_blocked_epilogue(const frame *f, const step *st, fast_epilogue *epi) {
    fill_epilogue(f, st, epi);
    const mnv3_exec_op *e = &f->s->plan->ops[st->conv];
    const int vl = f->isa->lanes, cp = (e->out.c + vl - 1) / vl * vl;
    const float *p = f->s->packed + st->cparams;
    if (epi->bias) epi->bias = p;
    epi->bn_a = p + cp, epi->bn_c = p + 2 * cp, epi->bn_mean = p + 3 * cp, epi->bn_b = p + 4 * cp;
    epi->y_conv = epi->y_bn = epi->y_act = epi->y_add = NULL;
    epi->skip = NULL;
}

static fast_cdst blocked_dst(const frame *f, int v) {
    const blocked_value *b = &f->s->bv[v];
    fast_cdst d = {f->value[v], b->block_stride, b->padded_h, b->padded_w, b->pad_top, b->pad_left};
    return d;
}

/* Zero border of a padded blocked value (its buffer is shared with others). */
static void zero_border(const frame *f, int v) {
    const blocked_value *b = &f->s->bv[v];
    if (!b->padded_w) return;
    const mnv3_shape sh = f->s->plan->shape[v];
    const int vl = f->isa->lanes;
    f->isa->czero_border(f->value[v], b->block_stride, (sh.c + vl - 1) / vl, b->padded_h,
                         b->padded_w, b->pad_top, b->pad_left, sh.h, sh.w);
}

/* ---- tasks: one step's work, split into items over threads --------------------- */

typedef struct task {
    const frame *f;
    const step *st;
    const mnv3_exec_op *e;
    const float *in, *in2;
    float *out;
    int batch; /* samples in this run (the convolution order may depend on it) */
    int tiles; /* pointwise: channel tiles */
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
    const fast_isa *isa = t->f->isa;
    for (int item = begin; item < end;) {
        int pb = item / t->tiles, cb = item % t->tiles;
        int stop = end - item < t->tiles - cb ? cb + (end - item) : t->tiles;
        isa->pointwise(&t->pw, pb, pb + 1, cb, stop);
        item += stop - cb;
    }
}

/* Zero-padded copy of one input plane (the ISA's kernel); stride 2 rows are
 * stored even columns first, then odd columns. */
static void pad_plane(const fast_isa *isa, const float *x, const mnv3_exec_op *e, const step *st,
                      float *dst) {
    isa->pad_plane(x, e->in.h, e->in.w, e->pad_top, e->pad_left, e->op->stride, st->padded_h,
                   st->padded_w, st->row_stride, dst);
}

static void spatial_args(task *t, const float *padded) {
    const step *st = t->st;
    const mnv3_exec_op *e = t->e;
    fast_spatial_args *a = &t->sp;
    a->padded = padded;
    a->plane_stride = st->plane_stride;
    a->row_stride = st->row_stride;
    a->k = e->op->kernel;
    a->stride = e->op->stride;
    a->cin_group = e->in.c / e->op->groups;
    a->out_h = e->out.h;
    a->out_w = e->out.w;
    a->order_fma = mnv3_conv_sums_fused(e, t->batch);
    const int evens = (st->padded_w + 1) / 2;
    for (int kx = 0; kx < a->k && kx < 16; kx++)
        a->col_off[kx] = a->stride == 1 ? kx : (kx & 1) ? evens + kx / 2 : kx / 2;
}

static void run_pad_shared(void *ctx, int thread, int begin, int end) {
    (void)thread;
    task *t = ctx;
    const size_t in_plane = (size_t)t->e->in.h * (size_t)t->e->in.w;
    for (int ci = begin; ci < end; ci++)
        pad_plane(t->f->isa, t->in + (size_t)ci * in_plane, t->e, t->st,
                  (float *)t->sp.padded + (size_t)ci * t->st->plane_stride);
}

static void run_spatial_shared(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    fast_spatial_args a = t->sp;
    const int k = a.k, per = a.cin_group * k * k, cout = t->e->out.c;
    for (int b = begin; b < end; b++) { /* blocks of SPATIAL_BLOCK output channels */
        a.co = b * SPATIAL_BLOCK;
        a.nco = cout - a.co < SPATIAL_BLOCK ? cout - a.co : SPATIAL_BLOCK;
        a.weight = t->e->op->weight + (size_t)a.co * (size_t)per;
        t->f->isa->spatial_rows(&a, 0, a.out_h);
    }
}

/* Depthwise (or grouped): each thread pads its group's planes, then convolves. */
static void run_spatial_grouped(void *ctx, int thread, int begin, int end) {
    const task *t = ctx;
    const frame *f = t->f;
    const mnv3_exec_op *e = t->e;
    float *pad = f->pad + (size_t)thread * f->s->pad_per_thread;
    fast_spatial_args a = t->sp;
    a.padded = pad;
    const int cin_g = a.cin_group, cout_g = e->out.c / e->op->groups, k = a.k;
    const size_t in_plane = (size_t)e->in.h * (size_t)e->in.w;
    int padded_group = -1;
    for (int co = begin; co < end; co++) {
        int g = co / cout_g;
        if (g != padded_group) {
            for (int ci = 0; ci < cin_g; ci++)
                pad_plane(f->isa, t->in + (size_t)(g * cin_g + ci) * in_plane, e, t->st,
                          pad + (size_t)ci * t->st->plane_stride);
            padded_group = g;
        }
        a.co = co;
        a.nco = 1;
        a.weight = e->op->weight + (size_t)co * (size_t)(cin_g * k * k);
        f->isa->spatial_rows(&a, 0, a.out_h);
    }
}

static void run_matvec(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    int blk = t->f->isa->mv_block;
    int o1 = end * blk < t->mv.n_out ? end * blk : t->mv.n_out;
    t->f->isa->matvec(&t->mv, begin * blk, o1);
}

/* Global average pool, sequential sum per channel (the reference order),
 * eight channels interleaved so their chains overlap. */
static void run_pool(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    const size_t plane = (size_t)t->e->in.h * (size_t)t->e->in.w;
    if (t->e->pool_order == MNV3_POOL_ORDER_CASCADE8 && plane >= 8) {
        t->f->isa->pool_cascade8(t->in, (int)plane, begin, end, t->out);
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
    t->f->isa->scale_channels(t->in, t->in2, t->out, begin, end, t->e->out.h * t->e->out.w);
}

static void run_blocked_pointwise(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->f->isa->cpointwise(&t->cpw, begin, end);
}
static void run_blocked_depthwise(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->f->isa->cdepthwise(&t->cdw, begin, end);
}
static void run_blocked_full(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->f->isa->cfull(&t->cfull, begin, end);
}
static void run_blocked_pool(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    const mnv3_exec_op *e = t->e;
    const mnv3_session *s = t->f->s;
    t->f->isa->cpool(t->in, s->bv[s->plan->src[t->st->first]].block_stride, e->in.h * e->in.w,
                     e->pool_order, e->in.c, begin, end, t->out);
}
static void run_blocked_scale(void *ctx, int thread, int begin, int end) {
    (void)thread;
    const task *t = ctx;
    t->f->isa->cscale(t->in, t->in2, t->out, t->e->out.c, t->e->out.h * t->e->out.w, begin, end);
}

/* ---- steps ------------------------------------------------------------------ */

/* One step in the blocked layout (runtime_choose_blocked decided which run so). */
static int run_blocked(const frame *f, const step *st, task *t) {
    const mnv3_session *s = f->s;
    const mnv3_plan *plan = s->plan;
    const mnv3_exec_op *e = t->e;
    const int in = plan->src[st->first], res = step_result(st), vl = f->isa->lanes;
    if (!s->bv[res].blocked && !(st->kind == STEP_POOL && s->bv[in].blocked)) return 0;
    const int ncb = (e->out.c + vl - 1) / vl;
    switch (st->kind) {
    case STEP_POINTWISE: {
        fast_cpw_args *a = &t->cpw;
        a->in = t->in, a->in_cbs = s->bv[in].block_stride;
        a->wpack = s->packed + st->wpack;
        a->cin = e->in.c, a->ncb = ncb, a->plane = e->out.h * e->out.w, a->out_w = e->out.w;
        a->use_fma = e->pointwise_fma;
        fill_blocked_epilogue(f, st, &a->epi);
        if (st->add >= 0) {
            const int ad = st->add, other = plan->src[ad] == ad ? plan->src2[ad] : plan->src[ad];
            a->skip = f->value[other], a->skip_cbs = s->bv[other].block_stride;
        }
        a->dst = blocked_dst(f, res);
        zero_border(f, res);
        spread(f, f->isa->cpointwise_items(a), run_blocked_pointwise, t);
        return 1;
    }
    case STEP_SPATIAL:
        spatial_args(t, NULL); /* for order_fma */
        if (e->op->groups == 1) {
            fast_cfull_args *a = &t->cfull;
            a->in = t->in;
            a->in_h = e->in.h, a->in_w = e->in.w, a->pad_top = e->pad_top, a->pad_left = e->pad_left;
            a->k = t->sp.k, a->stride = t->sp.stride, a->cin = e->in.c;
            a->out_h = e->out.h, a->out_w = e->out.w, a->order_fma = t->sp.order_fma;
            a->wpack = s->packed + st->wpack;
            fill_blocked_epilogue(f, st, &a->epi);
            a->dst = blocked_dst(f, res);
            zero_border(f, res);
            spread(f, ncb * e->out.h, run_blocked_full, t);
        } else {
            fast_cdw_args *a = &t->cdw;
            a->in = t->in, a->in_cbs = s->bv[in].block_stride, a->in_pw = s->bv[in].padded_w;
            a->wpack = s->packed + st->wpack;
            a->k = e->op->kernel, a->stride = e->op->stride;
            a->out_h = e->out.h, a->out_w = e->out.w, a->order_fma = t->sp.order_fma;
            fill_blocked_epilogue(f, st, &a->epi);
            a->dst = blocked_dst(f, res);
            zero_border(f, res);
            spread(f, ncb * e->out.h, run_blocked_depthwise, t);
        }
        return 1;
    case STEP_POOL: spread(f, (e->in.c + vl - 1) / vl, run_blocked_pool, t); return 1;
    case STEP_SCALE: spread(f, ncb * e->out.h * e->out.w, run_blocked_scale, t); return 1;
    default: return 0;
    }
}

static void run_step(const frame *f, const step *st, int batch) {
    const mnv3_session *s = f->s;
    const mnv3_plan *plan = s->plan;
    const int i = st->first;
    task t;
    memset(&t, 0, sizeof t);
    t.f = f, t.st = st, t.e = &plan->ops[i], t.batch = batch;
    t.in = f->value[plan->src[i]];
    t.in2 = plan->src2[i] >= 0 ? f->value[plan->src2[i]] : NULL;
    t.out = f->value[i + 1];
    const mnv3_exec_op *e = t.e;
    if (s->blocked && run_blocked(f, st, &t)) return;
    switch (st->kind) {
    case STEP_REF:
        mnv3_reference_kernels()->fn[e->op->kind](e, batch, t.in, t.in2, t.out, f->scratch);
        return;
    case STEP_POINTWISE: {
        int plane = e->out.h * e->out.w, pb = f->isa->pw_block;
        t.pw.in = t.in;
        t.pw.wpack = s->packed + st->wpack;
        t.pw.cin = e->in.c, t.pw.cout = e->out.c, t.pw.plane = plane;
        t.pw.use_fma = e->pointwise_fma;
        fill_epilogue(f, st, &t.pw.epi);
        t.tiles = (e->out.c + PLANAR_TILE - 1) / PLANAR_TILE;
        spread(f, ((plane + pb - 1) / pb) * t.tiles, run_pointwise, &t);
        return;
    }
    case STEP_SPATIAL:
        spatial_args(&t, f->pad + s->pad_per_thread * (size_t)f->threads);
        fill_epilogue(f, st, &t.sp.epi);
        if (st->shared_pad) {
            spread(f, e->in.c, run_pad_shared, &t);
            spread(f, (e->out.c + SPATIAL_BLOCK - 1) / SPATIAL_BLOCK, run_spatial_shared, &t);
        } else spread(f, e->out.c, run_spatial_grouped, &t);
        return;
    case STEP_MATVEC: {
        int blk = f->isa->mv_block, n_out = e->op->kind == MNV3_OP_LINEAR ? e->op->out_ch : e->out.c;
        t.mv.x = t.in;
        t.mv.wt = s->packed + st->wpack;
        t.mv.n_in = e->op->in_ch, t.mv.n_out = n_out, t.mv.out_stride = st->out_stride;
        t.mv.use_fma = e->pointwise_fma;
        fill_epilogue(f, st, &t.mv.epi);
        spread(f, (n_out + blk - 1) / blk, run_matvec, &t);
        return;
    }
    case STEP_POOL: spread(f, e->in.c, run_pool, &t); return;
    case STEP_SCALE: spread(f, e->out.c, run_scale, &t); return;
    default: return;
    }
}

/* ---- samples ------------------------------------------------------------------ */

static void tap_value(const frame *f, int sample, int v) {
    const mnv3_session *s = f->s;
    mnv3_shape sh = s->plan->shape[v];
    int64_t shape[4] = {1, sh.c, sh.h, sh.w};
    s->tap(s->tap_user, sample, mnv3_plan_value_name(s->plan, v), s->plan->vector[v] ? 2 : 4,
           shape, f->value[v]);
}

typedef struct nhwc_task {
    const fast_isa *isa;
    const float *src;
    float *dst;
    size_t plane;
    int rescale;
} nhwc_task;

static void run_nhwc3(void *ctx, int thread, int begin, int end) {
    const nhwc_task *t = ctx;
    (void)thread;
    const size_t per = (t->plane + NHWC_PIXEL_RANGES - 1) / NHWC_PIXEL_RANGES;
    const size_t p0 = (size_t)begin * per, p1 = (size_t)end * per;
    if (p0 < t->plane)
        t->isa->nhwc3_planar(t->src, t->dst, t->plane, t->rescale, p0, p1 < t->plane ? p1 : t->plane);
}

/* Samples [k0, k1) of a batch of n (kernel choices may depend on n). */
static void run_samples(frame *f, const float *input, int k0, int k1, int n, float *output) {
    const mnv3_session *s = f->s;
    const size_t plane = (size_t)s->h * (size_t)s->w, per_sample = 3 * plane;
    const int out_size = mnv3_output_size(s->model);
    float *const stored_input = f->value[0];
    for (int k = k0; k < k1; k++) {
        const float *src = input + (size_t)k * per_sample;
        int q0 = 0;
        if (s->input_rescaled) { /* value 0 is never stored: step 0 reads the NHWC input */
            nhwc_task t = {f->isa, src, f->value[1], plane, 1};
            spread(f, NHWC_PIXEL_RANGES, run_nhwc3, &t);
            q0 = 1;
        } else if (s->layout == MNV3_NHWC && s->fast) {
            nhwc_task t = {f->isa, src, stored_input, plane, 0};
            spread(f, NHWC_PIXEL_RANGES, run_nhwc3, &t);
        } else if (s->layout == MNV3_NHWC) {
            float *x = stored_input;
            for (size_t p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++) x[(size_t)c * plane + p] = src[p * 3 + (size_t)c];
        } else if (s->tap) {
            memcpy(stored_input, src, per_sample * sizeof *src);
        } else {
            f->value[0] = (float *)(uintptr_t)src; /* read only: no step writes value 0 */
        }
        if (s->tap) tap_value(f, k, 0);
        for (int q = q0; q < s->n_steps; q++) {
            const step *st = &s->steps[q];
            double t0 = f->step_seconds ? seconds() : 0.0;
            run_step(f, st, n);
            if (f->step_seconds) f->step_seconds[q] += seconds() - t0;
            if (s->tap)
                for (int i = st->first; i < step_result(st); i++) tap_value(f, k, i + 1);
        }
        memcpy(output + (size_t)k * (size_t)out_size, f->value[s->plan->n],
               (size_t)out_size * sizeof *output);
    }
}

typedef struct lane_task {
    const mnv3_session *s;
    run_context *c;
    const float *input;
    int n;
    float *output;
} lane_task;

static void run_lane(void *ctx, int thread, int begin, int end) {
    const lane_task *t = ctx;
    frame f;
    frame_open(&f, t->s, t->c->lanes[thread]);
    f.step_seconds = NULL; /* lanes run at once: their steps are not timed */
    run_samples(&f, t->input, begin, end, t->n, t->output);
}

void runtime_run(const mnv3_session *s, run_context *c, const float *input, int n,
                 float *output) {
    if (n > 1 && c->n_lanes > 0) { /* whole samples per thread */
        lane_task t = {s, c, input, n, output};
        fast_threads_run(c->workers, n, run_lane, &t);
        return;
    }
    frame f;
    frame_open(&f, s, c);
    run_samples(&f, input, 0, n, n, output);
}
