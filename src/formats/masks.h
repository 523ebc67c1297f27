/* Dropout keep masks dumped by a framework, for replay (one step compared
 * exactly, whatever the framework's generator): .npy arrays of bool or uint8
 * (0 = drop, 1 = keep), or float32 (0 = drop; a positive finite value, 1 or
 * the framework's scale, = keep). Row-major, as the trainer reads them. */
#ifndef MNV3_FORMATS_MASKS_H
#define MNV3_FORMATS_MASKS_H

#include <stddef.h>
#include <stdint.h>

#include "mnv3.h"

/* Parses a mask .npy image whose shape must be want_shape (want_ndim dims);
 * *keep becomes a malloc'd array of its elements, 1 = keep. */
int mnv3_read_keep_mask_buffer(const void *buf, size_t len, const char *label, int want_ndim,
                               const int64_t *want_shape, uint8_t **keep, mnv3_error *err);
int mnv3_read_keep_mask(const char *path, int want_ndim, const int64_t *want_shape,
                        uint8_t **keep, mnv3_error *err);

#endif
