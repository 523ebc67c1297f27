/* .npy (NumPy array file, format versions 1.0, 2.0 and 3.0), float32 only.
 *
 * Layout: "\x93NUMPY", major, minor, header length (u16 LE for v1, u32 LE
 * for v2/v3), then a Python dict literal such as
 *   {'descr': '<f4', 'fortran_order': False, 'shape': (3, 4), }
 * padded with spaces and ending in '\n', then the raw C-order data. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"

static const unsigned char npy_magic[6] = {0x93, 'N', 'U', 'M', 'P', 'Y'};

/* A cursor over the header dict text. */
typedef struct dict_cursor {
    const char *p, *end;
} dict_cursor;

static void skip_spaces(dict_cursor *c) {
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r'))
        c->p++;
}

static int accept_char(dict_cursor *c, char ch) {
    skip_spaces(c);
    if (c->p < c->end && *c->p == ch) {
        c->p++;
        return 1;
    }
    return 0;
}

/* Reads a quoted Python string without escapes into out (truncating is an error). */
static int read_quoted(dict_cursor *c, char *out, size_t cap) {
    skip_spaces(c);
    if (c->p >= c->end || (*c->p != '\'' && *c->p != '"')) return 0;
    char quote = *c->p++;
    size_t n = 0;
    while (c->p < c->end && *c->p != quote) {
        if (*c->p == '\\' || n + 1 >= cap) return 0;
        out[n++] = *c->p++;
    }
    if (c->p >= c->end) return 0;
    c->p++;
    out[n] = '\0';
    return 1;
}

static int read_word(dict_cursor *c, const char *word) {
    skip_spaces(c);
    size_t n = strlen(word);
    if ((size_t)(c->end - c->p) < n || memcmp(c->p, word, n) != 0) return 0;
    c->p += n;
    return 1;
}

/* "(3, 4)", "(3,)", "()": non-negative integers only. */
static int read_shape(dict_cursor *c, int *ndim, int64_t *shape, const char *label,
                      mnv3_error *err) {
    if (!accept_char(c, '('))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header: shape is not a tuple");
    *ndim = 0;
    for (;;) {
        if (accept_char(c, ')')) return MNV3_OK;
        skip_spaces(c);
        if (c->p >= c->end || *c->p < '0' || *c->p > '9')
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                  "npy header: shape entries must be non-negative integers");
        int64_t v = 0;
        while (c->p < c->end && *c->p >= '0' && *c->p <= '9') {
            if (v > (INT64_MAX - 9) / 10)
                return mnv3_fail_code(err, MNV3_ERR_LIMIT, label,
                                      "npy header: shape entry too large");
            v = v * 10 + (*c->p++ - '0');
        }
        if (c->p < c->end && *c->p == 'L') c->p++; /* Python 2 longs */
        if (*ndim >= MNV3_MAX_DIMS)
            return mnv3_fail_code(err, MNV3_ERR_LIMIT, label, "npy header: more than %d dimensions",
                                  MNV3_MAX_DIMS);
        shape[(*ndim)++] = v;
        if (accept_char(c, ',')) continue;
        if (accept_char(c, ')')) return MNV3_OK;
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header: malformed shape tuple");
    }
}

static int parse_header_dict(const char *text, size_t len, const char *label, char *descr,
                             size_t descr_cap, int *ndim, int64_t *shape, mnv3_error *err) {
    dict_cursor c = {text, text + len};
    int have_descr = 0, have_order = 0, have_shape = 0;
    if (!accept_char(&c, '{'))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header is not a dict");
    for (;;) {
        if (accept_char(&c, '}')) break;
        char key[32];
        if (!read_quoted(&c, key, sizeof key) || !accept_char(&c, ':'))
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header: malformed dict");
        if (strcmp(key, "descr") == 0) {
            skip_spaces(&c);
            if (c.p < c.end && *c.p == '[')
                return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label,
                                      "dtype is a structured type, not a plain number type");
            if (!read_quoted(&c, descr, descr_cap))
                return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header: malformed descr");
            have_descr = 1;
        } else if (strcmp(key, "fortran_order") == 0) {
            if (read_word(&c, "True"))
                return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label,
                                      "fortran_order True is not supported (C order only)");
            if (!read_word(&c, "False"))
                return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                      "npy header: fortran_order is not a boolean");
            have_order = 1;
        } else if (strcmp(key, "shape") == 0) {
            if (read_shape(&c, ndim, shape, label, err) != MNV3_OK) return MNV3_FAIL;
            have_shape = 1;
        } else {
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header: unexpected key '%s'",
                                  key);
        }
        if (accept_char(&c, ',')) continue;
        if (accept_char(&c, '}')) break;
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header: malformed dict");
    }
    skip_spaces(&c);
    if (c.p != c.end)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header: text after the dict");
    if (!have_descr || !have_order || !have_shape)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header lacks %s",
                              !have_descr   ? "'descr'"
                              : !have_order ? "'fortran_order'"
                                            : "'shape'");
    return MNV3_OK;
}

int mnv3_parse_npy_header(const void *buf, size_t len, const char *label,
                          char descr[MNV3_NPY_DESCR_CAP], int *ndim,
                          int64_t shape[MNV3_MAX_DIMS], size_t *data_start, mnv3_error *err) {
    const unsigned char *b = buf;
    if (len < 10 || memcmp(b, npy_magic, sizeof npy_magic) != 0)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "not a .npy file (bad magic)");
    int major = b[6];
    size_t header_len, header_start;
    if (major == 1) {
        header_len = mnv3_load_u16le(b + 8);
        header_start = 10;
    } else if (major == 2 || major == 3) {
        if (len < 12) return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "truncated npy header");
        header_len = mnv3_load_u32le(b + 8);
        header_start = 12;
    } else {
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label,
                              "unsupported npy format version %d.%d", major, b[7]);
    }
    if (header_len > MNV3_FORMATS_MAX_NPY_HEADER)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label,
                              "npy header of %zu bytes is implausibly large", header_len);
    if (header_len > len - header_start)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "truncated: npy header needs %zu bytes, file has %zu", header_len,
                              len - header_start);
    const char *text = (const char *)b + header_start;
    for (size_t i = 0; i < header_len; i++) /* v3 allows UTF-8, our dict never needs it */
        if (text[i] == '\0')
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "npy header contains a NUL byte");
    *ndim = 0;
    if (parse_header_dict(text, header_len, label, descr, MNV3_NPY_DESCR_CAP, ndim, shape, err) !=
        MNV3_OK)
        return MNV3_FAIL;
    *data_start = header_start + header_len;
    return MNV3_OK;
}

int mnv3_read_npy_buffer(const void *buf, size_t len, const char *label, const char *name,
                         mnv3_tensor *out, mnv3_error *err) {
    return mnv3_read_npy_buffer_typed(buf, len, label, name, 0, out, err);
}

/* owned: buf itself, malloc'd, which becomes the tensor's data when its
 * bytes are already the tensor's (float32 on a little-endian host), so a
 * large member costs its size once, not twice; *adopted then says so.
 * NULL: buf is copied. */
static int read_npy(const void *buf, size_t len, unsigned char *owned, int *adopted,
                    const char *label, const char *name, int allow_integers, mnv3_tensor *out,
                    mnv3_error *err) {
    const unsigned char *b = buf;
    memset(out, 0, sizeof *out);
    char descr[MNV3_NPY_DESCR_CAP];
    int ndim = 0;
    int64_t shape[MNV3_MAX_DIMS];
    size_t data_start;
    if (mnv3_parse_npy_header(buf, len, label, descr, &ndim, shape, &data_start, err) != MNV3_OK)
        return MNV3_FAIL;
    /* float32 arrays, and integer ones (labels) kept as int64 */
    mnv3_elem elem;
    if (strcmp(descr, "<f4") == 0) elem = MNV3_ELEM_F32;
    else if (allow_integers && strcmp(descr, "<i8") == 0) elem = MNV3_ELEM_I64;
    else if (allow_integers && strcmp(descr, "<i4") == 0) elem = MNV3_ELEM_I32;
    else
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label, "dtype '%s' is not float32%s", descr,
                              allow_integers ? ", int64 or int32" : "");
    const size_t elem_size = mnv3_elem_size(elem), out_size = elem == MNV3_ELEM_F32 ? 4 : 8;

    size_t numel = 1, bytes;
    for (int i = 0; i < ndim; i++)
        if ((uint64_t)shape[i] > SIZE_MAX || !mnv3_mul_size(numel, (size_t)shape[i], &numel))
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "shape overflows");
    if (!mnv3_mul_size(numel, elem_size, &bytes) || bytes > MNV3_FORMATS_MAX_BYTES)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label, "array of %zu elements is too large",
                              numel);
    size_t have = len - data_start;
    if (have < bytes)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "truncated: header declares %zu bytes of data, file holds %zu", bytes,
                              have);
    if (have > bytes)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "%zu bytes of unexpected data after the array", have - bytes);

    /* the name first: once owned is moved, nothing may fail */
    size_t name_len = strlen(name);
    char *copy = malloc(name_len + 1);
    if (!copy) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    static const uint16_t one = 1;
    const int adopt = owned && elem == MNV3_ELEM_F32 && *(const unsigned char *)&one == 1;
    void *data;
    if (adopt) {
        memmove(owned, owned + data_start, bytes);
        data = realloc(owned, bytes ? bytes : 1);
        if (!data) data = owned; /* shrinking failed: keep the larger block */
    } else if (!(data = malloc(numel ? numel * out_size : 1))) {
        free(copy);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    }
    memcpy(copy, name, name_len + 1);
    if (!adopt) mnv3_convert_elems(elem, b + data_start, numel, data);
    if (adopted) *adopted = adopt;
    out->name = copy;
    out->dtype = mnv3_elem_dtype(elem);
    strcpy(out->source_dtype, mnv3_elem_name(elem));
    out->ndim = ndim;
    for (int i = 0; i < ndim; i++) out->shape[i] = shape[i];
    out->data = data;
    return MNV3_OK;
}

int mnv3_read_npy_buffer_typed(const void *buf, size_t len, const char *label, const char *name,
                               int allow_integers, mnv3_tensor *out, mnv3_error *err) {
    return read_npy(buf, len, NULL, NULL, label, name, allow_integers, out, err);
}

int mnv3_read_npy_owned(unsigned char *buf, size_t len, const char *label, const char *name,
                        int allow_integers, mnv3_tensor *out, mnv3_error *err) {
    int adopted = 0;
    int rc = read_npy(buf, len, buf, &adopted, label, name, allow_integers, out, err);
    if (!adopted) free(buf);
    return rc;
}

int mnv3_read_npy(const char *path, mnv3_tensor *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t len;
    if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, &buf, &len, err) != MNV3_OK)
        return MNV3_FAIL;
    /* The tensor is named after the file: dir/x.npy -> "x". */
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = strlen(base);
    char name[256];
    if (n >= 4 && strcmp(base + n - 4, ".npy") == 0) n -= 4;
    if (n == 0) {
        base = "array";
        n = 5;
    }
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, base, n);
    name[n] = '\0';
    int rc = mnv3_read_npy_buffer(buf, len, path, name, out, err);
    free(buf);
    return rc;
}

int mnv3_encode_npy(const mnv3_tensor *t, const char *label, unsigned char **buf,
                    size_t *len, mnv3_error *err) {
    *buf = NULL;
    *len = 0;
    if (t->dtype != MNV3_F32)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, label,
                              "tensor '%s' is not float32; .npy output is float32 only",
                              t->name ? t->name : "?");
    if (t->ndim < 0 || t->ndim > MNV3_MAX_DIMS)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, label, "tensor has %d dimensions", t->ndim);
    char dict[512];
    int used = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    size_t numel = 1;
    for (int i = 0; i < t->ndim; i++) {
        if (t->shape[i] < 0 || (uint64_t)t->shape[i] > SIZE_MAX ||
            !mnv3_mul_size(numel, (size_t)t->shape[i], &numel))
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, label, "tensor has an invalid shape");
        used += snprintf(dict + used, sizeof dict - (size_t)used, "%s%lld", i ? ", " : "",
                         (long long)t->shape[i]);
    }
    used += snprintf(dict + used, sizeof dict - (size_t)used, "%s), }",
                     t->ndim == 1 ? "," : "");
    /* Pad with spaces so the data starts on a 64-byte boundary, as numpy does. */
    size_t header = 10 + (size_t)used + 1;
    size_t padded = (header + 63) / 64 * 64;
    size_t bytes;
    if (!mnv3_mul_size(numel, 4, &bytes) || bytes > MNV3_FORMATS_MAX_BYTES)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label, "tensor too large");
    unsigned char *out = malloc(padded + bytes);
    if (!out) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    memcpy(out, npy_magic, 6);
    out[6] = 1;
    out[7] = 0;
    size_t hlen = padded - 10;
    out[8] = (unsigned char)(hlen & 0xff);
    out[9] = (unsigned char)(hlen >> 8);
    memcpy(out + 10, dict, (size_t)used);
    memset(out + 10 + used, ' ', padded - 10 - (size_t)used - 1);
    out[padded - 1] = '\n';
    const float *src = t->data;
    for (size_t i = 0; i < numel; i++) {
        uint32_t bits;
        memcpy(&bits, &src[i], 4);
        for (int k = 0; k < 4; k++) out[padded + 4 * i + k] = (unsigned char)(bits >> (8 * k));
    }
    *buf = out;
    *len = padded + bytes;
    return MNV3_OK;
}

int mnv3_write_npy(const char *path, const mnv3_tensor *t, mnv3_error *err) {
    unsigned char *buf;
    size_t len;
    if (mnv3_encode_npy(t, path, &buf, &len, err) != MNV3_OK) return MNV3_FAIL;
    FILE *f = fopen(path, "wb");
    if (!f) {
        free(buf);
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot create");
    }
    size_t put = fwrite(buf, 1, len, f);
    int closed = fclose(f);
    free(buf);
    if (put != len || closed != 0) return mnv3_fail_code(err, MNV3_ERR_IO, path, "write error");
    return MNV3_OK;
}
