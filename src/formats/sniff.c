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
    /* torch.save before PyTorch 1.6: a pickle stream opening with its magic number */
    static const unsigned char legacy_magic[] = {0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46,
                                                 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19};
    if (n >= sizeof legacy_magic && memcmp(head, legacy_magic, sizeof legacy_magic) == 0)
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, path,
                              "a legacy torch.save file (PyTorch before 1.6, not a zip archive); "
                              "re-save it with a current torch: torch.save(torch.load(f, "
                              "weights_only=True), 'new.pth')");
    if (n >= 2 && head[0] == 0x80 && head[1] >= 2 && head[1] <= 5)
        return mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, path,
                              "a bare pickle, not a torch.save zip archive; load it in Python "
                              "and torch.save the state_dict");
    if (n == 0) return mnv3_fail_code(err, MNV3_ERR_FORMAT, path, "empty file (0 bytes)");
    return mnv3_fail_code(err, MNV3_ERR_FORMAT, path,
                          "unrecognised weight file format (mnv3 reads .pth zip archives, "
                          "safetensors, Keras .h5/.keras and TFLite)");
}
