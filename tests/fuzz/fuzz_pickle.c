/* libFuzzer target: arbitrary bytes as data.pkl, wrapped in a torch.save
 * archive with storages data/0 .. data/3 (the zip CRC would otherwise stop
 * most mutations of a whole archive before they reach the unpickler). */
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "craft.h"

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size);

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    bytes zip = {0};
    if (wrap_pickle(data, size, &zip) != 0) abort();
    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_pth_buffer(zip.p, zip.n, "fuzz.pth", &ts, &err);
    if (rc != MNV3_OK && strncmp(err.message, "fuzz.pth: ", 10) != 0) abort();
    if (rc != MNV3_OK && ts.count != 0) abort();
    mnv3_tensors_free(&ts);
    bytes_free(&zip);
    return 0;
}
