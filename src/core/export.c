/* Writing a model's weights in another framework's names and layouts. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"

static const char *keras_var(const mnv3_op *op, const char *suffix) {
    if (op->kind == MNV3_OP_BATCHNORM) {
        if (!strcmp(suffix, "weight")) return "gamma";
        if (!strcmp(suffix, "bias")) return "beta";
        if (!strcmp(suffix, "running_mean")) return "moving_mean";
        return "moving_variance";
    }
    return !strcmp(suffix, "weight") ? "kernel" : "bias";
}

/* Canonical (O, I, kh, kw) / (O, I) -> Keras (kh, kw, I, O), (kh, kw, C, 1), (1, 1, I, O). */
static int keras_layout(const mnv3_op *op, const mnv3_tensor *t, int64_t *shape,
                        const float *src, float *dst) {
    int64_t O = t->shape[0], I = t->shape[1];
    int64_t kh = t->ndim == 4 ? t->shape[2] : 1, kw = t->ndim == 4 ? t->shape[3] : 1, K = kh * kw;
    int depthwise = op->kind == MNV3_OP_CONV && op->groups > 1;
    shape[0] = kh, shape[1] = kw;
    shape[2] = depthwise ? O : I;
    shape[3] = depthwise ? 1 : O;
    for (int64_t o = 0; o < O; o++)
        for (int64_t i = 0; i < I; i++)
            for (int64_t k = 0; k < K; k++) {
                int64_t to = depthwise ? k * O + o : (k * I + i) * O + o;
                dst[to] = src[(o * I + i) * K + k];
            }
    return 4;
}

int mnv3_model_export(const mnv3_model *m, mnv3_naming naming, mnv3_tensors *out,
                      mnv3_error *err) {
    memset(out, 0, sizeof *out);
    if (m->arch.bn_folded && naming == MNV3_NAMING_TORCHVISION)
        return mnv3_fail(err, NULL,
                         "these weights have BatchNorm folded into the convolutions; "
                         "torchvision's convolutions have no bias to hold it");
    for (int i = 0; i < m->graph.n_ops; i++) {
        mnv3_op op = m->graph.ops[i];
        mnv3_param_slot slots[4];
        int n = mnv3_op_params(&op, slots);
        for (int s = 0; s < n; s++) {
            char cname[96], name[128];
            snprintf(cname, sizeof cname, "%s.%s", op.name, slots[s].suffix);
            const mnv3_tensor *t = mnv3_tensors_find(&m->tensors, cname);
            int64_t numel = mnv3_tensor_numel(t), shape[4];
            int ndim = t->ndim;
            float *data = malloc((size_t)numel * sizeof *data);
            if (!data) goto oom;
            memcpy(shape, t->shape, sizeof shape);
            if (naming == MNV3_NAMING_KERAS) {
                snprintf(name, sizeof name, "%s/%s", op.keras, keras_var(&op, slots[s].suffix));
                if (t->ndim >= 2) ndim = keras_layout(&op, t, shape, t->data, data);
                else memcpy(data, t->data, (size_t)numel * sizeof *data);
            } else {
                snprintf(name, sizeof name, "%s.%s",
                         naming == MNV3_NAMING_TORCHVISION ? op.torchvision : op.name,
                         slots[s].suffix);
                memcpy(data, t->data, (size_t)numel * sizeof *data);
            }
            if (mnv3_tensors_add(out, name, MNV3_F32, ndim, shape, data, err) != MNV3_OK)
                goto fail;
        }
        if (op.kind == MNV3_OP_BATCHNORM && naming == MNV3_NAMING_TORCHVISION) {
            char name[96];
            snprintf(name, sizeof name, "%s.num_batches_tracked", op.torchvision);
            int64_t *count = calloc(1, sizeof *count);
            if (!count) goto oom;
            if (mnv3_tensors_add(out, name, MNV3_I64, 0, NULL, count, err) != MNV3_OK) goto fail;
        }
    }
    strcpy(out->format, naming == MNV3_NAMING_KERAS ? "keras" : "torch");
    return MNV3_OK;
oom:
    mnv3_fail(err, NULL, "out of memory");
fail:
    mnv3_tensors_free(out);
    return MNV3_FAIL;
}
