/* libFuzzer target: the Keras HDF5 / .keras reader on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "formats/keras_h5.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    mnv3_tensors ts;
    mnv3_error err;
    if (mnv3_read_keras_h5_buffer(data, size, "fuzz.h5", &ts, &err) == MNV3_OK)
        mnv3_tensors_free(&ts);
    else if (strncmp(err.message, "fuzz.h5: ", 9) != 0 || strchr(err.message, '\n'))
        abort(); /* every error is one line naming the file */
    return 0;
}
