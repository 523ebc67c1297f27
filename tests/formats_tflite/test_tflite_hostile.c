/* Hostile TFLite flatbuffers, built at test time by mutating tiny.tflite (a
 * valid 2-layer model made by make_tiny.py): each must fail with one line
 * "bad.tflite: ..." and never crash or hang. Usage: test_tflite_hostile TINY */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/tflite.h"
#include "kit.h"

static const char *label = "bad.tflite";
static unsigned char *orig;
static size_t orig_len;

/* ---- a trusting walker for the valid file: locates what to corrupt ---- */
static uint32_t u32(const unsigned char *p, size_t pos) {
    return (uint32_t)p[pos] | (uint32_t)p[pos + 1] << 8 | (uint32_t)p[pos + 2] << 16 |
           (uint32_t)p[pos + 3] << 24;
}
static void put32(unsigned char *p, size_t pos, uint32_t v) {
    for (int i = 0; i < 4; i++) p[pos + (size_t)i] = (unsigned char)(v >> (8 * i));
}
static size_t vtable_of(size_t table) { return table - (size_t)(int32_t)u32(orig, table); }
/* Absolute position of field idx of a table, 0 when absent. */
static size_t field(size_t table, int idx) {
    size_t vt = vtable_of(table);
    unsigned vsize = (unsigned)(orig[vt] | orig[vt + 1] << 8);
    size_t slot = vt + 4 + 2 * (size_t)idx;
    if (slot + 2 > vt + vsize) return 0;
    unsigned off = (unsigned)(orig[slot] | orig[slot + 1] << 8);
    return off ? table + off : 0;
}
static size_t deref(size_t pos) { return pos + u32(orig, pos); }
static size_t root(void) { return u32(orig, 0); }
/* Vector header (count) position of a vector field. */
static size_t vec(size_t table, int idx) { return deref(field(table, idx)); }
static size_t vec_table(size_t v, size_t i) { return deref(v + 4 + 4 * i); }
static size_t subgraph0(void) { return vec_table(vec(root(), 2), 0); }

/* ---- running ---- */
static unsigned char *copy(void) {
    unsigned char *b = malloc(orig_len);
    memcpy(b, orig, orig_len);
    return b;
}

static void run(const char *what, const unsigned char *b, size_t n, const char *want) {
    mnv3_error err;
    mnv3_tflite_model *m = NULL;
    int rc = mnv3_tflite_open(b, n, label, &m, &err);
    if (rc == MNV3_OK) mnv3_tflite_free(m);
    kit_expect_fail(what, rc, &err, label, want);
    mnv3_tensors ts;
    rc = mnv3_read_tflite_buffer(b, n, label, &ts, NULL, &err);
    CHECK(rc == MNV3_FAIL && ts.count == 0);
}

static void run_patch32(const char *what, size_t pos, uint32_t v, const char *want) {
    unsigned char *b = copy();
    CHECK(pos + 4 <= orig_len);
    put32(b, pos, v);
    run(what, b, orig_len, want);
    free(b);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s TINY_TFLITE\n", argv[0]);
        return 2;
    }
    orig = kit_slurp(argv[1], &orig_len);
    if (!orig) {
        printf("%s: cannot read\n", argv[1]);
        return 1;
    }

    /* The valid file parses; it is not a MobileNetV3. */
    size_t weight_index = 0;
    mnv3_error err;
    mnv3_tflite_model *m;
    int rc = mnv3_tflite_open(orig, orig_len, label, &m, &err);
    if (rc != MNV3_OK) printf("tiny.tflite: %s\n", err.message);
    CHECK(rc == MNV3_OK);
    if (rc == MNV3_OK) {
        CHECK(m->n_ops == 2 && m->n_inputs == 1 && m->n_outputs == 1);
        CHECK(m->ops[0].builtin == MNV3_TFL_OP_CONV_2D && m->ops[0].stride_w == 2 &&
              m->ops[0].padding == MNV3_TFL_PAD_SAME && m->ops[0].fused_act == MNV3_TFL_ACT_RELU);
        CHECK(m->ops[1].builtin == MNV3_TFL_OP_DEPTHWISE_CONV_2D && m->ops[1].stride_w == 1 &&
              m->ops[1].depth_multiplier == 1);
        const mnv3_tflite_tensor *w = &m->tensors[m->ops[0].inputs[1]];
        CHECK(w->ndim == 4 && w->shape[0] == 4 && w->shape[3] == 3 && w->data &&
              w->data_len == 4 * 4 * 27 && w->type == MNV3_TFL_FLOAT32);
        CHECK(mnv3_tflite_producer(m, m->ops[1].inputs[0]) == 0);
        weight_index = (size_t)m->ops[0].inputs[1];
        mnv3_tflite_free(m);
    }
    mnv3_tensors ts;
    rc = mnv3_read_tflite_buffer(orig, orig_len, label, &ts, NULL, &err);
    kit_expect_fail("valid 2-layer model, not MobileNetV3", rc, &err, label,
                    "convolution/linear operators");
    CHECK(mnv3_tflite_sniff(orig, orig_len) && !mnv3_tflite_sniff("PK\3\4....", 8));

    /* Truncation at every cut point: never a crash, always a clean error. */
    int cut_fail = 0, cut_ok = 0;
    for (size_t cut = 0; cut < orig_len; cut++) {
        unsigned char *b = malloc(cut ? cut : 1); /* exact size: ASan sees overreads */
        memcpy(b, orig, cut);
        mnv3_tflite_model *mm = NULL;
        rc = mnv3_tflite_open(b, cut, label, &mm, &err);
        if (rc == MNV3_OK) {
            cut_ok++;
            mnv3_tflite_free(mm);
        } else if (kit_expect_fail_quiet("truncated", rc, &err, label, NULL)) {
            cut_fail++;
        }
        rc = mnv3_read_tflite_buffer(b, cut, label, &ts, NULL, &err);
        CHECK(rc == MNV3_FAIL);
        free(b);
    }
    printf("%-36s %s  [%d cuts fail cleanly, %d parse]\n", "truncation at every byte",
           cut_ok == 0 ? "ok  " : "FAIL", cut_fail, cut_ok);
    CHECK(cut_ok == 0);

    size_t sg = subgraph0();
    size_t tensors = vec(sg, 0), ops = vec(sg, 3);
    /* The conv weight: shape, buffer (with data) and name fields. */
    size_t tw = vec_table(tensors, weight_index);
    CHECK(field(tw, 0) && field(tw, 2) && field(tw, 3));
    size_t shape = vec(tw, 0), name = vec(tw, 3);

    run_patch32("root offset outside the buffer", 0, (uint32_t)orig_len + 100, "root table");
    run_patch32("root offset 0xffffffff", 0, 0xffffffffu, "root table");
    run_patch32("vtable offset outside (positive)", root(), (uint32_t)(int32_t)-(int32_t)orig_len,
                "vtable");
    run_patch32("vtable offset before the start", root(), (uint32_t)root() + 64, "vtable");
    {
        unsigned char *b = copy(); /* vtable claims 60000 bytes */
        size_t vt = vtable_of(root());
        b[vt] = 0x60, b[vt + 1] = 0xea;
        run("vtable size past the end", b, orig_len, "vtable");
        b[vt] = 3, b[vt + 1] = 0;
        run("odd vtable size", b, orig_len, "vtable");
        free(b);
    }
    {
        unsigned char *b = copy(); /* the root table claims 65535 bytes */
        size_t vt = vtable_of(root());
        b[vt + 2] = 0xff, b[vt + 3] = 0xff;
        run("table size past the end", b, orig_len, "table");
        free(b);
    }
    run_patch32("tensors vector runs past the end", tensors, 0x00ffffffu, "runs past the end");
    run_patch32("huge tensor count", tensors, 0xffffffffu, "runs past the end");
    run_patch32("huge operator count", ops, 0x7fffffffu, "runs past the end");
    run_patch32("huge buffers count", vec(root(), 4), 0xfffffff0u, "runs past the end");
    run_patch32("huge operator_codes count", vec(root(), 1), 0x40000000u, "runs past the end");
    run_patch32("subgraphs vector offset outside", field(root(), 2), 0x7ffffff0u,
                "points outside");
    run_patch32("buffer index out of range", field(tw, 2), 9999, "names buffer 9999");
    run_patch32("negative dimension", shape + 4, (uint32_t)-5, "dimension 0 = -5");
    {
        unsigned char *b = copy();
        for (int d = 0; d < 4; d++) put32(b, shape + 4 + 4 * (size_t)d, 0x7fffffffu);
        run("huge dimensions", b, orig_len, "overflows");
        put32(b, shape + 4, 0x7fffffffu);
        for (int d = 1; d < 4; d++) put32(b, shape + 4 + 4 * (size_t)d, 1);
        run("huge dimension", b, orig_len, "too many");
        put32(b, shape + 4, 5); /* 5x1x1x1 floats, buffer holds 4x3x3x3 */
        run("shape disagrees with the data", b, orig_len, "holds");
        free(b);
    }
    run_patch32("shape with 100 dimensions", shape, 100, NULL);
    {
        unsigned char *b = copy();
        size_t len = u32(orig, name);
        b[name + 4 + len] = 'x';
        run("string without NUL", b, orig_len, "not NUL-terminated");
        free(b);
    }
    run_patch32("string length past the end", name, (uint32_t)(orig_len - name - 4),
                "runs past the end");
    run_patch32("huge string length", name, 0xfffffff0u, "runs past the end");
    {
        size_t op0 = vec_table(ops, 0);
        size_t ins = vec(op0, 1);
        run_patch32("operator input out of range", ins + 4, 5000, "names tensor 5000");
        run_patch32("operator input -7", ins + 4, (uint32_t)-7, "names tensor -7");
        run_patch32("operator with 1000 inputs", ins, 1000, NULL);
        size_t op1 = vec_table(ops, 1); /* opcode_index 1: the field is stored */
        CHECK(field(op1, 0) != 0);
        if (field(op1, 0)) run_patch32("opcode_index out of range", field(op1, 0), 77, "opcode_index");
        run_patch32("operator table offset outside", ops + 4, 0x10000000u, "points outside");
    }
    {
        unsigned char *b = copy();
        memcpy(b + 4, "TFL2", 4);
        run("wrong file identifier", b, orig_len, "TFL3");
        free(b);
    }
    run("empty file", orig, 0, "too short");
    run("8 bytes", orig, 8, NULL);
    free(orig);
    printf("%s\n", kit_failures ? "FAILED" : "all checks passed");
    return kit_failures ? 1 : 0;
}
