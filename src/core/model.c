/* Binding weights to the block table: map framework names to canonical
 * names, check every shape and value, and collect every problem found. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"

typedef enum naming { NAMING_TORCHVISION, NAMING_CANONICAL, NAMING_KERAS } naming;

/* How a stored tensor is laid out relative to the canonical (torchvision) one. */
typedef enum source_layout {
    LAYOUT_CANONICAL,   /* OIHW, depthwise (C,1,kh,kw), linear (out,in) */
    LAYOUT_HWIO,        /* Keras Conv2D (kh,kw,in,out); also a 1x1 conv used as linear */
    LAYOUT_HWC1,        /* Keras DepthwiseConv2D (kh,kw,C,1) */
    LAYOUT_IO           /* Keras Dense (in,out) */
} source_layout;

/* Keras variable names for each canonical parameter suffix, and the
 * index under which Keras 3 .weights.h5 stores it. */
static const struct {
    mnv3_op_kind kind;
    const char *suffix, *keras, *keras_alt;
    int index;
} keras_vars[] = {
    {MNV3_OP_CONV, "weight", "kernel", "depthwise_kernel", 0},
    {MNV3_OP_CONV, "bias", "bias", NULL, 1},
    {MNV3_OP_LINEAR, "weight", "kernel", NULL, 0},
    {MNV3_OP_LINEAR, "bias", "bias", NULL, 1},
    {MNV3_OP_BATCHNORM, "weight", "gamma", NULL, 0},
    {MNV3_OP_BATCHNORM, "bias", "beta", NULL, 1},
    {MNV3_OP_BATCHNORM, "running_mean", "moving_mean", NULL, 2},
    {MNV3_OP_BATCHNORM, "running_var", "moving_variance", NULL, 3},
};

/* Finds the stored tensor for one parameter slot; name_out gets the name
 * looked for (for messages). */
static const mnv3_tensor *find_param(const mnv3_tensors *ts, const mnv3_op *op,
                                     const mnv3_param_slot *slot, naming nm, char *name_out,
                                     size_t size, source_layout *layout) {
    *layout = LAYOUT_CANONICAL;
    if (nm != NAMING_KERAS) {
        snprintf(name_out, size, "%s.%s", nm == NAMING_TORCHVISION ? op->torchvision : op->name,
                 slot->suffix);
        return mnv3_tensors_find(ts, name_out);
    }
    for (size_t i = 0; i < sizeof keras_vars / sizeof keras_vars[0]; i++) {
        if (keras_vars[i].kind != op->kind || strcmp(keras_vars[i].suffix, slot->suffix)) continue;
        const char *candidates[3] = {keras_vars[i].keras, keras_vars[i].keras_alt, NULL};
        char by_index[24];
        snprintf(by_index, sizeof by_index, "vars/%d", keras_vars[i].index);
        candidates[2] = by_index;
        const mnv3_tensor *t = NULL;
        for (int c = 0; c < 3 && !t; c++) {
            if (!candidates[c]) continue;
            snprintf(name_out, size, "%s/%s", op->keras, candidates[c]);
            t = mnv3_tensors_find(ts, name_out);
        }
        if (!t) snprintf(name_out, size, "%s/%s", op->keras, keras_vars[i].keras);
        if (t && !strcmp(slot->suffix, "weight") && op->kind != MNV3_OP_BATCHNORM)
            *layout = op->kind == MNV3_OP_CONV && op->groups > 1 ? LAYOUT_HWC1
                      : t->ndim == 2                             ? LAYOUT_IO
                                                                 : LAYOUT_HWIO;
        return t;
    }
    return NULL;
}

/* The stored shape a slot needs under a layout. */
static int stored_shape(const mnv3_param_slot *slot, source_layout layout, int64_t *shape) {
    const int64_t *c = slot->shape;
    switch (layout) {
    case LAYOUT_HWIO:
        if (slot->ndim == 2) { /* linear as a 1x1 conv */
            shape[0] = 1, shape[1] = 1, shape[2] = c[1], shape[3] = c[0];
            return 4;
        }
        shape[0] = c[2], shape[1] = c[3], shape[2] = c[1], shape[3] = c[0];
        return 4;
    case LAYOUT_HWC1: shape[0] = c[2], shape[1] = c[3], shape[2] = c[0], shape[3] = 1; return 4;
    case LAYOUT_IO: shape[0] = c[1], shape[1] = c[0]; return 2;
    default:
        for (int i = 0; i < slot->ndim; i++) shape[i] = c[i];
        return slot->ndim;
    }
}

/* Copies src (stored layout) into dst (canonical layout). */
static void to_canonical(const mnv3_param_slot *slot, source_layout layout, const float *src,
                         float *dst, int64_t numel) {
    if (layout == LAYOUT_CANONICAL) {
        memcpy(dst, src, (size_t)numel * sizeof *dst);
        return;
    }
    /* canonical (O, I, kh, kw) or (O, I); stored (kh, kw, I, O), (kh, kw, C, 1) or (I, O) */
    int64_t O = slot->shape[0], I = slot->shape[1];
    int64_t K = slot->ndim == 4 ? slot->shape[2] * slot->shape[3] : 1;
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++)
            for (int64_t k = 0; k < K; k++) {
                int64_t from = layout == LAYOUT_HWC1 ? k * O + o : (k * I + i) * O + o;
                dst[(o * I + i) * K + k] = src[from];
            }
}

static void add_problem(mnv3_load_report *r, mnv3_problem_kind kind, const char *fmt, ...)
    MNV3_PRINTF(3, 4);

static void add_problem(mnv3_load_report *r, mnv3_problem_kind kind, const char *fmt, ...) {
    if (r->n_problems >= sizeof r->problems / sizeof r->problems[0]) {
        r->n_problems_dropped++;
        return;
    }
    mnv3_problem *p = &r->problems[r->n_problems++];
    p->kind = kind;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->text, sizeof p->text, fmt, ap);
    va_end(ap);
}

static void shape_text(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld",
                                 (long long)shape[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

static int head_classes(const mnv3_tensors *ts, naming nm) {
    if (nm == NAMING_KERAS) { /* logits: Conv2D 1x1 (1,1,1024,K) */
        const mnv3_tensor *k = mnv3_tensors_find(ts, "logits/kernel");
        if (!k) k = mnv3_tensors_find(ts, "logits/vars/0");
        return k && k->ndim == 4 && k->shape[3] > 0 && k->shape[3] <= 100000 ? (int)k->shape[3] : 0;
    }
    const mnv3_tensor *fc2 = mnv3_tensors_find(
        ts, nm == NAMING_TORCHVISION ? "classifier.3.weight" : "head.fc2.weight");
    return fc2 && fc2->ndim == 2 && fc2->shape[0] > 0 && fc2->shape[0] <= 100000
               ? (int)fc2->shape[0]
               : 0;
}

int mnv3_model_from_tensors(const mnv3_tensors *ts, const char *source, mnv3_model **out,
                            mnv3_load_report *report, mnv3_error *err) {
    mnv3_load_report local;
    mnv3_load_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    *out = NULL;
    r->n_tensors = ts->count;

    naming nm;
    if (mnv3_tensors_find(ts, "features.0.0.weight")) nm = NAMING_TORCHVISION;
    else if (mnv3_tensors_find(ts, "stem.conv.weight")) nm = NAMING_CANONICAL;
    else if (mnv3_tensors_find(ts, "conv/kernel") || mnv3_tensors_find(ts, "conv/vars/0"))
        nm = NAMING_KERAS;
    else
        return mnv3_fail(err, source,
                         "no MobileNetV3 tensors found (no torchvision 'features.0.0.weight', "
                         "canonical 'stem.conv.weight' or Keras 3 'conv/kernel')");
    static const char *naming_names[] = {"torchvision", "canonical", "keras"};
    strcpy(r->naming, naming_names[nm]);

    mnv3_model *m = calloc(1, sizeof *m);
    if (!m) return mnv3_fail(err, source, "out of memory");
    int classes = head_classes(ts, nm);
    mnv3_arch_small(&m->arch, classes);
    /* BN folded into the convolutions (TFLite): conv biases, no BN tensors. */
    m->arch.bn_folded = nm == NAMING_CANONICAL && mnv3_tensors_find(ts, "stem.conv.bias") &&
                        !mnv3_tensors_find(ts, "stem.bn.weight");
    mnv3_graph_build(&m->arch, &m->graph);
    r->has_head = classes > 0;
    r->num_classes = classes;

    unsigned char *used = calloc(ts->count ? ts->count : 1, 1);
    if (!used) {
        free(m);
        return mnv3_fail(err, source, "out of memory");
    }
    int fatal = 0;
    for (int i = 0; i < m->graph.n_ops; i++) {
        mnv3_op *op = &m->graph.ops[i];
        mnv3_param_slot slots[4];
        int n = mnv3_op_params(op, slots);
        for (int s = 0; s < n; s++) {
            char fname[96], cname[96], want[64], got[64];
            source_layout layout;
            snprintf(cname, sizeof cname, "%s.%s", op->name, slots[s].suffix);
            const mnv3_tensor *t = find_param(ts, op, &slots[s], nm, fname, sizeof fname, &layout);
            int64_t stored[4];
            int stored_ndim = stored_shape(&slots[s], layout, stored);
            shape_text(want, sizeof want, stored_ndim, stored);
            if (!t) {
                add_problem(r, MNV3_PROBLEM_MISSING, "missing tensor %s %s", fname, want);
                fatal = 1;
                continue;
            }
            used[t - ts->items] = 1;
            if (t->dtype != MNV3_F32) {
                add_problem(r, MNV3_PROBLEM_DTYPE, "%s has dtype %s, expected floating point",
                            fname, t->source_dtype);
                fatal = 1;
                continue;
            }
            int same = t->ndim == stored_ndim;
            for (int d = 0; same && d < t->ndim; d++) same = t->shape[d] == stored[d];
            if (!same) {
                shape_text(got, sizeof got, t->ndim, t->shape);
                add_problem(r, MNV3_PROBLEM_SHAPE, "%s has shape %s, expected %s", fname, got,
                            want);
                fatal = 1;
                continue;
            }
            int64_t numel = mnv3_tensor_numel(t), nonfinite = 0;
            const float *src = t->data;
            for (int64_t k = 0; k < numel; k++) nonfinite += !isfinite(src[k]);
            if (nonfinite) {
                add_problem(r, MNV3_PROBLEM_NONFINITE, "%s holds %lld NaN/Inf values", fname,
                            (long long)nonfinite);
                fatal = 1;
            }
            if (slots[s].is_buffer) r->n_buffers += numel;
            else r->n_parameters += numel;
            float *copy = malloc((size_t)numel * sizeof *copy);
            if (!copy || mnv3_tensors_add(&m->tensors, cname, MNV3_F32, slots[s].ndim,
                                          slots[s].shape, copy, err) != MNV3_OK) {
                free(used);
                mnv3_model_free(m);
                return mnv3_fail(err, source, "out of memory");
            }
            to_canonical(&slots[s], layout, src, copy, numel);
            *slots[s].bind = copy;
        }
    }
    for (size_t i = 0; i < ts->count; i++) {
        if (used[i]) continue;
        const mnv3_tensor *t = &ts->items[i];
        if (ends_with(t->name, "num_batches_tracked") && t->dtype == MNV3_I64) continue;
        add_problem(r, MNV3_PROBLEM_EXTRA, "unexpected tensor %s", t->name);
        fatal = 1;
    }
    free(used);

    if (!fatal)
        snprintf(r->variant, sizeof r->variant, "%s (%s)", m->arch.name,
                 classes ? (classes == 1000 ? "1000 classes" : "classifier head")
                         : "backbone, 576 features");
    else
        snprintf(r->variant, sizeof r->variant, "%s?", m->arch.name);
    if (fatal) {
        mnv3_model_free(m);
        size_t more = r->n_problems + r->n_problems_dropped - 1;
        if (more)
            return mnv3_fail(err, source, "%s (and %zu more problems; see mnv3 info)",
                             r->problems[0].text, more);
        return mnv3_fail(err, source, "%s", r->problems[0].text);
    }
    *out = m;
    return MNV3_OK;
}

void mnv3_model_free(mnv3_model *m) {
    if (!m) return;
    mnv3_tensors_free(&m->tensors);
    free(m);
}

const mnv3_arch *mnv3_model_arch(const mnv3_model *m) { return &m->arch; }
const mnv3_tensors *mnv3_model_tensors(const mnv3_model *m) { return &m->tensors; }
int mnv3_output_size(const mnv3_model *m) {
    return m->arch.num_classes ? m->arch.num_classes : m->arch.last_out;
}
