/* Internal helpers: failing with a one-line message and a code, and
 * overflow-checked size arithmetic. */
#include "core/util.h"

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

size_t mnv3_escape_text(char *dst, size_t cap, const char *src) {
    static const char hex[] = "0123456789abcdef";
    size_t used = 0;
    if (!cap) return 0;
    for (const unsigned char *p = (const unsigned char *)src; *p; p++) {
        int control = *p < 0x20 || *p == 0x7f;
        size_t need = control ? 4 : 1;
        if (used + need >= cap) break;
        if (control) {
            dst[used++] = '\\';
            dst[used++] = 'x';
            dst[used++] = hex[*p >> 4];
            dst[used++] = hex[*p & 15];
        } else {
            dst[used++] = (char)*p;
        }
    }
    dst[used] = 0;
    return used;
}

static void fill(mnv3_error *err, mnv3_error_code code, const char *file, const char *fmt,
                 va_list ap) {
    /* Names (and paths) may hold terminal escapes: the message is one line
     * with every control character written as \xNN. */
    char raw[sizeof err->message];
    size_t used = 0;
    err->code = (int)code;
    if (file) {
        int k = snprintf(raw, sizeof raw, "%s: ", file);
        used = k < 0 ? 0 : (size_t)k;
        if (used >= sizeof raw) used = sizeof raw - 1;
    }
    vsnprintf(raw + used, sizeof raw - used, fmt, ap);
    mnv3_escape_text(err->message, sizeof err->message, raw);
}

int mnv3_fail_code(mnv3_error *err, mnv3_error_code code, const char *file, const char *fmt,
                   ...) {
    if (!err) return MNV3_FAIL;
    va_list ap;
    va_start(ap, fmt);
    fill(err, code, file, fmt, ap);
    va_end(ap);
    return MNV3_FAIL;
}

int mnv3_fail(mnv3_error *err, const char *file, const char *fmt, ...) {
    if (!err) return MNV3_FAIL;
    va_list ap;
    va_start(ap, fmt);
    fill(err, MNV3_ERR_OTHER, file, fmt, ap);
    va_end(ap);
    return MNV3_FAIL;
}

void mnv3_shape_text(char *buf, size_t size, int ndim, const int64_t *shape) {
    size_t used = (size_t)snprintf(buf, size, "[");
    for (int i = 0; i < ndim && used < size; i++)
        used += (size_t)snprintf(buf + used, size - used, i ? ", %lld" : "%lld",
                                 (long long)shape[i]);
    if (used < size) snprintf(buf + used, size - used, "]");
}

int mnv3_mul_size(size_t a, size_t b, size_t *out) {
    if (a != 0 && b > SIZE_MAX / a) return 0;
    *out = a * b;
    return 1;
}

int mnv3_add_size(size_t a, size_t b, size_t *out) {
    if (b > SIZE_MAX - a) return 0;
    *out = a + b;
    return 1;
}
