/* A plan: the op list resolved against a profile for one input size. Shapes,
 * padding, factor options and arena offsets are fixed here, so runners (the
 * per-sample reference runner, the BatchNorm lab's batch-major runner, a fast
 * path) only walk it. Value 0 is the input; value i + 1 is the output of op i. */
#ifndef MNV3_PLAN_H
#define MNV3_PLAN_H

#include "core/model.h"
#include "kernels/kernels.h"

#define MNV3_MAX_PLAN_OPS (MNV3_MAX_OPS + 2)

typedef struct mnv3_plan {
    int n; /* ops */
    mnv3_exec_op ops[MNV3_MAX_PLAN_OPS];
    int src[MNV3_MAX_PLAN_OPS], src2[MNV3_MAX_PLAN_OPS]; /* value ids; src2 -1 if none */
    size_t offset[MNV3_MAX_PLAN_OPS + 1]; /* value id -> float offset in a per-sample arena */
    mnv3_shape shape[MNV3_MAX_PLAN_OPS + 1];
    int vector[MNV3_MAX_PLAN_OPS + 1]; /* tapped as (N, C) rather than (N, C, H, W) */
    size_t arena_floats, scratch_doubles;
} mnv3_plan;

int mnv3_plan_build(const mnv3_model *m, const mnv3_profile *p, int h, int w, mnv3_plan *plan,
                    mnv3_error *err);
/* The running-statistics update rule of a profile (enum mnv3_bn_update), as
 * every BatchNorm op of its plan gets it. */
int mnv3_plan_bn_update_rule(const mnv3_profile *p);
/* The momentum each framework's MobileNetV3 gives its BatchNorms, in the
 * profile's own convention. */
double mnv3_plan_bn_default_momentum(const mnv3_profile *p);
/* Rules of a training step outside any one op (the loss, dropout). */
typedef struct mnv3_train_rule {
    int loss_divides_by_weight_sum; /* else by the batch size */
    int dropout_negative_zero;      /* x * (keep / (1 - p)): a dropped x keeps its sign; else +0 */
    int dropout_scale_f32_divide;   /* scale = 1.0f / f32(1 - p); else f32(1 / (1 - p)) in double */
    int dropout_generator;          /* enum mnv3_dropout_generator (train/rng.h) */
} mnv3_train_rule;
void mnv3_plan_train_rule(const mnv3_profile *p, mnv3_train_rule *rule);
/* Canonical tap name of value v. */
const char *mnv3_plan_value_name(const mnv3_plan *plan, int v);
size_t mnv3_shape_numel(mnv3_shape s);

#endif
