/* Fast, Python-free bit-identity test: every pipeline on every edge-case
 * image (tests/image/edge) through the C side, checksummed exactly as
 * tools/oracle/pipelines/images_make_golden.sh checksums the real libraries' outputs
 * (tests/image/golden.txt). Also checks that NHWC is NCHW transposed.
 *   test_image_golden EDGE_DIR GOLDEN_TXT */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "kit.h"

static uint64_t checksum(const float *x, size_t n) {
    uint64_t h = 0;
    for (size_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], 4);
        h += (uint64_t)b * (2 * (uint64_t)i + 1);
    }
    return h;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: test_image_golden EDGE_DIR GOLDEN_TXT\n");
        return 2;
    }
    FILE *f = fopen(argv[2], "r");
    if (!f) {
        printf("%s: cannot open\n", argv[2]);
        return 1;
    }
    char line[1024];
    int cases = 0, seen[64] = {0};
    while (fgets(line, sizeof line, f)) {
        char pipe[64], image[256];
        unsigned long long want;
        if (line[0] == '#' || sscanf(line, "%63s %255s %llx", pipe, image, &want) != 3) continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", argv[1], image);
        mnv3_tensor t, u;
        mnv3_error err;
        cases++;
        int pi = mnv3_pipeline_find(pipe);
        if (pi >= 0 && pi < 64) seen[pi] = 1;
        if (mnv3_preprocess(pipe, path, MNV3_NCHW, &t, &err) != MNV3_OK) {
            kit_fail("%s %s: %s", pipe, image, err.message);
            continue;
        }
        uint64_t got = checksum(t.data, 3 * 224 * 224);
        if (got != (uint64_t)want || t.shape[1] != 3 || t.shape[2] != 224 || strcmp(t.name, "input")) {
            kit_fail("%s %s: checksum %016llx, oracle %016llx (run tests/image/live.sh for "
                     "the element-wise comparison)",
                     pipe, image, (unsigned long long)got, want);
        } else if (mnv3_preprocess(pipe, path, MNV3_NHWC, &u, &err) != MNV3_OK) {
            kit_fail("%s %s (nhwc): %s", pipe, image, err.message);
        } else {
            const float *a = t.data, *b = u.data;
            int same = u.shape[1] == 224 && u.shape[3] == 3;
            for (size_t p = 0; same && p < 224 * 224; p++)
                for (int c = 0; c < 3; c++)
                    if (memcmp(&a[(size_t)c * 224 * 224 + p], &b[p * 3 + (size_t)c], 4)) same = 0;
            if (!same) {
                kit_fail("%s %s: NHWC is not NCHW transposed", pipe, image);
            }
            free(u.name);
            free(u.data);
        }
        free(t.name);
        free(t.data);
    }
    fclose(f);
    for (int i = 0; i < mnv3_pipeline_count(); i++)
        if (!seen[i]) {
            kit_fail("pipeline %s has no golden outputs", mnv3_pipeline_name(i));
        }
    printf("%d cases, %d failures\n", cases, kit_failures);
    return kit_failures || cases == 0;
}
