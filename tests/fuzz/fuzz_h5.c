/* libFuzzer target: the Keras HDF5 reader (.h5 / .weights.h5) on arbitrary
 * bytes, in process, so libFuzzer sees the coverage of keras_h5.c and of
 * libhdf5's parsing as it is reached. A crash inside libhdf5 found here is
 * contained by the sandbox in the CLI (mnv3_set_hdf5_sandbox); a crash in our
 * code is a bug. Inputs starting like a zip are fuzz_keras's. */
#include <stdlib.h>
#include <string.h>

#include "formats/keras_h5.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    if (size >= 2 && data[0] == 'P' && data[1] == 'K') return 0;
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_keras_h5_buffer(data, size, "fuzz.h5", &ts, &err);
    if (rc != MNV3_OK && (strncmp(err.message, "fuzz.h5: ", 9) != 0 || strchr(err.message, '\n')))
        abort(); /* every error is one line naming the file */
    if (rc != MNV3_OK && ts.count != 0) abort(); /* failures leave the output empty */
    mnv3_tensors_free(&ts);
    return 0;
}
