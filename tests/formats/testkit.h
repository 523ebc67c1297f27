/* Helpers for the format tests: byte buffers, hand-assembled pickles and
 * in-memory zip archives, so hostile files are built at test time. */
#ifndef MNV3_TESTKIT_H
#define MNV3_TESTKIT_H

#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "mnv3.h"

typedef struct bytes {
    unsigned char *p;
    size_t n, cap;
} bytes;

void bytes_put(bytes *b, const void *data, size_t n);
void bytes_u8(bytes *b, unsigned v);
void bytes_le(bytes *b, uint64_t v, int n); /* n little-endian bytes */
void bytes_free(bytes *b);

/* Pickle opcodes with their arguments. */
void pk_str(bytes *b, const char *s);                   /* BINUNICODE */
void pk_int(bytes *b, int64_t v);                       /* BININT1/BININT/LONG1 */
void pk_global(bytes *b, const char *module, const char *name); /* GLOBAL */
void pk_stack_global(bytes *b, const char *module, const char *name);
void pk_op(bytes *b, unsigned op);

/* One tensor entry of a state_dict pickle as torch.save writes it. */
typedef struct pk_tensor {
    const char *key;
    const char *storage_type; /* "FloatStorage", "LongStorage", ... */
    const char *storage_key;
    int64_t storage_numel, offset;
    int ndim;
    int64_t shape[16], stride[16]; /* room for more dims than allowed */
} pk_tensor;

/* OrderedDict of tensors, with a _metadata BUILD like torch writes. */
void pk_state_dict(bytes *b, const pk_tensor *t, int n);

/* An in-memory zip (members stored) from names and contents. */
typedef struct zip_member {
    const char *name;
    const void *data;
    size_t len;
} zip_member;
int make_zip(const zip_member *members, int n, bytes *out);

/* A small valid torch.save file: 3 tensors (float [2,3], transposed float
 * view [3,2] of the same storage, int64 scalar) in folder "archive/". */
int make_small_pth(bytes *out);

/* Test bookkeeping: CHECK prints the failing condition and counts it. */
extern int tk_failures;
#define CHECK(cond)                                                                         \
    do {                                                                                    \
        if (!(cond)) {                                                                      \
            fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);        \
            tk_failures++;                                                                  \
        }                                                                                   \
    } while (0)

/* Expects rc == MNV3_FAIL, a one-line message starting "label: " and
 * containing want (if not NULL); prints the message for the log. */
void expect_fail(const char *what, int rc, const mnv3_error *err, const char *label,
                 const char *want);

#endif
