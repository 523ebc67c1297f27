/* Dropout keep masks from .npy dumps (bool, uint8 or float32), for replay. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/masks.h"

int mnv3_read_keep_mask_buffer(const void *buf, size_t len, const char *label, int want_ndim,
                               const int64_t *want_shape, uint8_t **keep, mnv3_error *err) {
    *keep = NULL;
    char descr[MNV3_NPY_DESCR_CAP];
    int ndim;
    int64_t shape[MNV3_MAX_DIMS];
    size_t data_start;
    if (mnv3_parse_npy_header(buf, len, label, descr, &ndim, shape, &data_start, err) != MNV3_OK)
        return MNV3_FAIL;
    size_t elem;
    int is_float = 0;
    if (strcmp(descr, "|b1") == 0 || strcmp(descr, "|u1") == 0) {
        elem = 1;
    } else if (strcmp(descr, "<f4") == 0) {
        elem = 4;
        is_float = 1;
    } else {
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, label,
                              "dropout mask dtype '%s' is not bool, uint8 or float32", descr);
    }
    int same = ndim == want_ndim;
    for (int i = 0; same && i < ndim; i++) same = shape[i] == want_shape[i];
    if (!same) {
        char have_text[128], want_text[128];
        mnv3_shape_text(have_text, sizeof have_text, ndim, shape);
        mnv3_shape_text(want_text, sizeof want_text, want_ndim, want_shape);
        return mnv3_fail_code(err, MNV3_ERR_SHAPE, label,
                              "dropout mask has shape %s, the layer needs %s", have_text,
                              want_text);
    }
    size_t numel = 1, bytes;
    for (int i = 0; i < ndim; i++)
        if ((uint64_t)shape[i] > SIZE_MAX || !mnv3_mul_size(numel, (size_t)shape[i], &numel))
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, label, "shape overflows");
    if (!mnv3_mul_size(numel, elem, &bytes) || bytes > MNV3_FORMATS_MAX_BYTES)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label, "mask of %zu elements is too large",
                              numel);
    if (len - data_start != bytes)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "mask data holds %zu bytes, its header declares %zu",
                              len - data_start, bytes);
    const unsigned char *data = (const unsigned char *)buf + data_start;
    uint8_t *out = malloc(numel ? numel : 1);
    if (!out) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    for (size_t i = 0; i < numel; i++) {
        if (is_float) {
            uint32_t bits = mnv3_load_u32le(data + 4 * i);
            float v;
            memcpy(&v, &bits, sizeof v);
            if (!isfinite(v) || v < 0.0f) {
                free(out);
                return mnv3_fail_code(err, isfinite(v) ? MNV3_ERR_FORMAT : MNV3_ERR_NONFINITE,
                                      label, "dropout mask element %zu is %g, not 0 or a "
                                      "positive keep value", i, (double)v);
            }
            out[i] = v != 0.0f;
        } else {
            if (data[i] > 1) {
                free(out);
                return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                                      "dropout mask element %zu is %u, not 0 or 1", i, data[i]);
            }
            out[i] = data[i];
        }
    }
    *keep = out;
    return MNV3_OK;
}

int mnv3_read_keep_mask(const char *path, int want_ndim, const int64_t *want_shape,
                        uint8_t **keep, mnv3_error *err) {
    *keep = NULL;
    unsigned char *buf;
    size_t len;
    if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, &buf, &len, err) != MNV3_OK)
        return MNV3_FAIL;
    int rc = mnv3_read_keep_mask_buffer(buf, len, path, want_ndim, want_shape, keep, err);
    free(buf);
    return rc;
}
