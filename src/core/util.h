/* Internal helpers shared by every area of the library: failing with a
 * message and a code, and overflow-checked size arithmetic. */
#ifndef MNV3_UTIL_H
#define MNV3_UTIL_H

#include "mnv3_core.h"

#if defined(__GNUC__)
#define MNV3_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define MNV3_PRINTF(a, b)
#endif

/* Fills err (may be NULL) with code and "file: message" (file may be NULL)
 * and returns MNV3_FAIL. */
/* Copies src into dst (cap bytes, always terminated) with every control
 * character written as \xNN, so text from a file cannot drive the terminal.
 * Returns the length written. */
size_t mnv3_escape_text(char *dst, size_t cap, const char *src);
int mnv3_fail_code(mnv3_error *err, mnv3_error_code code, const char *file, const char *fmt,
                   ...) MNV3_PRINTF(4, 5);
/* The same with code MNV3_ERR_OTHER, for failures not yet classified. */
int mnv3_fail(mnv3_error *err, const char *file, const char *fmt, ...) MNV3_PRINTF(3, 4);

/* "[1, 3, 224, 224]" into buf (truncated to size). */
void mnv3_shape_text(char *buf, size_t size, int ndim, const int64_t *shape);

/* Overflow-checked size arithmetic: return 0 on overflow. */
int mnv3_mul_size(size_t a, size_t b, size_t *out);
int mnv3_add_size(size_t a, size_t b, size_t *out);

#endif
