/* kit.h: the tests' one assertion kit. Every C test includes it and links
 * mnv3_test_kit (tests/CMakeLists.txt); it needs only mnv3.h's types.
 *
 *   CHECK(cond);                 false: prints "FAIL file:line: cond", counts it, goes on
 *   CHECKF(cond, fmt, ...);      the same with a printf message in place of the condition
 *   kit_fail(fmt, ...);          counts a failure and prints "FAIL message"
 *   kit_failures                 failures so far (main returns kit_failures != 0)
 *
 *   kit_expect_fail(what, rc, &err, label, want)
 *                                rc must be MNV3_FAIL with one line "label: ..." that
 *                                contains want (unless NULL); prints an ok/FAIL line
 *   kit_expect_fail_quiet(...)   the same, printing only a failure; both return 1 when ok
 *
 *   kit_slurp(path, &len)        a whole file in a malloc'd buffer; NULL when unreadable
 *   if (kit_skip_unless_file(path)) return 77;
 *                                a test of optional data (ctest SKIP_RETURN_CODE 77)
 *
 *   kit_taps                     a tap (mnv3_tap_fn) that keeps every layer's output,
 *                                named "sample/layer", in execution order
 *   kit_first_difference(a, b, n)  index of the first float whose bits differ, or -1
 *
 * Failures print to stdout, so they stand between the ok lines they follow. */
#ifndef MNV3_TEST_KIT_H
#define MNV3_TEST_KIT_H

#include <stddef.h>
#include <stdint.h>

#include "mnv3.h"

#if defined(__GNUC__) || defined(__clang__)
#define KIT_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define KIT_PRINTF(f, a)
#endif

extern int kit_failures;

void kit_check_failed(const char *file, int line, const char *fmt, ...) KIT_PRINTF(3, 4);
void kit_fail(const char *fmt, ...) KIT_PRINTF(1, 2);

#define CHECK(cond)                                                   \
    do {                                                              \
        if (!(cond)) kit_check_failed(__FILE__, __LINE__, "%s", #cond); \
    } while (0)

#define CHECKF(cond, ...)                                             \
    do {                                                              \
        if (!(cond)) kit_check_failed(__FILE__, __LINE__, __VA_ARGS__); \
    } while (0)

int kit_expect_fail(const char *what, int rc, const mnv3_error *err, const char *label,
                    const char *want);
int kit_expect_fail_quiet(const char *what, int rc, const mnv3_error *err, const char *label,
                          const char *want);

unsigned char *kit_slurp(const char *path, size_t *len);
/* 1 (after printing "SKIP: PATH not found") when path cannot be opened. */
int kit_skip_unless_file(const char *path);

typedef struct kit_tap_set {
    mnv3_tensors taps;
    int failed; /* out of memory while keeping a tap */
} kit_tap_set;

/* user: a kit_tap_set; free with mnv3_tensors_free(&set.taps). */
void kit_taps(void *user, int sample, const char *name, int ndim, const int64_t *shape,
              const float *data);

int64_t kit_first_difference(const float *a, const float *b, int64_t n);

#endif
