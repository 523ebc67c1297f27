/* Writes small valid seed files for the fuzzers into <dir>/{pth,safetensors,npy}/.
 * Used once to start the corpus; not a test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "craft.h"

static int save(const char *dir, const char *name, const void *data, size_t n) {
    char path[1024];
    if (strlen(dir) + strlen(name) + 2 > sizeof path) return 1;
    memcpy(path, dir, strlen(dir) + 1);
    strcat(path, "/");
    strcat(path, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, n, f) != n) {
        fprintf(stderr, "cannot write %s\n", path);
        if (f) fclose(f);
        return 1;
    }
    return fclose(f) != 0;
}

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: formats_make_seeds DIR\n");
        return 2;
    }
    char sub[1024];
    int bad = 0;
    bytes pth = {0};
    bad |= make_small_pth(&pth) != 0;
    snprintf(sub, sizeof sub, "%s/pth", argv[1]);
    bad |= save(sub, "seed_small.pth", pth.p, pth.n);
    bytes_free(&pth);

    mnv3_tensors ts = {0};
    mnv3_error err;
    const int64_t s2[] = {2, 3}, s0[] = {0};
    float *f = calloc(6, sizeof *f);
    int64_t *q = calloc(1, sizeof *q);
    bad |= mnv3_tensors_add(&ts, "a.weight", MNV3_F32, 2, s2, f, &err) != MNV3_OK;
    bad |= mnv3_tensors_add(&ts, "a.num_batches_tracked", MNV3_I64, 0, s0, q, &err) != MNV3_OK;
    snprintf(sub, sizeof sub, "%s/safetensors/seed.safetensors", argv[1]);
    bad |= mnv3_write_safetensors(sub, &ts, &err) != MNV3_OK;
    snprintf(sub, sizeof sub, "%s/npy/seed.npy", argv[1]);
    bad |= mnv3_write_npy(sub, &ts.items[0], &err) != MNV3_OK;
    mnv3_tensors_free(&ts);
    return bad;
}
