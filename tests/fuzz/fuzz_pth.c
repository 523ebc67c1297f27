/* libFuzzer target: the pth reader on arbitrary bytes. */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_pth_buffer(data, size, "fuzz.pth", &ts, &err);
    if (rc != MNV3_OK && strncmp(err.message, "fuzz.pth: ", sizeof "fuzz.pth: " - 1) != 0)
        abort(); /* every error names the file */
    if (rc != MNV3_OK && ts.count != 0) abort(); /* failures leave the output empty */
    mnv3_tensors_free(&ts);
    return 0;
}
