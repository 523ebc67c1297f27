/* mnv3 preprocess / pipelines: the frameworks' image pipelines, bit for bit. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "image/image.h"

int cmd_pipelines(int argc, char **argv) {
    (void)argv;
    if (argc > 0) return cli_usage_error("pipelines takes no options");
    for (int i = 0; i < mnv3_pipeline_count(); i++)
        printf("%-22s %s\n", mnv3_pipeline_name(i), mnv3_pipeline_steps(i));
    return 0;
}

/* --decoded: the decoded RGB image of the pipeline's decoder, as float32
 * [1, H, W, 3] (for checking decoders against Pillow / TF); --dct overrides
 * the decoder's JPEG DCT method (to show which one a framework uses). */
static int write_decoded(const char *pipeline, const char *image, const char *out, mnv3_dct dct) {
    int i = mnv3_pipeline_find(pipeline);
    mnv3_error err;
    if (i < 0) return cli_usage_error("unknown pipeline '%s' (see mnv3 pipelines)", pipeline);
    mnv3_decode_options opt = {mnv3_pipeline_decoder(i), dct, 0, 0};
    mnv3_image img;
    if (mnv3_image_read(image, &opt, &img, &err) != MNV3_OK) return cli_error(&err);
    size_t n = (size_t)img.width * (size_t)img.height * 3;
    float *f = malloc(n * sizeof *f);
    if (!f) {
        mnv3_image_free(&img);
        return cli_usage_error("out of memory");
    }
    for (size_t k = 0; k < n; k++) f[k] = img.rgb[k];
    mnv3_tensor t = {0};
    t.name = (char *)"decoded";
    t.ndim = 4;
    t.shape[0] = 1, t.shape[1] = img.height, t.shape[2] = img.width, t.shape[3] = 3;
    t.data = f;
    int status = mnv3_write_npy(out, &t, &err) == MNV3_OK ? 0 : cli_error(&err);
    free(f);
    mnv3_image_free(&img);
    return status;
}

int cmd_preprocess(int argc, char **argv) {
    const char *pipeline = NULL, *out = NULL, *image = NULL, *layout_name = "nchw", *dct_name = NULL;
    int decoded = 0, quiet = 0;
    for (int i = 0; i < argc; i++) {
        int r;
        if ((r = cli_take(argc, argv, &i, "--pipeline", &pipeline))) {
            if (r < 0) return cli_usage_error("--pipeline needs a value");
        } else if ((r = cli_take(argc, argv, &i, "-o", &out)) ||
                   (r = cli_take(argc, argv, &i, "--out", &out))) {
            if (r < 0) return cli_usage_error("-o needs a value");
        } else if ((r = cli_take(argc, argv, &i, "--layout", &layout_name))) {
            if (r < 0) return cli_usage_error("--layout needs a value");
        } else if ((r = cli_take(argc, argv, &i, "--dct", &dct_name))) {
            if (r < 0) return cli_usage_error("--dct needs islow, ifast or float");
        } else if (!strcmp(argv[i], "--decoded")) {
            decoded = 1;
        } else if (!strcmp(argv[i], "--quiet") || !strcmp(argv[i], "-q")) {
            quiet = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            return cli_usage_error("preprocess: unknown option '%s'", argv[i]);
        } else if (image) {
            return cli_usage_error("preprocess: one image at a time ('%s' and '%s')", image, argv[i]);
        } else {
            image = argv[i];
        }
    }
    if (!pipeline) return cli_usage_error("preprocess: --pipeline P is required (see mnv3 pipelines)");
    if (!image) return cli_usage_error("preprocess: IMAGE is required");
    if (!out) return cli_usage_error("preprocess: -o X.npy is required");
    if (strcmp(layout_name, "nchw") && strcmp(layout_name, "nhwc"))
        return cli_usage_error("--layout must be nchw or nhwc");
    if (mnv3_pipeline_find(pipeline) < 0)
        return cli_usage_error("unknown pipeline '%s' (see mnv3 pipelines)", pipeline);
    mnv3_dct dct = MNV3_DCT_DEFAULT;
    if (dct_name) {
        if (!decoded) return cli_usage_error("--dct only applies with --decoded");
        if (!strcmp(dct_name, "islow")) dct = MNV3_DCT_ISLOW;
        else if (!strcmp(dct_name, "ifast")) dct = MNV3_DCT_IFAST;
        else if (!strcmp(dct_name, "float")) dct = MNV3_DCT_FLOAT;
        else return cli_usage_error("--dct must be islow, ifast or float");
    }
    if (decoded) return write_decoded(pipeline, image, out, dct);
    mnv3_layout layout = strcmp(layout_name, "nhwc") ? MNV3_NCHW : MNV3_NHWC;
    mnv3_tensor t;
    mnv3_error err;
    if (mnv3_preprocess(pipeline, image, layout, &t, &err) != MNV3_OK) return cli_error(&err);
    int status = mnv3_write_npy(out, &t, &err) == MNV3_OK ? 0 : cli_error(&err);
    if (!status && !quiet)
        printf("wrote %s [1,%lld,%lld,%lld] (%s) to %s\n", pipeline, (long long)t.shape[1],
               (long long)t.shape[2], (long long)t.shape[3], layout_name, out);
    free(t.name);
    free(t.data);
    return status;
}
