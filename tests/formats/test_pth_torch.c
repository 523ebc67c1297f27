/* A checkpoint written by torch.save (torch 1.13, kept in tests/formats/data):
 * {'epoch': 3, 'state_dict': OrderedDict(h=f16, bf=bf16, d=f64, i=i32,
 *  t=transposed view, p=Parameter, cl=channels_last, cl_ref, n=0-d int64)}. */
#include <stdio.h>
#include <string.h>

#include "formats/formats.h"
#include "kit.h"

static const mnv3_tensor *get(const mnv3_tensors *ts, const char *name, const char *src, int ndim) {
    const mnv3_tensor *t = mnv3_tensors_find(ts, name);
    CHECK(t != NULL);
    if (!t) return NULL;
    if (strcmp(t->source_dtype, src) != 0 || t->ndim != ndim) {
        printf("%s: source dtype %s, ndim %d\n", name, t->source_dtype, t->ndim);
        kit_failures++;
        return NULL;
    }
    return t;
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "torch_mixed_ckpt.pth";
    mnv3_tensors ts;
    mnv3_error err;
    if (mnv3_read_weights(path, &ts, &err) != MNV3_OK) {
        printf("%s\n", err.message);
        return 1;
    }
    CHECK(ts.count == 9);
    const mnv3_tensor *t;
    if ((t = get(&ts, "h", "F16", 2))) {
        const float *d = t->data;
        for (int i = 0; i < 6; i++) CHECK(d[i] == (float)i);
    }
    if ((t = get(&ts, "bf", "BF16", 1))) {
        const float *d = t->data;
        CHECK(d[0] == 1.5f && d[1] == -2.0f);
    }
    if ((t = get(&ts, "d", "F64", 1))) {
        const float *d = t->data;
        for (int i = 0; i < 4; i++) CHECK(d[i] == (float)i);
    }
    if ((t = get(&ts, "i", "I32", 1))) {
        const int64_t *d = t->data;
        CHECK(t->dtype == MNV3_I64 && d[0] == 1 && d[1] == -2);
    }
    if ((t = get(&ts, "t", "F32", 2))) {
        const float *d = t->data;
        CHECK(t->shape[0] == 3 && t->shape[1] == 2);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 2; j++) CHECK(d[i * 2 + j] == (float)(3 * j + i));
    }
    if ((t = get(&ts, "p", "F32", 1))) {
        const float *d = t->data;
        CHECK(d[0] == 1.0f && d[1] == 1.0f);
    }
    const mnv3_tensor *cl = get(&ts, "cl", "F32", 4), *ref = get(&ts, "cl_ref", "F32", 4);
    if (cl && ref) CHECK(memcmp(cl->data, ref->data, 12 * sizeof(float)) == 0);
    if ((t = get(&ts, "n", "I64", 0))) CHECK(((const int64_t *)t->data)[0] == 7);
    mnv3_tensors_free(&ts);
    if (kit_failures) printf("%d check(s) failed\n", kit_failures);
    else printf("torch.save checkpoint read correctly\n");
    return kit_failures ? 1 : 0;
}
