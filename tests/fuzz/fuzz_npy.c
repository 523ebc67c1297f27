/* libFuzzer target: the .npy reader on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    mnv3_tensor t;
    mnv3_error err;
    if (mnv3_read_npy_buffer(data, size, "fuzz.npy", "x", &t, &err) == MNV3_OK) {
        free(t.name);
        free(t.data);
    } else if (strncmp(err.message, "fuzz.npy: ", 10) != 0) {
        abort(); /* every error names the file */
    }
    return 0;
}
