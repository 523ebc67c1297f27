/* mnv3_tensors: a growable list of named tensors, the currency between
 * file readers and the model. */
#include <stdlib.h>
#include <string.h>

#include "core/util.h"

int64_t mnv3_tensor_numel(const mnv3_tensor *t) {
    int64_t n = 1;
    for (int i = 0; i < t->ndim; i++) n *= t->shape[i];
    return n;
}

void mnv3_tensor_free(mnv3_tensor *t) {
    if (!t) return;
    free(t->name);
    free(t->data);
    memset(t, 0, sizeof *t);
}

void mnv3_tensors_free(mnv3_tensors *ts) {
    if (!ts) return;
    for (size_t i = 0; i < ts->count; i++) {
        free(ts->items[i].name);
        free(ts->items[i].data);
    }
    free(ts->items);
    free(ts->by_name);
    ts->items = NULL;
    ts->by_name = NULL;
    ts->count = ts->capacity = ts->by_name_count = 0;
    memset(&ts->config, 0, sizeof ts->config);
}

typedef struct named_index {
    const char *name;
    size_t index;
} named_index;

static int compare_by_name(const void *a, const void *b) {
    return strcmp(((const named_index *)a)->name, ((const named_index *)b)->name);
}

int mnv3_tensors_index(mnv3_tensors *ts, mnv3_error *err) {
    free(ts->by_name);
    ts->by_name = NULL;
    ts->by_name_count = 0;
    size_t n = ts->count ? ts->count : 1;
    size_t *order = malloc(n * sizeof *order);
    named_index *pairs = malloc(n * sizeof *pairs);
    if (!order || !pairs) {
        free(order);
        free(pairs);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    }
    for (size_t i = 0; i < ts->count; i++) pairs[i] = (named_index){ts->items[i].name, i};
    qsort(pairs, ts->count, sizeof *pairs, compare_by_name);
    for (size_t i = 0; i < ts->count; i++) order[i] = pairs[i].index;
    free(pairs);
    ts->by_name = order;
    ts->by_name_count = ts->count;
    return MNV3_OK;
}

const mnv3_tensor *mnv3_tensors_find(const mnv3_tensors *ts, const char *name) {
    if (ts->by_name && ts->by_name_count == ts->count) {
        size_t lo = 0, hi = ts->count;
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            int c = strcmp(ts->items[ts->by_name[mid]].name, name);
            if (c == 0) return &ts->items[ts->by_name[mid]];
            if (c < 0) lo = mid + 1;
            else hi = mid;
        }
        return NULL;
    }
    for (size_t i = 0; i < ts->count; i++)
        if (strcmp(ts->items[i].name, name) == 0) return &ts->items[i];
    return NULL;
}

int mnv3_tensors_add(mnv3_tensors *ts, const char *name, mnv3_dtype dtype, int ndim,
                     const int64_t *shape, void *data, mnv3_error *err) {
    if (ndim < 0 || ndim > MNV3_MAX_DIMS) {
        free(data);
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL,
                              "tensor '%s' has %d dimensions (max %d)", name, ndim, MNV3_MAX_DIMS);
    }
    if (ts->count == ts->capacity) {
        size_t cap = ts->capacity ? ts->capacity * 2 : 64;
        mnv3_tensor *items = realloc(ts->items, cap * sizeof *items);
        if (!items) {
            free(data);
            return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
        }
        ts->items = items;
        ts->capacity = cap;
    }
    mnv3_tensor *t = &ts->items[ts->count];
    memset(t, 0, sizeof *t);
    size_t len = strlen(name);
    t->name = malloc(len + 1);
    if (!t->name) {
        free(data);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    }
    memcpy(t->name, name, len + 1);
    t->dtype = dtype;
    strcpy(t->source_dtype, dtype == MNV3_F32 ? "F32" : "I64");
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++) t->shape[i] = shape[i];
    t->data = data;
    ts->count++;
    return MNV3_OK;
}
