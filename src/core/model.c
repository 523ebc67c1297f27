/* Binding weights to the block table: map framework names to canonical
 * names, check every shape and value, and collect every problem found. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"

/* ---- the naming table: every framework's name and layout of a parameter ----
 * Module paths come from the op list (graph.c); this table adds the Keras
 * variable names. Import (below) and export (export.c) both read it. */

/* Keras variable names for each canonical parameter suffix: the Keras 3 name,
 * an older spelling, and the index under which Keras 3 .weights.h5 stores it. */
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

int mnv3_param_name(const mnv3_op *op, const char *suffix, mnv3_naming naming, int spelling,
                    char *buf, size_t size) {
    if (naming != MNV3_NAMING_KERAS) {
        if (spelling) return 0;
        snprintf(buf, size, "%s.%s", naming == MNV3_NAMING_TORCHVISION ? op->torchvision : op->name,
                 suffix);
        return 1;
    }
    for (size_t i = 0; i < sizeof keras_vars / sizeof keras_vars[0]; i++) {
        if (keras_vars[i].kind != op->kind || strcmp(keras_vars[i].suffix, suffix)) continue;
        if (spelling == 0) snprintf(buf, size, "%s/%s", op->keras, keras_vars[i].keras);
        else if (spelling == 1 && keras_vars[i].keras_alt)
            snprintf(buf, size, "%s/%s", op->keras, keras_vars[i].keras_alt);
        else if (spelling == 2) snprintf(buf, size, "%s/vars/%d", op->keras, keras_vars[i].index);
        else return 0;
        return 1;
    }
    return 0;
}

mnv3_stored_layout mnv3_keras_layout(const mnv3_op *op, const char *suffix, int stored_ndim) {
    if (strcmp(suffix, "weight") || op->kind == MNV3_OP_BATCHNORM) return MNV3_STORED_CANONICAL;
    if (op->kind == MNV3_OP_CONV && op->groups > 1) return MNV3_STORED_HWC1;
    return stored_ndim == 2 ? MNV3_STORED_IO : MNV3_STORED_HWIO;
}

int mnv3_stored_shape(const mnv3_param_slot *slot, mnv3_stored_layout layout, int64_t *shape) {
    const int64_t *c = slot->shape;
    switch (layout) {
    case MNV3_STORED_HWIO:
        if (slot->ndim == 2) { /* linear as a 1x1 conv */
            shape[0] = 1, shape[1] = 1, shape[2] = c[1], shape[3] = c[0];
            return 4;
        }
        shape[0] = c[2], shape[1] = c[3], shape[2] = c[1], shape[3] = c[0];
        return 4;
    case MNV3_STORED_HWC1:
        shape[0] = c[2], shape[1] = c[3], shape[2] = c[0], shape[3] = 1;
        return 4;
    case MNV3_STORED_IO: shape[0] = c[1], shape[1] = c[0]; return 2;
    case MNV3_STORED_CANONICAL: break;
    }
    for (int i = 0; i < slot->ndim; i++) shape[i] = c[i];
    return slot->ndim;
}

void mnv3_param_transpose(const mnv3_param_slot *slot, mnv3_stored_layout layout,
                          const float *src, float *dst, int to_canonical) {
    int64_t numel = 1;
    for (int i = 0; i < slot->ndim; i++) numel *= slot->shape[i];
    if (layout == MNV3_STORED_CANONICAL) {
        memcpy(dst, src, (size_t)numel * sizeof *dst);
        return;
    }
    /* canonical (O, I, kh, kw) or (O, I); stored (kh, kw, I, O), (kh, kw, C, 1) or (I, O) */
    int64_t O = slot->shape[0], I = slot->shape[1];
    int64_t K = slot->ndim == 4 ? slot->shape[2] * slot->shape[3] : 1;
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++)
            for (int64_t k = 0; k < K; k++) {
                int64_t stored = layout == MNV3_STORED_HWC1 ? k * O + o : (k * I + i) * O + o;
                int64_t canonical = (o * I + i) * K + k;
                if (to_canonical) dst[canonical] = src[stored];
                else dst[stored] = src[canonical];
            }
}

/* ---- import ------------------------------------------------------------------ */

/* Finds the stored tensor for one parameter slot under any accepted spelling;
 * name_out gets the name found or, failing that, the one looked for first. */
static const mnv3_tensor *find_param(const mnv3_tensors *ts, const mnv3_op *op,
                                     const mnv3_param_slot *slot, mnv3_naming nm, char *name_out,
                                     size_t size, mnv3_stored_layout *layout) {
    const mnv3_tensor *t = NULL;
    char candidate[128];
    for (int sp = 0; sp < MNV3_PARAM_SPELLINGS && !t; sp++)
        if (mnv3_param_name(op, slot->suffix, nm, sp, candidate, sizeof candidate))
            t = mnv3_tensors_find(ts, candidate);
    mnv3_param_name(op, slot->suffix, nm, 0, name_out, size);
    if (t) snprintf(name_out, size, "%s", t->name);
    *layout = nm == MNV3_NAMING_KERAS && t ? mnv3_keras_layout(op, slot->suffix, t->ndim)
                                           : MNV3_STORED_CANONICAL;
    return t;
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
    char raw[sizeof p->text];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(raw, sizeof raw, fmt, ap);
    va_end(ap);
    mnv3_escape_text(p->text, sizeof p->text, raw); /* names come from the file */
}

static int allow_value_problems;

void mnv3_set_allow_problems(int on) { allow_value_problems = on; }
int mnv3_allow_problems(void) { return allow_value_problems; }

/* Values the frameworks would silently turn into NaN or Inf: a negative
 * variance (sqrt of a negative) and magnitudes that overflow float32 after a
 * few multiply-adds. Returns 1 when a problem was added. */
static int check_values(mnv3_load_report *r, const char *fname, const mnv3_param_slot *slot,
                        const float *v, int64_t n) {
    int64_t negative = 0, huge = 0;
    float lowest = 0, largest = 0;
    for (int64_t k = 0; k < n; k++) {
        if (v[k] < 0) negative++, lowest = v[k] < lowest ? v[k] : lowest;
        if (fabsf(v[k]) > MNV3_MAX_PLAUSIBLE_MAGNITUDE) {
            huge++;
            if (fabsf(v[k]) > largest) largest = fabsf(v[k]);
        }
    }
    int added = 0;
    if (negative && !strcmp(slot->suffix, "running_var")) {
        add_problem(r, MNV3_PROBLEM_VALUE,
                    "%s holds %lld negative variances (lowest %g): BatchNorm would take the "
                    "square root of a negative number and both frameworks output NaN",
                    fname, (long long)negative, (double)lowest);
        added = 1;
    }
    if (huge) {
        add_problem(r, MNV3_PROBLEM_VALUE,
                    "%s holds %lld values of magnitude above %.0e (largest %g): float32 "
                    "overflows to Inf within a few layers",
                    fname, (long long)huge, MNV3_MAX_PLAUSIBLE_MAGNITUDE, (double)largest);
        added = 1;
    }
    return added;
}

/* What the file's model config says about BatchNorm (Keras files): an
 * epsilon <= 0 makes var + eps zero or negative, and both frameworks output
 * Inf or NaN; an epsilon other than the architecture's is another function
 * than the one mnv3 computes. Returns 1 when a problem was added. */
static int check_config(mnv3_load_report *r, const mnv3_config_facts *c, float bn_eps) {
    if (c->present < 0) {
        add_problem(r, MNV3_PROBLEM_VALUE,
                    "the file's model config is not readable JSON, so its BatchNorm epsilons "
                    "cannot be checked");
        return 1;
    }
    int added = 0;
    if (c->bn_eps_invalid) {
        add_problem(r, MNV3_PROBLEM_VALUE,
                    "the model config gives %d of its %d BatchNormalization layers an epsilon "
                    "that is zero, negative or not a number: var + eps can be zero or negative, "
                    "and both frameworks output Inf or NaN",
                    c->bn_eps_invalid, c->bn_layers);
        added = 1;
    }
    if (c->bn_layers > c->bn_eps_invalid &&
        ((float)c->bn_eps_min != bn_eps || (float)c->bn_eps_max != bn_eps)) {
        char range[64];
        if (c->bn_eps_min == c->bn_eps_max) snprintf(range, sizeof range, "%g", c->bn_eps_min);
        else snprintf(range, sizeof range, "%g to %g", c->bn_eps_min, c->bn_eps_max);
        add_problem(r, MNV3_PROBLEM_VALUE,
                    "the model config gives BatchNormalization epsilon %s, but MobileNetV3 "
                    "uses %g: the file's model computes another function than mnv3 would",
                    range, (double)bn_eps);
        added = 1;
    }
    return added;
}

static int ends_with(const char *s, const char *suffix) {
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

/* The naming under which the stem convolution's weight is present, if any. */
static int detect_naming(const mnv3_tensors *ts, const mnv3_graph *g, mnv3_naming *nm) {
    static const mnv3_naming order[] = {MNV3_NAMING_TORCHVISION, MNV3_NAMING_CANONICAL,
                                        MNV3_NAMING_KERAS};
    mnv3_op stem = g->ops[0];
    mnv3_param_slot slots[4];
    mnv3_op_params(&stem, slots);
    for (size_t i = 0; i < sizeof order / sizeof order[0]; i++) {
        char name[128];
        mnv3_stored_layout layout;
        if (find_param(ts, &stem, &slots[0], order[i], name, sizeof name, &layout)) {
            *nm = order[i];
            return 1;
        }
    }
    return 0;
}

/* Classes of the head's last linear layer as stored (0: a backbone). */
static int head_classes(const mnv3_tensors *ts, const mnv3_graph *g, mnv3_naming nm) {
    mnv3_op fc2 = g->ops[g->n_ops - 1]; /* the graph of an architecture with a head */
    mnv3_param_slot slots[4];
    mnv3_op_params(&fc2, slots);
    char name[128];
    mnv3_stored_layout layout;
    const mnv3_tensor *t = find_param(ts, &fc2, &slots[0], nm, name, sizeof name, &layout);
    if (!t) return 0;
    /* the output axis: Keras keeps the logits layer as a 1x1 Conv2D (1,1,1024,K) */
    int64_t classes = layout == MNV3_STORED_HWIO && t->ndim == 4 ? t->shape[3]
                      : layout == MNV3_STORED_IO && t->ndim == 2 ? t->shape[1]
                      : layout == MNV3_STORED_CANONICAL && t->ndim == 2 ? t->shape[0]
                                                                        : 0;
    return classes > 0 && classes <= 100000 ? (int)classes : 0;
}

int mnv3_model_from_tensors(const mnv3_tensors *ts, const char *source, mnv3_model **out,
                            mnv3_load_report *report, mnv3_error *err) {
    mnv3_load_report local;
    mnv3_load_report *r = report ? report : &local;
    memset(r, 0, sizeof *r);
    *out = NULL;
    r->n_tensors = ts->count;

    mnv3_model *m = calloc(1, sizeof *m);
    if (!m) return mnv3_fail(err, source, "out of memory");
    /* The names come from the graph of the architecture with a head. */
    mnv3_naming nm;
    mnv3_arch_small(&m->arch, 1000);
    mnv3_graph_build(&m->arch, &m->graph);
    if (!detect_naming(ts, &m->graph, &nm)) {
        free(m);
        return mnv3_fail(err, source,
                         "no MobileNetV3 tensors found (no torchvision 'features.0.0.weight', "
                         "canonical 'stem.conv.weight' or Keras 3 'conv/kernel')");
    }
    static const char *const naming_names[] = {
        [MNV3_NAMING_CANONICAL] = "canonical", [MNV3_NAMING_TORCHVISION] = "torchvision",
        [MNV3_NAMING_KERAS] = "keras"};
    _Static_assert(sizeof naming_names / sizeof naming_names[0] == MNV3_NAMING_COUNT,
                   "a name for every naming");
    strcpy(r->naming, naming_names[nm]);
    int classes = head_classes(ts, &m->graph, nm);
    mnv3_arch_small(&m->arch, classes);
    /* BN folded into the convolutions (TFLite): conv biases, no BN tensors. */
    m->arch.bn_folded = nm == MNV3_NAMING_CANONICAL && mnv3_tensors_find(ts, "stem.conv.bias") &&
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
            mnv3_stored_layout layout;
            snprintf(cname, sizeof cname, "%s.%s", op->name, slots[s].suffix);
            const mnv3_tensor *t = find_param(ts, op, &slots[s], nm, fname, sizeof fname, &layout);
            int64_t stored[4];
            int stored_ndim = mnv3_stored_shape(&slots[s], layout, stored);
            mnv3_shape_text(want, sizeof want, stored_ndim, stored);
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
                mnv3_shape_text(got, sizeof got, t->ndim, t->shape);
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
            } else if (check_values(r, fname, &slots[s], src, numel) && !allow_value_problems) {
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
            mnv3_param_transpose(&slots[s], layout, src, copy, 1);
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
    if (check_config(r, &ts->config, m->arch.bn_eps) && !allow_value_problems) fatal = 1;

    if (!fatal)
        snprintf(r->variant, sizeof r->variant, "%s (%s)", m->arch.name,
                 classes ? (classes == 1000 ? "1000 classes" : "classifier head")
                         : "backbone, 576 features");
    else
        snprintf(r->variant, sizeof r->variant, "%s?", m->arch.name);
    if (fatal) {
        mnv3_model_free(m);
        size_t more = r->n_problems + r->n_problems_dropped - 1;
        int values_only = 1;
        for (size_t i = 0; i < r->n_problems; i++)
            values_only &= r->problems[i].kind == MNV3_PROBLEM_VALUE;
        const char *hint = values_only ? "; --allow-problems runs it anyway" : "";
        if (more)
            return mnv3_fail(err, source, "%s (and %zu more problems; see mnv3 info%s)",
                             r->problems[0].text, more, hint);
        return mnv3_fail(err, source, "%s%s%s%s", r->problems[0].text, *hint ? " (" : "",
                         *hint ? hint + 2 : "", *hint ? ")" : "");
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
