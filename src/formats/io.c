/* Helpers shared by the format readers: whole-file reads, little-endian
 * loads and element conversions. Loads go byte by byte so the readers are
 * correct on any host byte order and never make unaligned accesses. */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"

static size_t file_budget_set; /* 0: not set by the caller */

void mnv3_set_file_budget(size_t bytes) { file_budget_set = bytes; }

size_t mnv3_file_budget(void) {
    return file_budget_set ? file_budget_set : MNV3_FILE_BUDGET_DEFAULT;
}

int mnv3_fail_over_budget(mnv3_error *err, const char *label, const char *what,
                          unsigned long long bytes) {
    return mnv3_fail_code(err, MNV3_ERR_LIMIT, label,
                          "%s needs %llu bytes, more than the file budget of %zu bytes "
                          "(raise it with MNV3_MAX_FILE_BYTES=2G, or mnv3_set_file_budget)",
                          what, bytes, mnv3_file_budget());
}

int mnv3_read_file(const char *path, size_t max, unsigned char **buf, size_t *len,
                   mnv3_error *err) {
    *buf = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot open: %s", strerror(errno));
    if (fseek(f, 0, SEEK_END) != 0) {
        fclose(f);
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot seek: %s", strerror(errno));
    }
    long end = ftell(f);
    if (end < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot determine the file size");
    }
    if ((unsigned long)end > max) {
        fclose(f);
        if (max == mnv3_file_budget())
            return mnv3_fail_over_budget(err, path, "the file", (unsigned long long)end);
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, path,
                              "file is %ld bytes, more than the %zu allowed", end, max);
    }
    size_t size = (size_t)end;
    unsigned char *data = malloc(size ? size : 1);
    if (!data) {
        fclose(f);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, path, "out of memory reading %zu bytes", size);
    }
    size_t got = fread(data, 1, size, f);
    int bad = ferror(f);
    fclose(f);
    if (bad || got != size) {
        free(data);
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "read error after %zu of %zu bytes", got,
                              size);
    }
    *buf = data;
    *len = size;
    return MNV3_OK;
}

int mnv3_tensors_check_unique(mnv3_tensors *ts, const char *label, mnv3_error *err) {
    if (mnv3_tensors_index(ts, err) != MNV3_OK)
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    for (size_t i = 1; i < ts->count; i++) {
        const char *name = ts->items[ts->by_name[i]].name;
        if (strcmp(ts->items[ts->by_name[i - 1]].name, name) == 0)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                  "tensor name '%s' occurs more than once", name);
    }
    return MNV3_OK;
}

uint16_t mnv3_load_u16le(const unsigned char *p) {
    return (uint16_t)(p[0] | (p[1] << 8));
}

uint32_t mnv3_load_u32le(const unsigned char *p) {
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}

uint64_t mnv3_load_u64le(const unsigned char *p) {
    return (uint64_t)mnv3_load_u32le(p) | ((uint64_t)mnv3_load_u32le(p + 4) << 32);
}

void mnv3_store_u64le(unsigned char *p, uint64_t v) {
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

float mnv3_f16_to_f32(uint16_t h) {
    int sign = h >> 15, exponent = (h >> 10) & 0x1f, mantissa = h & 0x3ff;
    float v;
    if (exponent == 0)
        v = ldexpf((float)mantissa, -24); /* zero or subnormal */
    else if (exponent == 31)
        v = mantissa ? NAN : INFINITY;
    else
        v = ldexpf((float)(mantissa | 0x400), exponent - 25);
    return sign ? -v : v;
}

float mnv3_bf16_to_f32(uint16_t h) {
    uint32_t bits = (uint32_t)h << 16;
    float v;
    memcpy(&v, &bits, sizeof v);
    return v;
}

float mnv3_f64_to_f32(double d) {
    /* Out-of-range double->float conversion is undefined in C; round the
     * way IEEE would: above FLT_MAX + half an ulp is infinity. */
    if (isnan(d)) return NAN;
    if (fabs(d) > FLT_MAX) {
        float big = fabs(d) >= 0x1.ffffffp127 ? INFINITY : FLT_MAX;
        return d < 0 ? -big : big;
    }
    return (float)d;
}

size_t mnv3_elem_size(mnv3_elem e) {
    switch (e) {
    case MNV3_ELEM_F16:
    case MNV3_ELEM_BF16: return 2;
    case MNV3_ELEM_F32:
    case MNV3_ELEM_I32: return 4;
    case MNV3_ELEM_F64:
    case MNV3_ELEM_I64: return 8;
    }
    return 0;
}

const char *mnv3_elem_name(mnv3_elem e) {
    switch (e) {
    case MNV3_ELEM_F32: return "F32";
    case MNV3_ELEM_F16: return "F16";
    case MNV3_ELEM_BF16: return "BF16";
    case MNV3_ELEM_F64: return "F64";
    case MNV3_ELEM_I64: return "I64";
    case MNV3_ELEM_I32: return "I32";
    }
    return "?";
}

mnv3_dtype mnv3_elem_dtype(mnv3_elem e) {
    return (e == MNV3_ELEM_I64 || e == MNV3_ELEM_I32) ? MNV3_I64 : MNV3_F32;
}

void mnv3_convert_elems(mnv3_elem e, const unsigned char *src, size_t n, void *dst) {
    float *f = dst;
    int64_t *q = dst;
    for (size_t i = 0; i < n; i++) {
        switch (e) {
        case MNV3_ELEM_F32: {
            uint32_t bits = mnv3_load_u32le(src + 4 * i);
            memcpy(&f[i], &bits, sizeof bits);
            break;
        }
        case MNV3_ELEM_F16: f[i] = mnv3_f16_to_f32(mnv3_load_u16le(src + 2 * i)); break;
        case MNV3_ELEM_BF16: f[i] = mnv3_bf16_to_f32(mnv3_load_u16le(src + 2 * i)); break;
        case MNV3_ELEM_F64: {
            uint64_t bits = mnv3_load_u64le(src + 8 * i);
            double d;
            memcpy(&d, &bits, sizeof d);
            f[i] = mnv3_f64_to_f32(d);
            break;
        }
        case MNV3_ELEM_I64: q[i] = (int64_t)mnv3_load_u64le(src + 8 * i); break;
        case MNV3_ELEM_I32: q[i] = (int32_t)mnv3_load_u32le(src + 4 * i); break;
        }
    }
}
