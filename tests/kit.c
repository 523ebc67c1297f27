/* kit.c: the tests' assertion kit (see kit.h). */
#include "kit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int kit_failures = 0;

void kit_check_failed(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL %s:%d: ", file, line);
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    kit_failures++;
}

void kit_fail(const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    printf("FAIL ");
    vprintf(fmt, ap);
    printf("\n");
    va_end(ap);
    kit_failures++;
}

static int expect_fail(const char *what, int rc, const mnv3_error *err, const char *label,
                       const char *want, int quiet) {
    size_t ll = strlen(label);
    int ok = rc == MNV3_FAIL && strncmp(err->message, label, ll) == 0 &&
             err->message[ll] == ':' && err->message[ll + 1] == ' ' &&
             !strchr(err->message, '\n') && (!want || strstr(err->message, want));
    if (!ok || !quiet)
        printf("%-40s %s  [%s]\n", what, ok ? "ok  " : "FAIL",
               rc == MNV3_FAIL ? err->message : "succeeded");
    if (!ok) {
        if (want) printf("    wanted a message containing: %s\n", want);
        kit_failures++;
    }
    return ok;
}

int kit_expect_fail(const char *what, int rc, const mnv3_error *err, const char *label,
                    const char *want) {
    return expect_fail(what, rc, err, label, want, 0);
}

int kit_expect_fail_quiet(const char *what, int rc, const mnv3_error *err, const char *label,
                          const char *want) {
    return expect_fail(what, rc, err, label, want, 1);
}

unsigned char *kit_slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    unsigned char *buf = NULL;
    size_t cap = 0, n = 0;
    for (;;) {
        if (n == cap) {
            cap = cap ? cap * 2 : 65536;
            unsigned char *grown = realloc(buf, cap);
            if (!grown) break;
            buf = grown;
        }
        size_t got = fread(buf + n, 1, cap - n, f);
        if (got == 0) break;
        n += got;
    }
    fclose(f);
    *len = n;
    return buf;
}

int kit_skip_unless_file(const char *path) {
    FILE *probe = fopen(path, "rb");
    if (!probe) {
        printf("SKIP: %s not found\n", path);
        return 1;
    }
    fclose(probe);
    return 0;
}

void kit_taps(void *user, int sample, const char *name, int ndim, const int64_t *shape,
              const float *data) {
    kit_tap_set *set = user;
    char key[96];
    snprintf(key, sizeof key, "%d/%s", sample, name);
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    float *copy = malloc((size_t)n * sizeof *copy);
    mnv3_error err;
    if (!copy) {
        set->failed = 1;
        return;
    }
    memcpy(copy, data, (size_t)n * sizeof *copy);
    if (mnv3_tensors_add(&set->taps, key, MNV3_F32, ndim, shape, copy, &err) != MNV3_OK)
        set->failed = 1;
}

int64_t kit_first_difference(const float *a, const float *b, int64_t n) {
    for (int64_t i = 0; i < n; i++)
        if (memcmp(&a[i], &b[i], sizeof a[i]) != 0) return i;
    return -1;
}
