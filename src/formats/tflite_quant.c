/* Quantized TFLite models into a mnv3_qgraph (src/quant/qgraph.h): the
 * flatbuffer reader of tflite.c gives tensors and operators; this copies
 * dtypes, shapes, the full scale and zero-point vectors and the options of
 * the operators the integer kernels know. Parameter values are checked by
 * the plan (src/quant/qplan.c), which names the file in every error. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/tflite.h"
#include "quant/qgraph.h"

static int dtype_of(int tfl) {
    switch (tfl) {
    case MNV3_TFL_FLOAT32: return MNV3_QT_FLOAT32;
    case MNV3_TFL_INT32: return MNV3_QT_INT32;
    case MNV3_TFL_UINT8: return MNV3_QT_UINT8;
    case MNV3_TFL_INT8: return MNV3_QT_INT8;
    default: return MNV3_QT_OTHER;
    }
}

static int kind_of(int builtin) {
    switch (builtin) {
    case MNV3_TFL_OP_CONV_2D: return MNV3_QOP_CONV_2D;
    case MNV3_TFL_OP_DEPTHWISE_CONV_2D: return MNV3_QOP_DEPTHWISE_CONV_2D;
    case MNV3_TFL_OP_ADD: return MNV3_QOP_ADD;
    case MNV3_TFL_OP_MUL: return MNV3_QOP_MUL;
    case MNV3_TFL_OP_HARD_SWISH: return MNV3_QOP_HARD_SWISH;
    case MNV3_TFL_OP_AVERAGE_POOL_2D: return MNV3_QOP_AVERAGE_POOL_2D;
    case MNV3_TFL_OP_RESHAPE: return MNV3_QOP_RESHAPE;
    case MNV3_TFL_OP_SOFTMAX: return MNV3_QOP_SOFTMAX;
    default: return -1;
    }
}

unsigned long long mnv3_qgraph_activation_bytes(const struct mnv3_qgraph *g) {
    unsigned long long bytes = 0;
    for (int i = 0; i < g->n_tensors; i++) {
        const mnv3_qtensor *t = &g->tensors[i];
        if (!t->data) bytes += (unsigned long long)t->numel * mnv3_qdtype_size(t->dtype);
        if (bytes > ((unsigned long long)1 << 62)) break; /* numel < 2^31 each */
    }
    return bytes;
}

unsigned long long mnv3_qgraph_macs(const struct mnv3_qgraph *g, unsigned long long stop) {
    unsigned long long macs = 0;
    for (int i = 0; i < g->n_ops; i++) {
        const mnv3_qop *o = &g->ops[i];
        if (o->output < 0 || o->output >= g->n_tensors) continue; /* refused by the plan */
        unsigned long long out = g->tensors[o->output].numel, per = 1;
        if ((o->kind == MNV3_QOP_CONV_2D || o->kind == MNV3_QOP_DEPTHWISE_CONV_2D) &&
            o->n_inputs >= 2 && o->inputs[1] >= 0 && o->inputs[1] < g->n_tensors) {
            const mnv3_qtensor *w = &g->tensors[o->inputs[1]];
            /* conv: kh * kw * cin per output; depthwise: kh * kw */
            if (w->ndim == 4 && w->shape[1] > 0 && w->shape[2] > 0 && w->shape[3] > 0)
                per = (unsigned long long)w->shape[1] * (unsigned long long)w->shape[2] *
                      (o->kind == MNV3_QOP_CONV_2D ? (unsigned long long)w->shape[3] : 1ull);
        } else if (o->kind == MNV3_QOP_AVERAGE_POOL_2D && o->filter_w > 0 && o->filter_h > 0) {
            per = (unsigned long long)o->filter_w * (unsigned long long)o->filter_h;
        }
        if (out > (stop - macs) / per) return stop + 1;
        macs += out * per;
    }
    return macs;
}

/* Budgets of one run, checked before the plan allocates or computes
 * anything: the activation tensors together (every non-constant tensor
 * gets its own storage) within the file budget, and the multiply-adds of
 * one inference within MNV3_TFLITE_QUANT_MAX_MACS. MobileNetV3-Small at
 * 224x224 (TF-slim uint8) needs 2.7 MB of activations and 0.058 G
 * multiply-adds. */
static int check_run_budget(const mnv3_qgraph *g, const char *label, mnv3_error *err) {
    unsigned long long bytes = mnv3_qgraph_activation_bytes(g);
    if (bytes > mnv3_file_budget())
        return mnv3_fail_over_budget(err, label, "running this quantized model (its activations)",
                                     bytes);
    if (mnv3_qgraph_macs(g, MNV3_TFLITE_QUANT_MAX_MACS) > MNV3_TFLITE_QUANT_MAX_MACS)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label,
                              "one run of this quantized model needs more than %llu "
                              "multiply-adds (MobileNetV3-Small at 224x224 needs 0.058 G); "
                              "a hostile model?",
                              (unsigned long long)MNV3_TFLITE_QUANT_MAX_MACS);
    return MNV3_OK;
}

int mnv3_is_quantized_tflite(const void *buf, size_t len) {
    mnv3_tflite_model *m = NULL;
    mnv3_error err = {0};
    if (!mnv3_tflite_sniff(buf, len) || mnv3_tflite_open(buf, len, "", &m, &err) != MNV3_OK)
        return 0;
    int q = m->n_inputs > 0 && (m->tensors[m->inputs[0]].type == MNV3_TFL_UINT8 ||
                                m->tensors[m->inputs[0]].type == MNV3_TFL_INT8);
    mnv3_tflite_free(m);
    return q;
}

int mnv3_qgraph_from_tflite(const void *buf, size_t len, const char *label, mnv3_qgraph **out,
                            mnv3_error *err) {
    *out = NULL;
    mnv3_tflite_model *m = NULL;
    if (mnv3_tflite_open(buf, len, label, &m, err) != MNV3_OK) return MNV3_FAIL;
    int rc = MNV3_FAIL;
    mnv3_qgraph *g = calloc(1, sizeof *g);
    if (!g) {
        mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
        goto done;
    }
    snprintf(g->label, sizeof g->label, "%s", label ? label : "");
    if (m->n_inputs != 1 || m->n_outputs != 1) {
        mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label,
                       "quantized model with %d inputs and %d outputs (one of each supported)",
                       m->n_inputs, m->n_outputs);
        goto done;
    }
    g->input = m->inputs[0];
    g->output = m->outputs[0];
    g->tensors = calloc((size_t)(m->n_tensors ? m->n_tensors : 1), sizeof *g->tensors);
    g->ops = calloc((size_t)(m->n_ops ? m->n_ops : 1), sizeof *g->ops);
    if (!g->tensors || !g->ops) {
        mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
        goto done;
    }
    g->n_tensors = m->n_tensors;
    for (int i = 0; i < m->n_tensors; i++) {
        const mnv3_tflite_tensor *t = &m->tensors[i];
        mnv3_qtensor *q = &g->tensors[i];
        snprintf(q->name, sizeof q->name, "%s", t->name);
        q->dtype = dtype_of(t->type);
        q->ndim = t->ndim;
        memcpy(q->shape, t->shape, sizeof q->shape);
        q->numel = t->numel;
        q->data = t->data;
        q->data_len = t->data_len;
        q->quantized_dimension = t->quantized_dimension;
        if (t->n_scale_values != t->n_zero_points && t->n_zero_points != 0) {
            mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                           "tensor %d '%.80s': %zu scales but %zu zero points", i, t->name,
                           t->n_scale_values, t->n_zero_points);
            goto done;
        }
        if (t->n_scale_values > (size_t)1 << 20) {
            mnv3_fail_code(err, MNV3_ERR_LIMIT, label, "tensor %d '%.80s': %zu scales, too many",
                           i, t->name, t->n_scale_values);
            goto done;
        }
        if (t->n_scale_values) {
            size_t n = t->n_scale_values;
            q->scales = malloc(n * sizeof *q->scales);
            q->zero_points = calloc(n, sizeof *q->zero_points);
            if (!q->scales || !q->zero_points) {
                mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
                goto done;
            }
            for (size_t k = 0; k < n; k++) {
                uint32_t u = mnv3_load_u32le(t->scale_data + 4 * k);
                memcpy(&q->scales[k], &u, 4);
                if (t->zero_point_data)
                    q->zero_points[k] = (int64_t)mnv3_load_u64le(t->zero_point_data + 8 * k);
            }
            q->n_params = (int)n;
        }
    }
    g->n_ops = m->n_ops;
    for (int i = 0; i < m->n_ops; i++) {
        const mnv3_tflite_op *o = &m->ops[i];
        mnv3_qop *q = &g->ops[i];
        q->kind = kind_of(o->builtin);
        if (q->kind < 0) {
            mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label,
                           "operator %d: %s has no integer kernel", i,
                           mnv3_tflite_op_name(o->builtin));
            goto done;
        }
        if (o->n_outputs != 1 || o->n_inputs < 1 || o->n_inputs > MNV3_QMAX_INPUTS) {
            mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                           "operator %d (%s): %d inputs, %d outputs", i,
                           mnv3_tflite_op_name(o->builtin), o->n_inputs, o->n_outputs);
            goto done;
        }
        q->n_inputs = o->n_inputs;
        for (int k = 0; k < o->n_inputs; k++) q->inputs[k] = o->inputs[k];
        q->output = o->outputs[0];
        q->padding = o->padding == MNV3_TFL_PAD_VALID ? MNV3_QPAD_VALID : MNV3_QPAD_SAME;
        q->stride_w = o->stride_w;
        q->stride_h = o->stride_h;
        q->dilation_w = o->dilation_w;
        q->dilation_h = o->dilation_h;
        q->depth_multiplier = o->depth_multiplier;
        q->fused_act = o->fused_act;
        q->beta = o->beta;
        q->filter_w = o->filter_w;
        q->filter_h = o->filter_h;
    }
    if (check_run_budget(g, label, err) != MNV3_OK) goto done;
    *out = g;
    g = NULL;
    rc = MNV3_OK;
done:
    mnv3_qgraph_free(g);
    mnv3_tflite_free(m);
    return rc;
}

int mnv3_qgraph_read(const char *path, unsigned char **buf, mnv3_qgraph **out, mnv3_error *err) {
    size_t len = 0;
    *buf = NULL;
    *out = NULL;
    if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, buf, &len, err) != MNV3_OK) return MNV3_FAIL;
    if (mnv3_qgraph_from_tflite(*buf, len, path, out, err) != MNV3_OK) {
        free(*buf);
        *buf = NULL;
        return MNV3_FAIL;
    }
    return MNV3_OK;
}
