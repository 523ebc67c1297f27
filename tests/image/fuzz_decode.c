/* libFuzzer target for the image decoders (MNV3_FUZZ=ON, clang):
 *   ./fuzz_image_decode -max_total_time=300 work-corpus tests/image/corpus
 * Each input is decoded as Pillow and as TensorFlow would, with a small pixel
 * cap so that bombs are rejected quickly; the pipelines then run on whatever
 * decoded, resizing it both ways. */
#include <stdint.h>
#include <stdlib.h>

#include "image/image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    for (int d = 0; d < 2; d++) {
        mnv3_decode_options opt = {d ? MNV3_DECODER_TF : MNV3_DECODER_PILLOW, MNV3_DCT_DEFAULT, 0,
                                   1u << 20};
        mnv3_image img;
        mnv3_error err;
        if (mnv3_image_decode(data, size, "fuzz", &opt, &img, &err) != MNV3_OK) continue;
        uint8_t out[8 * 8 * 3];
        float fout[8 * 8 * 3];
        mnv3_pil_resize(&img, 8, 8, MNV3_PIL_BILINEAR, 0, 0, 8, 8, out, "fuzz", &err);
        mnv3_pil_resize(&img, 8, 8, MNV3_PIL_NEAREST, 0, 0, 8, 8, out, "fuzz", &err);
        mnv3_tf_resize(&img, 8, 8, MNV3_TF_BILINEAR, fout, "fuzz", &err);
        mnv3_image_free(&img);
    }
    return 0;
}
