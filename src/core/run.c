/* Running a model: resolve the profile against the op list for one input
 * size (shapes, padding, factor options, arena offsets), then execute op by
 * op, calling the tap after each. */
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"
#include "factors/factors.h"
#include "core/plan.h"
#include "kernels/kernels.h"

#define MAX_SIDE 8192

static const mnv3_op rescale_op = {.kind = MNV3_OP_RESCALE, .name = "rescale", .tap = "rescale",
                                   .keras = "rescaling", .src2 = -1};
static const mnv3_op softmax_op = {.kind = MNV3_OP_SOFTMAX, .name = "softmax", .tap = "softmax",
                                   .keras = "predictions", .src2 = -1};

size_t mnv3_shape_numel(mnv3_shape s) { return (size_t)s.c * (size_t)s.h * (size_t)s.w; }

/* Padding of one convolution under the profile's padding factor. */
static void resolve_padding(mnv3_exec_op *e, int option) {
    const mnv3_op *op = e->op;
    int k = op->kernel, s = op->stride;
    int before_h = (k - 1) / 2, after_h = (k - 1) / 2, before_w = before_h, after_w = after_h;
    int tf_same = (op->pad_role == MNV3_PAD_ROLE_STEM && option != MNV3_PAD_SYMMETRIC) ||
                  (op->pad_role == MNV3_PAD_ROLE_DEPTHWISE && option == MNV3_PAD_TF_SAME);
    if (tf_same) {
        /* TF GetWindowedOutputSize: extra padding goes after. */
        int out_h = (e->in.h + s - 1) / s, out_w = (e->in.w + s - 1) / s;
        int need_h = (out_h - 1) * s + k - e->in.h, need_w = (out_w - 1) * s + k - e->in.w;
        if (need_h < 0) need_h = 0;
        if (need_w < 0) need_w = 0;
        before_h = need_h / 2, after_h = need_h - before_h;
        before_w = need_w / 2, after_w = need_w - before_w;
    } else if (op->pad_role == MNV3_PAD_ROLE_DEPTHWISE && option == MNV3_PAD_KERAS_CORRECT_PAD) {
        /* correct_pad with unknown spatial size: adjust = 1. */
        before_h = before_w = k / 2 - 1;
        after_h = after_w = k / 2;
    }
    e->pad_top = before_h, e->pad_bottom = after_h;
    e->pad_left = before_w, e->pad_right = after_w;
}

int mnv3_plan_build(const mnv3_model *m, const mnv3_profile *p, int h, int w, mnv3_plan *pl,
                    mnv3_error *err) {
    const int *opt = p->option;
    int rescale = opt[MNV3_FACTOR_INPUT_RESCALE] == MNV3_RESCALE_KERAS;
    int softmax = m->arch.num_classes > 0 && opt[MNV3_FACTOR_OUTPUT] == MNV3_OUTPUT_SOFTMAX;
    memset(pl, 0, sizeof *pl);
    pl->shape[0] = (mnv3_shape){3, h, w};

    /* graph value v -> plan value */
    int shift = rescale ? 1 : 0;
#define PLAN_VALUE(v) ((v) < 0 ? -1 : (v) == 0 ? shift : (v) + shift)
    int total = m->graph.n_ops + rescale + softmax;
    for (int i = 0; i < total; i++) {
        mnv3_exec_op *e = &pl->ops[i];
        int gi = i - rescale;
        if (rescale && i == 0) {
            e->op = &rescale_op;
            pl->src[i] = 0, pl->src2[i] = -1;
        } else if (gi < m->graph.n_ops) {
            e->op = &m->graph.ops[gi];
            pl->src[i] = PLAN_VALUE(e->op->src);
            pl->src2[i] = PLAN_VALUE(e->op->src2);
        } else {
            e->op = &softmax_op;
            pl->src[i] = i; /* output of the previous op */
            pl->src2[i] = -1;
        }
        e->opt_hardsigmoid = opt[MNV3_FACTOR_HARDSIGMOID];
        e->opt_hardswish = opt[MNV3_FACTOR_HARDSWISH];
        e->opt_batchnorm = opt[MNV3_FACTOR_BATCHNORM];
        e->opt_conv_order = opt[MNV3_FACTOR_CONV_ORDER];
        e->opt_pointwise = opt[MNV3_FACTOR_POINTWISE];
        e->opt_bias = opt[MNV3_FACTOR_BIAS];
        e->opt_pool_sum = opt[MNV3_FACTOR_POOL_SUM];
        e->opt_rescale = opt[MNV3_FACTOR_INPUT_RESCALE];
        e->f64 = opt[MNV3_FACTOR_ACCUMULATE] == MNV3_ACCUMULATE_F64;

        e->in = pl->shape[pl->src[i]];
        if (pl->src2[i] >= 0) e->in2 = pl->shape[pl->src2[i]];
        mnv3_shape o = e->in;
        const mnv3_op *op = e->op;
        switch (op->kind) {
        case MNV3_OP_CONV:
            if (e->in.c != op->in_ch)
                return mnv3_fail(err, NULL, "%s: %d input channels, expected %d", op->name,
                                 e->in.c, op->in_ch);
            resolve_padding(e, opt[MNV3_FACTOR_PADDING]);
            o.c = op->out_ch;
            o.h = (e->in.h + e->pad_top + e->pad_bottom - op->kernel) / op->stride + 1;
            o.w = (e->in.w + e->pad_left + e->pad_right - op->kernel) / op->stride + 1;
            if (o.h < 1 || o.w < 1)
                return mnv3_fail(err, NULL, "input %dx%d is too small: %s has no output", h, w,
                                 op->name);
            break;
        case MNV3_OP_GLOBAL_POOL: o.h = o.w = 1; break;
        case MNV3_OP_LINEAR: o = (mnv3_shape){op->out_ch, 1, 1}; break;
        case MNV3_OP_ADD:
        case MNV3_OP_CHANNEL_SCALE:
            if (e->in2.c != e->in.c || (op->kind == MNV3_OP_ADD && mnv3_shape_numel(e->in2) != mnv3_shape_numel(e->in)))
                return mnv3_fail(err, NULL, "%s: operand shapes differ", op->name);
            break;
        default: break;
        }
        e->out = o;
        pl->shape[i + 1] = o;
        pl->vector[i + 1] = op->kind == MNV3_OP_LINEAR ||
                            (op->kind != MNV3_OP_GLOBAL_POOL && pl->vector[pl->src[i]]);
        size_t plane = (size_t)o.h * (size_t)o.w;
        if (plane > pl->scratch_doubles) pl->scratch_doubles = plane;
    }
    pl->n = total;
    size_t at = 0;
    for (int v = 0; v <= total; v++) {
        pl->offset[v] = at;
        at += (mnv3_shape_numel(pl->shape[v]) + 15) & ~(size_t)15; /* 64-byte aligned values */
    }
    pl->arena_floats = at;
    return MNV3_OK;
#undef PLAN_VALUE
}

/* Name of the tap that holds value v (0 = input). */
const char *mnv3_plan_value_name(const mnv3_plan *pl, int v) {
    return v == 0 ? "input" : pl->ops[v - 1].op->tap;
}

/* In replay mode, the reference run's copy of value v for sample s. */
static const float *replayed(const mnv3_tensors *replay, const mnv3_plan *pl, int v, int s) {
    const mnv3_tensor *t = replay ? mnv3_tensors_find(replay, mnv3_plan_value_name(pl, v)) : NULL;
    size_t per = mnv3_shape_numel(pl->shape[v]);
    if (!t || t->dtype != MNV3_F32 || t->ndim < 1 || t->shape[0] <= s ||
        (size_t)mnv3_tensor_numel(t) != per * (size_t)t->shape[0])
        return NULL;
    return (const float *)t->data + per * (size_t)s;
}

static void tap_value(const mnv3_run_options *opt, int sample, const char *name, mnv3_shape s,
                      int is_vector, const float *data) {
    int64_t shape[4] = {1, s.c, s.h, s.w};
    opt->tap(opt->tap_user, sample, name, is_vector ? 2 : 4, shape, data);
}

int mnv3_run(const mnv3_model *m, const mnv3_run_options *opt, const float *input,
             mnv3_layout layout, int n, int h, int w, float *output, mnv3_error *err) {
    if (!opt || !opt->profile) return mnv3_fail(err, NULL, "no profile given");
    if (n < 1 || h < 1 || w < 1 || h > MAX_SIDE || w > MAX_SIDE)
        return mnv3_fail(err, NULL, "input size %dx%dx%d is out of range (1..%d per side)", n,
                         h, w, MAX_SIDE);
    mnv3_plan *pl = malloc(sizeof *pl);
    if (!pl) return mnv3_fail(err, NULL, "out of memory");
    if (mnv3_plan_build(m, opt->profile, h, w, pl, err) != MNV3_OK) {
        free(pl);
        return MNV3_FAIL;
    }
    for (int i = 0; i < pl->n; i++) pl->ops[i].batch = n;
    size_t arena_bytes = pl->arena_floats * sizeof(float) + pl->scratch_doubles * sizeof(double);
    float *arena = malloc(arena_bytes);
    if (!arena) {
        free(pl);
        return mnv3_fail(err, NULL, "out of memory (arena of %zu bytes)", arena_bytes);
    }
    double *scratch = (double *)(arena + pl->arena_floats);
    const mnv3_kernel_set *k = mnv3_reference_kernels();
    const size_t plane = (size_t)h * (size_t)w, per_sample = 3 * plane;
    const int out_size = mnv3_output_size(m);

    for (int s = 0; s < n; s++) {
        float *x = arena; /* value 0: the input, NCHW */
        const float *src = input + (size_t)s * per_sample;
        if (layout == MNV3_NHWC)
            for (size_t p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++) x[(size_t)c * plane + p] = src[p * 3 + (size_t)c];
        else memcpy(x, src, per_sample * sizeof *x);
        if (opt->tap) tap_value(opt, s, "input", pl->shape[0], 0, x);

        for (int i = 0; i < pl->n; i++) {
            const mnv3_exec_op *e = &pl->ops[i];
            const float *a = arena + pl->offset[pl->src[i]];
            const float *b = pl->src2[i] >= 0 ? arena + pl->offset[pl->src2[i]] : NULL;
            if (opt->replay) {
                const float *ra = replayed(opt->replay, pl, pl->src[i], s);
                const float *rb = b ? replayed(opt->replay, pl, pl->src2[i], s) : NULL;
                a = ra ? ra : a;
                b = rb ? rb : b;
            }
            float *y = arena + pl->offset[i + 1];
            k->fn[e->op->kind](e, a, b, y, scratch);
            if (opt->tap) tap_value(opt, s, e->op->tap, e->out, pl->vector[i + 1], y);
        }
        const float *last = arena + pl->offset[pl->n];
        memcpy(output + (size_t)s * (size_t)out_size, last, (size_t)out_size * sizeof *output);
    }
    free(arena);
    free(pl);
    return MNV3_OK;
}
