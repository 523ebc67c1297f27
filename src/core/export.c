/* Writing a model's weights in another framework's names and layouts, from
 * the one naming table (model.c) that the loader reads too. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"

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
            mnv3_param_name(&op, slots[s].suffix, MNV3_NAMING_CANONICAL, 0, cname, sizeof cname);
            mnv3_param_name(&op, slots[s].suffix, naming, 0, name, sizeof name);
            const mnv3_tensor *t = mnv3_tensors_find(&m->tensors, cname);
            /* Keras: every weight as a Conv2D kernel, the linear layers as 1x1 ones */
            mnv3_stored_layout layout = naming == MNV3_NAMING_KERAS
                                            ? mnv3_keras_layout(&op, slots[s].suffix, 4)
                                            : MNV3_STORED_CANONICAL;
            int64_t shape[4];
            int ndim = mnv3_stored_shape(&slots[s], layout, shape);
            float *data = malloc((size_t)mnv3_tensor_numel(t) * sizeof *data);
            if (!data) goto oom;
            mnv3_param_transpose(&slots[s], layout, t->data, data, 0);
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
