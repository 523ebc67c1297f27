/* Replays every file of tests/image/corpus (the fuzzer's corpus) through both
 * decoders, as fuzz_decode does: each must decode or fail with one line
 * naming the input, never crash (this runs under ASan/UBSan builds too). */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "image/image.h"
#include "kit.h"

static int check_message(const char *msg, const char *name) {
    return msg[0] && !strchr(msg, '\n') && strstr(msg, name) != NULL;
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: test_image_corpus DIR\n");
        return 2;
    }
    DIR *d = opendir(argv[1]);
    if (!d) {
        printf("%s: no corpus directory\n", argv[1]);
        return 1;
    }
    struct dirent *e;
    int files = 0, decoded = 0;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", argv[1], e->d_name);
        FILE *f = fopen(path, "rb");
        if (!f) continue;
        static uint8_t buf[1 << 20];
        size_t n = fread(buf, 1, sizeof buf, f);
        fclose(f);
        files++;
        for (int k = 0; k < 2; k++) {
            mnv3_decode_options opt = {k ? MNV3_DECODER_TF : MNV3_DECODER_PILLOW, MNV3_DCT_DEFAULT, 0,
                                       1u << 20};
            mnv3_image img;
            mnv3_error err = {{0}, 0};
            if (mnv3_image_decode(buf, n, e->d_name, &opt, &img, &err) == MNV3_OK) {
                decoded++;
                uint8_t out[8 * 8 * 3];
                float fout[8 * 8 * 3];
                if (mnv3_pil_resize(&img, 8, 8, MNV3_PIL_BILINEAR, 0, 0, 8, 8, out, e->d_name, &err) ||
                    mnv3_pil_resize(&img, 8, 8, MNV3_PIL_NEAREST, 0, 0, 8, 8, out, e->d_name, &err) ||
                    mnv3_tf_resize(&img, 8, 8, MNV3_TF_BILINEAR, fout, e->d_name, &err)) {
                    kit_fail("%s: resize failed: %s", e->d_name, err.message);
                }
                mnv3_image_free(&img);
            } else if (!check_message(err.message, e->d_name)) {
                kit_fail("%s: malformed message '%s'", e->d_name, err.message);
            }
        }
    }
    closedir(d);
    printf("%d corpus files, %d decodes succeeded, %d failures\n", files, decoded, kit_failures);
    return kit_failures || files == 0;
}
