/* layout.c: planar maps or channel-blocked maps.
 *
 * The blocked layout keeps channels in vector lanes ([C/VL][rows][cols][VL])
 * so 1x1 and depthwise convolutions read whole vectors of channels. It is
 * chosen for the whole chain or not at all. */
#include <string.h>

#include "runtime/runtime.h"

static int is_depthwise(const mnv3_exec_op *e) {
    return e->op->kind == MNV3_OP_CONV && e->op->groups > 1 && e->op->groups == e->in.c &&
           e->out.c == e->in.c;
}

/* Runs every map from the stem on in the blocked layout when the plan is the
 * usual chain (stem, 1x1 and depthwise convolutions, SE, pooling, head):
 * blocked values are read only by blocked kernels, each depthwise input is
 * read by that convolution alone (so its producer writes the zero-bordered
 * plane), and the result is not a map. Otherwise (taps, reference steps
 * inside the chain, other shapes, planar_maps asked for) the session keeps
 * the planar layout. */
int runtime_choose_blocked(mnv3_session *s, int planar_maps) {
    const mnv3_plan *plan = s->plan;
    if (!s->fast || s->tap || !s->isa->cpointwise || planar_maps) return 0;
    memset(s->bv, 0, sizeof s->bv);
    step_kind made_by[MNV3_MAX_PLAN_OPS + 1]; /* the step kind that stores each value */
    for (int v = 0; v <= plan->n; v++) made_by[v] = STEP_REF;
    for (int k = 0; k < s->n_steps; k++) {
        const step *st = &s->steps[k];
        const mnv3_exec_op *e = &plan->ops[st->first];
        const int in = plan->src[st->first], res = step_result(st);
        const int in2 = plan->src2[st->first];
        int reads_blocked = s->bv[in].blocked, makes_blocked = 0;
        switch (st->kind) {
        case STEP_SPATIAL:
            if (e->op->groups == 1) {
                if (reads_blocked) return 0;
            } else {
                /* only convolution kernels can store into a padded plane */
                if (!is_depthwise(e) || !reads_blocked || runtime_consumers(plan, in) != 1 ||
                    in == 0 || (made_by[in] != STEP_POINTWISE && made_by[in] != STEP_SPATIAL))
                    return 0;
                /* the producer stores into the interior of this plane */
                blocked_value *b = &s->bv[in];
                b->padded_h = (e->out.h - 1) * e->op->stride + e->op->kernel;
                b->padded_w = (e->out.w - 1) * e->op->stride + e->op->kernel;
                b->pad_top = e->pad_top, b->pad_left = e->pad_left;
                if (b->pad_top < 0 || b->pad_left < 0) return 0;
            }
            makes_blocked = 1;
            break;
        case STEP_POINTWISE:
            if (!reads_blocked) return 0;
            if (st->add >= 0) {
                const int a = st->add, other = plan->src[a] == a ? plan->src2[a] : plan->src[a];
                if (!s->bv[other].blocked) return 0;
            }
            makes_blocked = 1;
            break;
        case STEP_SCALE:
            if (in2 >= 0 && s->bv[in2].blocked) return 0;
            makes_blocked = reads_blocked;
            break;
        case STEP_POOL: break;
        default: /* matrix-vector, reference kernels: planar operands only */
            if (reads_blocked || (in2 >= 0 && s->bv[in2].blocked)) return 0;
        }
        if (makes_blocked) s->bv[res].blocked = 1;
        made_by[res] = st->kind;
    }
    if (s->bv[plan->n].blocked) return 0;
    const int vl = s->isa->lanes;
    for (int v = 0; v <= plan->n; v++) {
        blocked_value *b = &s->bv[v];
        if (!b->blocked) continue;
        const mnv3_shape sh = plan->shape[v];
        const size_t positions = b->padded_w ? (size_t)b->padded_h * (size_t)b->padded_w
                                             : (size_t)sh.h * (size_t)sh.w;
        b->block_stride = positions * (size_t)vl;
    }
    return 1;
}

/* Floats a value's buffer holds. */
size_t runtime_value_floats(const mnv3_session *s, int v) {
    const blocked_value *b = &s->bv[v];
    if (s->blocked && b->blocked) {
        const mnv3_shape sh = s->plan->shape[v];
        const int vl = s->isa->lanes;
        return (size_t)((sh.c + vl - 1) / vl) * b->block_stride;
    }
    return mnv3_shape_numel(s->plan->shape[v]);
}
