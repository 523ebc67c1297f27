/* Small helpers shared by the TFLite tests: file reads, checks, and
 * one-line error expectations. */
#ifndef MNV3_TFLITE_TKIT_H
#define MNV3_TFLITE_TKIT_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mnv3.h"

static int tk_fail_count __attribute__((unused));
#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            tk_fail_count++;                                                                \
        }                                                                                   \
    } while (0)

/* Whole file into a malloc'd buffer; NULL when it cannot be read. */
static inline unsigned char *tk_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *nb = realloc(buf, cap);
            if (!nb) break;
            buf = nb;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0) break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* rc must be MNV3_FAIL with one line "label: ..." containing want (if any). */
static inline int tk_expect_fail(const char *what, int rc, const mnv3_error *err, const char *label,
                          const char *want, int quiet) {
    size_t ll = strlen(label);
    int ok = rc == MNV3_FAIL && strncmp(err->message, label, ll) == 0 &&
             err->message[ll] == ':' && err->message[ll + 1] == ' ' &&
             !strchr(err->message, '\n') && (!want || strstr(err->message, want));
    if (!ok || !quiet)
        printf("%-36s %s  [%s]\n", what, ok ? "ok  " : "FAIL",
               rc == MNV3_FAIL ? err->message : "succeeded");
    if (!ok) {
        if (want) printf("    wanted a message containing: %s\n", want);
        tk_fail_count++;
    }
    return ok;
}

#endif
