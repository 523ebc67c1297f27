/* The tests' one assertion: count and report a failure, keep going. */
#ifndef MNV3_TEST_CHECK_H
#define MNV3_TEST_CHECK_H

#include <stdio.h>

static int failures;
#define CHECK(cond, ...)                                \
    do {                                                \
        if (!(cond)) {                                  \
            failures++;                                 \
            printf("FAIL %s:%d: ", __FILE__, __LINE__); \
            printf(__VA_ARGS__);                        \
            printf("\n");                               \
        }                                               \
    } while (0)

#endif
