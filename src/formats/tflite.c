/* TFLite flatbuffers, read by hand (see tflite.h and docs/tflite.md).
 *
 * Flatbuffer layout, as far as needed here (all little-endian):
 *   file:    u32 root table offset, "TFL3" identifier
 *   table:   i32 soffset; its vtable sits at table - soffset
 *   vtable:  u16 vtable bytes, u16 table bytes, u16 field offsets (0 = absent)
 *   offsets: u32 relative to the field's own position (tables, vectors, strings)
 *   vector:  u32 count, then elements (tables by u32 offsets)
 *   string:  u32 length, bytes, NUL
 * Errors are sticky: the first failure is recorded in the reader and every
 * later access returns a default, so the walking code stays linear. No
 * recursion; every loop runs over a count already checked against the
 * buffer size. */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/graph.h"
#include "core/util.h"
#include "formats/formats.h"
#include "formats/tflite.h"

/* ---- flatbuffer access ---------------------------------------------------- */

typedef struct fb {
    const unsigned char *p;
    size_t n;
    const char *label;
    mnv3_error *err;
    int failed;
    const char *where; /* context for messages, e.g. "tensor 12" */
    char where_buf[64];
} fb;

typedef struct fbt {
    size_t pos, vt;
    unsigned vt_size, t_size;
} fbt;

static void fb_fail(fb *f, const char *fmt, ...) MNV3_PRINTF(2, 3);
static void fb_fail(fb *f, const char *fmt, ...) {
    if (f->failed) return;
    f->failed = 1;
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    mnv3_fail_code(f->err, MNV3_ERR_FORMAT, f->label, "tflite %s: %s", f->where, msg);
}

static void fb_where(fb *f, const char *what, long index) {
    if (index >= 0) snprintf(f->where_buf, sizeof f->where_buf, "%s %ld", what, index);
    else snprintf(f->where_buf, sizeof f->where_buf, "%s", what);
    f->where = f->where_buf;
}

/* 1 when [pos, pos + size) lies inside the buffer. */
static int fb_in(const fb *f, size_t pos, size_t size) {
    return pos <= f->n && size <= f->n - pos;
}

static uint32_t ld32(const fb *f, size_t pos) { return mnv3_load_u32le(f->p + pos); }
static uint16_t ld16(const fb *f, size_t pos) { return mnv3_load_u16le(f->p + pos); }

/* Table at absolute position pos. */
static int fb_table(fb *f, size_t pos, const char *what, fbt *t) {
    memset(t, 0, sizeof *t);
    if (f->failed) return 0;
    if (!fb_in(f, pos, 4)) {
        fb_fail(f, "%s table at offset %zu lies outside the %zu-byte file", what, pos, f->n);
        return 0;
    }
    int64_t soff = (int32_t)ld32(f, pos);
    int64_t vt = (int64_t)pos - soff;
    if (vt < 0 || !fb_in(f, (size_t)vt, 4)) {
        fb_fail(f, "%s vtable offset %lld (table at %zu) lies outside the %zu-byte file", what,
                (long long)vt, pos, f->n);
        return 0;
    }
    unsigned vt_size = ld16(f, (size_t)vt), t_size = ld16(f, (size_t)vt + 2);
    if (vt_size < 4 || (vt_size & 1) || !fb_in(f, (size_t)vt, vt_size)) {
        fb_fail(f, "%s vtable at %lld has bad size %u", what, (long long)vt, vt_size);
        return 0;
    }
    if (t_size < 4 || !fb_in(f, pos, t_size)) {
        fb_fail(f, "%s table at %zu has bad size %u (file %zu bytes)", what, pos, t_size, f->n);
        return 0;
    }
    t->pos = pos;
    t->vt = (size_t)vt;
    t->vt_size = vt_size;
    t->t_size = t_size;
    return 1;
}

/* Absolute position of field idx (width bytes), 0 when absent or on error. */
static size_t fb_field(fb *f, const fbt *t, int idx, size_t width) {
    if (f->failed || t->t_size == 0) return 0;
    size_t slot = 4 + 2 * (size_t)idx;
    if (slot + 2 > t->vt_size) return 0;
    unsigned off = ld16(f, t->vt + slot);
    if (off == 0) return 0;
    if (off < 4 || off + width > t->t_size) {
        fb_fail(f, "field %d at table offset %u runs past its %u-byte table", idx, off,
                t->t_size);
        return 0;
    }
    return t->pos + off;
}

static uint32_t fb_u32(fb *f, const fbt *t, int idx, uint32_t def) {
    size_t p = fb_field(f, t, idx, 4);
    return p ? ld32(f, p) : def;
}
static int32_t fb_i32(fb *f, const fbt *t, int idx, int32_t def) {
    size_t p = fb_field(f, t, idx, 4);
    return p ? (int32_t)ld32(f, p) : def;
}
static int fb_u8(fb *f, const fbt *t, int idx, int def) {
    size_t p = fb_field(f, t, idx, 1);
    return p ? f->p[p] : def;
}
static uint64_t fb_u64(fb *f, const fbt *t, int idx, uint64_t def) {
    size_t p = fb_field(f, t, idx, 8);
    return p ? mnv3_load_u64le(f->p + p) : def;
}
static float fb_f32(fb *f, const fbt *t, int idx, float def) {
    size_t p = fb_field(f, t, idx, 4);
    if (!p) return def;
    uint32_t u = ld32(f, p);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

/* Follows the u32 offset stored at pos; 0 on error. */
static size_t fb_follow(fb *f, size_t pos, const char *what) {
    if (f->failed) return 0;
    if (!fb_in(f, pos, 4)) {
        fb_fail(f, "%s offset at %zu lies outside the file", what, pos);
        return 0;
    }
    uint32_t rel = ld32(f, pos);
    if (rel == 0 || rel > f->n - pos) {
        fb_fail(f, "%s offset %u at %zu points outside the %zu-byte file", what, rel, pos, f->n);
        return 0;
    }
    return pos + rel;
}

/* Vector field: position of its first element and count (0 when absent). */
static size_t fb_vector(fb *f, const fbt *t, int idx, size_t elem, const char *what,
                        size_t *count) {
    *count = 0;
    size_t p = fb_field(f, t, idx, 4);
    if (!p) return 0;
    size_t v = fb_follow(f, p, what);
    if (!v) return 0;
    if (!fb_in(f, v, 4)) {
        fb_fail(f, "%s vector header at %zu lies outside the file", what, v);
        return 0;
    }
    size_t n = ld32(f, v), bytes;
    if (!mnv3_mul_size(n, elem, &bytes) || !fb_in(f, v + 4, bytes)) {
        fb_fail(f, "%s vector of %zu elements at %zu runs past the end of the %zu-byte file",
                what, n, v, f->n);
        return 0;
    }
    *count = n;
    return v + 4;
}

/* Table number i of a vector of tables starting at vec. */
static int fb_vec_table(fb *f, size_t vec, size_t i, const char *what, fbt *t) {
    size_t p = fb_follow(f, vec + 4 * i, what);
    if (!p) {
        memset(t, 0, sizeof *t);
        return 0;
    }
    return fb_table(f, p, what, t);
}

/* Sub-table field (NULL position when absent). */
static int fb_subtable(fb *f, const fbt *t, int idx, const char *what, fbt *sub) {
    memset(sub, 0, sizeof *sub);
    size_t p = fb_field(f, t, idx, 4);
    if (!p) return 0;
    size_t q = fb_follow(f, p, what);
    if (!q) return 0;
    return fb_table(f, q, what, sub);
}

/* String field: NUL-terminated pointer into the buffer, NULL when absent. */
static const char *fb_string(fb *f, const fbt *t, int idx, const char *what) {
    size_t p = fb_field(f, t, idx, 4);
    if (!p) return NULL;
    size_t s = fb_follow(f, p, what);
    if (!s) return NULL;
    if (!fb_in(f, s, 4)) {
        fb_fail(f, "%s string header at %zu lies outside the file", what, s);
        return NULL;
    }
    size_t len = ld32(f, s);
    if (len >= f->n - s - 4) { /* no room for the bytes and the NUL */
        fb_fail(f, "%s string of %zu bytes at %zu runs past the end of the file", what, len, s);
        return NULL;
    }
    if (f->p[s + 4 + len] != 0) {
        fb_fail(f, "%s string at %zu is not NUL-terminated", what, s);
        return NULL;
    }
    return (const char *)f->p + s + 4;
}

/* Reads an [int] vector field into dst (at most max entries). */
static int fb_int_list(fb *f, const fbt *t, int idx, const char *what, int32_t *dst, int max,
                       int *n_out) {
    size_t n;
    size_t v = fb_vector(f, t, idx, 4, what, &n);
    *n_out = 0;
    if (f->failed) return 0;
    if (n > (size_t)max) {
        fb_fail(f, "%s has %zu entries (at most %d supported)", what, n, max);
        return 0;
    }
    for (size_t i = 0; i < n; i++) dst[i] = (int32_t)ld32(f, v + 4 * i);
    *n_out = (int)n;
    return 1;
}

/* ---- names ------------------------------------------------------------------ */

const char *mnv3_tflite_op_name(int builtin) {
    static const struct {
        int code;
        const char *name;
    } names[] = {{0, "ADD"}, {1, "AVERAGE_POOL_2D"}, {2, "CONCATENATION"}, {3, "CONV_2D"},
                 {4, "DEPTHWISE_CONV_2D"}, {6, "DEQUANTIZE"}, {9, "FULLY_CONNECTED"},
                 {14, "LOGISTIC"}, {17, "MAX_POOL_2D"}, {18, "MUL"}, {19, "RELU"},
                 {21, "RELU6"}, {22, "RESHAPE"}, {25, "SOFTMAX"}, {32, "CUSTOM"}, {34, "PAD"},
                 {39, "TRANSPOSE"}, {40, "MEAN"}, {41, "SUB"}, {42, "DIV"}, {43, "SQUEEZE"},
                 {60, "PADV2"}, {114, "QUANTIZE"}, {117, "HARD_SWISH"}};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (names[i].code == builtin) return names[i].name;
    return "OTHER_OP";
}

const char *mnv3_tflite_type_name(int type) {
    static const char *names[] = {"FLOAT32", "FLOAT16", "INT32", "UINT8", "INT64", "STRING",
                                  "BOOL", "INT16", "COMPLEX64", "INT8", "FLOAT64"};
    if (type >= 0 && type < (int)(sizeof names / sizeof names[0])) return names[type];
    return "OTHER";
}

static size_t type_size(int type) {
    switch (type) {
    case MNV3_TFL_FLOAT32: case MNV3_TFL_INT32: return 4;
    case MNV3_TFL_FLOAT16: case MNV3_TFL_INT16: return 2;
    case MNV3_TFL_UINT8: case MNV3_TFL_INT8: case 6 /* BOOL */: return 1;
    case MNV3_TFL_INT64: case MNV3_TFL_FLOAT64: return 8;
    default: return 0; /* strings, sub-byte and exotic types: size not checked */
    }
}

int mnv3_tflite_sniff(const void *head, size_t n) {
    return n >= 8 && memcmp((const unsigned char *)head + 4, "TFL3", 4) == 0;
}

/* ---- model ------------------------------------------------------------------ */

typedef struct raw_buffer {
    const unsigned char *data;
    size_t len;
} raw_buffer;

void mnv3_tflite_free(mnv3_tflite_model *m) {
    if (!m) return;
    free(m->opcodes);
    free(m->tensors);
    free(m->ops);
    free(m);
}

int mnv3_tflite_producer(const mnv3_tflite_model *m, int tensor) {
    for (int i = 0; i < m->n_ops; i++)
        for (int k = 0; k < m->ops[i].n_outputs; k++)
            if (m->ops[i].outputs[k] == tensor) return i;
    return -1;
}

/* Tables are limited by the buffer size already (each element takes at least
 * 4 bytes); this caps the counts for int arithmetic. */
#define MAX_COUNT ((size_t)1 << 24)

static int read_opcodes(fb *f, const fbt *model, mnv3_tflite_model *m) {
    size_t n;
    fb_where(f, "model", -1);
    size_t v = fb_vector(f, model, 1, 4, "operator_codes", &n);
    if (f->failed) return 0;
    if (n > MAX_COUNT) {
        fb_fail(f, "%zu operator codes", n);
        return 0;
    }
    m->opcodes = calloc(n ? n : 1, sizeof *m->opcodes);
    if (!m->opcodes) {
        fb_fail(f, "out of memory");
        return 0;
    }
    m->n_opcodes = (int)n;
    for (size_t i = 0; i < n && !f->failed; i++) {
        fbt t;
        fb_where(f, "operator code", (long)i);
        if (!fb_vec_table(f, v, i, "operator code", &t)) break;
        int dep = (int8_t)fb_u8(f, &t, 0, 0);
        int code = fb_i32(f, &t, 3, 0);
        /* Old files set only the deprecated byte; new ones both, with the
         * deprecated byte saturated at 127 for codes beyond it. */
        m->opcodes[i].builtin = code > dep ? code : dep;
        m->opcodes[i].custom_code = fb_string(f, &t, 1, "custom_code");
        m->opcodes[i].version = fb_i32(f, &t, 2, 1);
        if (m->opcodes[i].builtin < 0) fb_fail(f, "negative builtin code %d", m->opcodes[i].builtin);
    }
    return !f->failed;
}

static int read_buffers(fb *f, const fbt *model, raw_buffer **out, int *n_out) {
    size_t n;
    fb_where(f, "model", -1);
    size_t v = fb_vector(f, model, 4, 4, "buffers", &n);
    *out = NULL;
    *n_out = 0;
    if (f->failed) return 0;
    if (n > MAX_COUNT) {
        fb_fail(f, "%zu buffers", n);
        return 0;
    }
    raw_buffer *b = calloc(n ? n : 1, sizeof *b);
    if (!b) {
        fb_fail(f, "out of memory");
        return 0;
    }
    for (size_t i = 0; i < n && !f->failed; i++) {
        fbt t;
        fb_where(f, "buffer", (long)i);
        if (!fb_vec_table(f, v, i, "buffer", &t)) break;
        size_t len;
        size_t d = fb_vector(f, &t, 0, 1, "data", &len);
        uint64_t off = fb_u64(f, &t, 1, 0), size = fb_u64(f, &t, 2, 0);
        if (f->failed) break;
        if (len > 0) {
            b[i].data = f->p + d;
            b[i].len = len;
        } else if (off > 1) {
            /* Large-model form: data after the flatbuffer, offset from the file start. */
            if (off > f->n || size > f->n - off) {
                fb_fail(f, "data at offset %llu, %llu bytes, lies outside the %zu-byte file",
                        (unsigned long long)off, (unsigned long long)size, f->n);
                break;
            }
            b[i].data = f->p + off;
            b[i].len = (size_t)size;
        }
    }
    *out = b;
    *n_out = (int)n;
    return !f->failed;
}

static int read_tensor(fb *f, const fbt *t, const raw_buffer *bufs, int n_bufs,
                       mnv3_tflite_tensor *x) {
    int32_t shape[MNV3_TFLITE_MAX_DIMS];
    int ndim;
    fb_int_list(f, t, 0, "shape", shape, MNV3_TFLITE_MAX_DIMS, &ndim);
    x->type = (int8_t)fb_u8(f, t, 1, 0);
    x->buffer = fb_u32(f, t, 2, 0);
    const char *name = fb_string(f, t, 3, "name");
    x->name = name ? name : "";
    fbt q;
    if (fb_subtable(f, t, 4, "quantization", &q)) {
        size_t ns, nz;
        size_t sv = fb_vector(f, &q, 2, 4, "quantization scale", &ns);
        size_t zv = fb_vector(f, &q, 3, 8, "quantization zero_point", &nz);
        if (!f->failed && ns > 0) {
            uint32_t u = ld32(f, sv);
            memcpy(&x->scale, &u, 4);
            x->n_scales = ns > 1 << 30 ? 1 << 30 : (int)ns;
        }
        if (!f->failed && nz > 0) x->zero_point = (int64_t)mnv3_load_u64le(f->p + zv);
        if (!f->failed) {
            x->scale_data = ns ? f->p + sv : NULL;
            x->n_scale_values = ns;
            x->zero_point_data = nz ? f->p + zv : NULL;
            x->n_zero_points = nz;
            x->quantized_dimension = fb_i32(f, &q, 6, 0);
        }
    }
    if (f->failed) return 0;
    size_t numel = 1;
    for (int d = 0; d < ndim; d++) {
        if (shape[d] < 0) {
            fb_fail(f, "'%.80s' has dimension %d = %d", x->name, d, (int)shape[d]);
            return 0;
        }
        if (!mnv3_mul_size(numel, (size_t)shape[d], &numel)) {
            fb_fail(f, "'%.80s' shape overflows", x->name);
            return 0;
        }
        x->shape[d] = shape[d];
    }
    x->ndim = ndim;
    x->numel = numel;
    size_t es = type_size(x->type), bytes;
    if (!mnv3_mul_size(numel, es ? es : 1, &bytes) || bytes > MNV3_FORMATS_MAX_BYTES) {
        fb_fail(f, "'%.80s' has %zu elements, too many", x->name, numel);
        return 0;
    }
    if (x->buffer >= (uint32_t)n_bufs) {
        fb_fail(f, "'%.80s' names buffer %u, but the model has %d", x->name, x->buffer, n_bufs);
        return 0;
    }
    if (bufs[x->buffer].len > 0) {
        x->data = bufs[x->buffer].data;
        x->data_len = bufs[x->buffer].len;
        if (es && x->data_len != bytes) {
            fb_fail(f, "'%.80s' is %s with %zu elements but its buffer %u holds %zu bytes",
                    x->name, mnv3_tflite_type_name(x->type), numel, x->buffer, x->data_len);
            return 0;
        }
    }
    return 1;
}

static void read_options(fb *f, const fbt *t, mnv3_tflite_op *op) {
    op->stride_w = op->stride_h = op->dilation_w = op->dilation_h = 1;
    op->depth_multiplier = 1;
    op->beta = 1.0f;
    op->options_type = fb_u8(f, t, 3, 0);
    fbt o;
    if (!fb_subtable(f, t, 4, "builtin_options", &o)) return;
    switch (op->options_type) {
    case 1: /* Conv2DOptions */
        op->padding = (int8_t)fb_u8(f, &o, 0, 0);
        op->stride_w = fb_i32(f, &o, 1, 0);
        op->stride_h = fb_i32(f, &o, 2, 0);
        op->fused_act = (int8_t)fb_u8(f, &o, 3, 0);
        op->dilation_w = fb_i32(f, &o, 4, 1);
        op->dilation_h = fb_i32(f, &o, 5, 1);
        break;
    case 2: /* DepthwiseConv2DOptions */
        op->padding = (int8_t)fb_u8(f, &o, 0, 0);
        op->stride_w = fb_i32(f, &o, 1, 0);
        op->stride_h = fb_i32(f, &o, 2, 0);
        op->depth_multiplier = fb_i32(f, &o, 3, 0);
        op->fused_act = (int8_t)fb_u8(f, &o, 4, 0);
        op->dilation_w = fb_i32(f, &o, 5, 1);
        op->dilation_h = fb_i32(f, &o, 6, 1);
        break;
    case 5: /* Pool2DOptions */
        op->padding = (int8_t)fb_u8(f, &o, 0, 0);
        op->stride_w = fb_i32(f, &o, 1, 0);
        op->stride_h = fb_i32(f, &o, 2, 0);
        op->fused_act = (int8_t)fb_u8(f, &o, 5, 0);
        op->filter_w = fb_i32(f, &o, 3, 0);
        op->filter_h = fb_i32(f, &o, 4, 0);
        break;
    case 8:  /* FullyConnectedOptions */
    case 11: /* AddOptions */
    case 21: /* MulOptions */
    case 28: /* SubOptions */
    case 29: /* DivOptions */
        op->fused_act = (int8_t)fb_u8(f, &o, 0, 0);
        break;
    case 9: /* SoftmaxOptions */
        op->beta = fb_f32(f, &o, 0, 0.0f);
        break;
    case 27: /* ReducerOptions */
        op->keep_dims = fb_u8(f, &o, 0, 0) != 0;
        break;
    default:
        break;
    }
}

static int read_subgraph(fb *f, const fbt *sg, const raw_buffer *bufs, int n_bufs,
                         mnv3_tflite_model *m) {
    size_t nt, no;
    fb_where(f, "subgraph", 0);
    size_t tv = fb_vector(f, sg, 0, 4, "tensors", &nt);
    fb_int_list(f, sg, 1, "inputs", m->inputs, MNV3_TFLITE_MAX_OP_IO, &m->n_inputs);
    fb_int_list(f, sg, 2, "outputs", m->outputs, MNV3_TFLITE_MAX_OP_IO, &m->n_outputs);
    size_t ov = fb_vector(f, sg, 3, 4, "operators", &no);
    if (f->failed) return 0;
    if (nt > MAX_COUNT || no > MAX_COUNT) {
        fb_fail(f, "%zu tensors, %zu operators: too many", nt, no);
        return 0;
    }
    m->tensors = calloc(nt ? nt : 1, sizeof *m->tensors);
    m->ops = calloc(no ? no : 1, sizeof *m->ops);
    if (!m->tensors || !m->ops) {
        fb_fail(f, "out of memory");
        return 0;
    }
    m->n_tensors = (int)nt;
    m->n_ops = (int)no;
    for (size_t i = 0; i < nt && !f->failed; i++) {
        fbt t;
        fb_where(f, "tensor", (long)i);
        if (fb_vec_table(f, tv, i, "tensor", &t)) read_tensor(f, &t, bufs, n_bufs, &m->tensors[i]);
    }
    fb_where(f, "subgraph", 0);
    for (int k = 0; k < m->n_inputs && !f->failed; k++)
        if (m->inputs[k] < 0 || m->inputs[k] >= m->n_tensors)
            fb_fail(f, "input %d names tensor %d of %d", k, (int)m->inputs[k], m->n_tensors);
    for (int k = 0; k < m->n_outputs && !f->failed; k++)
        if (m->outputs[k] < 0 || m->outputs[k] >= m->n_tensors)
            fb_fail(f, "output %d names tensor %d of %d", k, (int)m->outputs[k], m->n_tensors);
    for (size_t i = 0; i < no && !f->failed; i++) {
        fbt t;
        mnv3_tflite_op *op = &m->ops[i];
        fb_where(f, "operator", (long)i);
        if (!fb_vec_table(f, ov, i, "operator", &t)) break;
        uint32_t oc = fb_u32(f, &t, 0, 0);
        fb_int_list(f, &t, 1, "inputs", op->inputs, MNV3_TFLITE_MAX_OP_IO, &op->n_inputs);
        fb_int_list(f, &t, 2, "outputs", op->outputs, MNV3_TFLITE_MAX_OP_IO, &op->n_outputs);
        read_options(f, &t, op);
        if (f->failed) break;
        if (oc >= (uint32_t)m->n_opcodes) {
            fb_fail(f, "opcode_index %u, but the model has %d operator codes", oc, m->n_opcodes);
            break;
        }
        op->opcode_index = (int)oc;
        op->builtin = m->opcodes[oc].builtin;
        op->custom_code = m->opcodes[oc].custom_code;
        for (int k = 0; k < op->n_inputs && !f->failed; k++)
            if (op->inputs[k] < -1 || op->inputs[k] >= m->n_tensors)
                fb_fail(f, "(%s) input %d names tensor %d of %d", mnv3_tflite_op_name(op->builtin),
                        k, (int)op->inputs[k], m->n_tensors);
        for (int k = 0; k < op->n_outputs && !f->failed; k++)
            if (op->outputs[k] < 0 || op->outputs[k] >= m->n_tensors)
                fb_fail(f, "(%s) output %d names tensor %d of %d",
                        mnv3_tflite_op_name(op->builtin), k, (int)op->outputs[k], m->n_tensors);
    }
    return !f->failed;
}

int mnv3_tflite_open(const void *buf, size_t len, const char *label, mnv3_tflite_model **out,
                     mnv3_error *err) {
    *out = NULL;
    fb f = {buf, len, label, err, 0, "model", {0}};
    if (len < 8)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "tflite: %zu bytes is too short for a flatbuffer", len);
    if (!mnv3_tflite_sniff(buf, len))
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, label,
                              "tflite: no 'TFL3' file identifier at offset 4");
    if (len > MNV3_FORMATS_MAX_BYTES)
        return mnv3_fail_code(err, MNV3_ERR_LIMIT, label,
                              "tflite: %zu bytes is more than the %zu allowed", len,
                              MNV3_FORMATS_MAX_BYTES);
    mnv3_tflite_model *m = calloc(1, sizeof *m);
    if (!m) return mnv3_fail_code(err, MNV3_ERR_MEMORY, label, "out of memory");
    raw_buffer *bufs = NULL;
    int n_bufs = 0;
    fbt model, sg;
    uint32_t root = ld32(&f, 0);
    if (root < 8 || root > len) {
        fb_fail(&f, "root table offset %u lies outside the %zu-byte file", root, len);
    } else if (fb_table(&f, root, "model", &model)) {
        m->version = fb_u32(&f, &model, 0, 0);
        m->description = fb_string(&f, &model, 3, "description");
        read_opcodes(&f, &model, m);
        read_buffers(&f, &model, &bufs, &n_bufs);
        m->n_buffers = n_bufs;
        size_t nsg = 0;
        fb_where(&f, "model", -1);
        size_t sv = fb_vector(&f, &model, 2, 4, "subgraphs", &nsg);
        if (!f.failed && nsg == 0) fb_fail(&f, "has no subgraph");
        if (!f.failed) {
            m->n_subgraphs = nsg > 1000000 ? 1000000 : (int)nsg;
            if (fb_vec_table(&f, sv, 0, "subgraph", &sg)) read_subgraph(&f, &sg, bufs, n_bufs, m);
        }
    }
    free(bufs);
    if (f.failed) {
        mnv3_tflite_free(m);
        return MNV3_FAIL;
    }
    *out = m;
    return MNV3_OK;
}

/* ---- MobileNetV3-Small weights -------------------------------------------- */

typedef struct reader {
    const mnv3_tflite_model *m;
    const char *label;
    mnv3_tflite_info *info;
    mnv3_tensors *out;
    mnv3_error *err;
} reader;

static void add_problem(reader *r, const char *fmt, ...) MNV3_PRINTF(2, 3);
static void add_problem(reader *r, const char *fmt, ...) {
    mnv3_tflite_info *info = r->info;
    if (info->n_problems < MNV3_TFLITE_MAX_PROBLEMS) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(info->problems[info->n_problems], sizeof info->problems[0], fmt, ap);
        va_end(ap);
    }
    info->n_problems++;
}

/* First operator from index `from` on that reads tensor t, or -1. */
static int find_consumer(const mnv3_tflite_model *m, int t, int from) {
    for (int i = from < 0 ? 0 : from; i < m->n_ops; i++)
        for (int k = 0; k < m->ops[i].n_inputs; k++)
            if (m->ops[i].inputs[k] == t) return i;
    return -1;
}

/* A scalar (one-element) float32 constant among op's two inputs other than
 * tensor `other`; returns 1 and its value. */
static int scalar_operand(const mnv3_tflite_model *m, const mnv3_tflite_op *op, int other,
                          float *v) {
    if (op->n_inputs != 2) return 0;
    int k = op->inputs[0] == other ? 1 : op->inputs[1] == other ? 0 : -1;
    if (k < 0 || op->inputs[k] < 0) return 0;
    const mnv3_tflite_tensor *t = &m->tensors[op->inputs[k]];
    if (t->type != MNV3_TFL_FLOAT32 || t->numel != 1 || !t->data) return 0;
    uint32_t u = mnv3_load_u32le(t->data);
    memcpy(v, &u, 4);
    return 1;
}

static void graph_facts(reader *r) {
    const mnv3_tflite_model *m = r->m;
    mnv3_tflite_info *info = r->info;
    for (int i = 0; i < m->n_ops; i++) {
        int code = m->ops[i].builtin, h;
        for (h = 0; h < info->n_hist && info->hist_op[h] != code; h++) continue;
        if (h == info->n_hist && h < MNV3_TFLITE_MAX_HIST) {
            info->hist_op[h] = code;
            info->n_hist++;
        }
        if (h < MNV3_TFLITE_MAX_HIST) info->hist_count[h]++;
        if (code == MNV3_TFL_OP_PAD || code == MNV3_TFL_OP_PADV2) info->n_pad_ops++;
        if (code == MNV3_TFL_OP_HARD_SWISH) info->n_hard_swish_ops++;
        if (code == MNV3_TFL_OP_SOFTMAX) info->has_softmax = 1;
        if ((code == MNV3_TFL_OP_MEAN || code == MNV3_TFL_OP_AVERAGE_POOL_2D) && !info->pool_op)
            info->pool_op = code;
    }
    info->input_type = -1;
    if (m->n_inputs >= 1) {
        const mnv3_tflite_tensor *in = &m->tensors[m->inputs[0]];
        info->input_type = in->type;
        info->input_ndim = in->ndim;
        for (int d = 0; d < in->ndim && d < 4; d++) info->input_shape[d] = in->shape[d];
        /* Keras Rescaling: MUL by a scalar, then ADD a scalar. */
        int c = find_consumer(m, m->inputs[0], 0);
        float v;
        if (c >= 0 && m->ops[c].builtin == MNV3_TFL_OP_MUL &&
            scalar_operand(m, &m->ops[c], m->inputs[0], &v) && m->ops[c].n_outputs == 1) {
            info->has_rescale = 1;
            info->rescale_scale = v;
            int out = m->ops[c].outputs[0];
            int a = find_consumer(m, out, c + 1);
            if (a >= 0 && m->ops[a].builtin == MNV3_TFL_OP_ADD &&
                scalar_operand(m, &m->ops[a], out, &v))
                info->rescale_offset = v;
        }
    }
    if (m->n_outputs >= 1) {
        const mnv3_tflite_tensor *o = &m->tensors[m->outputs[0]];
        info->output_dim = o->ndim > 0 ? o->shape[o->ndim - 1] : 0;
    }
}

static int is_weight_op(int code) {
    return code == MNV3_TFL_OP_CONV_2D || code == MNV3_TFL_OP_DEPTHWISE_CONV_2D ||
           code == MNV3_TFL_OP_FULLY_CONNECTED;
}

/* Float32 constant input k of op, checked against the expected element count. */
static const mnv3_tflite_tensor *const_input(reader *r, int opi, int k, const char *canon,
                                             const char *what) {
    const mnv3_tflite_op *op = &r->m->ops[opi];
    if (k >= op->n_inputs || op->inputs[k] < 0) {
        mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label,
                       "tflite operator %d (%s, %s) has no %s input", opi,
                       mnv3_tflite_op_name(op->builtin), canon, what);
        return NULL;
    }
    const mnv3_tflite_tensor *t = &r->m->tensors[op->inputs[k]];
    if (t->type != MNV3_TFL_FLOAT32 || !t->data) {
        mnv3_fail_code(
            r->err, MNV3_ERR_FORMAT, r->label,
            "tflite operator %d (%s, %s): %s '%.80s' is not constant FLOAT32 data (%s%s)", opi,
            mnv3_tflite_op_name(op->builtin), canon, what, t->name, mnv3_tflite_type_name(t->type),
            t->data ? "" : ", computed");
        return NULL;
    }
    return t;
}

static int shape_is(const mnv3_tflite_tensor *t, int ndim, const int32_t *want) {
    if (t->ndim != ndim) return 0;
    for (int d = 0; d < ndim; d++)
        if (t->shape[d] != want[d]) return 0;
    return 1;
}

static float ldf(const unsigned char *p) {
    uint32_t u = mnv3_load_u32le(p);
    float v;
    memcpy(&v, &u, 4);
    return v;
}

static int emit(reader *r, const char *canon, const char *suffix, int ndim, const int64_t *shape,
                float *data, size_t n, const mnv3_tflite_tensor *src) {
    char name[96];
    snprintf(name, sizeof name, "%s.%s", canon, suffix);
    size_t bad = 0;
    for (size_t i = 0; i < n; i++)
        if (!isfinite(data[i])) bad++;
    if (bad)
        add_problem(r, "%s: %zu NaN/Inf values (tflite tensor '%.60s')", name, bad, src->name);
    return mnv3_tensors_add(r->out, name, MNV3_F32, ndim, shape, data, r->err);
}

/* SE gate after fc2 (op index fc2): returns the value to add to fc2's bias. */
static int se_gate(reader *r, int fc2, const char *canon, float *bias_shift) {
    const mnv3_tflite_model *m = r->m;
    const mnv3_tflite_op *op = &m->ops[fc2];
    int t = op->outputs[0], act = op->fused_act, c;
    float add = 0.0f, mul = 0.0f;
    c = find_consumer(m, t, fc2 + 1);
    if (act == MNV3_TFL_ACT_NONE && c >= 0 && m->ops[c].builtin == MNV3_TFL_OP_ADD &&
        scalar_operand(m, &m->ops[c], t, &add)) {
        act = m->ops[c].fused_act;
        t = m->ops[c].outputs[0];
        c = find_consumer(m, t, c + 1);
    }
    if (act == MNV3_TFL_ACT_NONE && c >= 0 && m->ops[c].builtin == MNV3_TFL_OP_RELU6) {
        act = MNV3_TFL_ACT_RELU6;
        t = m->ops[c].outputs[0];
        c = find_consumer(m, t, c + 1);
    }
    if (act != MNV3_TFL_ACT_RELU6 || c < 0 || m->ops[c].builtin != MNV3_TFL_OP_MUL ||
        !scalar_operand(m, &m->ops[c], t, &mul) || fabsf(mul - 1.0f / 6.0f) > 1e-6f)
        return mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                              "tflite operator %d (%s): SE gate is not relu6(x [+ c]) * 1/6 (hard "
                              "sigmoid); not a MobileNetV3 graph this reader knows",
                              fc2, canon);
    r->info->se_gate_add = add;
    r->info->se_gate_mul = mul;
    *bias_shift = add - 3.0f;
    return MNV3_OK;
}

static int read_weight_op(reader *r, const mnv3_op *g, int opi) {
    const mnv3_tflite_op *op = &r->m->ops[opi];
    int depthwise = g->kind == MNV3_OP_CONV && g->groups > 1 && g->groups == g->in_ch;
    int linear = g->kind == MNV3_OP_LINEAR;
    /* a linear layer may come as a 1x1 CONV_2D (Keras's classifier head) */
    int O = g->out_ch, I = g->in_ch, k = linear ? 1 : g->kernel;
    int want_code = depthwise ? MNV3_TFL_OP_DEPTHWISE_CONV_2D : MNV3_TFL_OP_CONV_2D;
    if (op->builtin != want_code &&
        !(linear && op->builtin == MNV3_TFL_OP_FULLY_CONNECTED))
        return mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                              "tflite operator %d is %s where %s (%s) expects %s", opi,
                              mnv3_tflite_op_name(op->builtin), g->name,
                              depthwise ? "depthwise conv"
                              : linear  ? "linear"
                                        : "conv",
                              mnv3_tflite_op_name(want_code));
    if (!linear && (op->stride_w != g->stride || op->stride_h != g->stride ||
                    op->dilation_w != 1 || op->dilation_h != 1))
        return mnv3_fail_code(
            r->err, MNV3_ERR_UNSUPPORTED, r->label,
            "tflite operator %d (%s): stride %dx%d dilation %dx%d, expected stride %d", opi,
            g->name, op->stride_h, op->stride_w, op->dilation_h, op->dilation_w, g->stride);
    const mnv3_tflite_tensor *w = const_input(r, opi, 1, g->name, "weight");
    if (!w) return MNV3_FAIL;
    int32_t want[4];
    int wnd;
    if (op->builtin == MNV3_TFL_OP_FULLY_CONNECTED) {
        want[0] = O, want[1] = I, wnd = 2;
    } else if (depthwise) {
        want[0] = 1, want[1] = k, want[2] = k, want[3] = I, wnd = 4;
    } else {
        want[0] = O, want[1] = k, want[2] = k, want[3] = I, wnd = 4;
    }
    if (!shape_is(w, wnd, want)) {
        char got[96], expected[96];
        int64_t got_shape[MNV3_TFLITE_MAX_DIMS], want_shape[4];
        for (int d = 0; d < w->ndim; d++) got_shape[d] = w->shape[d];
        for (int d = 0; d < wnd; d++) want_shape[d] = want[d];
        mnv3_shape_text(got, sizeof got, w->ndim, got_shape);
        mnv3_shape_text(expected, sizeof expected, wnd, want_shape);
        return mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                              "tflite operator %d (%s): weight '%.80s' has shape %s, expected %s %s",
                              opi, g->name, w->name, got,
                              wnd == 2 ? "(out,in)" : depthwise ? "(1,kh,kw,C)" : "(O,kh,kw,I)",
                              expected);
    }
    float *wd = malloc(w->numel * sizeof(float));
    if (!wd) return mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
    int64_t shape[4];
    int nd;
    if (linear) { /* (O,1,1,I) or (O,I): already (out, in) */
        for (size_t i = 0; i < w->numel; i++) wd[i] = ldf(w->data + 4 * i);
        shape[0] = O, shape[1] = I, nd = 2;
    } else if (depthwise) { /* (1,kh,kw,C) -> (C,1,kh,kw) */
        for (int c = 0; c < I; c++)
            for (int y = 0; y < k; y++)
                for (int x = 0; x < k; x++)
                    wd[((size_t)c * k + y) * k + x] = ldf(w->data + 4 * (((size_t)y * k + x) * I + c));
        shape[0] = I, shape[1] = 1, shape[2] = k, shape[3] = k, nd = 4;
    } else { /* (O,kh,kw,I) -> (O,I,kh,kw) */
        for (int o = 0; o < O; o++)
            for (int i = 0; i < I; i++)
                for (int y = 0; y < k; y++)
                    for (int x = 0; x < k; x++)
                        wd[(((size_t)o * I + i) * k + y) * k + x] =
                            ldf(w->data + 4 * ((((size_t)o * k + y) * k + x) * I + i));
        shape[0] = O, shape[1] = I, shape[2] = k, shape[3] = k, nd = 4;
    }
    if (emit(r, g->name, "weight", nd, shape, wd, w->numel, w) != MNV3_OK) return MNV3_FAIL;

    const mnv3_tflite_tensor *b = const_input(r, opi, 2, g->name, "bias");
    if (!b) return MNV3_FAIL;
    if (b->ndim != 1 || b->shape[0] != O)
        return mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                              "tflite operator %d (%s): bias '%.80s' has %zu elements, expected %d",
                              opi, g->name, b->name, b->numel, O);
    float shift = 0.0f;
    size_t len = strlen(g->name);
    if (len > 7 && strcmp(g->name + len - 7, ".se.fc2") == 0 &&
        se_gate(r, opi, g->name, &shift) != MNV3_OK)
        return MNV3_FAIL;
    float *bd = malloc((size_t)O * sizeof(float));
    if (!bd) return mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
    for (int o = 0; o < O; o++) bd[o] = ldf(b->data + 4 * (size_t)o) + shift;
    int64_t bshape[1] = {O};
    return emit(r, g->name, "bias", 1, bshape, bd, (size_t)O, b);
}

static int count_weight_ops(const mnv3_graph *g) {
    int n = 0;
    for (int i = 0; i < g->n_ops; i++)
        if (g->ops[i].kind == MNV3_OP_CONV || g->ops[i].kind == MNV3_OP_LINEAR) n++;
    return n;
}

static int read_mobilenet(reader *r) {
    const mnv3_tflite_model *m = r->m;
    mnv3_tflite_info *info = r->info;
    graph_facts(r);

    /* Quantized models: recognise and stop. */
    int qtype = -1;
    if (info->input_type == MNV3_TFL_UINT8 || info->input_type == MNV3_TFL_INT8)
        qtype = info->input_type;
    for (int i = 0; i < m->n_ops && qtype < 0; i++)
        if (is_weight_op(m->ops[i].builtin) && m->ops[i].n_inputs >= 2 && m->ops[i].inputs[1] >= 0) {
            int t = m->tensors[m->ops[i].inputs[1]].type;
            if (t == MNV3_TFL_UINT8 || t == MNV3_TFL_INT8) qtype = t;
        }
    if (qtype >= 0) {
        info->quantized = 1;
        info->num_classes = info->output_dim;
        return mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                              "quantized %s model (%d %s): int8 path not supported yet",
                              qtype == MNV3_TFL_UINT8 ? "uint8" : "int8", info->output_dim,
                              info->has_softmax ? "classes" : "outputs");
    }
    if (m->n_inputs != 1 || info->input_type != MNV3_TFL_FLOAT32 || info->input_ndim != 4 ||
        info->input_shape[3] != 3)
        return mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                              "tflite: expected one FLOAT32 NHWC input with 3 channels (model has "
                              "%d inputs, first %s rank %d)",
                              m->n_inputs, mnv3_tflite_type_name(info->input_type),
                              info->input_ndim);

    int *wops = malloc((size_t)(m->n_ops ? m->n_ops : 1) * sizeof *wops);
    mnv3_graph *g = malloc(sizeof *g);
    if (!wops || !g) {
        free(wops);
        free(g);
        return mnv3_fail_code(r->err, MNV3_ERR_MEMORY, r->label, "out of memory");
    }
    int nw = 0;
    for (int i = 0; i < m->n_ops; i++)
        if (is_weight_op(m->ops[i].builtin)) wops[nw++] = i;

    mnv3_arch arch;
    mnv3_arch_small(&arch, 0);
    mnv3_graph_build(&arch, g);
    int n_backbone = count_weight_ops(g);
    int rc = MNV3_OK;
    if (nw == n_backbone + 2) {
        const mnv3_tflite_op *last = &m->ops[wops[nw - 1]];
        int wt = last->n_inputs >= 2 ? last->inputs[1] : -1;
        int classes = wt >= 0 && m->tensors[wt].ndim >= 1 ? m->tensors[wt].shape[0] : 0;
        if (classes <= 0)
            rc = mnv3_fail_code(r->err, MNV3_ERR_FORMAT, r->label,
                                "tflite: cannot tell the number of classes");
        else {
            mnv3_arch_small(&arch, classes);
            mnv3_graph_build(&arch, g);
            info->num_classes = classes;
        }
    } else if (nw != n_backbone) {
        rc = mnv3_fail_code(r->err, MNV3_ERR_UNSUPPORTED, r->label,
                            "tflite: %d convolution/linear operators; MobileNetV3-Small has %d "
                            "(backbone) or %d (classifier)",
                            nw, n_backbone, n_backbone + 2);
    }
    int k = 0;
    for (int i = 0; i < g->n_ops && rc == MNV3_OK; i++) {
        const mnv3_op *op = &g->ops[i];
        if (op->kind != MNV3_OP_CONV && op->kind != MNV3_OP_LINEAR) continue;
        const mnv3_tflite_op *t = &m->ops[wops[k]];
        if (k == 0) info->stem_padding = t->padding;
        if (op->kind == MNV3_OP_CONV && op->groups > 1 && op->stride == 2)
            info->dw_stride2_padding = t->padding;
        rc = read_weight_op(r, op, wops[k]);
        k++;
    }
    if (rc == MNV3_OK && info->n_hard_swish_ops == 0) {
        /* No native op: hard-swish, if present, is spelled out after the stem. */
        const mnv3_tflite_op *stem = &m->ops[wops[0]];
        int c = find_consumer(m, stem->outputs[0], wops[0] + 1);
        info->hswish_decomposed = c >= 0 && m->ops[c].builtin != MNV3_TFL_OP_DEPTHWISE_CONV_2D;
    }
    free(wops);
    free(g);
    return rc;
}

int mnv3_read_tflite_buffer(const void *buf, size_t len, const char *label, mnv3_tensors *out,
                            mnv3_tflite_info *info, mnv3_error *err) {
    mnv3_tflite_info local;
    memset(out, 0, sizeof *out);
    if (!info) info = &local;
    memset(info, 0, sizeof *info);
    mnv3_tflite_model *m;
    if (mnv3_tflite_open(buf, len, label, &m, err) != MNV3_OK) return MNV3_FAIL;
    reader r = {m, label, info, out, err};
    int rc = read_mobilenet(&r);
    mnv3_tflite_free(m);
    if (rc == MNV3_OK) rc = mnv3_tensors_check_unique(out, label, err);
    if (rc != MNV3_OK) {
        mnv3_tensors_free(out);
        memset(out, 0, sizeof *out);
        return MNV3_FAIL;
    }
    snprintf(out->format, sizeof out->format, "tflite-bnfolded");
    return MNV3_OK;
}

int mnv3_read_tflite_info(const char *path, mnv3_tensors *out, mnv3_tflite_info *info,
                          mnv3_error *err) {
    unsigned char *buf;
    size_t len;
    memset(out, 0, sizeof *out);
    if (info) memset(info, 0, sizeof *info);
    if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, &buf, &len, err) != MNV3_OK)
        return MNV3_FAIL;
    int rc = mnv3_read_tflite_buffer(buf, len, path, out, info, err);
    free(buf);
    return rc;
}

int mnv3_read_tflite(const char *path, mnv3_tensors *out, mnv3_error *err) {
    return mnv3_read_tflite_info(path, out, NULL, err);
}
