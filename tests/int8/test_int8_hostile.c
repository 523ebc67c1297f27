/* Quantized TFLite models without ../shared: tiny_uint8.tflite (made by
 * make_tiny_uint8.py) plans and runs under every integer profile; each
 * bad_*.tflite copy fails with one line naming the file and the problem;
 * tflm refuses the uint8 model with TFLite Micro's reason; every option of
 * every integer factor changes a resolved field of the plan; the TFLite fuzz
 * corpus (CORPUS) loads, plans and runs or fails with a message, never crashes.
 * Usage: test_int8_hostile DIR [CORPUS] */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "factors/factors.h"
#include "formats/tflite.h"
#include "kit.h"
#include "quant/qgraph.h"

static const char *dir;

static int load(const char *name, char *path, size_t n, unsigned char **buf, mnv3_qgraph **g,
                mnv3_error *err) {
    snprintf(path, n, "%s/%s", dir, name);
    return mnv3_qgraph_read(path, buf, g, err);
}

static void expect_bad(const char *name, const char *want) {
    char path[1024];
    unsigned char *buf = NULL;
    mnv3_qgraph *g = NULL;
    mnv3_qplan *p = NULL;
    mnv3_error err;
    int rc = load(name, path, sizeof path, &buf, &g, &err);
    if (rc == MNV3_OK) {
        rc = mnv3_qplan_create(g, mnv3_profile_find("litert-int8-ref"), &p, &err);
        mnv3_qplan_free(p);
    }
    kit_expect_fail(name, rc, &err, path, want);
    mnv3_qgraph_free(g);
    free(buf);
}

/* All resolved fields of a plan as bytes: 1 when two plans differ. */
static int plans_differ(const mnv3_qplan *a, const mnv3_qplan *b) {
    return a->n_ops != b->n_ops || memcmp(a->ops, b->ops, (size_t)a->n_ops * sizeof *a->ops) != 0;
}

/* Every file of the corpus: a message or a run, under each integer profile. */
static void replay_corpus(const char *corpus) {
    DIR *d = opendir(corpus);
    if (!d) {
        kit_fail("cannot open corpus %s", corpus);
        return;
    }
    int files = 0, planned = 0;
    for (struct dirent *e; (e = readdir(d));) {
        if (e->d_name[0] == '.') continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", corpus, e->d_name);
        size_t len = 0;
        unsigned char *buf = kit_slurp(path, &len);
        if (!buf) continue;
        files++;
        mnv3_qgraph *g = NULL;
        mnv3_error err;
        if (mnv3_qgraph_from_tflite(buf, len, path, &g, &err) == MNV3_OK) {
            const char *names[] = {"litert-int8-ref", "litert-int8-builtin", "litert-int8"};
            for (int k = 0; k < 3; k++) {
                mnv3_qplan *p = NULL;
                if (mnv3_qplan_create(g, mnv3_profile_find(names[k]), &p, &err) == MNV3_OK) {
                    size_t n = g->tensors[g->input].numel;
                    unsigned char *x = calloc(n ? n : 1, 1);
                    CHECK(x && mnv3_qplan_run(p, x, n, &err) == MNV3_OK);
                    free(x);
                    planned++;
                } else
                    CHECKF(err.message[0] && !strchr(err.message, '\n'), "%s: no one-line message", path);
                mnv3_qplan_free(p);
            }
        } else
            CHECKF(err.message[0] && !strchr(err.message, '\n'), "%s: no one-line message", path);
        mnv3_qgraph_free(g);
        free(buf);
    }
    closedir(d);
    printf("corpus: %d files, %d plans run\n", files, planned);
}

/* 3000 seeded single-byte (and 4-byte) mutations of the tiny model: each loads, plans and
 * runs, or fails with one line. */
static void mutate_tiny(const unsigned char *orig, size_t len) {
    unsigned char *buf = malloc(len);
    uint32_t state = 15;
    int ran = 0;
    for (int trial = 0; buf && trial < 3000; trial++) {
        memcpy(buf, orig, len);
        for (int k = 0; k < 1 + trial % 4; k++) {
            state = state * 1664525u + 1013904223u;
            size_t at = (state >> 8) % len;
            state = state * 1664525u + 1013904223u;
            buf[at] = (unsigned char)(state >> 24);
        }
        mnv3_qgraph *g = NULL;
        mnv3_qplan *p = NULL;
        mnv3_error err;
        int rc = mnv3_qgraph_from_tflite(buf, len, "mutant.tflite", &g, &err);
        if (rc == MNV3_OK) rc = mnv3_qplan_create(g, mnv3_profile_find(trial % 2 ? "litert-int8" : "litert-int8-builtin"), &p, &err);
        if (rc == MNV3_OK) {
            size_t n = g->tensors[g->input].numel;
            unsigned char *x = calloc(n ? n : 1, 1);
            CHECK(x && mnv3_qplan_run(p, x, n, &err) == MNV3_OK);
            free(x);
            ran++;
        } else
            CHECKF(err.message[0] && !strchr(err.message, '\n'), "mutant %d: no one-line message", trial);
        mnv3_qplan_free(p);
        mnv3_qgraph_free(g);
    }
    free(buf);
    printf("mutants: 3000, %d planned and ran\n", ran);
}

int main(int argc, char **argv) {
    if (argc != 2 && argc != 3) return 2;
    if (argc == 3) replay_corpus(argv[2]);
    dir = argv[1];
    char path[1024];
    unsigned char *buf = NULL;
    mnv3_qgraph *g = NULL;
    mnv3_error err;
    if (load("tiny_uint8.tflite", path, sizeof path, &buf, &g, &err) != MNV3_OK) {
        kit_fail("tiny_uint8.tflite: %s", err.message);
        return 1;
    }
    unsigned char input[8 * 8 * 3];
    for (size_t i = 0; i < sizeof input; i++) input[i] = (unsigned char)(i * 37u + 11u);
    const char *profiles[] = {"litert-int8-ref", "litert-int8-builtin", "litert-int8"};
    for (int k = 0; k < 3; k++) {
        mnv3_qplan *p = NULL;
        int ok = mnv3_qplan_create(g, mnv3_profile_find(profiles[k]), &p, &err) == MNV3_OK &&
                 mnv3_qplan_run(p, input, sizeof input, &err) == MNV3_OK;
        CHECKF(ok, "%s: %s", profiles[k], ok ? "" : err.message);
        mnv3_qplan_free(p);
    }
    {
        mnv3_qplan *p = NULL;
        int rc = mnv3_qplan_create(g, mnv3_profile_find("tflm"), &p, &err);
        kit_expect_fail("tflm on a uint8 model", rc, &err, path,
                        "Hybrid models are not supported on TFLite Micro.");
        mnv3_qplan_free(p);
    }
    /* every integer option changes a resolved field (or is refused by this model) */
    const mnv3_profile *base_profile = mnv3_profile_find("litert-int8-ref");
    mnv3_qplan *base = NULL;
    CHECK(mnv3_qplan_create(g, base_profile, &base, &err) == MNV3_OK);
    for (int f = 0; base && f < mnv3_factor_count(); f++) {
        if (!mnv3_factor_is_integer(f) || f == MNV3_FACTOR_UINT8_FILTERS) continue;
        for (int o = 0; o < mnv3_factor_option_count(f); o++) {
            if (o == base_profile->option[f]) continue;
            mnv3_profile pr = *base_profile;
            pr.option[f] = o;
            mnv3_qplan *other = NULL;
            if (mnv3_qplan_create(g, &pr, &other, &err) == MNV3_OK) {
                CHECKF(plans_differ(base, other), "%s=%s changes no resolved field", mnv3_factor_name(f),
                       mnv3_factor_option_name(f, o));
            } else {
                CHECKF(strstr(err.message, "not defined") != NULL, "%s=%s: %s", mnv3_factor_name(f),
                       mnv3_factor_option_name(f, o), err.message);
            }
            mnv3_qplan_free(other);
        }
    }
    mnv3_qplan_free(base);
    mnv3_qgraph_free(g);
    {
        size_t len = 0;
        unsigned char *tiny = kit_slurp(path, &len);
        if (tiny) mutate_tiny(tiny, len);
        free(tiny);
    }
    free(buf);

    expect_bad("bad_scale_zero.tflite", "scale[0] = 0");
    expect_bad("bad_scale_negative.tflite", "scale[0] = -0.03");
    expect_bad("bad_scale_nan.tflite", "scale[0] = nan");
    expect_bad("bad_scale_inf.tflite", "scale[0] = inf");
    expect_bad("bad_zero_point.tflite", "zero_point[0] = 256 outside [0, 255]");
    expect_bad("bad_per_channel_length.tflite", "3 per-channel scales for dimension 0 of size 8");
    expect_bad("bad_multiplier_overflow.tflite", "overflows");
    if (kit_failures) {
        printf("%d failure(s)\n", kit_failures);
        return 1;
    }
    printf("int8 hostile: ok\n");
    return 0;
}
