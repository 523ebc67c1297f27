/* mnv3 synth / synth-input: seeded data for tests and the default run. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_synth(int argc, char **argv) {
    long seed = 1, classes = 1000;
    const char *out = NULL;
    for (int i = 0; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_take(argc, argv, &i, "--seed", &v))) {
            if (r < 0 || cli_parse_int(v, "--seed", 0, 1L << 30, &seed)) return 2;
        } else if ((r = cli_take(argc, argv, &i, "--classes", &v))) {
            if (r < 0 || cli_parse_int(v, "--classes", 0, 100000, &classes)) return 2;
        } else if ((r = cli_take(argc, argv, &i, "--out", &out))) {
            if (r < 0) return cli_usage_error("--out needs a value");
        } else return cli_usage_error("synth: unknown option '%s'", argv[i]);
    }
    if (!out) return cli_usage_error("synth: --out W.safetensors is required");
    mnv3_tensors ts;
    mnv3_error err;
    if (mnv3_synth_weights((uint64_t)seed, (int)classes, &ts, &err) != MNV3_OK)
        return cli_error(&err);
    int status = mnv3_write_safetensors(out, &ts, &err) == MNV3_OK ? 0 : cli_error(&err);
    if (!status) printf("wrote %zu tensors (seed %ld, %ld classes) to %s\n", ts.count, seed, classes, out);
    mnv3_tensors_free(&ts);
    return status;
}

int cmd_synth_input(int argc, char **argv) {
    long seed = 1, batch = 1, h = 224, w = 224;
    int nhwc = 0, pixels = 0;
    const char *out = NULL;
    for (int i = 0; i < argc; i++) {
        const char *v;
        int r;
        if ((r = cli_take(argc, argv, &i, "--seed", &v))) {
            if (r < 0 || cli_parse_int(v, "--seed", 0, 1L << 30, &seed)) return 2;
        } else if ((r = cli_take(argc, argv, &i, "--batch", &v))) {
            if (r < 0 || cli_parse_int(v, "--batch", 1, 1024, &batch)) return 2;
        } else if (!strcmp(argv[i], "--size")) {
            if (i + 2 >= argc) return cli_usage_error("--size needs H and W");
            if (cli_parse_int(argv[i + 1], "H", 1, 4096, &h) ||
                cli_parse_int(argv[i + 2], "W", 1, 4096, &w))
                return 2;
            i += 2;
        } else if (!strcmp(argv[i], "--pixels")) {
            pixels = 1;
        } else if ((r = cli_take(argc, argv, &i, "--layout", &v))) {
            if (r < 0 || (strcmp(v, "nchw") && strcmp(v, "nhwc")))
                return cli_usage_error("--layout must be nchw or nhwc");
            nhwc = !strcmp(v, "nhwc");
        } else if ((r = cli_take(argc, argv, &i, "--out", &out))) {
            if (r < 0) return cli_usage_error("--out needs a value");
        } else return cli_usage_error("synth-input: unknown option '%s'", argv[i]);
    }
    if (!out) return cli_usage_error("synth-input: --out X.npy is required");
    size_t plane = (size_t)h * (size_t)w, n = (size_t)batch * 3 * plane;
    float *x = malloc(n * sizeof *x), *t = nhwc ? malloc(n * sizeof *t) : NULL;
    if (!x || (nhwc && !t)) {
        free(x), free(t);
        return cli_usage_error("out of memory");
    }
    mnv3_synth_input((uint64_t)seed, (int)batch, 3, (int)h, (int)w, x);
    if (pixels) /* integer pixel values 0..255, as an image gives the Keras model */
        for (size_t i = 0; i < n; i++) {
            float v = (x[i] + 2.1f) * (255.0f / 4.7f);
            x[i] = (float)(int)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f);
        }
    mnv3_tensor tensor = {0};
    tensor.name = (char *)"input";
    tensor.ndim = 4;
    int64_t nchw_shape[4] = {batch, 3, h, w}, nhwc_shape[4] = {batch, h, w, 3};
    memcpy(tensor.shape, nhwc ? nhwc_shape : nchw_shape, sizeof nchw_shape);
    if (nhwc) {
        for (long s = 0; s < batch; s++)
            for (size_t p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++)
                    t[((size_t)s * plane + p) * 3 + (size_t)c] = x[((size_t)s * 3 + (size_t)c) * plane + p];
    }
    tensor.data = nhwc ? t : x;
    mnv3_error err;
    int status = mnv3_write_npy(out, &tensor, &err) == MNV3_OK ? 0 : cli_error(&err);
    if (!status)
        printf("wrote %ldx3x%ldx%ld input (seed %ld, %s, %s) to %s\n", batch, h, w, seed,
               nhwc ? "nhwc" : "nchw", pixels ? "pixels 0..255" : "normalised", out);
    free(x), free(t);
    return status;
}
