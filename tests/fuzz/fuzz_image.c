/* libFuzzer target for the image decoders (MNV3_FUZZ=ON, clang):
 *   ./fuzz_image -max_total_time=300 work-corpus tests/fuzz/corpus/image
 * Each input goes through the entry `mnv3 preprocess` / `mnv3 run --image`
 * use, mnv3_preprocess_buffer: decoded as Pillow would (torchvision's
 * Resize(256) + CenterCrop) and as TensorFlow would (tf.image.resize), then
 * the decoded image alone is resized both ways at a small size. The pixel
 * budget is lowered to 2^20 (mnv3_set_image_pixel_budget) so that images
 * declaring more are refused from the header, as bombs are in real runs. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_message(const mnv3_error *err) {
    if (strncmp(err->message, "fuzz: ", 6) != 0 || strchr(err->message, '\n'))
        abort(); /* every error is one line naming the file */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    mnv3_set_image_pixel_budget(1u << 20);
    static const char *pipelines[] = {"torchvision-imagenet", "tf-data"};
    for (int k = 0; k < 2; k++) {
        mnv3_tensor t;
        mnv3_error err;
        if (mnv3_preprocess_buffer(pipelines[k], data, size, "fuzz", MNV3_NCHW, &t, &err) ==
            MNV3_OK) {
            free(t.name);
            free(t.data);
        } else {
            check_message(&err);
        }
    }
    for (int d = 0; d < 2; d++) {
        mnv3_decode_options opt = {d ? MNV3_DECODER_TF : MNV3_DECODER_PILLOW, MNV3_DCT_DEFAULT,
                                   (int)(size & 1), 0};
        mnv3_image img;
        mnv3_error err;
        if (mnv3_image_decode(data, size, "fuzz", &opt, &img, &err) != MNV3_OK) {
            check_message(&err);
            continue;
        }
        uint8_t out[8 * 8 * 3];
        float fout[8 * 8 * 3];
        mnv3_pil_resize(&img, 8, 8, MNV3_PIL_BILINEAR, 0, 0, 8, 8, out, "fuzz", &err);
        mnv3_pil_resize(&img, 8, 8, MNV3_PIL_NEAREST, 0, 0, 8, 8, out, "fuzz", &err);
        mnv3_tf_resize(&img, 8, 8, MNV3_TF_NEAREST, fout, "fuzz", &err);
        mnv3_tf_resize(&img, 8, 8, MNV3_TF_BILINEAR, fout, "fuzz", &err);
        mnv3_image_free(&img);
    }
    return 0;
}
