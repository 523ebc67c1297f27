/* Dumps made outside mnv3 (tools/dump_torch.py, tools/dump_keras.py, or any
 * npz or safetensors of activations) renamed to canonical layer names, from
 * the op list's own torchvision and Keras names (mnv3 layers). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analysis/analysis.h"
#include "core/graph.h"
#include "core/util.h"

static int transpose_nhwc(mnv3_tensor *t, const char *source, mnv3_error *err) {
    int64_t n = t->shape[0], h = t->shape[1], w = t->shape[2], c = t->shape[3];
    size_t count = (size_t)mnv3_tensor_numel(t);
    float *dst = malloc(count * sizeof *dst), *src = t->data;
    if (!dst) return mnv3_fail(err, source, "out of memory");
    for (int64_t s = 0; s < n; s++)
        for (int64_t y = 0; y < h; y++)
            for (int64_t x = 0; x < w; x++)
                for (int64_t k = 0; k < c; k++)
                    dst[((s * c + k) * h + y) * w + x] = src[((s * h + y) * w + x) * c + k];
    free(t->data);
    t->data = dst;
    t->shape[1] = c, t->shape[2] = h, t->shape[3] = w;
    return MNV3_OK;
}

/* Gives t its canonical name if it carries a framework's name for a layer. */
static int rename_layer(const mnv3_tensors *ts, mnv3_tensor *t, const mnv3_layer_name *names,
                        int n, int keras, const char *source, mnv3_error *err) {
    for (int k = 0; k < n; k++) {
        if (strcmp(t->name, keras ? names[k].keras : names[k].torchvision)) continue;
        /* Keras's re_lu_N in an SE gate is relu6(x + 3), not the gate itself. */
        int gate = keras && strstr(names[k].canonical, ".se.gate") != NULL;
        char renamed[96];
        snprintf(renamed, sizeof renamed, gate ? "%s:relu6_only" : "%s", names[k].canonical);
        if (mnv3_tensors_find(ts, renamed))
            return mnv3_fail(err, source, "two tensors map to layer %s", renamed);
        char *copy = malloc(strlen(renamed) + 1);
        if (!copy) return mnv3_fail(err, source, "out of memory");
        strcpy(copy, renamed);
        free(t->name);
        t->name = copy;
        /* head vectors: Keras keeps them as [N, 1, 1, K] 1x1 convolutions */
        if (!strncmp(renamed, "head.", 5) && t->ndim == 4) {
            t->shape[1] = t->shape[1] * t->shape[2] * t->shape[3];
            t->ndim = 2;
        }
        break;
    }
    return MNV3_OK;
}

int mnv3_dump_canonicalise(mnv3_tensors *ts, const char *source, mnv3_error *err) {
    mnv3_arch arch;
    mnv3_arch_small(&arch, 1000);
    mnv3_layer_name *names = malloc(MNV3_MAX_OPS * sizeof *names);
    if (!names) return mnv3_fail(err, source, "out of memory");
    int n = mnv3_layer_names(&arch, names, MNV3_MAX_OPS), rc = MNV3_OK;
    int keras = mnv3_tensors_find(ts, "conv") && mnv3_tensors_find(ts, "conv_bn");
    /* names change in place below: scan until they are indexed again */
    free(ts->by_name);
    ts->by_name = NULL;
    ts->by_name_count = 0;
    for (size_t i = 0; i < ts->count && rc == MNV3_OK; i++) {
        mnv3_tensor *t = &ts->items[i];
        if (t->dtype != MNV3_F32) continue;
        if (keras && t->ndim == 4) rc = transpose_nhwc(t, source, err);
        if (rc == MNV3_OK) rc = rename_layer(ts, t, names, n, keras, source, err);
    }
    free(names);
    if (rc == MNV3_OK) rc = mnv3_tensors_index(ts, err);
    return rc;
}
