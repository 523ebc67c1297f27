/* torch.save zip archives: <dir>/data.pkl describes the state_dict, each
 * storage's bytes are in <dir>/data/<key>; <dir> can have any name.
 * Storages may be tagged with any device ('cuda:0'); the bytes are the same. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zip.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/zipread.h"

/* Finds the one "<dir>/data.pkl" entry; *prefix_len covers "<dir>/". */
static int find_data_pkl(zip_t *za, const char *label, zip_uint64_t *index, size_t *prefix_len,
                         const char **prefix, mnv3_error *err) {
    zip_int64_t n = zip_get_num_entries(za, 0);
    int found = 0;
    for (zip_int64_t i = 0; i < n; i++) {
        const char *name = zip_get_name(za, (zip_uint64_t)i, 0);
        if (!name) continue;
        const char *slash = strchr(name, '/');
        if (!slash || slash == name || strcmp(slash + 1, "data.pkl") != 0) continue;
        if (found++)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                  "archive holds more than one data.pkl");
        *index = (zip_uint64_t)i;
        *prefix = name;
        *prefix_len = (size_t)(slash - name) + 1;
    }
    if (!found)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "zip archive without data.pkl: not a torch.save file");
    return MNV3_OK;
}

/* expect_bytes: the size the member must declare (SIZE_MAX: any), checked
 * before anything is inflated. */
static int read_named_member(zip_t *za, const char *prefix, size_t prefix_len, const char *rest,
                             const char *label, int required, size_t expect_bytes,
                             unsigned char **data, size_t *len, mnv3_error *err) {
    size_t rest_len = strlen(rest);
    char *name = malloc(prefix_len + rest_len + 1);
    if (!name) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    memcpy(name, prefix, prefix_len);
    memcpy(name + prefix_len, rest, rest_len + 1);
    zip_int64_t idx = zip_name_locate(za, name, 0);
    int rc;
    if (idx < 0) {
        *data = NULL;
        *len = 0;
        rc = required
                 ? mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "missing archive member '%s'", name)
                 : MNV3_OK;
    } else {
        zip_stat_t st;
        zip_stat_init(&st);
        if (expect_bytes != SIZE_MAX && zip_stat_index(za, (zip_uint64_t)idx, 0, &st) == 0 &&
            (st.valid & ZIP_STAT_SIZE) && st.size != expect_bytes) {
            *data = NULL;
            *len = 0;
            rc = mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                "member '%s' declares %llu bytes but data.pkl says its storage "
                                "holds %zu bytes: a damaged or crafted file",
                                name, (unsigned long long)st.size, expect_bytes);
        } else {
            rc = mnv3_zip_read_member(za, (zip_uint64_t)idx, name, label, data, len, err);
        }
    }
    free(name);
    return rc;
}

/* Element offset of the last element + 1, i.e. how many storage elements
 * the view reaches; 0 for an empty tensor. */
static int view_extent(const mnv3_pickled_tensor *p, uint64_t *extent, size_t *numel) {
    uint64_t reach = 0;
    size_t n = 1;
    for (int d = 0; d < p->ndim; d++) {
        if ((uint64_t)p->shape[d] > SIZE_MAX || !mnv3_mul_size(n, (size_t)p->shape[d], &n))
            return 0;
    }
    *numel = n;
    if (n == 0) {
        *extent = 0;
        return 1;
    }
    for (int d = 0; d < p->ndim; d++) {
        uint64_t span = (uint64_t)(p->shape[d] - 1);
        if (p->stride[d] != 0 && span > (UINT64_MAX >> 1) / (uint64_t)p->stride[d]) return 0;
        uint64_t step = span * (uint64_t)p->stride[d];
        if (reach > (UINT64_MAX >> 1) - step) return 0;
        reach += step;
    }
    const uint64_t limit = (uint64_t)1 << 62;
    if (reach > limit || (uint64_t)p->offset > limit - reach) return 0;
    *extent = (uint64_t)p->offset + reach + 1;
    return 1;
}

/* Whether two elements of the view share one storage element (a stride 0,
 * or strides that interleave): with dims sorted by stride, each stride must
 * pass the reach of all smaller ones. torch.save of a state_dict never
 * writes such a view, and materialising one multiplies the storage. */
static int view_overlaps(const mnv3_pickled_tensor *p) {
    int order[MNV3_MAX_DIMS], n = 0;
    for (int d = 0; d < p->ndim; d++)
        if (p->shape[d] > 1) order[n++] = d;
    for (int i = 1; i < n; i++) /* insertion sort by stride, at most 8 dims */
        for (int j = i; j > 0 && p->stride[order[j]] < p->stride[order[j - 1]]; j--) {
            int t = order[j];
            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    uint64_t reach = 0; /* farthest element offset of the smaller dims */
    for (int i = 0; i < n; i++) {
        int d = order[i];
        if (p->stride[d] <= 0 || (uint64_t)p->stride[d] <= reach) return 1;
        reach += (uint64_t)(p->shape[d] - 1) * (uint64_t)p->stride[d];
    }
    return 0;
}

static int is_contiguous(const mnv3_pickled_tensor *p) {
    int64_t expect = 1;
    for (int d = p->ndim - 1; d >= 0; d--) {
        if (p->shape[d] != 1 && p->stride[d] != expect) return 0;
        expect *= p->shape[d];
    }
    return 1;
}

/* Copies a strided view into contiguous order, element by element. */
static void gather_strided(const mnv3_pickled_tensor *p, const unsigned char *storage,
                           size_t numel, void *out) {
    size_t esize = mnv3_elem_size(p->elem);
    size_t out_size = mnv3_elem_dtype(p->elem) == MNV3_F32 ? 4 : 8;
    int64_t index[MNV3_MAX_DIMS] = {0};
    for (size_t e = 0; e < numel; e++) {
        int64_t at = p->offset;
        for (int d = 0; d < p->ndim; d++) at += index[d] * p->stride[d];
        mnv3_convert_elems(p->elem, storage + (size_t)at * esize, 1,
                           (unsigned char *)out + e * out_size);
        for (int d = p->ndim - 1; d >= 0; d--) {
            if (++index[d] < p->shape[d]) break;
            index[d] = 0;
        }
    }
}

typedef struct storage_cache {
    char *key;
    unsigned char *data;
    size_t len;
} storage_cache;

static int load_tensor(zip_t *za, const char *prefix, size_t prefix_len, const char *label,
                       const mnv3_pickled_tensor *p, storage_cache *cache, size_t *read_total,
                       size_t *out_total, mnv3_tensors *ts, mnv3_error *err) {
    if (!cache->key || strcmp(cache->key, p->storage_key) != 0) {
        free(cache->key);
        free(cache->data);
        cache->key = NULL;
        cache->data = NULL;
        char rest[300];
        if (strlen(p->storage_key) > 200)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                  "storage key of tensor '%s' is too long", p->key);
        snprintf(rest, sizeof rest, "data/%s", p->storage_key);
        size_t storage_bytes;
        if (p->storage_numel < 0 || (uint64_t)p->storage_numel > SIZE_MAX ||
            !mnv3_mul_size((size_t)p->storage_numel, mnv3_elem_size(p->elem), &storage_bytes))
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                  "storage of tensor '%s' has an impossible size", p->key);
        if (storage_bytes > MNV3_FORMATS_MAX_BYTES) {
            char what[300];
            snprintf(what, sizeof what, "storage data/%s", p->storage_key);
            return mnv3_fail_over_budget(err, label, what, (unsigned long long)storage_bytes);
        }
        if (read_named_member(za, prefix, prefix_len, rest, label, 1, storage_bytes, &cache->data,
                              &cache->len, err) != MNV3_OK)
            return MNV3_FAIL;
        cache->key = strdup(p->storage_key);
        if (!cache->key) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
        /* Re-reading shared storages must not let a small file do unbounded work. */
        if (!mnv3_add_size(*read_total, cache->len, read_total) ||
            *read_total > MNV3_FORMATS_MAX_BYTES)
            return mnv3_fail_over_budget(err, label, "inflating the storages",
                                         (unsigned long long)*read_total);
    }
    size_t esize = mnv3_elem_size(p->elem);
    uint64_t extent;
    size_t numel, need_bytes, out_bytes;
    size_t out_size = mnv3_elem_dtype(p->elem) == MNV3_F32 ? 4 : 8;
    if (!view_extent(p, &extent, &numel) || extent > SIZE_MAX / esize ||
        !mnv3_mul_size(numel, out_size, &out_bytes))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "tensor '%s' has an impossible size",
                              p->key);
    if (numel > 1 && view_overlaps(p))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "tensor '%s' is a view whose elements overlap (a zero or "
                              "interleaved stride): a saved state_dict never holds one; save "
                              "tensor.clone() instead",
                              p->key);
    need_bytes = (size_t)extent * esize;
    if (need_bytes > cache->len)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "truncated: data/%s holds %zu bytes but the tensor '%s' needs %zu",
                              p->storage_key, cache->len, p->key, need_bytes);
    if (!mnv3_add_size(*out_total, out_bytes, out_total) || *out_total > MNV3_FORMATS_MAX_BYTES)
        return mnv3_fail_over_budget(err, label, "converting the tensors",
                                     (unsigned long long)*out_total);
    void *out = malloc(out_bytes ? out_bytes : 1);
    if (!out) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    if (numel == 0) {
        /* nothing to copy */
    } else if (is_contiguous(p))
        mnv3_convert_elems(p->elem, cache->data + (size_t)p->offset * esize, numel, out);
    else
        gather_strided(p, cache->data, numel, out);
    if (mnv3_tensors_add(ts, p->key, mnv3_elem_dtype(p->elem), p->ndim, p->shape, out, err) !=
        MNV3_OK)
        return MNV3_FAIL;
    snprintf(ts->items[ts->count - 1].source_dtype, sizeof ts->items[0].source_dtype, "%s",
             mnv3_elem_name(p->elem));
    return MNV3_OK;
}

static int read_pth_archive(zip_t *za, const char *label, mnv3_tensors *out, mnv3_error *err) {
    zip_uint64_t pkl_index = 0;
    size_t prefix_len = 0;
    const char *prefix = NULL;
    if (find_data_pkl(za, label, &pkl_index, &prefix_len, &prefix, err) != MNV3_OK)
        return MNV3_FAIL;

    unsigned char *byteorder;
    size_t bo_len;
    if (read_named_member(za, prefix, prefix_len, "byteorder", label, 0, SIZE_MAX, &byteorder, &bo_len,
                          err) != MNV3_OK)
        return MNV3_FAIL;
    int little = !byteorder || (bo_len == 6 && memcmp(byteorder, "little", 6) == 0);
    free(byteorder);
    if (!little)
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label, "byteorder is not 'little'");

    unsigned char *pkl;
    size_t pkl_len;
    zip_stat_t st;
    zip_stat_init(&st);
    if (zip_stat_index(za, pkl_index, 0, &st) == 0 && (st.valid & ZIP_STAT_SIZE) &&
        st.size > MNV3_FORMATS_MAX_PICKLE)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label,
                              "data.pkl of %llu bytes is implausibly large",
                              (unsigned long long)st.size);
    if (mnv3_zip_read_member(za, pkl_index, "data.pkl", label, &pkl, &pkl_len, err) != MNV3_OK)
        return MNV3_FAIL;
    mnv3_pickled_state_dict sd;
    int rc = mnv3_unpickle_state_dict(pkl, pkl_len, label, &sd, err);
    free(pkl);
    if (rc != MNV3_OK) return MNV3_FAIL;

    mnv3_tensors ts = {0};
    storage_cache cache = {0};
    size_t read_total = 0, out_total = 0;
    for (size_t k = 0; k < sd.count && rc == MNV3_OK; k++)
        rc = load_tensor(za, prefix, prefix_len, label, &sd.items[k], &cache, &read_total,
                         &out_total, &ts, err);
    free(cache.key);
    free(cache.data);
    mnv3_pickled_state_dict_free(&sd);
    if (rc == MNV3_OK) rc = mnv3_tensors_check_unique(&ts, label, err);
    if (rc != MNV3_OK) {
        mnv3_tensors_free(&ts);
        return MNV3_FAIL;
    }
    snprintf(ts.format, sizeof ts.format, "pth");
    *out = ts;
    return MNV3_OK;
}

int mnv3_read_pth_buffer(const void *buf, size_t len, const char *label, mnv3_tensors *out,
                         mnv3_error *err) {
    memset(out, 0, sizeof *out);
    zip_t *za;
    if (mnv3_zip_open_buffer(buf, len, label, &za, err) != MNV3_OK) return MNV3_FAIL;
    int rc = read_pth_archive(za, label, out, err);
    zip_discard(za);
    return rc;
}

int mnv3_read_pth(const char *path, mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    zip_t *za;
    if (mnv3_zip_open_file(path, &za, err) != MNV3_OK) return MNV3_FAIL;
    int rc = read_pth_archive(za, path, out, err);
    zip_discard(za);
    return rc;
}
