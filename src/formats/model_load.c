/* Loading a model straight from a weight file: reader + binder. */
#include "mnv3.h"

int mnv3_model_load(const char *path, mnv3_model **out, mnv3_load_report *report,
                    mnv3_error *err) {
    mnv3_tensors ts = {0};
    *out = NULL;
    if (mnv3_read_weights(path, &ts, err) != MNV3_OK) return MNV3_FAIL;
    int rc = mnv3_model_from_tensors(&ts, path, out, report, err);
    mnv3_tensors_free(&ts);
    return rc;
}

