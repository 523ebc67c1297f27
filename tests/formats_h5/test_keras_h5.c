/* Keras HDF5 reader and writer: C round trip, the committed fixtures of
 * make_data.py (one per file kind), and hostile inputs built at run time
 * (truncations, an empty file, bad .keras archives, wrong datatypes,
 * absurd shapes, links). Every failure must be one line naming the file;
 * no HDF5 handle may stay open.
 * Usage: test_keras_h5 DATA_DIR SCRATCH_DIR */
#include <hdf5.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/keras_h5.h"
#include "kit.h"
#include "craft.h"

static char scratch[1024];

static const char *spath(const char *name) {
    static char buf[4][1200];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", scratch, name);
    return buf[k];
}

static void check_no_open_handles(const char *after) {
    ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);
    if (n != 0) {
        fprintf(stderr, "%zd HDF5 objects still open after %s\n", (ssize_t)n, after);
        kit_failures++;
    }
}

/* value(k, j, i) of make_data.py */
static float value(int k, int j, size_t i) {
    return (float)((7 * (long)i + 3 * j + 11 * k) % 23) / 8.0f - 1.0f;
}

typedef struct expect {
    const char *name;
    int k, j, ndim;
    int64_t shape[4];
} expect;

static const expect TINY_K3[] = {
    {"conv/kernel", 0, 0, 4, {3, 3, 3, 4}}, {"conv/bias", 0, 1, 1, {4}},
    {"bn/gamma", 1, 0, 1, {4}},            {"bn/beta", 1, 1, 1, {4}},
    {"bn/moving_mean", 1, 2, 1, {4}},      {"bn/moving_variance", 1, 3, 1, {4}},
    {"dw/kernel", 2, 0, 4, {3, 3, 4, 1}},  {"fc/kernel", 3, 0, 2, {4, 2}},
    {"fc/bias", 3, 1, 1, {2}},
};

static void check_tiny(const char *file, const char *format, int keras2) {
    char path[1200];
    snprintf(path, sizeof path, "%s", file);
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_keras_h5(path, &ts, &err);
    printf("%-40s %s  [%s]\n", strrchr(file, '/') + 1, rc == MNV3_OK ? "ok  " : "FAIL",
           rc == MNV3_OK ? ts.format : err.message);
    if (rc != MNV3_OK) {
        kit_failures++;
        return;
    }
    CHECK(strcmp(ts.format, format) == 0);
    CHECK(ts.count == 9);
    for (size_t t = 0; t < 9 && t < ts.count; t++) {
        const expect *e = &TINY_K3[t];
        const mnv3_tensor *got = &ts.items[t];
        const char *want = e->name;
        if (keras2 && strcmp(want, "dw/kernel") == 0) want = "dw/depthwise_kernel";
        if (strcmp(got->name, want) != 0) {
            fprintf(stderr, "%s: tensor %zu is '%s', want '%s'\n", file, t, got->name, want);
            kit_failures++;
            continue;
        }
        CHECK(got->dtype == MNV3_F32 && strcmp(got->source_dtype, "F32") == 0);
        CHECK(got->ndim == e->ndim);
        for (int d = 0; d < e->ndim && d < got->ndim; d++) CHECK(got->shape[d] == e->shape[d]);
        const float *v = got->data;
        size_t bad = 0;
        for (size_t i = 0; i < (size_t)mnv3_tensor_numel(got); i++)
            if (v[i] != value(e->k, e->j, i)) bad++;
        if (bad) {
            fprintf(stderr, "%s: %zu wrong values in %s\n", file, bad, got->name);
            kit_failures++;
        }
    }
    mnv3_tensors_free(&ts);
}

static void add(mnv3_tensors *ts, const char *name, int ndim, const int64_t *shape, float seed) {
    mnv3_error err;
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= (size_t)shape[i];
    float *d = malloc(n * sizeof *d + 1);
    for (size_t i = 0; i < n; i++) d[i] = seed + (float)i * 0.25f - (float)(i % 7);
    if (mnv3_tensors_add(ts, name, MNV3_F32, ndim, shape, d, &err) != MNV3_OK) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
}

static void make_tiny(mnv3_tensors *ts) {
    memset(ts, 0, sizeof *ts);
    add(ts, "stem/kernel", 4, (int64_t[]){3, 3, 3, 8}, 1);
    add(ts, "stem_bn/gamma", 1, (int64_t[]){8}, 2);
    add(ts, "stem_bn/beta", 1, (int64_t[]){8}, 3);
    add(ts, "stem_bn/moving_mean", 1, (int64_t[]){8}, 4);
    add(ts, "stem_bn/moving_variance", 1, (int64_t[]){8}, 5);
    add(ts, "block_depthwise/kernel", 4, (int64_t[]){3, 3, 8, 1}, 6);
    add(ts, "block_se/kernel", 4, (int64_t[]){1, 1, 8, 4}, 7);
    add(ts, "block_se/bias", 1, (int64_t[]){4}, 8);
    add(ts, "block_bn/gamma", 1, (int64_t[]){4}, 9);
    add(ts, "block_bn/beta", 1, (int64_t[]){4}, 10);
    add(ts, "block_bn/moving_mean", 1, (int64_t[]){4}, 11);
    add(ts, "block_bn/moving_variance", 1, (int64_t[]){4}, 12);
    add(ts, "head/kernel", 2, (int64_t[]){4, 3}, 13);
    add(ts, "head/bias", 1, (int64_t[]){3}, 14);
}

static void test_roundtrip(void) {
    mnv3_tensors a, b;
    mnv3_error err;
    make_tiny(&a);
    const char *p = spath("roundtrip.weights.h5");
    int rc = mnv3_write_keras_weights_h5(p, &a, &err);
    printf("%-40s %s  [%s]\n", "write roundtrip.weights.h5", rc ? "FAIL" : "ok  ",
           rc ? err.message : "");
    if (rc) {
        kit_failures++;
        mnv3_tensors_free(&a);
        return;
    }
    rc = mnv3_read_keras_h5(p, &b, &err);
    printf("%-40s %s  [%s]\n", "read roundtrip.weights.h5", rc ? "FAIL" : "ok  ",
           rc ? err.message : b.format);
    if (rc == MNV3_OK) {
        CHECK(strcmp(b.format, "keras-weights-h5") == 0);
        CHECK(a.count == b.count);
        for (size_t i = 0; i < a.count && i < b.count; i++) {
            const mnv3_tensor *x = &a.items[i], *y = &b.items[i];
            CHECK(strcmp(x->name, y->name) == 0);
            CHECK(x->ndim == y->ndim);
            CHECK(memcmp(x->shape, y->shape, sizeof x->shape[0] * (size_t)x->ndim) == 0);
            CHECK(mnv3_tensor_numel(x) == mnv3_tensor_numel(y));
            CHECK(memcmp(x->data, y->data, (size_t)mnv3_tensor_numel(x) * sizeof(float)) == 0);
        }
        mnv3_tensors_free(&b);
    } else {
        kit_failures++;
    }
    /* Writer refusals. */
    mnv3_tensors bad;
    memset(&bad, 0, sizeof bad);
    add(&bad, "nolayer", 1, (int64_t[]){2}, 0);
    kit_expect_fail("write: name without layer", mnv3_write_keras_weights_h5(p, &bad, &err), &err, p,
                "<layer>/<variable>");
    mnv3_tensors_free(&bad);
    memset(&bad, 0, sizeof bad);
    add(&bad, "x/weird", 1, (int64_t[]){2}, 0);
    kit_expect_fail("write: unknown variable", mnv3_write_keras_weights_h5(p, &bad, &err), &err, p,
                "weird");
    mnv3_tensors_free(&bad);
    memset(&bad, 0, sizeof bad);
    add(&bad, "a/kernel", 2, (int64_t[]){2, 2}, 0);
    add(&bad, "b/kernel", 2, (int64_t[]){2, 2}, 0);
    add(&bad, "a/bias", 1, (int64_t[]){2}, 0);
    kit_expect_fail("write: layer split", mnv3_write_keras_weights_h5(p, &bad, &err), &err, p,
                "not together");
    mnv3_tensors_free(&bad);
    mnv3_tensors_free(&a);
    check_no_open_handles("round trip");
}

static unsigned char *slurp(const char *path, size_t *len) {
    unsigned char *buf;
    mnv3_error err;
    if (mnv3_read_file(path, (size_t)1 << 26, &buf, len, &err) != MNV3_OK) {
        fprintf(stderr, "%s\n", err.message);
        exit(1);
    }
    return buf;
}

static void spit(const char *path, const void *buf, size_t len) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(buf, 1, len, f) != len || fclose(f) != 0) {
        fprintf(stderr, "cannot write %s\n", path);
        exit(1);
    }
}

static void test_truncated(const char *file) {
    size_t len;
    unsigned char *buf = slurp(file, &len);
    const char *base = strrchr(file, '/') + 1;
    size_t cuts[] = {0, 1, 7, 8, 64, 100, 512, 700, 1000, 2048, 4096, 8000,
                     len / 3, len / 2, len - 4096, len - 512, len - 1};
    for (size_t c = 0; c < sizeof cuts / sizeof cuts[0]; c++) {
        if (cuts[c] >= len) continue;
        char label[256], what[300];
        snprintf(label, sizeof label, "cut-%zu-%s", cuts[c], base);
        snprintf(what, sizeof what, "truncated at %zu", cuts[c]);
        mnv3_tensors ts;
        mnv3_error err;
        int rc = mnv3_read_keras_h5_buffer(buf, cuts[c], label, &ts, &err);
        if (rc == MNV3_OK) { /* a cut that leaves all variables readable is fine */
            printf("%-40s ok    [read %zu tensors]\n", what, ts.count);
            mnv3_tensors_free(&ts);
            continue;
        }
        kit_expect_fail(what, rc, &err, label, NULL);
    }
    /* One truncated copy through the path reader too. */
    const char *p = spath("truncated.h5");
    spit(p, buf, len / 2);
    mnv3_tensors ts;
    mnv3_error err;
    kit_expect_fail("truncated file (path)", mnv3_read_keras_h5(p, &ts, &err), &err, p, NULL);
    free(buf);
    check_no_open_handles(file);
}

/* A Keras-3-shaped file with one crafted dataset in layers/conv2d/vars. */
typedef void (*craft_fn)(hid_t vars);

static const char *craft(const char *name, craft_fn fn) {
    const char *p = spath(name);
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t g = H5Gcreate2(f, "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t c = H5Gcreate2(g, "conv2d", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t v = H5Gcreate2(c, "vars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    fn(v);
    H5Gclose(v);
    H5Gclose(c);
    H5Gclose(g);
    H5Fclose(f);
    return p;
}

static void ds_int(hid_t v) {
    hsize_t dims[1] = {4};
    int data[4] = {1, 2, 3, 4};
    hid_t s = H5Screate_simple(1, dims, NULL);
    hid_t d = H5Dcreate2(v, "0", H5T_STD_I32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_INT, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    H5Dclose(d);
    H5Sclose(s);
}

static void ds_absurd(hid_t v) {
    hsize_t dims[3] = {(hsize_t)1 << 30, (hsize_t)1 << 30, (hsize_t)1 << 20};
    hsize_t chunk[3] = {1, 1, 1};
    hid_t s = H5Screate_simple(3, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 3, chunk);
    hid_t d = H5Dcreate2(v, "0", H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(s);
}

static void ds_big(hid_t v) { /* 300 MiB as float32: over the per-dataset cap */
    hsize_t dims[2] = {(hsize_t)300 << 10, 256};
    hsize_t chunk[2] = {1024, 256};
    hid_t s = H5Screate_simple(2, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 2, chunk);
    hid_t d = H5Dcreate2(v, "0", H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(s);
}

static void ds_rank9(hid_t v) {
    hsize_t dims[9] = {1, 1, 1, 1, 1, 1, 1, 1, 2};
    hid_t s = H5Screate_simple(9, dims, NULL);
    hid_t d = H5Dcreate2(v, "0", H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    float x[2] = {1, 2};
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x);
    H5Dclose(d);
    H5Sclose(s);
}

static void ds_string(hid_t v) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, 4);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t d = H5Dcreate2(v, "0", t, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, "abc");
    H5Dclose(d);
    H5Sclose(s);
    H5Tclose(t);
}

static void ds_f16_f64(hid_t v) { /* float16 kernel and float64 bias: accepted */
    hsize_t dims[1] = {3};
    hid_t s = H5Screate_simple(1, dims, NULL);
    hid_t h = H5Tcopy(H5T_IEEE_F32LE); /* IEEE half as h5py defines it */
    H5Tset_fields(h, 15, 10, 5, 0, 10);
    H5Tset_size(h, 2);
    H5Tset_ebias(h, 15);
    float xf[3] = {0.5f, -2.0f, 1024.0f};
    double xd[3] = {0.25, 1e300, -3.0};
    hid_t d = H5Dcreate2(v, "0", h, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, xf);
    H5Dclose(d);
    d = H5Dcreate2(v, "1", H5T_IEEE_F64LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, xd);
    H5Dclose(d);
    H5Tclose(h);
    H5Sclose(s);
}

static void ext_link(hid_t v) { /* external and soft links: never followed */
    H5Lcreate_external("/etc/passwd", "/x", v, "0", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_soft("/layers", v, "1", H5P_DEFAULT, H5P_DEFAULT);
    H5Lcreate_soft("/layers", v, "/layers/conv2d/up", H5P_DEFAULT, H5P_DEFAULT);
}

static void deep(hid_t v) { /* layers/conv2d/deep/g/g/g/... 40 deep */
    hid_t cur = H5Gcreate2(v, "/layers/conv2d/deep", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    for (int i = 0; i < 40; i++) {
        hid_t next = H5Gcreate2(cur, "g", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        H5Gclose(cur);
        cur = next;
    }
    H5Gclose(cur);
}

static void test_crafted(void) {
    mnv3_tensors ts;
    mnv3_error err;
    const char *p;
    p = craft("int_dataset.weights.h5", ds_int);
    kit_expect_fail("int dataset", mnv3_read_keras_h5(p, &ts, &err), &err, p,
                "'layers/conv2d/vars/0' is not float16/32/64");
    p = craft("absurd_dims.weights.h5", ds_absurd);
    kit_expect_fail("absurd dims", mnv3_read_keras_h5(p, &ts, &err), &err, p, NULL);
    p = craft("big_dataset.weights.h5", ds_big);
    kit_expect_fail("300 MiB dataset", mnv3_read_keras_h5(p, &ts, &err), &err, p, "file budget");
    p = craft("rank9.weights.h5", ds_rank9);
    kit_expect_fail("rank 9 dataset", mnv3_read_keras_h5(p, &ts, &err), &err, p, "rank 9");
    p = craft("string_dataset.weights.h5", ds_string);
    kit_expect_fail("string dataset", mnv3_read_keras_h5(p, &ts, &err), &err, p, "not float16/32/64");
    p = craft("deep.weights.h5", deep);
    kit_expect_fail("deep nesting", mnv3_read_keras_h5(p, &ts, &err), &err, p, "nested deeper");
    p = craft("ext_link.weights.h5", ext_link);
    /* external and soft links are refused, never followed nor skipped */
    kit_expect_fail("external + soft links refused", mnv3_read_keras_h5(p, &ts, &err), &err, p,
                    "link, refused");
    int rc;

    p = craft("f16_f64.weights.h5", ds_f16_f64);
    rc = mnv3_read_keras_h5(p, &ts, &err);
    printf("%-40s %s  [%s]\n", "float16 + float64", rc ? "FAIL" : "ok  ", rc ? err.message : "");
    if (rc == MNV3_OK) {
        CHECK(ts.count == 2);
        if (ts.count == 2) {
            const float *k = ts.items[0].data, *b = ts.items[1].data;
            CHECK(strcmp(ts.items[0].name, "layers/conv2d/kernel") == 0);
            CHECK(strcmp(ts.items[0].source_dtype, "F16") == 0);
            CHECK(strcmp(ts.items[1].source_dtype, "F64") == 0);
            CHECK(k[0] == 0.5f && k[1] == -2.0f && k[2] == 1024.0f);
            CHECK(b[0] == 0.25f && isinf(b[1]) && b[2] == -3.0f);
        }
        mnv3_tensors_free(&ts);
    } else {
        kit_failures++;
    }

    /* Not Keras at all: an HDF5 file with only a dataset at the root. */
    p = spath("plain.h5");
    hid_t f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    H5Fclose(f);
    kit_expect_fail("HDF5 without Keras groups", mnv3_read_keras_h5(p, &ts, &err), &err, p,
                "no Keras weights");
    /* tf-keras layer_names naming a missing group. */
    p = spath("missing_layer.h5");
    f = H5Fcreate(p, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    {
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        hsize_t n = 1;
        hid_t s = H5Screate_simple(1, &n, NULL);
        hid_t a = H5Acreate2(f, "layer_names", t, s, H5P_DEFAULT, H5P_DEFAULT);
        const char *names[1] = {"ghost"};
        H5Awrite(a, t, names);
        H5Aclose(a);
        H5Sclose(s);
        H5Tclose(t);
    }
    H5Fclose(f);
    kit_expect_fail("layer_names -> missing group", mnv3_read_keras_h5(p, &ts, &err), &err, p,
                "ghost");
    check_no_open_handles("crafted files");
}

static void test_archives(const char *keras_file, const char *h5_file) {
    mnv3_tensors ts;
    mnv3_error err;
    size_t hlen;
    unsigned char *h5 = slurp(h5_file, &hlen);
    const char *meta = "{\"keras_version\": \"3.15.1\"}";
    bytes z = {0};
    zip_member none[] = {{"metadata.json", meta, strlen(meta)}, {"config.json", "{}", 2}};
    make_zip(none, 2, &z);
    kit_expect_fail(".keras without model.weights.h5",
                mnv3_read_keras_h5_buffer(z.p, z.n, "nomember.keras", &ts, &err), &err,
                "nomember.keras", "without model.weights.h5");
    bytes_free(&z);

    /* A member that claims a huge size: patch both headers' sizes. */
    zip_member one[] = {{"model.weights.h5", h5, hlen}};
    make_zip(one, 1, &z);
    for (size_t i = 0; i + 46 <= z.n; i++) {
        if (memcmp(z.p + i, "PK\1\2", 4) == 0) { /* central: sizes at 20, 24 */
            memset(z.p + i + 20, 0xf0, 4);
            memset(z.p + i + 24, 0xf0, 4);
        }
        if (i == 0 && memcmp(z.p, "PK\3\4", 4) == 0) { /* local: sizes at 18, 22 */
            memset(z.p + 18, 0xf0, 4);
            memset(z.p + 22, 0xf0, 4);
        }
    }
    kit_expect_fail(".keras member claims 4 GB",
                mnv3_read_keras_h5_buffer(z.p, z.n, "huge.keras", &ts, &err), &err, "huge.keras",
                NULL);
    bytes_free(&z);

    /* A member that is not HDF5. */
    zip_member junk[] = {{"model.weights.h5", "not hdf5 at all", 15}};
    make_zip(junk, 1, &z);
    kit_expect_fail(".keras member not HDF5",
                mnv3_read_keras_h5_buffer(z.p, z.n, "junk.keras", &ts, &err), &err,
                "junk.keras", "model.weights.h5");
    bytes_free(&z);
    free(h5);

    test_truncated(keras_file);
    check_no_open_handles("archives");
}

static void test_sniff(const char *h5_file, const char *keras_file) {
    unsigned char head[600] = {0};
    CHECK(!mnv3_keras_h5_sniff(head, sizeof head));
    memcpy(head, "\x89HDF\r\n\x1a\n", 8);
    CHECK(mnv3_keras_h5_sniff(head, 8));
    memset(head, 0, 8);
    memcpy(head + 512, "\x89HDF\r\n\x1a\n", 8);
    CHECK(mnv3_keras_h5_sniff(head, sizeof head));
    CHECK(!mnv3_keras_h5_sniff(head, 519));
    CHECK(mnv3_keras_archive_sniff(keras_file));
    CHECK(!mnv3_keras_archive_sniff(h5_file));
    CHECK(!mnv3_keras_archive_sniff(spath("does-not-exist")));
}

/* Every way the sandbox's reader process can end by a signal gives one line
 * naming the file that says whose fault it is, and the next read works. */
static void test_sandbox_endings(const char *file) {
    static const struct { int sig; const char *want; } endings[] = {
        {SIGSEGV, "it is corrupt or hostile"}, /* under ASan its handler exits 1 */
        {SIGABRT, "abort): it is corrupt or hostile"},
        {SIGALRM, "the HDF5 reader process took more than 4 s and was stopped"},
        {SIGPIPE, "(SIGPIPE, its reply was cut off): not a fault of the file, try again"},
        {SIGKILL, "(SIGKILL: out of memory, or killed): not a fault of the file"},
        {SIGTERM, "was killed by signal 15: not a fault of the file, try again"},
    };
    mnv3_tensors ts;
    mnv3_error err;
    mnv3_set_hdf5_sandbox(1);
    for (size_t i = 0; i < sizeof endings / sizeof endings[0]; i++) {
        char what[64];
        snprintf(what, sizeof what, "sandbox child ended by signal %d", endings[i].sig);
        mnv3_set_hdf5_sandbox_fault(endings[i].sig);
        kit_expect_fail(what, mnv3_read_keras_h5(file, &ts, &err), &err, file, endings[i].want);
    }
    mnv3_set_hdf5_sandbox_fault(0);
    int rc = mnv3_read_keras_h5(file, &ts, &err);
    CHECKF(rc == MNV3_OK && ts.count > 0, "the sandbox reads %s again after the faults", file);
    if (rc == MNV3_OK) mnv3_tensors_free(&ts);
    mnv3_set_hdf5_sandbox(0);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s DATA_DIR SCRATCH_DIR\n", argv[0]);
        return 2;
    }
    snprintf(scratch, sizeof scratch, "%s", argv[2]);
    char k3[1200], kk[1200], tk[1200], tkw[1200];
    snprintf(k3, sizeof k3, "%s/keras3_tiny.weights.h5", argv[1]);
    snprintf(kk, sizeof kk, "%s/keras3_tiny.keras", argv[1]);
    snprintf(tk, sizeof tk, "%s/tfkeras_tiny.h5", argv[1]);
    snprintf(tkw, sizeof tkw, "%s/tfkeras_tiny_w.h5", argv[1]);

    test_roundtrip();
    check_tiny(k3, "keras-weights-h5", 0);
    check_tiny(kk, "keras", 0);
    check_tiny(tk, "keras-h5", 1);
    check_tiny(tkw, "keras-h5", 1);
    check_no_open_handles("fixtures");

    mnv3_tensors ts;
    mnv3_error err;
    const char *empty = spath("empty.weights.h5");
    spit(empty, "", 0);
    kit_expect_fail("zero-byte file", mnv3_read_keras_h5(empty, &ts, &err), &err, empty, NULL);
    kit_expect_fail("missing file", mnv3_read_keras_h5(spath("nope.h5"), &ts, &err), &err,
                spath("nope.h5"), NULL);
    test_truncated(k3);
    test_truncated(tk);
    test_truncated(tkw);
    test_crafted();
    test_archives(kk, k3);
    test_sniff(k3, kk);
    test_sandbox_endings(k3);
    check_no_open_handles("everything");
    printf("%s\n", kit_failures ? "FAILED" : "all passed");
    return kit_failures ? 1 : 0;
}
