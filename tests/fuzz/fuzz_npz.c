/* libFuzzer target: the .npz reader (zip members, each a .npy) on arbitrary
 * bytes (float32 arrays, as for dumps). Seeds in
 * tests/fuzz/corpus/npz were written with Python's zipfile (stored and
 * deflated members). */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_npz_buffer(data, size, "fuzz.npz", &ts, &err);
    if (rc != MNV3_OK && strncmp(err.message, "fuzz.npz: ", sizeof "fuzz.npz: " - 1) != 0)
        abort(); /* every error names the file */
    if (rc != MNV3_OK) {
        for (const char *p = err.message; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f) abort(); /* one escaped line */
        if (ts.count != 0) abort(); /* failures leave the output empty */
    }
    mnv3_tensors_free(&ts);
    return 0;
}
