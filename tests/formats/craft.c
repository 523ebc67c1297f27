/* craft.c: files made at test time (see craft.h). */
#include "craft.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

void bytes_put(bytes *b, const void *data, size_t n) {
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        unsigned char *p = realloc(b->p, cap);
        if (!p) abort(); /* tests only */
        b->p = p;
        b->cap = cap;
    }
    if (n) memcpy(b->p + b->n, data, n);
    b->n += n;
}

void bytes_u8(bytes *b, unsigned v) {
    unsigned char c = (unsigned char)v;
    bytes_put(b, &c, 1);
}

void bytes_le(bytes *b, uint64_t v, int n) {
    for (int i = 0; i < n; i++) bytes_u8(b, (unsigned)(v >> (8 * i)) & 0xff);
}

void bytes_free(bytes *b) {
    free(b->p);
    b->p = NULL;
    b->n = b->cap = 0;
}

void pk_op(bytes *b, unsigned op) { bytes_u8(b, op); }

void pk_str(bytes *b, const char *s) {
    bytes_u8(b, 'X');
    bytes_le(b, strlen(s), 4);
    bytes_put(b, s, strlen(s));
}

void pk_int(bytes *b, int64_t v) {
    if (v >= 0 && v < 256) {
        bytes_u8(b, 'K');
        bytes_u8(b, (unsigned)v);
    } else if (v >= INT32_MIN && v <= INT32_MAX) {
        bytes_u8(b, 'J');
        bytes_le(b, (uint64_t)v, 4);
    } else {
        bytes_u8(b, 0x8a);
        bytes_u8(b, 8);
        bytes_le(b, (uint64_t)v, 8);
    }
}

void pk_global(bytes *b, const char *module, const char *name) {
    bytes_u8(b, 'c');
    bytes_put(b, module, strlen(module));
    bytes_u8(b, '\n');
    bytes_put(b, name, strlen(name));
    bytes_u8(b, '\n');
}

void pk_stack_global(bytes *b, const char *module, const char *name) {
    pk_str(b, module);
    pk_str(b, name);
    bytes_u8(b, 0x93);
}

static void pk_tuple_of(bytes *b, const int64_t *v, int n) {
    bytes_u8(b, '(');
    for (int i = 0; i < n; i++) pk_int(b, v[i]);
    bytes_u8(b, 't');
}

void pk_state_dict(bytes *b, const pk_tensor *t, int n) {
    bytes_u8(b, 0x80);
    bytes_u8(b, 2);
    pk_global(b, "collections", "OrderedDict");
    bytes_u8(b, 'q'); bytes_u8(b, 0); /* memo 0 = OrderedDict */
    bytes_u8(b, ')');
    bytes_u8(b, 'R');
    bytes_u8(b, '(');
    for (int i = 0; i < n; i++) {
        pk_str(b, t[i].key);
        pk_global(b, "torch._utils", "_rebuild_tensor_v2");
        bytes_u8(b, '(');
        bytes_u8(b, '(');
        pk_str(b, "storage");
        pk_global(b, "torch", t[i].storage_type);
        pk_str(b, t[i].storage_key);
        pk_str(b, "cuda:0");
        pk_int(b, t[i].storage_numel);
        bytes_u8(b, 't');
        bytes_u8(b, 'Q');
        pk_int(b, t[i].offset);
        pk_tuple_of(b, t[i].shape, t[i].ndim);
        pk_tuple_of(b, t[i].stride, t[i].ndim);
        bytes_u8(b, 0x89);
        bytes_u8(b, 'h'); bytes_u8(b, 0); /* BINGET OrderedDict */
        bytes_u8(b, ')');
        bytes_u8(b, 'R');
        bytes_u8(b, 't');
        bytes_u8(b, 'R');
    }
    bytes_u8(b, 'u');
    /* state {'_metadata': OrderedDict()} applied with BUILD */
    bytes_u8(b, '}');
    pk_str(b, "_metadata");
    bytes_u8(b, 'h'); bytes_u8(b, 0);
    bytes_u8(b, ')');
    bytes_u8(b, 'R');
    bytes_u8(b, 's');
    bytes_u8(b, 'b');
    bytes_u8(b, '.');
}

int make_zip(const zip_member *members, int n, bytes *out) {
    zip_error_t ze;
    zip_error_init(&ze);
    zip_source_t *src = zip_source_buffer_create(NULL, 0, 0, &ze);
    zip_t *za = src ? zip_open_from_source(src, ZIP_TRUNCATE, &ze) : NULL;
    zip_error_fini(&ze);
    if (!za) return -1;
    zip_source_keep(src);
    for (int i = 0; i < n; i++) {
        zip_source_t *m = zip_source_buffer(za, members[i].data, members[i].len, 0);
        zip_int64_t idx = m ? zip_file_add(za, members[i].name, m, 0) : -1;
        if (idx < 0 || zip_set_file_compression(za, (zip_uint64_t)idx, ZIP_CM_STORE, 0) != 0) {
            zip_discard(za);
            zip_source_free(src);
            return -1;
        }
    }
    if (zip_close(za) != 0) {
        zip_discard(za);
        zip_source_free(src);
        return -1;
    }
    int rc = -1;
    if (zip_source_open(src) == 0) {
        zip_source_seek(src, 0, SEEK_END);
        zip_int64_t size = zip_source_tell(src);
        zip_source_seek(src, 0, SEEK_SET);
        out->n = 0;
        if (size > 0) {
            unsigned char *tmp = malloc((size_t)size);
            if (tmp && zip_source_read(src, tmp, (zip_uint64_t)size) == size) {
                bytes_put(out, tmp, (size_t)size);
                rc = 0;
            }
            free(tmp);
        }
        zip_source_close(src);
    }
    zip_source_free(src);
    return rc;
}

int wrap_pickle(const unsigned char *pkl, size_t len, bytes *out) {
    static unsigned char storage[256];
    zip_member m[] = {
        {"archive/data.pkl", pkl, len}, {"archive/data/0", storage, 24},
        {"archive/data/1", storage, 8}, {"archive/data/2", storage, 256},
        {"archive/data/3", storage, 0},
    };
    return make_zip(m, 5, out);
}

int make_small_pth(bytes *out) {
    static const pk_tensor tensors[] = {
        {"layer.weight", "FloatStorage", "0", 6, 0, 2, {2, 3}, {3, 1}},
        {"layer.weight_t", "FloatStorage", "0", 6, 0, 2, {3, 2}, {1, 3}},
        {"bn.num_batches_tracked", "LongStorage", "1", 1, 0, 0, {0}, {0}},
    };
    bytes pkl = {0};
    pk_state_dict(&pkl, tensors, 3);
    unsigned char floats[24], longs[8];
    for (int i = 0; i < 6; i++) {
        float f = (float)i + 0.5f;
        uint32_t bits;
        memcpy(&bits, &f, 4);
        for (int k = 0; k < 4; k++) floats[4 * i + k] = (unsigned char)(bits >> (8 * k));
    }
    for (int k = 0; k < 8; k++) longs[k] = k == 0 ? 42 : 0;
    zip_member m[] = {
        {"archive/data.pkl", pkl.p, pkl.n},
        {"archive/byteorder", "little", 6},
        {"archive/data/0", floats, sizeof floats},
        {"archive/data/1", longs, sizeof longs},
        {"archive/version", "3\n", 2},
    };
    int rc = make_zip(m, 5, out);
    bytes_free(&pkl);
    return rc;
}
