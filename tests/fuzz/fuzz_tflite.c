/* libFuzzer target: the TFLite flatbuffer reader and the MobileNetV3 weight
 * mapping on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "formats/tflite.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    mnv3_tensors ts;
    mnv3_error err;
    mnv3_tflite_model *m;
    if (mnv3_tflite_open(data, size, "fuzz.tflite", &m, &err) == MNV3_OK) {
        for (int i = 0; i < m->n_ops; i++) (void)mnv3_tflite_producer(m, m->ops[i].inputs[0]);
        mnv3_tflite_free(m);
    } else if (strncmp(err.message, "fuzz.tflite: ", 13) != 0 || strchr(err.message, '\n')) {
        abort(); /* every error is one line naming the file */
    }
    if (mnv3_read_tflite_buffer(data, size, "fuzz.tflite", &ts, NULL, &err) == MNV3_OK)
        mnv3_tensors_free(&ts);
    else if (strncmp(err.message, "fuzz.tflite: ", 13) != 0 || strchr(err.message, '\n'))
        abort();
    return 0;
}
