/* The reference runner: the plan for one input size, then op by op for each
 * sample, every op output kept in its own place so the tap after each is free. */
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"
#include "factors/factors.h"
#include "core/plan.h"
#include "kernels/kernels.h"

#define MAX_SIDE 8192

/* In replay mode, the reference run's copy of value v for sample s. */
static const float *replayed(const mnv3_tensors *replay, const mnv3_plan *plan, int v, int s) {
    const mnv3_tensor *t = replay ? mnv3_tensors_find(replay, mnv3_plan_value_name(plan, v)) : NULL;
    size_t per = mnv3_shape_numel(plan->shape[v]);
    if (!t || t->dtype != MNV3_F32 || t->ndim < 1 || t->shape[0] <= s ||
        (size_t)mnv3_tensor_numel(t) != per * (size_t)t->shape[0])
        return NULL;
    return (const float *)t->data + per * (size_t)s;
}

static void tap_value(const mnv3_run_options *opt, int sample, const char *name, mnv3_shape s,
                      int is_vector, const float *data) {
    int64_t shape[4] = {1, s.c, s.h, s.w};
    opt->tap(opt->tap_user, sample, name, is_vector ? 2 : 4, shape, data);
}

int mnv3_run(const mnv3_model *m, const mnv3_run_options *opt, const float *input,
             mnv3_layout layout, int n, int h, int w, float *output, mnv3_error *err) {
    if (!opt || !opt->profile) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "no profile given");
    if (n < 1 || h < 1 || w < 1 || h > MAX_SIDE || w > MAX_SIDE)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "input size %dx%dx%d is out of range (1..%d per side)", n,
                         h, w, MAX_SIDE);
    mnv3_plan *plan = malloc(sizeof *plan);
    if (!plan) return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    if (mnv3_plan_build(m, opt->profile, h, w, plan, err) != MNV3_OK) {
        free(plan);
        return MNV3_FAIL;
    }
    size_t arena_bytes = plan->arena_floats * sizeof(float) + plan->scratch_doubles * sizeof(double);
    float *arena = malloc(arena_bytes);
    if (!arena) {
        free(plan);
        return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory (arena of %zu bytes)", arena_bytes);
    }
    double *scratch = (double *)(arena + plan->arena_floats);
    const mnv3_kernel_set *k = mnv3_reference_kernels();
    const size_t plane = (size_t)h * (size_t)w, per_sample = 3 * plane;
    const int out_size = mnv3_output_size(m);

    for (int s = 0; s < n; s++) {
        float *x = arena; /* value 0: the input, NCHW */
        const float *src = input + (size_t)s * per_sample;
        if (layout == MNV3_NHWC)
            for (size_t p = 0; p < plane; p++)
                for (int c = 0; c < 3; c++) x[(size_t)c * plane + p] = src[p * 3 + (size_t)c];
        else memcpy(x, src, per_sample * sizeof *x);
        if (opt->tap) tap_value(opt, s, "input", plan->shape[0], 0, x);

        for (int i = 0; i < plan->n; i++) {
            const mnv3_exec_op *e = &plan->ops[i];
            const float *a = arena + plan->offset[plan->src[i]];
            const float *b = plan->src2[i] >= 0 ? arena + plan->offset[plan->src2[i]] : NULL;
            if (opt->replay) {
                const float *ra = replayed(opt->replay, plan, plan->src[i], s);
                const float *rb = b ? replayed(opt->replay, plan, plan->src2[i], s) : NULL;
                a = ra ? ra : a;
                b = rb ? rb : b;
            }
            float *y = arena + plan->offset[i + 1];
            k->fn[e->op->kind](e, n, a, b, y, scratch);
            if (opt->tap) tap_value(opt, s, e->op->tap, e->out, plan->vector[i + 1], y);
        }
        const float *last = arena + plan->offset[plan->n];
        memcpy(output + (size_t)s * (size_t)out_size, last, (size_t)out_size * sizeof *output);
    }
    free(arena);
    free(plan);
    return MNV3_OK;
}
