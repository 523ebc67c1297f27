/* mnv3_read_weights: picks the reader by content, not by file name. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/keras_h5.h"
#include "formats/tflite.h"

int mnv3_read_weights(const char *path, mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    unsigned char head[520] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return mnv3_fail_code(err, MNV3_ERR_IO, path, "cannot open: %s", strerror(errno));
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= 4 && memcmp(head, "PK\3\4", 4) == 0) {
        int keras = mnv3_keras_archive_kind(path);
        if (keras == 2) return mnv3_read_keras_h5(path, out, err);
        if (keras == 1)
            return mnv3_fail_code(err, MNV3_ERR_FORMAT, path,
                                  "a .keras archive without model.weights.h5, so no weights to "
                                  "read: save the model again with model.save(\"x.keras\") after "
                                  "building it, or its weights with "
                                  "model.save_weights(\"x.weights.h5\")");
        return mnv3_read_pth(path, out, err);
    }
    if (mnv3_keras_h5_sniff(head, n)) return mnv3_read_keras_h5(path, out, err);
    /* before safetensors: byte 8 of a TFLite file is arbitrary */
    if (mnv3_tflite_sniff(head, n)) return mnv3_read_tflite(path, out, err);
    if (n >= 9 && head[8] == '{') return mnv3_read_safetensors(path, out, err);
    if (n >= 6 && memcmp(head, "\x93NUMPY", 6) == 0)
        return mnv3_fail_code(err, MNV3_ERR_FORMAT, path, "a .npy array is not a weights file");
    return mnv3_fail_code(err, MNV3_ERR_FORMAT, path, "unrecognised weight file format");
}
