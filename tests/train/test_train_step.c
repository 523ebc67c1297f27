/* One training step against the framework: every parameter's gradient and
 * every BatchNorm running statistic, compared with the live oracle's dump
 * (tools/oracle/train/torch_step.py, keras_step.py) and with the framework's
 * own distance between two of its runs (PyTorch at 1 and 2 threads, Keras
 * with oneDNN on and off).
 *   test_train_step PROFILE WEIGHTS BATCH.npz REFERENCE.npz [REFERENCE_OTHER_RUN.npz [--measure]]
 * --measure reports the distances without failing on them (the loss still
 * has to be identical): for a framework mnv3 does not yet meet.
 * Prints one line per parameter kind with the worst relative L2 and the
 * count of bit-identical tensors. Fails where mnv3 is farther from PyTorch
 * than PyTorch is from itself (times one ulp-level floor where PyTorch is
 * bit-identical across threads: such tensors must be bit-exact). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "bnlab/bnlab.h"
#include "kit.h"
#include "mnv3.h"
#include "train/train.h"

static const float *find(const mnv3_tensors *ts, const char *name, size_t count) {
    const mnv3_tensor *t = mnv3_tensors_find(ts, name);
    if (!t || t->dtype != MNV3_F32 || (size_t)mnv3_tensor_numel(t) != count) return NULL;
    return t->data;
}

static double rel_l2(const float *a, const float *b, size_t n) {
    double d = 0, r = 0;
    for (size_t i = 0; i < n; i++) {
        double x = (double)a[i] - (double)b[i];
        d += x * x;
        r += (double)b[i] * b[i];
    }
    return r > 0 ? sqrt(d / r) : sqrt(d);
}

int main(int argc, char **argv) {
    if (argc < 5) {
        fprintf(stderr, "usage: %s PROFILE WEIGHTS BATCH.npz TORCH.npz [TORCH2.npz]\n", argv[0]);
        return 2;
    }
    mnv3_error err = {0};
    const mnv3_profile *profile = mnv3_profile_find(argv[1]);
    mnv3_model *model = NULL;
    mnv3_tensors batch = {0}, ref = {0}, ref2 = {0};
    if (!profile || mnv3_model_load(argv[2], &model, NULL, &err) != MNV3_OK ||
        mnv3_read_npz(argv[3], &batch, &err) != MNV3_OK || mnv3_read_npz(argv[4], &ref, &err) != MNV3_OK ||
        (argc > 5 && mnv3_read_npz(argv[5], &ref2, &err) != MNV3_OK)) {
        fprintf(stderr, "test_train_step: %s\n", profile ? err.message : "unknown profile");
        return 1;
    }
    const mnv3_tensor *x = mnv3_tensors_find(&batch, "x"), *y = mnv3_tensors_find(&batch, "y");
    const mnv3_tensor *keep = mnv3_tensors_find(&batch, "keep"), *p = mnv3_tensors_find(&batch, "p");
    const mnv3_tensor *ls = mnv3_tensors_find(&batch, "label_smoothing");
    const mnv3_tensor *cw = mnv3_tensors_find(&batch, "class_weights");
    if (!x || !y || x->ndim != 4) {
        fprintf(stderr, "test_train_step: %s needs x (N,3,H,W) and y\n", argv[3]);
        return 1;
    }
    const int n = (int)x->shape[0], h = (int)x->shape[2], w = (int)x->shape[3];
    int *labels = malloc((size_t)n * sizeof *labels);
    uint8_t *mask = keep ? malloc((size_t)mnv3_tensor_numel(keep)) : NULL;
    for (int i = 0; i < n; i++) labels[i] = (int)((const float *)y->data)[i];
    for (int64_t i = 0; mask && i < mnv3_tensor_numel(keep); i++) mask[i] = ((const float *)keep->data)[i] != 0.0f;
    mnv3_trainer *t = mnv3_trainer_new(model, profile, n, h, w, &err);
    if (!t) {
        fprintf(stderr, "test_train_step: %s\n", err.message);
        return 1;
    }
    mnv3_train_step_options opt = {
        .loss = {.label_smoothing = ls ? ((const float *)ls->data)[0] : 0.0f,
                 .class_weights = cw ? (const float *)cw->data : NULL},
        .bn_momentum = mnv3_bn_default_momentum(profile), /* the application's */
        .dropout_p = p ? ((const float *)p->data)[0] : 0.0,
        .keep = mask,
    };
    float loss = 0;
    CHECKF(mnv3_trainer_step(t, x->data, labels, n, &opt, &loss, &err) == MNV3_OK, "step: %s", err.message);
    const float *ref_loss = find(&ref, "loss", 1);
    printf("loss: mnv3 %.9g framework %.9g\n", (double)loss, ref_loss ? (double)*ref_loss : NAN);
    int identical = 0, total = 0, beyond = 0, noise = 0;
    double worst = 0, worst_self = 0;
    char worst_name[112] = "";
    for (int k = 0; k < mnv3_trainer_param_count(t); k++) {
        const mnv3_train_param *tp = mnv3_trainer_param(t, k);
        char name[96], key[112];
        if (!mnv3_param_name(tp->op, tp->suffix, MNV3_NAMING_TORCHVISION, 0, name, sizeof name)) continue;
        snprintf(key, sizeof key, tp->is_buffer ? "%s" : "%s.grad", name);
        const float *mine = tp->is_buffer ? tp->value : tp->grad;
        const float *theirs = find(&ref, key, tp->count), *theirs2 = ref2.count ? find(&ref2, key, tp->count) : NULL;
        if (!theirs) {
            kit_fail("%s: not in %s", key, argv[4]);
            continue;
        }
        total++;
        if (!memcmp(mine, theirs, tp->count * sizeof *mine)) {
            identical++;
            continue;
        }
        double d = rel_l2(mine, theirs, tp->count), self = theirs2 ? rel_l2(theirs2, theirs, tp->count) : 0;
        if (d > worst) {
            worst = d, worst_self = self;
            snprintf(worst_name, sizeof worst_name, "%s", key);
        }
        if (!tp->is_buffer && strstr(tp->name, ".project.bn.bias")) {
            /* 0 in exact arithmetic: a projection BatchNorm's output reaches
             * the loss only through linear ops (residual add, 1x1 conv) into
             * a training-mode BatchNorm, which removes every channel's mean.
             * What is left is rounding noise, and PyTorch at 1 and 2 threads
             * differs from itself by about the value (self-distance 0.9-1.5,
             * by CPU): its value is printed, not compared. Chosen by the
             * structure, not by the self-distance, which falls either side
             * of 1 from one CPU to another. */
            noise++;
            printf("  %-40s rounding noise: rel_l2 %.3g, framework self-distance %.3g\n", key, d, self);
            continue;
        }
        if (theirs2 && d > self) {
            beyond++;
            printf("  %-40s rel_l2 %.3g (framework self-distance %.3g)\n", key, d, self);
        }
    }
    printf("%d of %d tensors bit-identical, %d rounding noise; worst %s rel_l2 %.3g (framework self %.3g); "
           "%d beyond the framework's self-distance\n", identical, total, noise, worst_name, worst, worst_self, beyond);
    const int measure = argc > 6 && !strcmp(argv[6], "--measure");
    CHECKF(measure || beyond == 0, "%d tensors are farther from the framework than two of its own runs are apart",
           beyond);
    CHECKF(ref_loss && loss == *ref_loss, "loss %.9g, the framework %.9g", (double)loss, ref_loss ? (double)*ref_loss : NAN);
    mnv3_trainer_free(t);
    mnv3_model_free(model);
    mnv3_tensors_free(&batch);
    mnv3_tensors_free(&ref);
    mnv3_tensors_free(&ref2);
    free(labels);
    free(mask);
    return kit_failures != 0;
}
