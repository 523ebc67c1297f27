/* Error codes of the file readers and writers (mnv3_io.h), and the HDF5
 * sandbox: off, a file is parsed in this process; on, in a child, with the
 * same tensors and the same errors, and a libhdf5 crash becomes a FORMAT error.
 *   test_api_io SCRATCH_DIR HOSTILE_H5 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kit.h"
#include "mnv3.h"

static const char *scratch;

static const char *in_scratch(const char *name) {
    static char path[4][1024];
    static int next;
    char *p = path[next++ % 4];
    snprintf(p, sizeof path[0], "%s/%s", scratch, name);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t n) {
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) CHECKF(0, "cannot write %s", path);
    if (f) fclose(f);
}

/* rc must be MNV3_FAIL with code; the message must be one line naming path. */
static void expect(const char *what, int rc, const mnv3_error *err, mnv3_error_code code,
                   const char *path) {
    CHECKF(rc == MNV3_FAIL, "%s: rc %d", what, rc);
    CHECKF(err->code == (int)code, "%s: code %s, want %s (%s)", what,
          mnv3_error_code_name(err->code), mnv3_error_code_name(code), err->message);
    CHECKF(!path || strstr(err->message, path), "%s: message '%s' does not name %s", what,
          err->message, path);
    CHECKF(!strchr(err->message, '\n'), "%s: message has a newline", what);
}

static void test_reader_codes(void) {
    mnv3_tensors ts;
    mnv3_tensor t;
    mnv3_model *m;
    mnv3_error err;
    const char *absent = in_scratch("absent.bin");
    expect("weights, missing file", mnv3_read_weights(absent, &ts, &err), &err, MNV3_ERR_IO,
           absent);
    expect("npy, missing file", mnv3_read_npy(absent, &t, &err), &err, MNV3_ERR_IO, absent);
    expect("npz, missing file", mnv3_read_npz(absent, &ts, &err), &err, MNV3_ERR_IO, absent);
    expect("pth, missing file", mnv3_read_pth(absent, &ts, &err), &err, MNV3_ERR_IO, absent);
    expect("safetensors, missing file", mnv3_read_safetensors(absent, &ts, &err), &err,
           MNV3_ERR_IO, absent);
    expect("keras h5, missing file", mnv3_read_keras_h5(absent, &ts, &err), &err, MNV3_ERR_IO,
           absent);
    expect("model load, missing file", mnv3_model_load(absent, &m, NULL, &err), &err,
           MNV3_ERR_IO, absent);
    CHECKF(mnv3_read_npy(absent, &t, NULL) == MNV3_FAIL, "NULL err");

    const char *junk = in_scratch("junk.npy");
    write_bytes(junk, "JUNKJUNKJUNKJUNK", 16);
    expect("npy, bad magic", mnv3_read_npy(junk, &t, &err), &err, MNV3_ERR_FORMAT, junk);
    expect("weights, unrecognised", mnv3_read_weights(junk, &ts, &err), &err, MNV3_ERR_FORMAT,
           junk);

    static const char f8[] = "\x93NUMPY\x01\x00\x76\x00{'descr': '<f8', 'fortran_order': False, "
                             "'shape': (1,), }";
    char npy[128 + 8];
    memset(npy, ' ', 128);
    memcpy(npy, f8, sizeof f8 - 1);
    npy[127] = '\n';
    memset(npy + 128, 0, 8);
    const char *f64 = in_scratch("f64.npy");
    write_bytes(f64, npy, sizeof npy);
    expect("npy, float64", mnv3_read_npy(f64, &t, &err), &err, MNV3_ERR_UNSUPPORTED, f64);

    /* safetensors whose header claims more bytes than the file holds */
    static const unsigned char st[] = {0xff, 0, 0, 0, 0, 0, 0, 0, '{', '}'};
    const char *trunc = in_scratch("trunc.safetensors");
    write_bytes(trunc, st, sizeof st);
    expect("safetensors, truncated", mnv3_read_safetensors(trunc, &ts, &err), &err,
           MNV3_ERR_FORMAT, trunc);
}

static void test_writer_codes(void) {
    mnv3_error err;
    int64_t v = 3, shape[1] = {1};
    mnv3_tensor t = {.name = "i", .dtype = MNV3_I64, .ndim = 1, .data = &v};
    t.shape[0] = shape[0];
    const char *out = in_scratch("i.npy");
    expect("npy, int64 tensor", mnv3_write_npy(out, &t, &err), &err, MNV3_ERR_ARGUMENT, out);
    float x = 1;
    mnv3_tensor f = {.name = "f", .dtype = MNV3_F32, .ndim = 1, .data = &x};
    f.shape[0] = 1;
    const char *nowhere = in_scratch("no/such/dir/f.npy");
    expect("npy, no directory", mnv3_write_npy(nowhere, &f, &err), &err, MNV3_ERR_IO, nowhere);
    mnv3_tensors empty = {0};
    expect("keras h5, no tensors", mnv3_write_keras_weights_h5(out, &empty, &err), &err,
           MNV3_ERR_ARGUMENT, out);
}

static int same_tensors(const mnv3_tensors *a, const mnv3_tensors *b) {
    if (a->count != b->count || strcmp(a->format, b->format)) return 0;
    for (size_t i = 0; i < a->count; i++) {
        const mnv3_tensor *x = &a->items[i], *y = &b->items[i];
        if (strcmp(x->name, y->name) || x->dtype != y->dtype || x->ndim != y->ndim ||
            strcmp(x->source_dtype, y->source_dtype) ||
            memcmp(x->shape, y->shape, (size_t)x->ndim * sizeof x->shape[0]))
            return 0;
        size_t bytes = (size_t)mnv3_tensor_numel(x) * (x->dtype == MNV3_F32 ? 4 : 8);
        if (memcmp(x->data, y->data, bytes)) return 0;
    }
    return 1;
}

static void test_sandbox(const char *hostile) {
    CHECKF(mnv3_hdf5_sandbox() == 0, "the sandbox is off by default");
    /* A Keras 3 file from synthetic weights, read in and out of the sandbox. */
    mnv3_tensors w = {0}, keras = {0}, in_process = {0}, sandboxed = {0};
    mnv3_model *m = NULL;
    mnv3_error err = {{0}, MNV3_ERR_NONE};
    const char *h5 = in_scratch("synth.weights.h5");
    int ok = mnv3_synth_weights(11, 10, &w, &err) == MNV3_OK &&
             mnv3_model_from_tensors(&w, "synth", &m, NULL, &err) == MNV3_OK &&
             mnv3_model_export(m, MNV3_NAMING_KERAS, &keras, &err) == MNV3_OK &&
             mnv3_write_keras_weights_h5(h5, &keras, &err) == MNV3_OK &&
             mnv3_read_keras_h5(h5, &in_process, &err) == MNV3_OK;
    CHECKF(ok, "in process: %s", err.message);
    mnv3_set_hdf5_sandbox(1);
    CHECKF(mnv3_hdf5_sandbox() == 1, "the sandbox is on");
    ok = ok && mnv3_read_keras_h5(h5, &sandboxed, &err) == MNV3_OK;
    CHECKF(ok, "sandboxed: %s", err.message);
    CHECKF(ok && in_process.count > 0 && same_tensors(&in_process, &sandboxed),
          "the sandbox hands back other tensors than an in-process read");

    /* Errors are the same in and out of the sandbox. */
    static const unsigned char bad_h5[64] = {0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n', 7, 7};
    const char *bad = in_scratch("bad.h5");
    write_bytes(bad, bad_h5, sizeof bad_h5);
    mnv3_error e_on, e_off;
    mnv3_tensors tmp;
    expect("keras h5 (sandbox), corrupt", mnv3_read_keras_h5(bad, &tmp, &e_on), &e_on,
           MNV3_ERR_FORMAT, bad);
    CHECKF(tmp.count == 0 && tmp.items == NULL, "failed read leaves out empty");
    /* libhdf5 dies on this one: in the sandbox that is an error, not a crash */
    expect("keras h5 (sandbox), crashes libhdf5", mnv3_read_keras_h5(hostile, &tmp, &err), &err,
           MNV3_ERR_FORMAT, hostile);
    mnv3_set_hdf5_sandbox(0);
    expect("keras h5, corrupt", mnv3_read_keras_h5(bad, &tmp, &e_off), &e_off, MNV3_ERR_FORMAT,
           bad);
    CHECKF(!strcmp(e_on.message, e_off.message), "sandbox '%s', in process '%s'", e_on.message,
          e_off.message);

    mnv3_tensors_free(&w), mnv3_tensors_free(&keras);
    mnv3_tensors_free(&in_process), mnv3_tensors_free(&sandboxed);
    mnv3_model_free(m);
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_api_io SCRATCH_DIR HOSTILE_H5\n");
        return 2;
    }
    scratch = argv[1];
    test_reader_codes();
    test_writer_codes();
    test_sandbox(argv[2]);
    if (kit_failures) printf("%d kit_failures\n", kit_failures);
    else printf("api io: all passed\n");
    return kit_failures ? 1 : 0;
}
