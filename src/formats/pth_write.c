/* torch.save of a state dict, as PyTorch 1.13 writes it, so torch.load and
 * load_state_dict(strict=True) take it: a zip of
 *   archive/data.pkl   pickle protocol 2: OrderedDict of name ->
 *                      torch._utils._rebuild_tensor_v2(persistent storage,
 *                      0, size, stride, False, OrderedDict())
 *   archive/data/<k>   storage k, raw little-endian float32 / int64
 *   archive/version    "3\n"
 * stored uncompressed. The pickle is written by hand: a few opcodes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/zipread.h"

typedef struct pickle_out {
    unsigned char *p;
    size_t len, cap;
    int failed;
} pickle_out;

static void put(pickle_out *o, const void *bytes, size_t n) {
    if (o->failed) return;
    if (o->len + n > o->cap) {
        size_t cap = o->cap ? o->cap : 4096;
        while (cap < o->len + n) cap *= 2;
        unsigned char *p = realloc(o->p, cap);
        if (!p) {
            o->failed = 1;
            return;
        }
        o->p = p, o->cap = cap;
    }
    memcpy(o->p + o->len, bytes, n);
    o->len += n;
}

static void op(pickle_out *o, char code) { put(o, &code, 1); }

static void global(pickle_out *o, const char *module, const char *name) {
    op(o, 'c');
    put(o, module, strlen(module));
    op(o, '\n');
    put(o, name, strlen(name));
    op(o, '\n');
}

static void unicode(pickle_out *o, const char *s) { /* BINUNICODE */
    unsigned char len[4];
    uint32_t n = (uint32_t)strlen(s);
    for (int i = 0; i < 4; i++) len[i] = (unsigned char)(n >> (8 * i));
    op(o, 'X');
    put(o, len, 4);
    put(o, s, n);
}

static void integer(pickle_out *o, int64_t v) { /* BININT, or LONG1 past 32 bits */
    if (v >= INT32_MIN && v <= INT32_MAX) {
        unsigned char b[4];
        for (int i = 0; i < 4; i++) b[i] = (unsigned char)((uint64_t)v >> (8 * i));
        op(o, 'J');
        put(o, b, 4);
        return;
    }
    unsigned char b[9] = {8};
    for (int i = 0; i < 8; i++) b[1 + i] = (unsigned char)((uint64_t)v >> (8 * i));
    op(o, (char)0x8a);
    put(o, b, 9);
}

static void int_tuple(pickle_out *o, const int64_t *v, int n) {
    if (n == 0) {
        op(o, ')');
        return;
    }
    op(o, '(');
    for (int i = 0; i < n; i++) integer(o, v[i]);
    op(o, 't');
}

static void tensor(pickle_out *o, const mnv3_tensor *t, size_t key) {
    char name[32];
    snprintf(name, sizeof name, "%zu", key);
    global(o, "torch._utils", "_rebuild_tensor_v2");
    op(o, '(');
    /* persistent id ('storage', storage type, key, location, numel) */
    op(o, '(');
    unicode(o, "storage");
    global(o, "torch", t->dtype == MNV3_I64 ? "LongStorage" : "FloatStorage");
    unicode(o, name);
    unicode(o, "cpu");
    integer(o, mnv3_tensor_numel(t));
    op(o, 't');
    op(o, 'Q');
    integer(o, 0); /* storage offset */
    int64_t stride[MNV3_MAX_DIMS], s = 1;
    for (int d = t->ndim - 1; d >= 0; d--) stride[d] = s, s *= t->shape[d];
    int_tuple(o, t->shape, t->ndim);
    int_tuple(o, stride, t->ndim);
    op(o, (char)0x89); /* requires_grad False */
    global(o, "collections", "OrderedDict");
    op(o, ')');
    op(o, 'R'); /* backward hooks */
    op(o, 't');
    op(o, 'R');
}

int mnv3_write_pth(const char *path, const mnv3_tensors *ts, mnv3_error *err) {
    for (size_t i = 0; i < ts->count; i++)
        if (ts->items[i].dtype != MNV3_F32 && ts->items[i].dtype != MNV3_I64)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor '%s' has an unknown dtype", ts->items[i].name);
    pickle_out o = {0};
    put(&o, "\x80\x02", 2);
    global(&o, "collections", "OrderedDict");
    op(&o, ')');
    op(&o, 'R');
    if (ts->count) op(&o, '(');
    for (size_t i = 0; i < ts->count; i++) {
        unicode(&o, ts->items[i].name);
        tensor(&o, &ts->items[i], i);
    }
    if (ts->count) op(&o, 'u');
    op(&o, '.');
    if (o.failed) {
        free(o.p);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory");
    }
    zip_t *za;
    if (mnv3_zip_create(path, &za, err) != MNV3_OK) {
        free(o.p);
        return MNV3_FAIL;
    }
    if (mnv3_zip_add_stored(za, "archive/data.pkl", o.p, o.len, path, err) != MNV3_OK) goto fail;
    for (size_t i = 0; i < ts->count; i++) {
        const mnv3_tensor *t = &ts->items[i];
        const size_t elem = t->dtype == MNV3_I64 ? 8 : 4, n = (size_t)mnv3_tensor_numel(t);
        unsigned char *raw = malloc(n ? n * elem : 1);
        char member[48];
        if (!raw) {
            mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory");
            goto fail;
        }
        for (size_t k = 0; k < n; k++) {
            if (elem == 8) mnv3_store_u64le(raw + 8 * k, (uint64_t)((const int64_t *)t->data)[k]);
            else {
                uint32_t bits;
                memcpy(&bits, (const float *)t->data + k, 4);
                for (int b = 0; b < 4; b++) raw[4 * k + (size_t)b] = (unsigned char)(bits >> (8 * b));
            }
        }
        snprintf(member, sizeof member, "archive/data/%zu", i);
        if (mnv3_zip_add_stored(za, member, raw, n * elem, path, err) != MNV3_OK) goto fail;
    }
    char *version = malloc(2);
    if (!version) {
        mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory");
        goto fail;
    }
    memcpy(version, "3\n", 2);
    if (mnv3_zip_add_stored(za, "archive/version", version, 2, path, err) != MNV3_OK) goto fail;
    return mnv3_zip_finish(za, path, err);
fail:
    zip_discard(za);
    return MNV3_FAIL;
}
