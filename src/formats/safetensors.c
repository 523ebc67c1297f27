/* safetensors: u64 LE header length N, N bytes of JSON
 *   {"name": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...,
 *    "__metadata__": {...}}
 * then the data buffer; offsets are relative to the buffer's start. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "core/util.h"
#include "formats/formats.h"

static int parse_elem(const char *s, mnv3_elem *e) {
    static const struct {
        const char *name;
        mnv3_elem elem;
    } table[] = {{"F32", MNV3_ELEM_F32}, {"F16", MNV3_ELEM_F16}, {"BF16", MNV3_ELEM_BF16},
                 {"F64", MNV3_ELEM_F64}, {"I64", MNV3_ELEM_I64}, {"I32", MNV3_ELEM_I32}};
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++)
        if (strcmp(s, table[i].name) == 0) {
            *e = table[i].elem;
            return 1;
        }
    return 0;
}

/* JSON numbers are doubles: accept only exact non-negative integers < 2^53. */
static int json_uint(const cJSON *item, uint64_t *v) {
    if (!cJSON_IsNumber(item)) return 0;
    double d = item->valuedouble;
    if (!(d >= 0) || d > 9007199254740992.0 || floor(d) != d) return 0;
    *v = (uint64_t)d;
    return 1;
}

static int read_entry(const cJSON *entry, const unsigned char *data, size_t data_len,
                      const char *label, mnv3_tensors *ts, size_t *total, mnv3_error *err) {
    const char *name = entry->string;
    if (!cJSON_IsObject(entry))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "header entry '%s' is not an object",
                              name);
    const cJSON *dtype = cJSON_GetObjectItemCaseSensitive(entry, "dtype");
    const cJSON *shape = cJSON_GetObjectItemCaseSensitive(entry, "shape");
    const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(entry, "data_offsets");
    if (!cJSON_IsString(dtype) || !cJSON_IsArray(shape) || !cJSON_IsArray(offsets))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "tensor '%s' lacks dtype, shape or data_offsets", name);
    mnv3_elem elem;
    if (!parse_elem(dtype->valuestring, &elem))
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label,
                              "tensor '%s' has unsupported dtype '%.16s'", name,
                              dtype->valuestring);
    int ndim = cJSON_GetArraySize(shape);
    if (ndim > MNV3_MAX_DIMS)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label, "tensor '%s' has %d dimensions (max %d)",
                              name, ndim, MNV3_MAX_DIMS);
    int64_t dims[MNV3_MAX_DIMS];
    size_t numel = 1;
    int d = 0;
    for (const cJSON *s = shape->child; s; s = s->next, d++) {
        uint64_t v;
        if (!json_uint(s, &v))
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                  "tensor '%s' has a shape entry that is not a "
                                  "non-negative integer",
                                  name);
        if (v > SIZE_MAX || !mnv3_mul_size(numel, (size_t)v, &numel))
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "tensor '%s' shape overflows", name);
        dims[d] = (int64_t)v;
    }
    uint64_t begin, end;
    if (cJSON_GetArraySize(offsets) != 2 || !json_uint(offsets->child, &begin) ||
        !json_uint(offsets->child->next, &end))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "tensor '%s' data_offsets is not [begin, end]", name);
    if (begin > end || end > data_len)
        return mnv3_fail_code(
            err, MNV3_ERR_FORMAT, label,
            "tensor '%s' data_offsets [%llu, %llu] out of range (buffer holds %zu bytes)", name,
            (unsigned long long)begin, (unsigned long long)end, data_len);
    size_t src_bytes, out_bytes;
    size_t out_size = mnv3_elem_dtype(elem) == MNV3_F32 ? 4 : 8;
    if (!mnv3_mul_size(numel, mnv3_elem_size(elem), &src_bytes) ||
        !mnv3_mul_size(numel, out_size, &out_bytes))
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label, "tensor '%s' is too large", name);
    if (src_bytes != end - begin)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "tensor '%s': %llu bytes stored but shape and %s need %zu", name,
                              (unsigned long long)(end - begin), mnv3_elem_name(elem), src_bytes);
    if (!mnv3_add_size(*total, out_bytes, total) || *total > MNV3_FORMATS_MAX_BYTES)
        return mnv3_fail_over_budget(err, label, "holding the file and its tensors as float32",
                                     (unsigned long long)*total);
    void *out = malloc(out_bytes ? out_bytes : 1);
    if (!out) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    mnv3_convert_elems(elem, data + begin, numel, out);
    if (mnv3_tensors_add(ts, name, mnv3_elem_dtype(elem), ndim, dims, out, err) != MNV3_OK)
        return MNV3_FAIL;
    snprintf(ts->items[ts->count - 1].source_dtype, sizeof ts->items[0].source_dtype, "%s",
             mnv3_elem_name(elem));
    return MNV3_OK;
}

typedef struct stored_range {
    uint64_t begin, end;
    const char *name;
} stored_range;

static int compare_ranges(const void *a, const void *b) {
    const stored_range *x = a, *y = b;
    if (x->begin != y->begin) return x->begin < y->begin ? -1 : 1;
    return x->end < y->end ? -1 : x->end > y->end;
}

/* safetensors' own rule (Metadata::validate): sorted by offset, the tensors
 * tile the buffer from 0 to its end with no gap and no overlap. Checked before
 * any tensor is converted, so aliased ranges cannot multiply the file's size. */
static int check_ranges_tile(const cJSON *root, size_t data_len, const char *label,
                             mnv3_error *err) {
    size_t n = 0;
    for (const cJSON *e = root->child; e; e = e->next) n++;
    stored_range *r = malloc((n ? n : 1) * sizeof *r);
    if (!r) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    size_t k = 0;
    for (const cJSON *e = root->child; e; e = e->next) {
        if (!e->string || strcmp(e->string, "__metadata__") == 0) continue;
        const cJSON *offsets = cJSON_GetObjectItemCaseSensitive(e, "data_offsets");
        uint64_t begin, end;
        /* a malformed entry is reported by read_entry, in file order */
        if (!cJSON_IsArray(offsets) || cJSON_GetArraySize(offsets) != 2 ||
            !json_uint(offsets->child, &begin) || !json_uint(offsets->child->next, &end) ||
            begin > end || end > data_len) {
            free(r);
            return MNV3_OK;
        }
        r[k++] = (stored_range){begin, end, e->string};
    }
    qsort(r, k, sizeof *r, compare_ranges);
    uint64_t at = 0;
    int rc = MNV3_OK;
    for (size_t i = 0; i < k && rc == MNV3_OK; i++) {
        if (r[i].begin < at && strcmp(r[i].name, r[i - 1].name) == 0)
            rc = mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "tensor '%s' appears more than once",
                                r[i].name);
        else if (r[i].begin < at)
            rc = mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                "tensor '%s' overlaps the data of tensor '%s' (data_offsets "
                                "[%llu, %llu]): safetensors files never share bytes",
                                r[i].name, r[i - 1].name, (unsigned long long)r[i].begin,
                                (unsigned long long)r[i].end);
        else if (r[i].begin > at)
            rc = mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                "tensor '%s' starts at byte %llu, leaving a gap after byte %llu "
                                "of the data",
                                r[i].name, (unsigned long long)r[i].begin,
                                (unsigned long long)at);
        else
            at = r[i].end;
    }
    if (rc == MNV3_OK && at < data_len)
        rc = mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                            "%zu bytes follow the last tensor's data: not a safetensors file "
                            "as written, or a damaged one",
                            data_len - (size_t)at);
    free(r);
    return rc;
}

int mnv3_read_safetensors_buffer(const void *buf, size_t len, const char *label,
                                 mnv3_tensors *out, mnv3_error *err) {
    const unsigned char *b = buf;
    memset(out, 0, sizeof *out);
    if (len < 8)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "truncated: %zu bytes, no safetensors header", len);
    uint64_t header_len = mnv3_load_u64le(b);
    if (header_len > len - 8)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "header length %llu exceeds the %zu bytes after it",
                              (unsigned long long)header_len, len - 8);
    if (header_len > MNV3_FORMATS_MAX_JSON_HEADER)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label,
                              "header of %llu bytes is implausibly large",
                              (unsigned long long)header_len);
    cJSON *root = cJSON_ParseWithLength((const char *)b + 8, (size_t)header_len);
    if (!root) return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "header is not valid JSON");
    if (!cJSON_IsObject(root)) {
        cJSON_Delete(root);
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "header is not a JSON object");
    }
    const unsigned char *data = b + 8 + header_len;
    size_t data_len = len - 8 - (size_t)header_len;
    if (check_ranges_tile(root, data_len, label, err) != MNV3_OK) {
        cJSON_Delete(root);
        return MNV3_FAIL;
    }
    mnv3_tensors ts = {0};
    /* The tensors are converted while the caller holds the whole file: both
     * count, so what this reader holds at once stays within the budget. */
    size_t total = len;
    for (const cJSON *entry = root->child; entry; entry = entry->next) {
        if (!entry->string) continue;
        if (strcmp(entry->string, "__metadata__") == 0) continue;
        if (read_entry(entry, data, data_len, label, &ts, &total, err) != MNV3_OK) {
            mnv3_tensors_free(&ts);
            cJSON_Delete(root);
            return MNV3_FAIL;
        }
    }
    cJSON_Delete(root);
    if (mnv3_tensors_check_unique(&ts, label, err) != MNV3_OK) {
        mnv3_tensors_free(&ts);
        return MNV3_FAIL;
    }
    snprintf(ts.format, sizeof ts.format, "safetensors");
    *out = ts;
    return MNV3_OK;
}

int mnv3_read_safetensors(const char *path, mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    unsigned char *buf;
    size_t len;
    if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, &buf, &len, err) != MNV3_OK)
        return MNV3_FAIL;
    int rc = mnv3_read_safetensors_buffer(buf, len, path, out, err);
    free(buf);
    return rc;
}

/* Builds the JSON header; tensors are laid out back to back in list order. */
static char *build_header(const mnv3_tensors *ts, const char *label, mnv3_error *err) {
    cJSON *root = cJSON_CreateObject();
    if (!root) {
        mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
        return NULL;
    }
    size_t offset = 0;
    for (size_t i = 0; i < ts->count; i++) {
        const mnv3_tensor *t = &ts->items[i];
        int64_t numel = 1;
        for (int k = 0; k < t->ndim; k++) numel *= t->shape[k];
        size_t bytes = (size_t)numel * (t->dtype == MNV3_F32 ? 4 : 8);
        cJSON *entry = cJSON_AddObjectToObject(root, t->name);
        cJSON *shape = entry ? cJSON_AddArrayToObject(entry, "shape") : NULL;
        cJSON *offs = shape ? cJSON_AddArrayToObject(entry, "data_offsets") : NULL;
        int ok = offs && cJSON_AddStringToObject(entry, "dtype", t->dtype == MNV3_F32 ? "F32" : "I64");
        for (int k = 0; ok && k < t->ndim; k++)
            ok = cJSON_AddItemToArray(shape, cJSON_CreateNumber((double)t->shape[k]));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)offset));
        ok = ok && cJSON_AddItemToArray(offs, cJSON_CreateNumber((double)(offset + bytes)));
        if (!ok) {
            cJSON_Delete(root);
            mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
            return NULL;
        }
        offset += bytes;
    }
    char *text = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    if (!text) mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    return text;
}

int mnv3_write_safetensors(const char *path, const mnv3_tensors *ts, mnv3_error *err) {
    for (size_t i = 0; i < ts->count; i++) {
        const mnv3_tensor *t = &ts->items[i];
        if (t->dtype != MNV3_F32 && t->dtype != MNV3_I64)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor '%s' has an unknown dtype",
                                  t->name);
        if (t->ndim < 0 || t->ndim > MNV3_MAX_DIMS)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "tensor '%s' has %d dimensions",
                                  t->name, t->ndim);
        for (int k = 0; k < t->ndim; k++)
            if (t->shape[k] < 0 || t->shape[k] > ((int64_t)1 << 40))
                return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path,
                                      "tensor '%s' has an invalid shape", t->name);
    }
    char *header = build_header(ts, path, err);
    if (!header) return MNV3_FAIL;
    /* Pad with spaces so the data buffer starts 8-byte aligned. */
    size_t hlen = strlen(header), padded = (hlen + 7) / 8 * 8;
    FILE *f = fopen(path, "wb");
    if (!f) {
        cJSON_free(header);
        return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot create");
    }
    unsigned char lenbytes[8];
    mnv3_store_u64le(lenbytes, padded);
    int ok = fwrite(lenbytes, 1, 8, f) == 8 && fwrite(header, 1, hlen, f) == hlen;
    for (size_t k = hlen; ok && k < padded; k++) ok = fputc(' ', f) != EOF;
    cJSON_free(header);
    for (size_t i = 0; ok && i < ts->count; i++) {
        const mnv3_tensor *t = &ts->items[i];
        int64_t numel = mnv3_tensor_numel(t);
        size_t esize = t->dtype == MNV3_F32 ? 4 : 8;
        const unsigned char *src = t->data;
        for (int64_t e = 0; ok && e < numel; e++) {
            uint64_t bits = 0;
            unsigned char le[8];
            if (esize == 4) {
                uint32_t b32;
                memcpy(&b32, src + 4 * e, 4);
                bits = b32;
            } else {
                memcpy(&bits, src + 8 * e, 8);
            }
            mnv3_store_u64le(le, bits);
            ok = fwrite(le, 1, esize, f) == esize;
        }
    }
    if (fclose(f) != 0) ok = 0;
    if (!ok) return mnv3_fail_code(err, MNV3_ERR_IO, path, "write error");
    return MNV3_OK;
}
