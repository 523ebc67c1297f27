/* The torchvision MobileNetV3-Small features checkpoint (shared/models):
 * key count, shapes, parameter totals, and truncated copies of it.
 * Exits 77 (CTest skip) when the file is absent. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "formats/formats.h"
#include "kit.h"

static int ends_with(const char *s, const char *suffix) {
    size_t a = strlen(s), b = strlen(suffix);
    return a >= b && strcmp(s + a - b, suffix) == 0;
}

static void check_shape(const mnv3_tensors *ts, const char *name, int ndim, const int64_t *shape) {
    const mnv3_tensor *t = mnv3_tensors_find(ts, name);
    CHECK(t != NULL);
    if (!t) return;
    int ok = t->ndim == ndim;
    for (int i = 0; ok && i < ndim; i++) ok = t->shape[i] == shape[i];
    if (!ok) printf("%s: unexpected shape\n", name);
    CHECK(ok);
}

int main(int argc, char **argv) {
    const char *path = argc > 1 ? argv[1] : "";
    if (kit_skip_unless_file(path)) return 77;

    mnv3_tensors ts;
    mnv3_error err;
    int rc = mnv3_read_weights(path, &ts, &err);
    if (rc != MNV3_OK) {
        printf("read failed: %s\n", err.message);
        return 1;
    }
    CHECK(strcmp(ts.format, "pth") == 0);
    CHECK(ts.count == 240);
    int64_t params = 0, running = 0, tracked = 0, n_tracked = 0;
    int all_features = 1, finite = 1;
    for (size_t i = 0; i < ts.count; i++) {
        const mnv3_tensor *t = &ts.items[i];
        int64_t n = mnv3_tensor_numel(t);
        if (strncmp(t->name, "features.", 9) != 0) all_features = 0;
        if (t->dtype == MNV3_I64) {
            CHECK(ends_with(t->name, "num_batches_tracked") && n == 1 && t->ndim == 0);
            CHECK(strcmp(t->source_dtype, "I64") == 0);
            tracked += n;
            n_tracked++;
        } else if (ends_with(t->name, "running_mean") || ends_with(t->name, "running_var")) {
            running += n;
        } else {
            params += n;
        }
        if (t->dtype == MNV3_F32) {
            const float *d = t->data;
            for (int64_t k = 0; k < n; k++)
                if (!(d[k] - d[k] == 0.0f)) finite = 0;
            CHECK(strcmp(t->source_dtype, "F32") == 0);
        }
    }
    printf("tensors %zu, parameters %lld, running stats %lld, num_batches_tracked %lld\n",
           ts.count, (long long)params, (long long)running, (long long)n_tracked);
    CHECK(all_features);
    CHECK(finite);
    CHECK(params == 927008);
    CHECK(running == 12112);
    CHECK(n_tracked == 34 && tracked == 34);
    const int64_t s0[] = {16, 3, 3, 3}, s12[] = {576, 96, 1, 1}, s01[] = {16};
    check_shape(&ts, "features.0.0.weight", 4, s0);
    check_shape(&ts, "features.12.0.weight", 4, s12);
    check_shape(&ts, "features.0.1.running_var", 1, s01);
    CHECK(strcmp(ts.items[0].name, "features.0.0.weight") == 0); /* file order kept */
    mnv3_tensors_free(&ts);

    /* Truncated copies: every cut must fail cleanly, naming the file. */
    unsigned char *buf;
    size_t len;
    if (mnv3_read_file(path, MNV3_FORMATS_MAX_BYTES, &buf, &len, &err) != MNV3_OK) {
        printf("%s\n", err.message);
        return 1;
    }
    int cuts = 0, bad = 0;
    for (size_t cut = 0; cut < len; cut += len / 41 + 997) {
        rc = mnv3_read_pth_buffer(buf, cut, "cut.pth", &ts, &err);
        cuts++;
        if (rc != MNV3_FAIL || strncmp(err.message, "cut.pth: ", 9) != 0 || ts.count != 0) {
            printf("cut at %zu: rc %d, %s\n", cut, rc, rc ? err.message : "accepted");
            bad++;
        }
        mnv3_tensors_free(&ts);
    }
    printf("%d truncated copies rejected, %d problems\n", cuts, bad);
    CHECK(bad == 0);
    free(buf);
    if (kit_failures) printf("%d check(s) failed\n", kit_failures);
    return kit_failures ? 1 : 0;
}
