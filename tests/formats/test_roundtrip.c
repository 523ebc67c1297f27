/* Write -> read round trips for .npy, .npz and .safetensors, the pth reader
 * on a small hand-built archive, and content sniffing in mnv3_read_weights. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "kit.h"
#include "craft.h"

static char dir[512];

static const char *in_dir(const char *name) {
    static char path[2][1024];
    static int which;
    which ^= 1;
    snprintf(path[which], sizeof path[which], "%s/%s", dir, name);
    return path[which];
}

static void add_f32(mnv3_tensors *ts, const char *name, int ndim, const int64_t *shape) {
    mnv3_error err;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    float *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    for (int64_t i = 0; i < n; i++) d[i] = (float)i * 0.25f - 3.0f;
    if (n > 1) d[1] = -0.0f;
    CHECK(mnv3_tensors_add(ts, name, MNV3_F32, ndim, shape, d, &err) == MNV3_OK);
}

static void add_i64(mnv3_tensors *ts, const char *name, int ndim, const int64_t *shape) {
    mnv3_error err;
    int64_t n = 1;
    for (int i = 0; i < ndim; i++) n *= shape[i];
    int64_t *d = malloc((size_t)(n ? n : 1) * sizeof *d);
    for (int64_t i = 0; i < n; i++) d[i] = i * 1000003 - (INT64_C(1) << 40);
    CHECK(mnv3_tensors_add(ts, name, MNV3_I64, ndim, shape, d, &err) == MNV3_OK);
}

static int same_tensor(const mnv3_tensor *a, const mnv3_tensor *b) {
    if (strcmp(a->name, b->name) != 0 || a->dtype != b->dtype || a->ndim != b->ndim) return 0;
    for (int i = 0; i < a->ndim; i++)
        if (a->shape[i] != b->shape[i]) return 0;
    size_t n_bytes = (size_t)mnv3_tensor_numel(a) * (a->dtype == MNV3_F32 ? 4 : 8);
    return memcmp(a->data, b->data, n_bytes) == 0;
}

static void sample(mnv3_tensors *ts, int with_ints) {
    const int64_t s4[] = {16, 3, 3, 3}, s1[] = {5}, s0[] = {0}, s2[] = {2, 0};
    add_f32(ts, "features.0.0.weight", 4, s4);
    add_f32(ts, "b3.se.fc1", 1, s1);
    add_f32(ts, "scalar", 0, s0);
    add_f32(ts, "empty", 2, s2);
    if (with_ints) add_i64(ts, "features.0.1.num_batches_tracked", 1, s1);
}

static void test_npy(void) {
    mnv3_tensors ts = {0};
    sample(&ts, 0);
    for (size_t i = 0; i < ts.count; i++) {
        mnv3_error err;
        char file[300];
        snprintf(file, sizeof file, "%s.npy", ts.items[i].name);
        CHECK(mnv3_write_npy(in_dir(file), &ts.items[i], &err) == MNV3_OK);
        mnv3_tensor back;
        int rc = mnv3_read_npy(in_dir(file), &back, &err);
        CHECK(rc == MNV3_OK);
        if (rc != MNV3_OK) {
            printf("npy: %s\n", err.message);
            continue;
        }
        CHECK(same_tensor(&ts.items[i], &back));
        free(back.name);
        free(back.data);
    }
    /* int64 tensors cannot be written as float32 .npy */
    mnv3_tensors ints = {0};
    const int64_t s1[] = {2};
    add_i64(&ints, "n", 1, s1);
    mnv3_error err;
    CHECK(mnv3_write_npy(in_dir("n.npy"), &ints.items[0], &err) == MNV3_FAIL);
    mnv3_tensors_free(&ints);
    mnv3_tensors_free(&ts);
    printf("npy round trip done\n");
}

static void test_npz(void) {
    mnv3_tensors ts = {0}, back;
    mnv3_error err;
    sample(&ts, 0);
    CHECK(mnv3_write_npz(in_dir("t.npz"), &ts, &err) == MNV3_OK);
    int rc = mnv3_read_npz(in_dir("t.npz"), &back, &err);
    if (rc != MNV3_OK) printf("npz: %s\n", err.message);
    CHECK(rc == MNV3_OK && back.count == ts.count && strcmp(back.format, "npz") == 0);
    for (size_t i = 0; rc == MNV3_OK && i < ts.count; i++) {
        const mnv3_tensor *b = mnv3_tensors_find(&back, ts.items[i].name);
        CHECK(b && same_tensor(&ts.items[i], b));
    }
    mnv3_tensors_free(&back);
    /* sniffing: an npz is a zip without data.pkl */
    rc = mnv3_read_weights(in_dir("t.npz"), &back, &err);
    kit_expect_fail("npz given as weights", rc, &err, in_dir("t.npz"), "without data.pkl");
    mnv3_tensors_free(&ts);
    printf("npz round trip done\n");
}

static void test_safetensors(void) {
    mnv3_tensors ts = {0}, back;
    mnv3_error err;
    sample(&ts, 1);
    CHECK(mnv3_write_safetensors(in_dir("t.safetensors"), &ts, &err) == MNV3_OK);
    for (int via_sniff = 0; via_sniff < 2; via_sniff++) {
        int rc = via_sniff ? mnv3_read_weights(in_dir("t.safetensors"), &back, &err)
                           : mnv3_read_safetensors(in_dir("t.safetensors"), &back, &err);
        if (rc != MNV3_OK) printf("safetensors: %s\n", err.message);
        CHECK(rc == MNV3_OK && back.count == ts.count && strcmp(back.format, "safetensors") == 0);
        for (size_t i = 0; rc == MNV3_OK && i < ts.count; i++) {
            CHECK(same_tensor(&ts.items[i], &back.items[i]));
            CHECK(strcmp(back.items[i].source_dtype, ts.items[i].dtype == MNV3_F32 ? "F32" : "I64") == 0);
        }
        mnv3_tensors_free(&back);
    }
    /* header + data start 8-byte aligned */
    FILE *f = fopen(in_dir("t.safetensors"), "rb");
    unsigned char h[8] = {0};
    CHECK(f && fread(h, 1, 8, f) == 8);
    if (f) fclose(f);
    CHECK(mnv3_load_u64le(h) % 8 == 0);
    mnv3_tensors_free(&ts);
    printf("safetensors round trip done\n");
}

/* F16 / BF16 / F64 / I32 sources convert to float32 / int64. */
static void test_safetensors_conversions(void) {
    const char *json = "{\"h\":{\"dtype\":\"F16\",\"shape\":[4],\"data_offsets\":[0,8]},"
                       "\"b\":{\"dtype\":\"BF16\",\"shape\":[2],\"data_offsets\":[8,12]},"
                       "\"d\":{\"dtype\":\"F64\",\"shape\":[2],\"data_offsets\":[12,28]},"
                       "\"i\":{\"dtype\":\"I32\",\"shape\":[1],\"data_offsets\":[28,32]},"
                       "\"__metadata__\":{\"format\":\"pt\"}}";
    bytes b = {0};
    bytes_le(&b, strlen(json), 8);
    bytes_put(&b, json, strlen(json));
    /* F16: 1.0, -2.0, 65504, smallest subnormal */
    bytes_le(&b, 0x3c00, 2); bytes_le(&b, 0xc000, 2); bytes_le(&b, 0x7bff, 2); bytes_le(&b, 0x0001, 2);
    /* BF16: 1.0, -0.5 */
    bytes_le(&b, 0x3f80, 2); bytes_le(&b, 0xbf00, 2);
    double d[2] = {0.1, 1e300};
    uint64_t bits[2];
    memcpy(bits, d, sizeof d);
    bytes_le(&b, bits[0], 8); bytes_le(&b, bits[1], 8);
    bytes_le(&b, (uint64_t)(uint32_t)-7, 4);
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_safetensors_buffer(b.p, b.n, "conv.safetensors", &ts, &err);
    if (rc != MNV3_OK) printf("conversions: %s\n", err.message);
    CHECK(rc == MNV3_OK && ts.count == 4);
    if (rc == MNV3_OK) {
        const float *h = ts.items[0].data, *bf = ts.items[1].data, *f = ts.items[2].data;
        CHECK(h[0] == 1.0f && h[1] == -2.0f && h[2] == 65504.0f && h[3] == 0x1p-24f);
        CHECK(bf[0] == 1.0f && bf[1] == -0.5f);
        CHECK(f[0] == 0.1f && f[1] > 3e38f); /* 1e300 saturates to +inf */
        CHECK(((const int64_t *)ts.items[3].data)[0] == -7);
        CHECK(strcmp(ts.items[0].source_dtype, "F16") == 0 && strcmp(ts.items[3].source_dtype, "I32") == 0);
        CHECK(ts.items[3].dtype == MNV3_I64 && ts.items[2].dtype == MNV3_F32);
    }
    mnv3_tensors_free(&ts);
    bytes_free(&b);
    printf("safetensors conversions done\n");
}

static void test_small_pth(void) {
    bytes pth = {0};
    CHECK(make_small_pth(&pth) == 0);
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_pth_buffer(pth.p, pth.n, "small.pth", &ts, &err);
    if (rc != MNV3_OK) printf("small pth: %s\n", err.message);
    CHECK(rc == MNV3_OK && ts.count == 3 && strcmp(ts.format, "pth") == 0);
    if (rc == MNV3_OK) {
        const float *w = ts.items[0].data, *wt = ts.items[1].data;
        CHECK(strcmp(ts.items[0].name, "layer.weight") == 0 && ts.items[0].ndim == 2);
        CHECK(ts.items[1].shape[0] == 3 && ts.items[1].shape[1] == 2);
        for (int i = 0; i < 6; i++) CHECK(w[i] == (float)i + 0.5f);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) CHECK(wt[i * 2 + j] == (float)(i + 3 * j) + 0.5f);
        CHECK(ts.items[2].dtype == MNV3_I64 && ts.items[2].ndim == 0 &&
              ((const int64_t *)ts.items[2].data)[0] == 42);
        CHECK(strcmp(ts.items[2].source_dtype, "I64") == 0);
    }
    mnv3_tensors_free(&ts);
    /* the same bytes from a file, through sniffing */
    FILE *f = fopen(in_dir("small.pth"), "wb");
    CHECK(f && fwrite(pth.p, 1, pth.n, f) == pth.n);
    if (f) fclose(f);
    rc = mnv3_read_weights(in_dir("small.pth"), &ts, &err);
    if (rc != MNV3_OK) printf("small pth file: %s\n", err.message);
    CHECK(rc == MNV3_OK && ts.count == 3);
    mnv3_tensors_free(&ts);
    bytes_free(&pth);
    printf("small pth done\n");
}

static void write_file(const char *name, const void *data, size_t n) {
    FILE *f = fopen(in_dir(name), "wb");
    CHECK(f && fwrite(data, 1, n, f) == n);
    if (f) fclose(f);
}

static void test_sniff(void) {
    mnv3_tensors ts;
    mnv3_error err;
    write_file("k.h5", "\x89HDF\r\n\x1a\n\0\0\0\0", 12);
    kit_expect_fail("sniff HDF5", mnv3_read_weights(in_dir("k.h5"), &ts, &err), &err, in_dir("k.h5"),
                "");
    write_file("m.tflite", "\x1c\0\0\0TFL3\0\0\0\0", 12);
    kit_expect_fail("sniff TFLite", mnv3_read_weights(in_dir("m.tflite"), &ts, &err), &err,
                in_dir("m.tflite"), "outside the 12-byte file");
    write_file("x.bin", "hello world, nothing here", 25);
    kit_expect_fail("sniff unknown", mnv3_read_weights(in_dir("x.bin"), &ts, &err), &err,
                in_dir("x.bin"), "unrecognised weight file format");
    kit_expect_fail("sniff npy", mnv3_read_weights(in_dir("scalar.npy"), &ts, &err), &err,
                in_dir("scalar.npy"), "not a weights file");
    kit_expect_fail("sniff missing file", mnv3_read_weights(in_dir("absent.pth"), &ts, &err), &err,
                in_dir("absent.pth"), "cannot open");
    CHECK(ts.count == 0 && ts.items == NULL);
}

int main(int argc, char **argv) {
    snprintf(dir, sizeof dir, "%s", argc > 1 ? argv[1] : ".");
    test_npy();
    test_npz();
    test_safetensors();
    test_safetensors_conversions();
    test_small_pth();
    test_sniff();
    if (kit_failures) printf("%d check(s) failed\n", kit_failures);
    return kit_failures ? 1 : 0;
}
