/* fuse.c: the plan's ops grouped into steps, each one kernel call.
 *
 *   k x k conv [+ BN] [+ ReLU | hardswish]               -> spatial (padded planes)
 *   1x1 conv   [+ BN] [+ ReLU | hardswish] [+ residual]  -> pointwise
 *   1x1 conv on a 1x1 map / linear [+ activation]        -> matrix-vector
 *   global pool, SE channel scale                        -> their own kernels
 *
 * Anything else (rescale, softmax, float64 accumulation) runs the reference
 * kernel. Every fused stage performs the reference's operations in the
 * reference's order, so results are bit-identical. */
#include <string.h>

#include "runtime/runtime.h"

static int is_activation(mnv3_op_kind k) {
    return k == MNV3_OP_RELU || k == MNV3_OP_HARDSWISH || k == MNV3_OP_HARDSIGMOID;
}

static int pointwise_shape(const mnv3_exec_op *e) {
    const mnv3_op *op = e->op;
    return op->kind == MNV3_OP_CONV && op->kernel == 1 && op->stride == 1 && op->groups == 1;
}

/* Ops that read value v (the model output counts once: the caller reads it). */
int runtime_consumers(const mnv3_plan *plan, int v) {
    int n = 0;
    for (int i = 0; i < plan->n; i++) n += (plan->src[i] == v) + (plan->src2[i] == v);
    return n + (v == plan->n);
}

static step_kind kind_of(const mnv3_session *s, const mnv3_exec_op *e) {
    if (!s->fast || e->f64) return STEP_REF;
    const size_t plane = (size_t)e->out.h * (size_t)e->out.w;
    switch (e->op->kind) {
    case MNV3_OP_CONV:
        return !pointwise_shape(e) ? STEP_SPATIAL : plane == 1 ? STEP_MATVEC : STEP_POINTWISE;
    case MNV3_OP_LINEAR: return STEP_MATVEC;
    case MNV3_OP_GLOBAL_POOL: return STEP_POOL;
    case MNV3_OP_CHANNEL_SCALE: return STEP_SCALE;
    default: return STEP_REF;
    }
}

/* Can op j join a step whose last op is `last`? Only if it reads that op's
 * result, which nothing else reads. */
static int joins(const mnv3_plan *plan, int last, int j) {
    return j < plan->n && runtime_consumers(plan, last + 1) == 1 &&
           (plan->src[j] == last + 1 || plan->src2[j] == last + 1) && !plan->ops[j].f64;
}

void runtime_fuse_steps(mnv3_session *s) {
    const mnv3_plan *plan = s->plan;
    s->n_steps = 0;
    for (int i = 0; i < plan->n;) {
        step *st = &s->steps[s->n_steps++];
        memset(st, 0, sizeof *st);
        st->first = i;
        st->conv = st->bn = st->act = st->add = -1;
        st->kind = kind_of(s, &plan->ops[i]);
        int last = i;
        if (st->kind == STEP_SPATIAL || st->kind == STEP_POINTWISE || st->kind == STEP_MATVEC) {
            st->conv = i;
            if (st->kind != STEP_MATVEC && joins(plan, last, last + 1) &&
                plan->ops[last + 1].op->kind == MNV3_OP_BATCHNORM)
                st->bn = ++last;
            if (joins(plan, last, last + 1) && is_activation(plan->ops[last + 1].op->kind) &&
                (st->kind == STEP_MATVEC || plan->ops[last + 1].op->kind != MNV3_OP_HARDSIGMOID))
                st->act = ++last;
            if (st->kind == STEP_POINTWISE && joins(plan, last, last + 1) &&
                plan->ops[last + 1].op->kind == MNV3_OP_ADD)
                st->add = ++last;
        }
        st->count = last - i + 1;
        i = last + 1;
    }
}
