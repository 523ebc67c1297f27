/* Internals shared by the file-format readers and writers, and the
 * memory-buffer entry points the fuzz targets drive. */
#ifndef MNV3_FORMATS_H
#define MNV3_FORMATS_H

#include <stddef.h>
#include <stdint.h>

#include "mnv3.h"

/* No file, member or output total may exceed this (checked before allocating):
 * the file budget, mnv3_file_budget() (mnv3_io.h). */
#define MNV3_FORMATS_MAX_BYTES (mnv3_file_budget())
#define MNV3_FILE_BUDGET_DEFAULT ((size_t)256 << 20)
/* "FILE: <what> needs N bytes, more than the file budget of B bytes (raise it
 * with MNV3_MAX_FILE_BYTES)": the one message for every budget refusal. */
int mnv3_fail_over_budget(mnv3_error *err, const char *label, const char *what,
                          unsigned long long bytes);
/* Headers (npy dict, safetensors JSON, data.pkl) are small in real files. */
#define MNV3_FORMATS_MAX_NPY_HEADER ((size_t)1 << 20)
#define MNV3_FORMATS_MAX_JSON_HEADER ((size_t)16 << 20)
#define MNV3_FORMATS_MAX_PICKLE ((size_t)64 << 20)

/* ---- model configs (model_config.c) ---- */

/* Reads a Keras model config's BatchNorm layers and epsilons into facts
 * (present -1 when it is not JSON cJSON can read, e.g. Python's NaN). */
void mnv3_config_scan_json(const char *json, size_t len, mnv3_config_facts *facts);

/* ---- helpers (io.c) ---- */

/* Reads a whole file (at most max bytes) into a malloc'd buffer. */
int mnv3_read_file(const char *path, size_t max, unsigned char **buf, size_t *len,
                   mnv3_error *err);
/* Indexes the list by name (mnv3_tensors_index), failing on the first name
 * that occurs twice. */
int mnv3_tensors_check_unique(mnv3_tensors *ts, const char *label, mnv3_error *err);
/* Element conversions from little-endian bytes. */
float mnv3_f16_to_f32(uint16_t h);
float mnv3_bf16_to_f32(uint16_t h);
float mnv3_f64_to_f32(double d); /* saturates to +-inf instead of undefined behaviour */
uint16_t mnv3_load_u16le(const unsigned char *p);
uint32_t mnv3_load_u32le(const unsigned char *p);
uint64_t mnv3_load_u64le(const unsigned char *p);
void mnv3_store_u64le(unsigned char *p, uint64_t v);

/* The source element types the readers convert from. */
typedef enum mnv3_elem {
    MNV3_ELEM_F32, MNV3_ELEM_F16, MNV3_ELEM_BF16, MNV3_ELEM_F64, MNV3_ELEM_I64, MNV3_ELEM_I32
} mnv3_elem;
size_t mnv3_elem_size(mnv3_elem e);
const char *mnv3_elem_name(mnv3_elem e); /* "F32", "F16", ... */
mnv3_dtype mnv3_elem_dtype(mnv3_elem e); /* floats -> MNV3_F32, ints -> MNV3_I64 */
/* Converts n elements at src (little-endian) into dst (float or int64_t). */
void mnv3_convert_elems(mnv3_elem e, const unsigned char *src, size_t n, void *dst);

/* ---- npy (npy.c) ---- */

/* The header of one .npy image (any dtype): its descr ("<f4", "|u1", "|b1", ...),
 * shape, and the offset of its C-order data (<= len; the size is not checked). */
#define MNV3_NPY_DESCR_CAP 32
int mnv3_parse_npy_header(const void *buf, size_t len, const char *label,
                          char descr[MNV3_NPY_DESCR_CAP], int *ndim,
                          int64_t shape[MNV3_MAX_DIMS], size_t *data_start, mnv3_error *err);
/* Parses one float32 .npy image; out->name becomes a copy of name. */
int mnv3_read_npy_buffer(const void *buf, size_t len, const char *label, const char *name,
                         mnv3_tensor *out, mnv3_error *err);
/* The same, also taking int64 / int32 arrays (as MNV3_I64) when allow_integers. */
int mnv3_read_npy_buffer_typed(const void *buf, size_t len, const char *label, const char *name,
                               int allow_integers, mnv3_tensor *out, mnv3_error *err);
/* The same on a malloc'd buf it takes over: freed, or kept as the tensor's
 * data when it already holds it (float32 on a little-endian host). */
int mnv3_read_npy_owned(unsigned char *buf, size_t len, const char *label, const char *name,
                        int allow_integers, mnv3_tensor *out, mnv3_error *err);
/* Encodes a float32 tensor as a v1.0 .npy image (malloc'd). */
int mnv3_encode_npy(const mnv3_tensor *t, const char *label, unsigned char **buf,
                    size_t *len, mnv3_error *err);

/* ---- npz (npz.c) ---- */
/* mnv3_read_npz, integer arrays (labels) kept as MNV3_I64. */
int mnv3_read_npz_with_integers(const char *path, mnv3_tensors *out, mnv3_error *err);
int mnv3_read_npz_buffer(const void *buf, size_t len, const char *label, mnv3_tensors *out,
                         mnv3_error *err);

/* ---- safetensors (safetensors.c) ---- */
int mnv3_read_safetensors_buffer(const void *buf, size_t len, const char *label,
                                 mnv3_tensors *out, mnv3_error *err);

/* ---- torch.save zip (pth.c) ---- */
int mnv3_read_pth_buffer(const void *buf, size_t len, const char *label, mnv3_tensors *out,
                         mnv3_error *err);

/* ---- restricted unpickler (pickle.c) ---- */

/* One tensor of a pickled state_dict, before its storage bytes are read. */
typedef struct mnv3_pickled_tensor {
    char *key;         /* state_dict key */
    char *storage_key; /* names the archive member data/<storage_key> */
    mnv3_elem elem;    /* storage element type */
    int64_t storage_numel;
    int64_t offset;    /* in elements */
    int ndim;
    int64_t shape[MNV3_MAX_DIMS];
    int64_t stride[MNV3_MAX_DIMS];
} mnv3_pickled_tensor;

typedef struct mnv3_pickled_state_dict {
    mnv3_pickled_tensor *items;
    size_t count, capacity;
} mnv3_pickled_state_dict;

/* Unpickles data.pkl, allowing only what a weights-only torch.load of a
 * state_dict allows: OrderedDict, tensor rebuilds and typed storages. */
int mnv3_unpickle_state_dict(const unsigned char *pkl, size_t len, const char *label,
                             mnv3_pickled_state_dict *out, mnv3_error *err);
void mnv3_pickled_state_dict_free(mnv3_pickled_state_dict *sd);

#endif
