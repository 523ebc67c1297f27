/* craft.h: files made at test time for the format tests: byte buffers,
 * hand-assembled pickles and in-memory zip archives, so hostile files need
 * not be committed. Links mnv3_formats_craft (libzip). Checks: kit.h. */
#ifndef MNV3_FORMATS_CRAFT_H
#define MNV3_FORMATS_CRAFT_H

#include <stddef.h>
#include <stdint.h>

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

/* A torch.save archive around a bare data.pkl, with storages data/0 .. data/3
 * (24, 8, 256 and 0 bytes), so mutated pickles reach the unpickler. */
int wrap_pickle(const unsigned char *pkl, size_t len, bytes *out);

/* A small valid torch.save file: 3 tensors (float [2,3], transposed float
 * view [3,2] of the same storage, int64 scalar) in folder "archive/". */
int make_small_pth(bytes *out);

#endif
