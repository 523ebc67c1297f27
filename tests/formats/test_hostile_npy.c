/* Hostile .npy images (and one .npz): each fails with "bad.npy: ...". */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "kit.h"
#include "craft.h"

static const char *label = "bad.npy";

static void npy_image(bytes *b, int major, const char *dict, size_t data_bytes) {
    size_t dl = strlen(dict);
    bytes_put(b, "\x93NUMPY", 6);
    bytes_u8(b, (unsigned)major);
    bytes_u8(b, 0);
    bytes_le(b, dl + 1, major == 1 ? 2 : 4);
    bytes_put(b, dict, dl);
    bytes_u8(b, '\n');
    for (size_t i = 0; i < data_bytes; i++) bytes_u8(b, 0);
}

static void run_bytes(const char *what, const bytes *b, const char *want) {
    mnv3_tensor t;
    mnv3_error err;
    int rc = mnv3_read_npy_buffer(b->p, b->n, label, "x", &t, &err);
    kit_expect_fail(what, rc, &err, label, want);
    CHECK(t.name == NULL && t.data == NULL);
    if (rc == MNV3_OK) {
        free(t.name);
        free(t.data);
    }
}

static void run(const char *what, int major, const char *dict, size_t data_bytes, const char *want) {
    bytes b = {0};
    npy_image(&b, major, dict, data_bytes);
    run_bytes(what, &b, want);
    bytes_free(&b);
}

#define D(descr, order, shape) \
    "{'descr': '" descr "', 'fortran_order': " order ", 'shape': " shape ", }"

int main(void) {
    run("dtype <f8", 1, D("<f8", "False", "(2,)"), 16, "dtype '<f8' is not float32");
    run("dtype |u1", 1, D("|u1", "False", "(2,)"), 2, "dtype '|u1' is not float32");
    run("dtype >f4", 1, D(">f4", "False", "(2,)"), 8, "dtype '>f4' is not float32");
    run("structured dtype", 1, "{'descr': [('a', '<f4')], 'fortran_order': False, 'shape': (1,), }",
        4, "structured");
    run("fortran_order True", 1, D("<f4", "True", "(2, 2)"), 16, "fortran_order True");
    run("truncated data", 1, D("<f4", "False", "(4, 4)"), 60, "truncated");
    run("trailing data", 1, D("<f4", "False", "(2,)"), 12, "unexpected data");
    run("negative shape", 1, D("<f4", "False", "(-2,)"), 8, "non-negative");
    run("huge shape", 1, D("<f4", "False", "(4611686018427387904, 4)"), 8, "overflows");
    run("absurd number", 1, D("<f4", "False", "(99999999999999999999999,)"), 8, "too large");
    run("9 dimensions", 2, D("<f4", "False", "(1, 1, 1, 1, 1, 1, 1, 1, 1)"), 4, "more than 8");
    run("garbage header", 1, "hello, world", 0, "not a dict");
    run("unclosed dict", 1, "{'descr': '<f4', ", 0, "malformed");
    run("unknown key", 1, "{'descr': '<f4', 'fortran_order': False, 'shape': (1,), 'x': 1}", 4,
        "unexpected key 'x'");
    run("missing shape", 1, "{'descr': '<f4', 'fortran_order': False}", 4, "lacks 'shape'");
    run("version 4", 4, D("<f4", "False", "(1,)"), 4, "version 4");
    bytes b = {0};
    bytes_put(&b, "\x93NUMPY\x01\x00\xff\xff{", 11);
    run_bytes("header length beyond file", &b, "truncated");
    bytes_free(&b);
    bytes_put(&b, "\x93NUMPX\x01\x00\x00\x00", 10);
    run_bytes("bad magic", &b, "bad magic");
    bytes_free(&b);
    npy_image(&b, 3, D("<f4", "False", "(3,)"), 12);
    mnv3_tensor t;
    mnv3_error err;
    int rc = mnv3_read_npy_buffer(b.p, b.n, label, "x", &t, &err);
    CHECK(rc == MNV3_OK && t.ndim == 1 && t.shape[0] == 3);
    printf("%-40s %s\n", "version 3 header accepted", rc == MNV3_OK ? "ok" : "FAIL");
    if (rc == MNV3_OK) {
        free(t.name);
        free(t.data);
    }
    bytes_free(&b);

    /* an npz whose member is not float32 names the member */
    {
        bytes bad = {0}, zip = {0};
        npy_image(&bad, 1, D("<f8", "False", "(1,)"), 8);
        zip_member m[] = {{"conv.w.npy", bad.p, bad.n}};
        CHECK(make_zip(m, 1, &zip) == 0);
        mnv3_tensors ts;
        rc = mnv3_read_npz_buffer(zip.p, zip.n, "bad.npz", &ts, &err);
        kit_expect_fail("npz with a float64 member", rc, &err, "bad.npz", "conv.w.npy: dtype '<f8'");
        zip_member other[] = {{"readme.txt", "hi", 2}};
        bytes_free(&zip);
        CHECK(make_zip(other, 1, &zip) == 0);
        rc = mnv3_read_npz_buffer(zip.p, zip.n, "bad.npz", &ts, &err);
        kit_expect_fail("npz with a non-npy member", rc, &err, "bad.npz", "not a .npy file");
        bytes_free(&zip);
        bytes_free(&bad);
    }
    if (kit_failures) printf("%d check(s) failed\n", kit_failures);
    return kit_failures ? 1 : 0;
}
