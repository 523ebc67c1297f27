/* libFuzzer target: the Keras 3 .keras archive reader (zip through libzip,
 * then its model.weights.h5 through the HDF5 reader) on arbitrary bytes, in
 * process. Seeds are .keras archives of our own writer's output. */
#include <stdlib.h>
#include <string.h>

#include "formats/keras_h5.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size < 4 || memcmp(data, "PK\3\4", 4) != 0) return 0; /* fuzz_h5's */
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_keras_h5_buffer(data, size, "fuzz.keras", &ts, &err);
    if (rc != MNV3_OK &&
        (strncmp(err.message, "fuzz.keras: ", 12) != 0 || strchr(err.message, '\n')))
        abort(); /* every error is one line naming the file */
    if (rc != MNV3_OK && ts.count != 0) abort();
    mnv3_tensors_free(&ts);
    return 0;
}
