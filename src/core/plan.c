/* The plan: the op list resolved against a profile for one input size.
 *
 * This is where framework rules become plain numbers. Each factor option is
 * turned, by one function below, into the per-op fields of mnv3_exec_op
 * (kernels/kernels.h) that every kernel family reads: padding, the
 * convolution order and from which batch size it changes, where the bias
 * enters, the BatchNorm formula and its rsqrt, the activation formulas, the
 * pooling order, the training BatchNorm rules. Nothing after the plan asks
 * which framework it serves. */
#include <limits.h>
#include <string.h>

#include "core/model.h"
#include "core/plan.h"
#include "train/rng.h"
#include "core/util.h"
#include "factors/factors.h"

static const mnv3_op rescale_op = {.kind = MNV3_OP_RESCALE, .name = "rescale", .tap = "rescale",
                                   .keras = "rescaling", .src2 = -1};
static const mnv3_op softmax_op = {.kind = MNV3_OP_SOFTMAX, .name = "softmax", .tap = "softmax",
                                   .keras = "predictions", .src2 = -1};

size_t mnv3_shape_numel(mnv3_shape s) { return (size_t)s.c * (size_t)s.h * (size_t)s.w; }

/* ---- one function per rule ------------------------------------------------- */

/* Padding of one convolution under the padding factor. */
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

/* From which batch size a k x k convolution sums in the fused order. ATen at
 * one thread (conv_order=torch_cpu) runs oneDNN for depthwise convolutions
 * and when N > 1 or the batch holds more than 20480 input values, else
 * im2col + GEMM. */
static int resolve_conv_fused_from_batch(const mnv3_exec_op *e, int option) {
    switch (option) {
    case MNV3_CONV_KY_KX_CI_FMA: return 1;
    case MNV3_CONV_TORCH_CPU: {
        const size_t per_sample = mnv3_shape_numel(e->in), limit = 20480;
        if (e->op->groups > 1 || per_sample > limit) return 1;
        return 2; /* N > 1 always takes oneDNN; N = 1 fits under the limit here */
    }
    default: return INT_MAX;
    }
}

/* Does the bias start the sum? torch_cpu: convolutions copy the bias into the
 * output before GEMM, linear layers add it last (addmm). */
static int resolve_bias_first(const mnv3_op *op, int option) {
    return option == MNV3_BIAS_IN_ACCUMULATOR ||
           (option == MNV3_BIAS_TORCH_CPU && op->kind != MNV3_OP_LINEAR);
}

static void resolve_batchnorm(mnv3_exec_op *e, int option) {
    e->bn_rsqrt = option == MNV3_BN_TF_RSQRT ? MNV3_RSQRT_ESTIMATE_NEWTON : MNV3_RSQRT_DIVIDE;
    e->bn_apply = option == MNV3_BN_TORCH_FMA        ? MNV3_BN_APPLY_FMA
                  : option == MNV3_BN_SUBTRACT_FIRST ? MNV3_BN_APPLY_SUBTRACT_FIRST
                                                     : MNV3_BN_APPLY_MUL_ADD;
}

static int resolve_pool_order(int option) {
    return option == MNV3_POOL_PAIRWISE        ? MNV3_POOL_ORDER_PAIRWISE
           : option == MNV3_POOL_ATEN_CASCADE8 ? MNV3_POOL_ORDER_CASCADE8
                                               : MNV3_POOL_ORDER_SEQUENTIAL;
}

int mnv3_plan_bn_update_rule(const mnv3_profile *p) {
    static const int update[MNV3_BN_MOMENTUM_COUNT] = {
        [MNV3_BN_MOMENTUM_TORCH] = MNV3_BN_UPDATE_BATCH_WEIGHT,
        [MNV3_BN_MOMENTUM_KERAS] = MNV3_BN_UPDATE_OLD_WEIGHT,
        [MNV3_BN_MOMENTUM_TF_FUSED] = MNV3_BN_UPDATE_OLD_WEIGHT_FACTOR};
    return update[p->option[MNV3_FACTOR_BN_MOMENTUM]];
}

double mnv3_plan_bn_default_momentum(const mnv3_profile *p) {
    /* torchvision's MobileNetV3 BatchNorm(momentum=0.01); Keras's BatchNormalization(momentum=0.999) */
    return mnv3_plan_bn_update_rule(p) == MNV3_BN_UPDATE_BATCH_WEIGHT ? 0.01 : 0.999;
}

/* Training BatchNorm: one group of fields per factor. */
static void resolve_bn_training(mnv3_exec_op *e, const mnv3_profile *p) {
    const int *opt = p->option;
    static const int stats[MNV3_BN_BATCH_STATS_COUNT] = {
        [MNV3_BN_BATCH_STATS_ATEN] = MNV3_BN_STATS_DOUBLE_SUMS,
        [MNV3_BN_BATCH_STATS_TF_MOMENTS] = MNV3_BN_STATS_QUAD_SUM_DIVIDE,
        [MNV3_BN_BATCH_STATS_TF_FUSED] = MNV3_BN_STATS_QUAD_SUM_TIMES_INVERSE};
    static const int apply[MNV3_BN_TRAIN_APPLY_COUNT] = {
        [MNV3_BN_TRAIN_APPLY_TORCH_FMA] = MNV3_BN_TRAIN_FMA_DOUBLE_INVSTD,
        [MNV3_BN_TRAIN_APPLY_TF_SCALE_SHIFT] = MNV3_BN_TRAIN_MUL_ADD_ESTIMATE,
        [MNV3_BN_TRAIN_APPLY_TF_SUBTRACT_FIRST] = MNV3_BN_TRAIN_SUBTRACT_FIRST_ESTIMATE};
    e->bn_batch_stats = stats[opt[MNV3_FACTOR_BN_BATCH_STATS]];
    e->bn_refuse_single_value = opt[MNV3_FACTOR_BN_BATCH_STATS] == MNV3_BN_BATCH_STATS_ATEN;
    e->bn_train_apply = apply[opt[MNV3_FACTOR_BN_TRAIN_APPLY]];
    e->bn_update = mnv3_plan_bn_update_rule(p);
    e->bn_update_unbiased = opt[MNV3_FACTOR_BN_UPDATE_VARIANCE] == MNV3_BN_UPDATE_VARIANCE_UNBIASED;
}

/* The activation gradients: ATen's closed or open affine piece, or TF's
 * product rule over the forward formula. */
static void resolve_activation_grad(mnv3_exec_op *e, int option) {
    static const int hswish[MNV3_ACTIVATION_GRAD_COUNT] = {
        [MNV3_ACTIVATION_GRAD_ATEN_1_13] = MNV3_HSWISH_GRAD_CLOSED_AFFINE,
        [MNV3_ACTIVATION_GRAD_ATEN_OPEN] = MNV3_HSWISH_GRAD_OPEN_AFFINE,
        [MNV3_ACTIVATION_GRAD_TF_AUTODIFF] = MNV3_HSWISH_GRAD_PRODUCT_RULE};
    e->hardswish_grad = hswish[option];
    e->hardsigmoid_grad = option == MNV3_ACTIVATION_GRAD_TF_AUTODIFF ? MNV3_HSIG_GRAD_FORWARD_FORMULA
                                                                      : MNV3_HSIG_GRAD_TIMES_RECIP6;
}

void mnv3_plan_train_rule(const mnv3_profile *p, mnv3_train_rule *rule) {
    rule->loss_divides_by_weight_sum = p->option[MNV3_FACTOR_LOSS_REDUCTION] == MNV3_LOSS_REDUCTION_WEIGHTED_MEAN;
    rule->dropout_negative_zero = p->option[MNV3_FACTOR_DROPOUT_APPLY] == MNV3_DROPOUT_APPLY_MULTIPLY_NOISE;
    rule->dropout_scale_f32_divide = rule->dropout_negative_zero;
    static const int generator[MNV3_DROPOUT_RNG_COUNT] = {
        [MNV3_DROPOUT_RNG_TORCH_MT19937] = MNV3_DROPOUT_MT19937_BERNOULLI,
        [MNV3_DROPOUT_RNG_KERAS_SEED_GENERATOR] = MNV3_DROPOUT_PHILOX_STATELESS,
        [MNV3_DROPOUT_RNG_TF_LEGACY] = MNV3_DROPOUT_PHILOX_STATEFUL};
    rule->dropout_generator = generator[p->option[MNV3_FACTOR_DROPOUT_RNG]];
}

/* Every option-dependent field of one op, shapes already known. */
static void resolve_numerics(mnv3_exec_op *e, const mnv3_profile *p) {
    const int *opt = p->option;
    e->hardsigmoid = opt[MNV3_FACTOR_HARDSIGMOID];
    e->hardswish = opt[MNV3_FACTOR_HARDSWISH];
    e->pointwise_fma = opt[MNV3_FACTOR_POINTWISE] == MNV3_POINTWISE_FMA;
    e->bias_first = resolve_bias_first(e->op, opt[MNV3_FACTOR_BIAS]);
    e->conv_fused_from_batch = resolve_conv_fused_from_batch(e, opt[MNV3_FACTOR_CONV_ORDER]);
    resolve_batchnorm(e, opt[MNV3_FACTOR_BATCHNORM]);
    e->pool_order = resolve_pool_order(opt[MNV3_FACTOR_POOL_SUM]);
    e->f64 = opt[MNV3_FACTOR_ACCUMULATE] == MNV3_ACCUMULATE_F64;
    resolve_bn_training(e, p);
    resolve_activation_grad(e, p->option[MNV3_FACTOR_ACTIVATION_GRAD]);
}

static int valid_options(const mnv3_profile *p, mnv3_error *err) {
    for (int f = 0; f < MNV3_FACTOR_COUNT; f++)
        if (p->option[f] < 0 || p->option[f] >= mnv3_factor_option_count(f))
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "profile '%s': factor %s has no option %d", p->name,
                             mnv3_factor_name(f), p->option[f]);
    return MNV3_OK;
}

/* ---- building ---------------------------------------------------------------- */

int mnv3_plan_build(const mnv3_model *m, const mnv3_profile *p, int h, int w, mnv3_plan *plan,
                    mnv3_error *err) {
    if (valid_options(p, err) != MNV3_OK) return MNV3_FAIL;
    const int *opt = p->option;
    int rescale = opt[MNV3_FACTOR_INPUT_RESCALE] == MNV3_RESCALE_KERAS;
    int softmax = m->arch.num_classes > 0 && opt[MNV3_FACTOR_OUTPUT] == MNV3_OUTPUT_SOFTMAX;
    memset(plan, 0, sizeof *plan);
    plan->shape[0] = (mnv3_shape){3, h, w};

    /* graph value v -> plan value */
    int shift = rescale ? 1 : 0;
#define PLAN_VALUE(v) ((v) < 0 ? -1 : (v) == 0 ? shift : (v) + shift)
    int total = m->graph.n_ops + rescale + softmax;
    for (int i = 0; i < total; i++) {
        mnv3_exec_op *e = &plan->ops[i];
        int gi = i - rescale;
        if (rescale && i == 0) {
            e->op = &rescale_op;
            plan->src[i] = 0, plan->src2[i] = -1;
        } else if (gi < m->graph.n_ops) {
            e->op = &m->graph.ops[gi];
            plan->src[i] = PLAN_VALUE(e->op->src);
            plan->src2[i] = PLAN_VALUE(e->op->src2);
        } else {
            e->op = &softmax_op;
            plan->src[i] = i; /* output of the previous op */
            plan->src2[i] = -1;
        }
        e->in = plan->shape[plan->src[i]];
        if (plan->src2[i] >= 0) e->in2 = plan->shape[plan->src2[i]];
        mnv3_shape o = e->in;
        const mnv3_op *op = e->op;
        switch (op->kind) {
        case MNV3_OP_CONV:
            if (e->in.c != op->in_ch)
                return mnv3_fail_code(err, MNV3_ERR_SHAPE, NULL, "%s: %d input channels, expected %d", op->name,
                                 e->in.c, op->in_ch);
            resolve_padding(e, opt[MNV3_FACTOR_PADDING]);
            o.c = op->out_ch;
            o.h = (e->in.h + e->pad_top + e->pad_bottom - op->kernel) / op->stride + 1;
            o.w = (e->in.w + e->pad_left + e->pad_right - op->kernel) / op->stride + 1;
            if (o.h < 1 || o.w < 1)
                return mnv3_fail_code(err, MNV3_ERR_SHAPE, NULL, "input %dx%d is too small: %s has no output", h, w,
                                 op->name);
            break;
        case MNV3_OP_GLOBAL_POOL: o.h = o.w = 1; break;
        case MNV3_OP_LINEAR: o = (mnv3_shape){op->out_ch, 1, 1}; break;
        case MNV3_OP_ADD:
        case MNV3_OP_CHANNEL_SCALE:
            if (e->in2.c != e->in.c || (op->kind == MNV3_OP_ADD && mnv3_shape_numel(e->in2) != mnv3_shape_numel(e->in)))
                return mnv3_fail_code(err, MNV3_ERR_SHAPE, NULL, "%s: operand shapes differ", op->name);
            break;
        default: break;
        }
        e->out = o;
        resolve_numerics(e, p);
        plan->shape[i + 1] = o;
        plan->vector[i + 1] = op->kind == MNV3_OP_LINEAR ||
                            (op->kind != MNV3_OP_GLOBAL_POOL && plan->vector[plan->src[i]]);
        size_t plane = (size_t)o.h * (size_t)o.w;
        if (plane > plan->scratch_doubles) plan->scratch_doubles = plane;
    }
    plan->n = total;
    size_t at = 0;
    for (int v = 0; v <= total; v++) {
        plan->offset[v] = at;
        at += (mnv3_shape_numel(plan->shape[v]) + 15) & ~(size_t)15; /* 64-byte aligned values */
    }
    plan->arena_floats = at;
    return MNV3_OK;
#undef PLAN_VALUE
}

/* Name of the tap that holds value v (0 = input). */
const char *mnv3_plan_value_name(const mnv3_plan *plan, int v) {
    return v == 0 ? "input" : plan->ops[v - 1].op->tap;
}
