/* Block table -> op list. Read top to bottom: this is MobileNetV3. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/graph.h"
#include "core/util.h"

/* Names are short by construction; truncation would only shorten a label. */
static void format_name(char *dst, size_t size, const char *fmt, ...) MNV3_PRINTF(3, 4);
static void format_name(char *dst, size_t size, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(dst, size, fmt, ap);
    va_end(ap);
}
#define NAME_FMT(dst, ...) format_name((dst), sizeof(dst), __VA_ARGS__)

typedef struct builder {
    mnv3_graph *g;
    int current; /* value id holding the running activation */
    /* Keras names unnamed layers from per-class counters: activation,
     * activation_1, ... and re_lu, re_lu_1, ... (model built first in a process). */
    int keras_activations, keras_relus;
    int bn_folded;
} builder;

static void keras_counter_name(char *dst, size_t size, const char *base, int *counter) {
    if ((*counter)++ == 0) format_name(dst, size, "%s", base);
    else format_name(dst, size, "%s_%d", base, *counter - 1);
}


static mnv3_op *emit(builder *b, mnv3_op_kind kind, const char *name, const char *tv,
                     const char *keras) {
    mnv3_op *op = &b->g->ops[b->g->n_ops++];
    memset(op, 0, sizeof *op);
    op->kind = kind;
    NAME_FMT(op->name, "%s", name);
    NAME_FMT(op->tap, "%s", name);
    NAME_FMT(op->torchvision, "%s", tv);
    NAME_FMT(op->keras, "%s", keras);
    op->src = b->current;
    op->src2 = -1;
    b->current = b->g->n_ops; /* this op's output */
    return op;
}

static void conv(builder *b, const char *name, const char *tv, const char *keras, int in,
                 int out, int k, int stride, int groups, int has_bias, mnv3_pad_role role) {
    mnv3_op *op = emit(b, MNV3_OP_CONV, name, tv, keras);
    op->in_ch = in;
    op->out_ch = out;
    op->kernel = k;
    op->stride = stride;
    op->groups = groups;
    op->has_bias = has_bias;
    op->pad_role = stride > 1 ? role : MNV3_PAD_ROLE_NONE;
}

static void batchnorm(builder *b, const char *name, const char *tv, const char *keras, int ch,
                      float eps) {
    mnv3_op *op = emit(b, MNV3_OP_BATCHNORM, name, tv, keras);
    op->in_ch = op->out_ch = ch;
    op->eps = eps;
}

static void activation(builder *b, mnv3_act act, const char *name, const char *tv,
                       const char *keras) {
    emit(b, act == MNV3_ACT_RELU ? MNV3_OP_RELU : MNV3_OP_HARDSWISH, name, tv, keras);
}

/* conv -> bn -> act, named prefix.{conv,bn,act}; torchvision Conv2dNormActivation. */
static void conv_bn_act(builder *b, const char *prefix, const char *tv, const char *keras,
                        const char *keras_bn, int in, int out, int k, int stride, int groups,
                        mnv3_act act, mnv3_pad_role role, float eps) {
    char name[48], tvname[64], kname[64];
    NAME_FMT(name, "%s.conv", prefix);
    NAME_FMT(tvname, "%s.0", tv);
    conv(b, name, tvname, keras, in, out, k, stride, groups, b->bn_folded, role);
    if (b->bn_folded) { /* conv + bias produces what BatchNorm would */
        mnv3_op *folded = &b->g->ops[b->g->n_ops - 1];
        NAME_FMT(folded->tap, "%s.bn", prefix);
    } else {
        NAME_FMT(name, "%s.bn", prefix);
        NAME_FMT(tvname, "%s.1", tv);
        batchnorm(b, name, tvname, keras_bn, out, eps);
    }
    if (act == MNV3_ACT_NONE) return;
    (void)keras_bn;
    NAME_FMT(name, "%s.act", prefix);
    NAME_FMT(tvname, "%s.2", tv);
    if (act == MNV3_ACT_RELU) keras_counter_name(kname, sizeof kname, "re_lu", &b->keras_relus);
    else keras_counter_name(kname, sizeof kname, "activation", &b->keras_activations);
    activation(b, act, name, tvname, kname);
}

static void squeeze_excite(builder *b, const char *prefix, const char *tv, const char *kp,
                           int ch, int squeeze) {
    char name[48], tvname[64], kname[64];
    int block_input = b->current;
    NAME_FMT(name, "%s.pool", prefix);
    NAME_FMT(tvname, "%s.avgpool", tv);
    NAME_FMT(kname, "%ssqueeze_excite_avg_pool", kp);
    emit(b, MNV3_OP_GLOBAL_POOL, name, tvname, kname);
    NAME_FMT(name, "%s.fc1", prefix);
    NAME_FMT(tvname, "%s.fc1", tv);
    NAME_FMT(kname, "%ssqueeze_excite_conv", kp);
    conv(b, name, tvname, kname, ch, squeeze, 1, 1, 1, 1, MNV3_PAD_ROLE_NONE);
    NAME_FMT(name, "%s.relu", prefix);
    NAME_FMT(tvname, "%s.activation", tv);
    NAME_FMT(kname, "%ssqueeze_excite_relu", kp);
    emit(b, MNV3_OP_RELU, name, tvname, kname);
    NAME_FMT(name, "%s.fc2", prefix);
    NAME_FMT(tvname, "%s.fc2", tv);
    NAME_FMT(kname, "%ssqueeze_excite_conv_1", kp);
    conv(b, name, tvname, kname, squeeze, ch, 1, 1, 1, 1, MNV3_PAD_ROLE_NONE);
    NAME_FMT(name, "%s.gate", prefix);
    NAME_FMT(tvname, "%s.scale_activation", tv);
    /* Keras: ReLU(6.)(x + 3.) * (1/6); the multiply has no layer of its own. */
    keras_counter_name(kname, sizeof kname, "re_lu", &b->keras_relus);
    emit(b, MNV3_OP_HARDSIGMOID, name, tvname, kname);
    NAME_FMT(name, "%s.scale", prefix);
    NAME_FMT(kname, "%ssqueeze_excite_mul", kp);
    mnv3_op *mul = emit(b, MNV3_OP_CHANNEL_SCALE, name, tv, kname);
    mul->src = block_input;
    mul->src2 = b->g->n_ops - 1; /* the gate */
}

/* torchvision _make_divisible / Keras _depth. */
static int make_divisible(double v, int divisor) {
    int rounded = (int)(v + divisor / 2.0) / divisor * divisor;
    if (rounded < divisor) rounded = divisor;
    if (rounded < 0.9 * v) rounded += divisor;
    return rounded;
}

void mnv3_graph_build(const mnv3_arch *arch, mnv3_graph *g) {
    builder b = {g, 0, 0, 0, arch->bn_folded};
    g->n_ops = 0;
    const float eps = arch->bn_eps;

    conv_bn_act(&b, "stem", "features.0", "conv", "conv_bn", 3, arch->stem_out, 3, 2, 1,
                arch->stem_act, MNV3_PAD_ROLE_STEM, eps);

    for (int i = 0; i < arch->n_blocks; i++) {
        const mnv3_block_spec *s = &arch->blocks[i];
        char prefix[48], tv[64], kp[64], kname[64], kbn[64];
        int block_input = b.current;
        int sub = 0; /* torchvision index inside InvertedResidual.block */
        /* Keras: block 0 is "expanded_conv_", block i "expanded_conv_{i}_". */
        if (i == 0) NAME_FMT(kp, "expanded_conv_");
        else NAME_FMT(kp, "expanded_conv_%d_", i);

        if (s->expanded != s->in) {
            NAME_FMT(prefix, "b%d.expand", i);
            NAME_FMT(tv, "features.%d.block.%d", i + 1, sub++);
            NAME_FMT(kname, "%sexpand", kp);
            NAME_FMT(kbn, "%sexpand_bn", kp);
            conv_bn_act(&b, prefix, tv, kname, kbn, s->in, s->expanded, 1, 1, 1, s->act,
                        MNV3_PAD_ROLE_NONE, eps);
        }
        NAME_FMT(prefix, "b%d.dw", i);
        NAME_FMT(tv, "features.%d.block.%d", i + 1, sub++);
        NAME_FMT(kname, "%sdepthwise", kp);
        NAME_FMT(kbn, "%sdepthwise_bn", kp);
        conv_bn_act(&b, prefix, tv, kname, kbn, s->expanded, s->expanded, s->kernel, s->stride,
                    s->expanded, s->act, MNV3_PAD_ROLE_DEPTHWISE, eps);
        if (s->use_se) {
            NAME_FMT(prefix, "b%d.se", i);
            NAME_FMT(tv, "features.%d.block.%d", i + 1, sub++);
            squeeze_excite(&b, prefix, tv, kp, s->expanded, make_divisible(s->expanded / 4, 8));
        }
        NAME_FMT(prefix, "b%d.project", i);
        NAME_FMT(tv, "features.%d.block.%d", i + 1, sub++);
        NAME_FMT(kname, "%sproject", kp);
        NAME_FMT(kbn, "%sproject_bn", kp);
        conv_bn_act(&b, prefix, tv, kname, kbn, s->expanded, s->out, 1, 1, 1, MNV3_ACT_NONE,
                    MNV3_PAD_ROLE_NONE, eps);
        if (s->stride == 1 && s->in == s->out) {
            NAME_FMT(prefix, "b%d.add", i);
            NAME_FMT(tv, "features.%d", i + 1);
            NAME_FMT(kname, "%sadd", kp);
            mnv3_op *add = emit(&b, MNV3_OP_ADD, prefix, tv, kname);
            add->src = block_input;
            add->src2 = g->n_ops - 1;
        }
    }

    char tv_last[16];
    NAME_FMT(tv_last, "features.%d", arch->n_blocks + 1);
    int last_in = arch->blocks[arch->n_blocks - 1].out;
    conv_bn_act(&b, "last", tv_last, "conv_1", "conv_1_bn", last_in, arch->last_out, 1, 1, 1,
                arch->last_act, MNV3_PAD_ROLE_NONE, eps);
    emit(&b, MNV3_OP_GLOBAL_POOL, "pool", "avgpool", "global_average_pooling2d");

    if (arch->num_classes > 0) {
        mnv3_op *fc1 = emit(&b, MNV3_OP_LINEAR, "head.fc1", "classifier.0", "conv_2");
        fc1->in_ch = arch->last_out;
        fc1->out_ch = arch->head_hidden;
        fc1->has_bias = 1;
        char kname[32];
        keras_counter_name(kname, sizeof kname, "activation", &b.keras_activations);
        emit(&b, MNV3_OP_HARDSWISH, "head.act", "classifier.1", kname);
        mnv3_op *fc2 = emit(&b, MNV3_OP_LINEAR, "head.fc2", "classifier.3", "logits");
        fc2->in_ch = arch->head_hidden;
        fc2->out_ch = arch->num_classes;
        fc2->has_bias = 1;
    }
}

int mnv3_op_params(mnv3_op *op, mnv3_param_slot *slots) {
    int n = 0;
    if (op->kind == MNV3_OP_CONV) {
        slots[n++] = (mnv3_param_slot){"weight", 4,
            {op->out_ch, op->in_ch / op->groups, op->kernel, op->kernel}, &op->weight, 0};
        if (op->has_bias)
            slots[n++] = (mnv3_param_slot){"bias", 1, {op->out_ch}, &op->bias, 0};
    } else if (op->kind == MNV3_OP_LINEAR) {
        slots[n++] = (mnv3_param_slot){"weight", 2, {op->out_ch, op->in_ch}, &op->weight, 0};
        slots[n++] = (mnv3_param_slot){"bias", 1, {op->out_ch}, &op->bias, 0};
    } else if (op->kind == MNV3_OP_BATCHNORM) {
        slots[n++] = (mnv3_param_slot){"weight", 1, {op->out_ch}, &op->weight, 0};
        slots[n++] = (mnv3_param_slot){"bias", 1, {op->out_ch}, &op->bias, 0};
        slots[n++] = (mnv3_param_slot){"running_mean", 1, {op->out_ch}, &op->bn_mean, 1};
        slots[n++] = (mnv3_param_slot){"running_var", 1, {op->out_ch}, &op->bn_var, 1};
    }
    return n;
}

int mnv3_layer_names(const mnv3_arch *arch, mnv3_layer_name *out, int max) {
    static const char *kind_names[MNV3_OP_KIND_COUNT] = {
        "rescale", "conv", "batchnorm", "relu", "hardswish", "hardsigmoid", "global_pool",
        "channel_scale", "add", "linear", "softmax"};
    mnv3_graph g;
    mnv3_graph_build(arch, &g);
    int n = 0;
    for (int i = 0; i < g.n_ops && n < max; i++, n++) {
        const mnv3_op *op = &g.ops[i];
        snprintf(out[n].canonical, sizeof out[n].canonical, "%s", op->tap);
        snprintf(out[n].torchvision, sizeof out[n].torchvision, "%s", op->torchvision);
        snprintf(out[n].keras, sizeof out[n].keras, "%s", op->keras);
        snprintf(out[n].op, sizeof out[n].op, "%s", kind_names[op->kind]);
    }
    return n;
}
