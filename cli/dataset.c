/* Labelled data for `train` and `drift`: an .npz with x and y. */
#include <math.h>

#include "cli.h"
#include "core/util.h"
#include "formats/formats.h"

int cli_load_dataset(const char *path, int nhwc, int classes, cli_dataset *d, mnv3_error *err) {
    if (mnv3_read_npz_with_integers(path, &d->file, err) != MNV3_OK) return MNV3_FAIL;
    const mnv3_tensor *x = mnv3_tensors_find(&d->file, "x"), *y = mnv3_tensors_find(&d->file, "y");
    if (!x || !y) return mnv3_fail_code(err, MNV3_ERR_FORMAT, path, "needs arrays 'x' and 'y'");
    const int c_axis = nhwc ? 3 : 1;
    if (x->dtype != MNV3_F32 || x->ndim != 4 || x->shape[c_axis] != 3)
        return mnv3_fail_code(err, MNV3_ERR_SHAPE, path, "'x' must be float32 %s with 3 channels, got %s rank %d",
                              nhwc ? "N,H,W,C" : "N,C,H,W", x->dtype == MNV3_F32 ? "float32" : "integers", x->ndim);
    if (y->dtype != MNV3_I64 || y->ndim != 1 || y->shape[0] != x->shape[0])
        return mnv3_fail_code(err, MNV3_ERR_SHAPE, path, "'y' must hold one integer label per sample of 'x'");
    mnv3_finetune_data *v = &d->view;
    v->n = (int)x->shape[0];
    v->h = (int)(nhwc ? x->shape[1] : x->shape[2]);
    v->w = (int)(nhwc ? x->shape[2] : x->shape[3]);
    v->nhwc = nhwc;
    v->x = x->data;
    v->y = y->data;
    if (v->n < 1) return mnv3_fail_code(err, MNV3_ERR_SHAPE, path, "holds no samples");
    for (int i = 0; i < v->n; i++)
        if (v->y[i] < 0 || v->y[i] >= classes)
            return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, path, "label %lld of sample %d is not a class of the %d-class head",
                                  (long long)v->y[i], i, classes);
    const size_t total = (size_t)v->n * 3 * (size_t)v->h * (size_t)v->w;
    for (size_t i = 0; i < total; i++)
        if (!isfinite(v->x[i])) return mnv3_fail_code(err, MNV3_ERR_FORMAT, path, "'x' holds NaN or Inf (element %zu)", i);
    return MNV3_OK;
}

void cli_dataset_free(cli_dataset *d) { mnv3_tensors_free(&d->file); }
