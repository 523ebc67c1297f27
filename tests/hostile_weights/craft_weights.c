/* craft_weights DIR: makes the hostile weight files, dumps and inputs of
 * docs/reliability.md ("Weight files") at test time, so none is committed.
 * Zip archives are written by hand here, not through libzip, because the
 * hostile ones (two members of one name, a member inflating to 600 MB)
 * are exactly what libzip refuses to write. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "craft.h"
#include "mnv3.h"

static const char *dir;

static FILE *create(const char *name) {
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        fprintf(stderr, "craft_weights: cannot create %s\n", path);
        exit(1);
    }
    return f;
}

static void path_of(char *buf, size_t size, const char *name) {
    snprintf(buf, size, "%s/%s", dir, name);
}

/* ---- a minimal zip writer (stored or deflated members, no zip64) ---- */

typedef struct zip_entry {
    char name[64];
    uint32_t crc, csize, usize, offset;
    uint16_t method;
} zip_entry;

typedef struct zip_writer {
    FILE *f;
    zip_entry entries[8];
    int n;
} zip_writer;

static zip_writer zip_begin(const char *file) {
    zip_writer z;
    memset(&z, 0, sizeof z);
    z.f = create(file);
    return z;
}

static void put16(FILE *f, unsigned v) {
    fputc((int)(v & 255), f);
    fputc((int)(v >> 8 & 255), f);
}
static void put32(FILE *f, uint32_t v) {
    put16(f, v & 0xffff);
    put16(f, v >> 16);
}

static void local_header(FILE *f, const zip_entry *e) {
    put32(f, 0x04034b50);
    put16(f, 20);
    put16(f, 0);
    put16(f, e->method);
    put16(f, 0);
    put16(f, 0x21); /* 1980-01-01 */
    put32(f, e->crc);
    put32(f, e->csize);
    put32(f, e->usize);
    put16(f, (unsigned)strlen(e->name));
    put16(f, 0);
    fwrite(e->name, 1, strlen(e->name), f);
}

static void central_entry(FILE *f, const zip_entry *e) {
    put32(f, 0x02014b50);
    put16(f, 20);
    put16(f, 20);
    put16(f, 0);
    put16(f, e->method);
    put16(f, 0);
    put16(f, 0x21);
    put32(f, e->crc);
    put32(f, e->csize);
    put32(f, e->usize);
    put16(f, (unsigned)strlen(e->name));
    put16(f, 0);
    put16(f, 0);
    put16(f, 0);
    put16(f, 0);
    put32(f, 0);
    put32(f, e->offset);
    fwrite(e->name, 1, strlen(e->name), f);
}

static void zip_stored(zip_writer *z, const char *name, const void *data, size_t len) {
    zip_entry *e = &z->entries[z->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->method = 0;
    e->crc = (uint32_t)crc32(0, data, (uInt)len);
    e->csize = e->usize = (uint32_t)len;
    e->offset = (uint32_t)ftell(z->f);
    local_header(z->f, e);
    fwrite(data, 1, len, z->f);
}

/* A deflated member: prefix, then zeros up to usize bytes in all. */
static void zip_deflated_zeros(zip_writer *z, const char *name, const void *prefix,
                               size_t prefix_len, size_t usize) {
    zip_entry *e = &z->entries[z->n++];
    snprintf(e->name, sizeof e->name, "%s", name);
    e->method = 8;
    e->usize = (uint32_t)usize;
    e->offset = (uint32_t)ftell(z->f);
    local_header(z->f, e); /* patched below once crc and size are known */
    z_stream zs;
    memset(&zs, 0, sizeof zs);
    deflateInit2(&zs, 1, Z_DEFLATED, -15, 8, Z_DEFAULT_STRATEGY);
    static unsigned char in[1 << 20], out[1 << 16];
    uLong crc = crc32(0, Z_NULL, 0);
    size_t done = 0;
    uint32_t csize = 0;
    while (done < usize) {
        size_t n = usize - done < sizeof in ? usize - done : sizeof in;
        memset(in, 0, n);
        if (done < prefix_len) memcpy(in, (const unsigned char *)prefix + done, prefix_len - done);
        crc = crc32(crc, in, (uInt)n);
        done += n;
        zs.next_in = in;
        zs.avail_in = (uInt)n;
        int flush = done == usize ? Z_FINISH : Z_NO_FLUSH;
        do {
            zs.next_out = out;
            zs.avail_out = sizeof out;
            deflate(&zs, flush);
            size_t have = sizeof out - zs.avail_out;
            fwrite(out, 1, have, z->f);
            csize += (uint32_t)have;
        } while (zs.avail_out == 0);
    }
    deflateEnd(&zs);
    e->crc = (uint32_t)crc;
    e->csize = csize;
    long end = ftell(z->f);
    fseek(z->f, (long)e->offset, SEEK_SET);
    local_header(z->f, e);
    fseek(z->f, end, SEEK_SET);
}

static void zip_finish(zip_writer *z) {
    uint32_t start = (uint32_t)ftell(z->f);
    for (int i = 0; i < z->n; i++) central_entry(z->f, &z->entries[i]);
    uint32_t size = (uint32_t)ftell(z->f) - start;
    put32(z->f, 0x06054b50);
    put16(z->f, 0);
    put16(z->f, 0);
    put16(z->f, (unsigned)z->n);
    put16(z->f, (unsigned)z->n);
    put32(z->f, size);
    put32(z->f, start);
    put16(z->f, 0);
    fclose(z->f);
}

/* ---- torch.save archives ---- */

static void pth(const char *file, const pk_tensor *t, int n, const void *storage,
                size_t storage_len) {
    bytes pkl = {0};
    pk_state_dict(&pkl, t, n);
    zip_writer z = zip_begin(file);
    zip_stored(&z, "archive/data.pkl", pkl.p, pkl.n);
    zip_stored(&z, "archive/byteorder", "little", 6);
    zip_stored(&z, "archive/data/0", storage, storage_len);
    zip_finish(&z);
    bytes_free(&pkl);
}

static void pth_files(void) {
    static float one[1];
    /* a stride-0 view of one float, 2^28 elements long (1 GiB materialised) */
    pk_tensor wide = {"features.0.0.weight", "FloatStorage", "0", 1, 0, 1, {INT64_C(1) << 28}, {0}};
    pth("stride0.pth", &wide, 1, one, sizeof one);

    /* 1024 tensors, each a full view of one 1 MiB storage (1 GiB materialised) */
    enum { ALIASES = 1024, FLOATS = 1 << 18 };
    pk_tensor *alias = calloc(ALIASES, sizeof *alias);
    static char keys[ALIASES][32];
    for (int i = 0; i < ALIASES; i++) {
        snprintf(keys[i], sizeof keys[i], "alias.%d", i);
        alias[i] = (pk_tensor){keys[i], "FloatStorage", "0", FLOATS, 0, 1, {FLOATS}, {1}};
    }
    float *storage = calloc(FLOATS, sizeof *storage);
    pth("aliases.pth", alias, ALIASES, storage, FLOATS * sizeof *storage);
    free(storage);
    free(alias);

    /* a storage member that inflates to 600 MB where data.pkl says 432 floats */
    pk_tensor stem = {"features.0.0.weight", "FloatStorage", "0", 432, 0, 4, {16, 3, 3, 3},
                      {27, 9, 3, 1}};
    bytes pkl = {0};
    pk_state_dict(&pkl, &stem, 1);
    zip_writer z = zip_begin("bomb.pth");
    zip_stored(&z, "archive/data.pkl", pkl.p, pkl.n);
    zip_deflated_zeros(&z, "archive/data/0", NULL, 0, (size_t)600 << 20);
    zip_finish(&z);
    bytes_free(&pkl);

    /* the same bomb where data.pkl agrees: 150M floats, over the file budget */
    pk_tensor big = {"features.0.0.weight", "FloatStorage", "0", (int64_t)150 << 20, 0, 1,
                     {(int64_t)150 << 20}, {1}};
    pk_state_dict(&pkl, &big, 1);
    z = zip_begin("bomb_agreeing.pth");
    zip_stored(&z, "archive/data.pkl", pkl.p, pkl.n);
    zip_deflated_zeros(&z, "archive/data/0", NULL, 0, (size_t)600 << 20);
    zip_finish(&z);
    bytes_free(&pkl);

    /* two members named archive/data.pkl */
    pk_state_dict(&pkl, &stem, 1);
    static float stem_data[432];
    z = zip_begin("duplicate_member.pth");
    zip_stored(&z, "archive/data.pkl", pkl.p, pkl.n);
    zip_stored(&z, "archive/data.pkl", pkl.p, pkl.n);
    zip_stored(&z, "archive/data/0", stem_data, sizeof stem_data);
    zip_finish(&z);
    bytes_free(&pkl);

    /* torch.save before 1.6: the pickled magic number, then more pickle */
    static const unsigned char legacy[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9,
                                           0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e, 0x80, 0x02, 0x4d,
                                           0xe9, 0x03, 0x2e};
    FILE *f = create("legacy.pth");
    fwrite(legacy, 1, sizeof legacy, f);
    fclose(f);
}

/* ---- safetensors ---- */

static void safetensors(const char *file, const char *json, size_t data_len) {
    FILE *f = create(file);
    uint64_t n = strlen(json);
    for (int i = 0; i < 8; i++) fputc((int)(n >> (8 * i) & 255), f);
    fputs(json, f);
    for (size_t i = 0; i < data_len; i++) fputc(0, f);
    fclose(f);
}

static void safetensors_files(void) {
    safetensors("overlap.safetensors",
                "{\"features.0.0.weight\":{\"dtype\":\"F32\",\"shape\":[16,3,3,3],"
                "\"data_offsets\":[0,1728]},\"features.0.1.weight\":{\"dtype\":\"F32\","
                "\"shape\":[16],\"data_offsets\":[0,64]}}",
                1728);
    /* 1000 names for one 1 MiB range */
    size_t cap = 1000 * 96 + 16, used = 0;
    char *json = malloc(cap);
    used += (size_t)snprintf(json + used, cap - used, "{");
    for (int i = 0; i < 1000; i++)
        used += (size_t)snprintf(json + used, cap - used,
                                 "%s\"alias.%d\":{\"dtype\":\"F32\",\"shape\":[262144],"
                                 "\"data_offsets\":[0,1048576]}",
                                 i ? "," : "", i);
    snprintf(json + used, cap - used, "}");
    safetensors("aliases.safetensors", json, (size_t)1 << 20);
    free(json);
    /* shape says 432 floats, the range holds 500 */
    safetensors("count_mismatch.safetensors",
                "{\"features.0.0.weight\":{\"dtype\":\"F32\",\"shape\":[16,3,3,3],"
                "\"data_offsets\":[0,2000]}}",
                2000);
}

/* ---- .npz dumps ---- */

/* A v1.0 .npy header for a float32 vector of n elements, padded to 64 bytes. */
static size_t npy_header(unsigned char *buf, long long n) {
    char dict[128];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (%lld,), }", n);
    size_t total = 10 + (size_t)len + 1;
    size_t padded = (total + 63) / 64 * 64;
    memcpy(buf, "\x93NUMPY\x01\x00", 8);
    buf[8] = (unsigned char)((padded - 10) & 255);
    buf[9] = (unsigned char)((padded - 10) >> 8);
    memcpy(buf + 10, dict, (size_t)len);
    memset(buf + 10 + len, ' ', padded - 10 - (size_t)len - 1);
    buf[padded - 1] = '\n';
    return padded;
}

static void npz_files(void) {
    unsigned char head[128];
    /* an honest header and size, 600 MB of zeros deflated to 600 KB */
    size_t h = npy_header(head, (long long)150 << 20);
    zip_writer z = zip_begin("bomb.npz");
    zip_deflated_zeros(&z, "output.npy", head, h, h + ((size_t)600 << 20));
    zip_finish(&z);
    /* a header for 10 floats in a member declaring 600 MB */
    h = npy_header(head, 10);
    z = zip_begin("lying.npz");
    zip_deflated_zeros(&z, "output.npy", head, h, (size_t)600 << 20);
    zip_finish(&z);
    /* zero bytes: libzip alone would open it as an empty archive */
    char path[1024];
    path_of(path, sizeof path, "empty.npz");
    FILE *f = fopen(path, "wb");
    if (!f || fclose(f) != 0) exit(1);
}

/* 200,000 one-float members: legitimate but odd, must diff in linear time. */
static void many_members_npz(void) {
    enum { MEMBERS = 200000 };
    char path[1024];
    path_of(path, sizeof path, "many_members.npz");
    mnv3_tensors ts = {0};
    mnv3_error err;
    for (int i = 0; i < MEMBERS; i++) {
        char name[32];
        snprintf(name, sizeof name, "layer%06d", (i * 7919) % MEMBERS); /* not in order */
        float *v = malloc(sizeof *v);
        *v = (float)i;
        int64_t shape[1] = {1};
        if (mnv3_tensors_add(&ts, name, MNV3_F32, 1, shape, v, &err) != MNV3_OK) exit(1);
    }
    if (mnv3_write_npz(path, &ts, &err) != MNV3_OK) {
        fprintf(stderr, "craft_weights: %s\n", err.message);
        exit(1);
    }
    mnv3_tensors_free(&ts);
}

/* ---- values: valid files whose numbers the frameworks would turn into NaN ---- */

static void write_weights(const char *file, const mnv3_tensors *ts) {
    char path[1024];
    mnv3_error err;
    path_of(path, sizeof path, file);
    if (mnv3_write_safetensors(path, ts, &err) != MNV3_OK) {
        fprintf(stderr, "craft_weights: %s\n", err.message);
        exit(1);
    }
}

static mnv3_tensor *find_suffix(mnv3_tensors *ts, const char *suffix) {
    for (size_t i = 0; i < ts->count; i++) {
        size_t n = strlen(ts->items[i].name), m = strlen(suffix);
        if (n >= m && !strcmp(ts->items[i].name + n - m, suffix)) return &ts->items[i];
    }
    return NULL;
}

static void value_files(void) {
    mnv3_error err;
    mnv3_tensors ts;
    if (mnv3_synth_weights(5, 0, &ts, &err) != MNV3_OK) exit(1);
    write_weights("valid.safetensors", &ts);

    mnv3_tensor *var = find_suffix(&ts, "running_var");
    float saved = ((float *)var->data)[0];
    ((float *)var->data)[0] = -2.5f;
    write_weights("negative_variance.safetensors", &ts);
    ((float *)var->data)[0] = saved;

    mnv3_tensor *w = &ts.items[0];
    float *wd = w->data;
    int64_t n = mnv3_tensor_numel(w);
    float *copy = malloc((size_t)n * sizeof *copy);
    memcpy(copy, wd, (size_t)n * sizeof *copy);
    for (int64_t k = 0; k < n; k++) wd[k] *= 1e20f;
    write_weights("huge_weights.safetensors", &ts);
    memcpy(wd, copy, (size_t)n * sizeof *copy);
    free(copy);

    /* a name that would clear the screen and print a false all-clear in green */
    float *extra = calloc(1, sizeof *extra);
    int64_t one[1] = {1};
    mnv3_tensors_add(&ts, "\x1b[2J\x1b[H\x1b[32mALL WEIGHTS VERIFIED OK\x1b[0m", MNV3_F32, 1, one,
                     extra, &err);
    write_weights("escape_name.safetensors", &ts);
    mnv3_tensors_free(&ts);

    /* inputs: a valid one and one with a NaN */
    enum { C = 3, H = 32, W = 32 };
    float *x = malloc(sizeof(float) * C * H * W);
    mnv3_synth_input(5, 1, C, H, W, x);
    mnv3_tensor t = {0};
    t.name = (char *)"input";
    t.dtype = MNV3_F32;
    t.ndim = 4;
    t.shape[0] = 1, t.shape[1] = C, t.shape[2] = H, t.shape[3] = W;
    t.data = x;
    char path[1024];
    path_of(path, sizeof path, "input.npy");
    if (mnv3_write_npy(path, &t, &err) != MNV3_OK) exit(1);
    x[100] = NAN;
    path_of(path, sizeof path, "nan_input.npy");
    if (mnv3_write_npy(path, &t, &err) != MNV3_OK) exit(1);
    free(x);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: craft_weights DIR\n");
        return 2;
    }
    dir = argv[1];
    pth_files();
    safetensors_files();
    npz_files();
    many_members_npz();
    value_files();
    return 0;
}
