/* craft_hostile_h5 OUT_DIR: writes the hostile Keras files of the hostile_h5
 * cases (tests/hostile_h5/CMakeLists.txt) at test time, so none is committed:
 *   valid.weights.h5, valid.keras          a synthetic MobileNetV3 (read: ok)
 *   dup_layers.h5, dup_weights.h5          tf-keras name lists repeating one name 5000 times
 *   elink.weights.h5, elink.h5             HDF5 external links (Keras 3, tf-keras)
 *   soft_cycle.weights.h5                  a soft link back to /layers
 *   extstore.weights.h5, vds.weights.h5    external storage, a virtual dataset
 *   big_dataset.weights.h5                 a 300 MiB (fill-valued) dataset in a tiny file
 *   noweights.keras                        config.json and metadata.json only
 *   declared_huge.keras                    model.weights.h5 declaring 4 GB
 *   bomb.keras                             model.weights.h5 deflated from 300 MiB of zeros
 *   bomb_lying.keras                       the same, declaring 1 MiB
 *   config_eps_{zero,other,ok,not_json}.keras   valid weights, a config.json whose
 *                                          BatchNorm epsilon is 0, 1e-5, 0.001, or not JSON
 *   config_eps_negative.weights.h5         valid weights, a model_config attribute with -1
 * craft_hostile_h5 --seeds H5_DIR KERAS_DIR: the small seed corpora of
 * fuzz_h5 and fuzz_keras (tests/fuzz/corpus/h5, keras), from our writer. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <hdf5.h>
#include <zlib.h>

#include "craft.h"
#include "mnv3_io.h"

static const char *out_dir;
static int failures;

static const char *out(const char *name) {
    static char path[4][2048];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", out_dir, name);
    return path[k];
}

static void check(int ok, const char *what) {
    if (!ok) {
        fprintf(stderr, "craft_hostile_h5: cannot make %s\n", what);
        failures++;
    }
}

static void write_file(const char *name, const void *data, size_t n) {
    FILE *f = fopen(out(name), "wb");
    check(f && fwrite(data, 1, n, f) == n, name);
    if (f) fclose(f);
}

static unsigned char *slurp(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    unsigned char *buf = NULL;
    *n = 0;
    if (f && fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        rewind(f);
        buf = size > 0 ? malloc((size_t)size) : NULL;
        if (buf && fread(buf, 1, (size_t)size, f) == (size_t)size) *n = (size_t)size;
    }
    if (f) fclose(f);
    return buf;
}

/* A string-list attribute (variable-length strings, as h5py writes). */
static void str_attr(hid_t obj, const char *name, const char *value, size_t repeat) {
    const char **v = malloc(repeat * sizeof *v);
    for (size_t i = 0; i < repeat; i++) v[i] = value;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hsize_t n = repeat;
    hid_t s = H5Screate_simple(1, &n, NULL);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    check(a >= 0 && H5Awrite(a, t, v) >= 0, name);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
    free(v);
}

/* A scalar string attribute, as h5py writes model_config. */
static void scalar_str_attr(hid_t obj, const char *name, const char *value) {
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    hid_t s = H5Screate(H5S_SCALAR);
    hid_t a = H5Acreate2(obj, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
    check(a >= 0 && H5Awrite(a, t, &value) >= 0, name);
    H5Aclose(a);
    H5Sclose(s);
    H5Tclose(t);
}

/* A Keras model config with two BatchNormalization layers (one nested in
 * a sub-model, as Keras writes them) of epsilon eps. */
static const char *bn_config(const char *eps) {
    static char json[512];
    snprintf(json, sizeof json,
             "{\"class_name\": \"Functional\", \"config\": {\"layers\": ["
             "{\"class_name\": \"BatchNormalization\", \"config\": {\"name\": \"bn\", "
             "\"epsilon\": %s}}, {\"class_name\": \"Functional\", \"config\": {\"layers\": "
             "[{\"class_name\": \"BatchNormalization\", \"config\": {\"epsilon\": %s}}]}}]}}",
             eps, eps);
    return json;
}

static void small_dataset(hid_t loc, const char *name) {
    hsize_t dims[2] = {2, 2};
    float x[4] = {1, 2, 3, 4};
    hid_t s = H5Screate_simple(2, dims, NULL);
    hid_t d = H5Dcreate2(loc, name, H5T_IEEE_F32LE, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    check(d >= 0 && H5Dwrite(d, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, x) >= 0, name);
    H5Dclose(d);
    H5Sclose(s);
}

/* A long list split as tf-keras does past HDF5's 64 KiB header limit:
 * name0, name1, ... of at most 2000 strings each. */
static void str_attr_split(hid_t obj, const char *name, const char *value, size_t repeat) {
    if (repeat <= 2000) {
        str_attr(obj, name, value, repeat);
        return;
    }
    for (size_t k = 0; k * 2000 < repeat; k++) {
        char part[64];
        snprintf(part, sizeof part, "%s%zu", name, k);
        str_attr(obj, part, value, repeat - k * 2000 < 2000 ? repeat - k * 2000 : 2000);
    }
}

static void tf_keras_dups(const char *file, size_t layer_repeat, size_t weight_repeat) {
    hid_t f = H5Fcreate(out(file), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    str_attr_split(f, "layer_names", "dense", layer_repeat);
    hid_t g = H5Gcreate2(f, "dense", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    str_attr_split(g, "weight_names", "dense/kernel:0", weight_repeat);
    hid_t sub = H5Gcreate2(g, "dense", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    small_dataset(sub, "kernel:0");
    H5Gclose(sub);
    H5Gclose(g);
    check(H5Fclose(f) >= 0, file);
}

/* /layers/conv2d/vars (name "conv") and /vars, then what add() puts in vars. */
static void keras3(const char *file, void (*add)(hid_t f, hid_t vars)) {
    hid_t f = H5Fcreate(out(file), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    hid_t l = H5Gcreate2(f, "layers", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t c = H5Gcreate2(l, "conv2d", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    hid_t v = H5Gcreate2(c, "vars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    str_attr(v, "name", "conv", 1);
    add(f, v);
    H5Gclose(v);
    H5Gclose(c);
    H5Gclose(l);
    hid_t mv = H5Gcreate2(f, "vars", H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    H5Gclose(mv);
    check(H5Fclose(f) >= 0, file);
}

static void add_elink(hid_t f, hid_t v) {
    (void)f;
    check(H5Lcreate_external("other.h5", "/x", v, "0", H5P_DEFAULT, H5P_DEFAULT) >= 0, "elink");
}

static void add_soft_cycle(hid_t f, hid_t v) {
    (void)f;
    small_dataset(v, "0");
    check(H5Lcreate_soft("/layers", v, "/layers/loop", H5P_DEFAULT, H5P_DEFAULT) >= 0, "soft");
}

static void add_extstore(hid_t f, hid_t v) {
    (void)f;
    hsize_t dims[1] = {4};
    hid_t s = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    check(H5Pset_external(dcpl, "/etc/passwd", 0, 16) >= 0, "external storage");
    hid_t d = H5Dcreate2(v, "0", H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    check(d >= 0, "external storage dataset");
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(s);
}

static void add_vds(hid_t f, hid_t v) {
    (void)f;
    hsize_t dims[1] = {4};
    hid_t s = H5Screate_simple(1, dims, NULL), src = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    check(H5Pset_virtual(dcpl, s, "/etc/other.h5", "/x", src) >= 0, "virtual mapping");
    hid_t d = H5Dcreate2(v, "0", H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    check(d >= 0, "virtual dataset");
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(src);
    H5Sclose(s);
}

static void add_big(hid_t f, hid_t v) { /* chunked, never written: reads as fill values */
    (void)f;
    hsize_t dims[1] = {(hsize_t)75 << 20}, chunk[1] = {1 << 20};
    hid_t s = H5Screate_simple(1, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    H5Pset_chunk(dcpl, 1, chunk);
    H5Pset_deflate(dcpl, 1);
    hid_t d = H5Dcreate2(v, "0", H5T_IEEE_F32LE, s, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    check(d >= 0, "big dataset");
    H5Dclose(d);
    H5Pclose(dcpl);
    H5Sclose(s);
}

/* A zip of one deflated member, assembled by hand so its sizes can lie. */
static void put16(bytes *b, unsigned v) { bytes_le(b, v, 2); }
static void put32(bytes *b, uint32_t v) { bytes_le(b, v, 4); }

static void deflated_zip(const char *file, size_t zeros, uint32_t declared) {
    z_stream z;
    memset(&z, 0, sizeof z);
    check(deflateInit2(&z, 9, Z_DEFLATED, -15, 9, Z_DEFAULT_STRATEGY) == Z_OK, "deflate");
    static unsigned char in[1 << 16], outbuf[1 << 16];
    bytes data = {0};
    uLong crc = crc32(0, NULL, 0), crc_declared = crc;
    size_t left = zeros, seen = 0;
    int flush;
    do {
        size_t n = left < sizeof in ? left : sizeof in;
        crc = crc32(crc, in, (uInt)n);
        if (seen < declared) {
            size_t d = declared - seen < n ? declared - seen : n;
            crc_declared = crc32(crc_declared, in, (uInt)d);
        }
        seen += n;
        left -= n;
        flush = left ? Z_NO_FLUSH : Z_FINISH;
        z.next_in = in;
        z.avail_in = (uInt)n;
        do {
            z.next_out = outbuf;
            z.avail_out = sizeof outbuf;
            deflate(&z, flush);
            bytes_put(&data, outbuf, sizeof outbuf - z.avail_out);
        } while (z.avail_out == 0);
    } while (flush != Z_FINISH);
    deflateEnd(&z);
    uint32_t usize = declared ? declared : (uint32_t)zeros;
    uint32_t ucrc = (uint32_t)(declared ? crc_declared : crc);
    const char *name = "model.weights.h5";
    bytes zip = {0};
    put32(&zip, 0x04034b50);
    put16(&zip, 20), put16(&zip, 0), put16(&zip, 8), put16(&zip, 0), put16(&zip, 0x21);
    put32(&zip, ucrc), put32(&zip, (uint32_t)data.n), put32(&zip, usize);
    put16(&zip, (unsigned)strlen(name)), put16(&zip, 0);
    bytes_put(&zip, name, strlen(name));
    bytes_put(&zip, data.p, data.n);
    size_t cd = zip.n;
    put32(&zip, 0x02014b50);
    put16(&zip, 20), put16(&zip, 20), put16(&zip, 0), put16(&zip, 8), put16(&zip, 0);
    put16(&zip, 0x21);
    put32(&zip, ucrc), put32(&zip, (uint32_t)data.n), put32(&zip, usize);
    put16(&zip, (unsigned)strlen(name)), put16(&zip, 0), put16(&zip, 0), put16(&zip, 0);
    put16(&zip, 0), put32(&zip, 0), put32(&zip, 0);
    bytes_put(&zip, name, strlen(name));
    size_t cd_len = zip.n - cd;
    put32(&zip, 0x06054b50);
    put16(&zip, 0), put16(&zip, 0), put16(&zip, 1), put16(&zip, 1);
    put32(&zip, (uint32_t)cd_len), put32(&zip, (uint32_t)cd), put16(&zip, 0);
    write_file(file, zip.p, zip.n);
    bytes_free(&zip);
    bytes_free(&data);
}

/* A few-tensor model through our writer: conv (+bias), depthwise, BN, dense. */
static int tiny_weights(const char *path) {
    static float zeros[64];
    struct { const char *name; int ndim; int64_t shape[4]; } spec[] = {
        {"conv/kernel", 4, {1, 1, 2, 2}}, {"conv/bias", 1, {2}},
        {"dw/depthwise_kernel", 4, {3, 3, 2, 1}},
        {"bn/gamma", 1, {2}}, {"bn/beta", 1, {2}}, {"bn/moving_mean", 1, {2}},
        {"bn/moving_variance", 1, {2}}, {"fc/kernel", 2, {2, 3}}, {"fc/bias", 1, {3}}};
    mnv3_tensors ts = {0};
    mnv3_error err;
    for (size_t i = 0; i < sizeof spec / sizeof spec[0]; i++) {
        float *d = malloc(sizeof zeros);
        for (int k = 0; k < 64; k++) d[k] = (float)(k + (int)i) * 0.25f;
        if (mnv3_tensors_add(&ts, spec[i].name, MNV3_F32, spec[i].ndim, spec[i].shape, d, &err) !=
            MNV3_OK)
            return -1;
    }
    int rc = mnv3_write_keras_weights_h5(path, &ts, &err) == MNV3_OK ? 0 : -1;
    if (rc) fprintf(stderr, "craft_hostile_h5: %s\n", err.message);
    mnv3_tensors_free(&ts);
    return rc;
}

static int seeds(const char *h5_dir, const char *keras_dir) {
    out_dir = h5_dir;
    check(tiny_weights(out("tiny.weights.h5")) == 0, "tiny.weights.h5");
    tf_keras_dups("tf_keras.h5", 1, 1);
    keras3("soft.weights.h5", add_soft_cycle);
    size_t hlen = 0;
    unsigned char *h5 = slurp(out("tiny.weights.h5"), &hlen);
    const char *meta = "{\"keras_version\": \"3.5.0\"}";
    zip_member m[] = {{"metadata.json", meta, strlen(meta)},
                      {"config.json", "{}", 2},
                      {"model.weights.h5", h5, hlen}};
    bytes z = {0};
    out_dir = keras_dir;
    check(h5 && make_zip(m, 3, &z) == 0, "tiny.keras");
    write_file("tiny.keras", z.p, z.n);
    bytes_free(&z);
    check(make_zip(m, 2, &z) == 0, "noweights.keras");
    write_file("noweights.keras", z.p, z.n);
    bytes_free(&z);
    free(h5);
    return failures ? 1 : 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "--seeds") == 0) {
        H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
        return seeds(argv[2], argv[3]);
    }
    if (argc != 2) {
        fprintf(stderr, "usage: craft_hostile_h5 OUT_DIR\n");
        return 2;
    }
    out_dir = argv[1];
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    /* A valid starting point: synthetic weights, Keras names, our writer. */
    mnv3_tensors w = {0}, keras = {0};
    mnv3_model *m = NULL;
    mnv3_error err = {{0}, MNV3_ERR_NONE};
    int ok = mnv3_synth_weights(5, 0, &w, &err) == MNV3_OK &&
             mnv3_model_from_tensors(&w, "synth", &m, NULL, &err) == MNV3_OK &&
             mnv3_model_export(m, MNV3_NAMING_KERAS, &keras, &err) == MNV3_OK &&
             mnv3_write_keras_weights_h5(out("valid.weights.h5"), &keras, &err) == MNV3_OK;
    if (!ok) fprintf(stderr, "craft_hostile_h5: %s\n", err.message);
    check(ok, "valid.weights.h5");
    mnv3_model_free(m);
    mnv3_tensors_free(&w);
    mnv3_tensors_free(&keras);
    size_t hlen = 0;
    unsigned char *h5 = slurp(out("valid.weights.h5"), &hlen);
    const char *meta = "{\"keras_version\": \"3.5.0\"}";
    bytes z = {0};
    zip_member valid[] = {{"metadata.json", meta, strlen(meta)},
                          {"config.json", "{}", 2},
                          {"model.weights.h5", h5, hlen}};
    check(h5 && make_zip(valid, 3, &z) == 0, "valid.keras");
    write_file("valid.keras", z.p, z.n);
    bytes_free(&z);
    check(make_zip(valid, 2, &z) == 0, "noweights.keras");
    write_file("noweights.keras", z.p, z.n);
    bytes_free(&z);
    /* model.weights.h5 declaring 0xf0f0f0f0 bytes in both headers */
    check(make_zip(valid + 2, 1, &z) == 0, "declared_huge.keras");
    for (size_t i = 0; i + 46 <= z.n; i++)
        if (memcmp(z.p + i, "PK\1\2", 4) == 0) memset(z.p + i + 24, 0xf0, 4);
    memset(z.p + 22, 0xf0, 4);
    write_file("declared_huge.keras", z.p, z.n);
    bytes_free(&z);
    static const struct { const char *file, *json; } configs[] = {
        {"config_eps_zero.keras", NULL}, {"config_eps_other.keras", NULL},
        {"config_eps_ok.keras", NULL}, {"config_eps_not_json.keras", "{\"epsilon\": NaN}"}};
    for (size_t i = 0; i < sizeof configs / sizeof configs[0]; i++) {
        const char *json = configs[i].json ? configs[i].json
                           : bn_config(i == 0 ? "0.0" : i == 1 ? "1e-05" : "0.001");
        zip_member with_config[] = {valid[0], {"config.json", json, strlen(json)}, valid[2]};
        check(make_zip(with_config, 3, &z) == 0, configs[i].file);
        write_file(configs[i].file, z.p, z.n);
        bytes_free(&z);
    }
    write_file("config_eps_negative.weights.h5", h5, hlen);
    hid_t cf = H5Fopen(out("config_eps_negative.weights.h5"), H5F_ACC_RDWR, H5P_DEFAULT);
    check(cf >= 0, "config_eps_negative.weights.h5");
    scalar_str_attr(cf, "model_config", bn_config("-1"));
    check(H5Fclose(cf) >= 0, "config_eps_negative.weights.h5");
    free(h5);

    tf_keras_dups("dup_layers.h5", 5000, 5000);
    tf_keras_dups("dup_weights.h5", 1, 5000);
    keras3("elink.weights.h5", add_elink);
    hid_t f = H5Fcreate(out("elink.h5"), H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);
    str_attr(f, "layer_names", "dense", 1);
    check(H5Lcreate_external("other.h5", "/dense", f, "dense", H5P_DEFAULT, H5P_DEFAULT) >= 0,
          "elink.h5");
    check(H5Fclose(f) >= 0, "elink.h5");
    keras3("soft_cycle.weights.h5", add_soft_cycle);
    keras3("extstore.weights.h5", add_extstore);
    keras3("vds.weights.h5", add_vds);
    keras3("big_dataset.weights.h5", add_big);
    deflated_zip("bomb.keras", (size_t)300 << 20, 0);
    deflated_zip("bomb_lying.keras", (size_t)300 << 20, 1u << 20);
    return failures ? 1 : 0;
}
