/* mnv3_read_weights: picks the reader by content, not by file name. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/util.h"
#include "formats/formats.h"
#include "formats/tflite.h"

int mnv3_read_weights(const char *path, mnv3_tensors *out, mnv3_error *err) {
    memset(out, 0, sizeof *out);
    unsigned char head[16] = {0};
    FILE *f = fopen(path, "rb");
    if (!f) return mnv3_fail(err, path, "cannot open: %s", strerror(errno));
    size_t n = fread(head, 1, sizeof head, f);
    fclose(f);
    if (n >= 4 && memcmp(head, "PK\3\4", 4) == 0) return mnv3_read_pth(path, out, err);
    /* before safetensors: byte 8 of a TFLite file is arbitrary */
    if (mnv3_tflite_sniff(head, n)) return mnv3_read_tflite(path, out, err);
    if (n >= 9 && head[8] == '{') return mnv3_read_safetensors(path, out, err);
    if (n >= 6 && memcmp(head, "\x93NUMPY", 6) == 0)
        return mnv3_fail(err, path, "a .npy array is not a weights file");
    if (n >= 8 && memcmp(head, "\x89HDF\r\n\x1a\n", 8) == 0)
        return mnv3_fail(err, path, "Keras HDF5 weights are not supported yet");
    return mnv3_fail(err, path, "unrecognised weight file format");
}
