/* Seeded dropout masks (src/train/rng.c) against the frameworks' own, and the
 * mask-replay loader (src/formats/masks.c).
 *
 *   test_rng torch FIXTURE   lines from tools/oracle/rng/torch_masks.py
 *   test_rng keras FIXTURE   lines from tools/oracle/rng/keras_masks.py
 *   test_rng tf-keras FIXTURE  lines from tools/oracle/rng/tf_keras_masks.py
 *   test_rng masks DIR       .npy masks from torch_masks.py --dump-npy
 * Every mask must have 0 differing elements. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "formats/masks.h"
#include "kit.h"
#include "train/rng.h"

static int hex_nibble(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
}

/* LSB-first packed bits (np.packbits bitorder little) into n bytes of 0/1. */
static int unpack_hex_bits(const char *hex, size_t n, uint8_t *bits) {
    if (strlen(hex) != (n + 7) / 8 * 2) return 0;
    for (size_t i = 0; i < n; i++) {
        int hi = hex_nibble(hex[i / 8 * 2]), lo = hex_nibble(hex[i / 8 * 2 + 1]);
        if (hi < 0 || lo < 0) return 0;
        bits[i] = (uint8_t)((((hi << 4) | lo) >> (i % 8)) & 1);
    }
    return 1;
}

static size_t count_differences(const uint8_t *a, const uint8_t *b, size_t n, size_t *first) {
    size_t d = 0;
    *first = n;
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i] && d++ == 0) *first = i;
    return d;
}

static void check_mask(const char *where, const uint8_t *got, const char *hex, size_t n) {
    uint8_t *want = malloc(n);
    if (!want || !unpack_hex_bits(hex, n, want)) {
        kit_fail("%s: malformed mask in the fixture", where);
        free(want);
        return;
    }
    size_t first, d = count_differences(got, want, n, &first);
    CHECKF(d == 0, "%s: %zu of %zu elements differ (first at %zu)", where, d, n, first);
    free(want);
}

static void check_scale(const char *where, float got, const char *hex) {
    if (strcmp(hex, "-") == 0) return; /* p = 0 or 1: the framework applies no scale */
    uint32_t bits, want = (uint32_t)strtoul(hex, NULL, 16);
    memcpy(&bits, &got, sizeof bits);
    CHECKF(bits == want, "%s: scale %08x, the framework's %08x", where, bits, want);
}

/* "v0,v1,..." against perm[0..n-1]. */
static void check_list(const char *where, const int64_t *got, int64_t n, const char *text) {
    const char *p = text;
    for (int64_t i = 0; i < n; i++) {
        char *end;
        long long v = strtoll(p, &end, 10);
        if (end == p) {
            kit_fail("%s: the fixture lists fewer than %lld values", where, (long long)n);
            return;
        }
        if (got[i] != v) {
            kit_fail("%s: element %lld is %lld, the framework's %lld", where, (long long)i,
                     (long long)got[i], v);
            return;
        }
        p = *end == ',' ? end + 1 : end;
    }
}

/* Splits a line into at most max words (in place). */
static int split_words(char *line, char **words, int max) {
    int n = 0;
    for (char *tok = strtok(line, " \n"); tok && n < max; tok = strtok(NULL, " \n"))
        words[n++] = tok;
    return n;
}

static int replay(const char *side, const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("SKIP: %s not found\n", path);
        return 77;
    }
    int torch = strcmp(side, "torch") == 0, tf_keras = strcmp(side, "tf-keras") == 0;
    mnv3_philox kernel;
    mnv3_tf_legacy_kernel_init(&kernel, MNV3_TF_DEFAULT_GRAPH_SEED, 1);
    mnv3_torch_generator tg;
    mnv3_keras_seed_generator kg;
    mnv3_torch_generator_seed(&tg, 67280421310721ull); /* each fixture seeds first */
    mnv3_keras_seed_generator_init(&kg, 0);
    char *line = NULL;
    size_t cap = 0;
    int lineno = 0, masks = 0, lists = 0, others = 0;
    while (getline(&line, &cap, f) > 0) {
        lineno++;
        char *w[8], where[64];
        int nw = split_words(line, w, 8);
        if (nw == 0 || w[0][0] == '#') continue;
        snprintf(where, sizeof where, "%s:%d (%s)", side, lineno, w[0]);
        if (strcmp(w[0], "seed") == 0 && nw == 2) {
            if (torch) mnv3_torch_generator_seed(&tg, strtoull(w[1], NULL, 10));
            else mnv3_keras_seed_generator_init(&kg, strtoll(w[1], NULL, 10));
        } else if ((strcmp(w[0], "dropout") == 0 || (!torch && strcmp(w[0], "xla_dropout") == 0)) &&
                   nw == 5) {
            double p = strtod(w[1], NULL);
            size_t n = (size_t)strtoull(w[2], NULL, 10);
            uint8_t *keep = malloc(n);
            if (!keep) return 1;
            if (torch) {
                mnv3_torch_dropout_keep(&tg, p, n, keep);
                check_scale(where, mnv3_torch_dropout_scale(p), w[3]);
            } else {
                mnv3_keras_dropout_keep_bits(&kg, p, n,
                                             w[0][0] == 'x' ? MNV3_UNIFORM_HIGH_BITS
                                                            : MNV3_UNIFORM_LOW_MANTISSA,
                                             keep);
                check_scale(where, mnv3_keras_dropout_scale(p), w[3]);
            }
            check_mask(where, keep, w[4], n);
            free(keep);
            masks++;
        } else if (torch && (strcmp(w[0], "randperm") == 0 || strcmp(w[0], "epoch") == 0) &&
                   nw == 3) {
            int64_t n = strtoll(w[1], NULL, 10);
            int64_t *perm = malloc((size_t)n * sizeof *perm);
            if (!perm) return 1;
            if (w[0][0] == 'r') mnv3_torch_randperm(&tg, n, perm);
            else mnv3_torch_dataloader_epoch_order(&tg, n, perm);
            check_list(where, perm, n, w[2]);
            free(perm);
            lists++;
        } else if (torch && strcmp(w[0], "skip") == 0 && nw == 2) {
            mnv3_torch_skip(&tg, strtoull(w[1], NULL, 10));
        } else if (torch && strcmp(w[0], "init") == 0 && nw == 2) {
            uint64_t weights[128], biases[128];
            size_t layers = 0;
            for (char *p = w[1]; *p && layers < 128; layers++) {
                char *end;
                weights[layers] = strtoull(p, &end, 10);
                biases[layers] = *end == ':' ? strtoull(end + 1, &end, 10) : 0;
                p = *end == ',' ? end + 1 : end;
            }
            CHECKF(layers < 128, "%s: more layers than the test reads", where);
            mnv3_torch_skip(&tg, mnv3_torch_init_words(layers, weights, biases));
            others++;
        } else if (tf_keras && strcmp(w[0], "kernel") == 0 && nw == 3) {
            mnv3_tf_legacy_kernel_init(&kernel, strtoll(w[1], NULL, 10), strtoll(w[2], NULL, 10));
        } else if (tf_keras && strcmp(w[0], "legacy_dropout") == 0 && nw == 5) {
            double p = strtod(w[1], NULL);
            size_t n = (size_t)strtoull(w[2], NULL, 10);
            uint8_t *keep = malloc(n);
            if (!keep) return 1;
            mnv3_tf_legacy_dropout_keep(&kernel, p, n, keep);
            check_scale(where, mnv3_keras_dropout_scale(p), w[3]);
            check_mask(where, keep, w[4], n);
            free(keep);
            masks++;
        } else if (!torch && strcmp(w[0], "uniform") == 0 && nw == 5) {
            size_t n = (size_t)strtoull(w[3], NULL, 10);
            float *u = malloc(n * sizeof *u);
            if (!u || strlen(w[4]) != 8 * n) return 1;
            mnv3_tf_stateless_uniform((int32_t)strtol(w[1], NULL, 10),
                                      (int32_t)strtol(w[2], NULL, 10), n, u);
            for (size_t i = 0; i < n; i++) {
                char word[9];
                memcpy(word, w[4] + 8 * i, 8);
                word[8] = '\0';
                uint32_t bits, want = (uint32_t)strtoul(word, NULL, 16);
                memcpy(&bits, &u[i], sizeof bits);
                CHECKF(bits == want, "%s: uniform %zu is %08x, TF's %08x", where, i, bits, want);
            }
            free(u);
            others++;
        } else if (!torch && strcmp(w[0], "default") == 0 && nw >= 4) {
            mnv3_mt19937 py;
            mnv3_python_random_seed(&py, strtoull(w[1], NULL, 10));
            long skip = strtol(w[2], NULL, 10);
            for (long k = 0; k < skip; k++) (void)mnv3_keras_default_seed(&py);
            long long got = (long long)mnv3_keras_default_seed(&py), want = strtoll(w[3], NULL, 10);
            CHECKF(got == want, "%s: unseeded Dropout seed %lld, Keras's %lld", where, got, want);
            others++;
        } else {
            kit_fail("%s: unknown fixture line", where);
        }
    }
    free(line);
    fclose(f);
    CHECKF(masks > 0, "%s: no masks in %s", side, path);
    printf("%s %s: %d masks, %d permutations, %d other checks, %d failures\n",
           kit_failures ? "FAIL" : "ok", side, masks, lists, others, kit_failures);
    return kit_failures != 0;
}

/* ---- mask replay loader ---------------------------------------------------- */

/* A v1.0 .npy image with the given descr and shape text around data. */
static unsigned char *make_npy(const char *descr, const char *shape, const void *data,
                               size_t bytes, size_t *len) {
    char dict[160];
    int used = snprintf(dict, sizeof dict, "{'descr': '%s', 'fortran_order': False, 'shape': %s, }",
                        descr, shape);
    size_t header = (size_t)used + 1, total = 10 + header + bytes;
    unsigned char *b = malloc(total);
    if (!b) return NULL;
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (unsigned char)(header & 0xff);
    b[9] = (unsigned char)(header >> 8);
    memcpy(b + 10, dict, (size_t)used);
    b[10 + used] = '\n';
    if (bytes) memcpy(b + 10 + header, data, bytes);
    *len = total;
    return b;
}

static void expect_mask_error(const char *what, const char *descr, const char *shape,
                              const void *data, size_t bytes, const int64_t *want_shape,
                              int want_ndim, const char *message) {
    size_t len = 0;
    unsigned char *b = make_npy(descr, shape, data, bytes, &len);
    if (!b) {
        kit_fail("%s: out of memory", what);
        return;
    }
    uint8_t *keep = (uint8_t *)1;
    mnv3_error err;
    int rc = mnv3_read_keep_mask_buffer(b, len, "m.npy", want_ndim, want_shape, &keep, &err);
    kit_expect_fail(what, rc, &err, "m.npy", message);
    CHECK(keep == NULL);
    free(b);
}

static int masks(const char *dir) {
    char path[512], bits_text[64] = {0};
    snprintf(path, sizeof path, "%s/keep_bits.txt", dir);
    FILE *f = fopen(path, "r");
    if (!f) {
        printf("SKIP: %s not found\n", path);
        return 77;
    }
    int got_line = fscanf(f, "%63s", bits_text) == 1;
    fclose(f);
    CHECK(got_line);
    const int64_t shape[2] = {4, 16};
    const char *files[] = {"keep_bool.npy", "keep_uint8.npy", "noise_float32.npy"};
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, files[i]);
        uint8_t *keep;
        mnv3_error err;
        if (mnv3_read_keep_mask(path, 2, shape, &keep, &err) != MNV3_OK) {
            kit_fail("%s: %s", files[i], err.message);
            continue;
        }
        check_mask(files[i], keep, bits_text, 64);
        free(keep);
        printf("ok %s replays the dumped mask\n", files[i]);
    }
    /* One-line errors on what a mask file must not be. */
    const int64_t want[2] = {2, 2};
    const uint8_t u8[4] = {0, 1, 1, 0}, u8_bad[4] = {0, 1, 2, 0};
    const float f_nan[4] = {0.0f, 1.25f, (float)NAN, 1.25f}, f_neg[4] = {0.0f, -1.0f, 1.0f, 1.0f};
    const double f64[4] = {0, 1, 1, 0};
    expect_mask_error("wrong shape", "|u1", "(4,)", u8, 4, want, 2,
                      "dropout mask has shape [4], the layer needs [2, 2]");
    expect_mask_error("wrong dtype", "<f8", "(2, 2)", f64, sizeof f64, want, 2,
                      "dropout mask dtype '<f8' is not bool, uint8 or float32");
    expect_mask_error("uint8 not 0/1", "|u1", "(2, 2)", u8_bad, 4, want, 2,
                      "dropout mask element 2 is 2, not 0 or 1");
    expect_mask_error("float NaN", "<f4", "(2, 2)", f_nan, sizeof f_nan, want, 2,
                      "dropout mask element 2 is nan");
    expect_mask_error("float negative", "<f4", "(2, 2)", f_neg, sizeof f_neg, want, 2,
                      "dropout mask element 1 is -1");
    expect_mask_error("truncated", "|b1", "(2, 2)", u8, 3, want, 2,
                      "mask data holds 3 bytes, its header declares 4");
    return kit_failures != 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && (strcmp(argv[1], "torch") == 0 || strcmp(argv[1], "keras") == 0 ||
                      strcmp(argv[1], "tf-keras") == 0))
        return replay(argv[1], argv[2]);
    if (argc == 3 && strcmp(argv[1], "masks") == 0) return masks(argv[2]);
    fprintf(stderr, "usage: test_rng torch|keras|tf-keras FIXTURE | test_rng masks DIR\n");
    return 2;
}
