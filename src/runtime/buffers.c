/* buffers.c: where everything a run writes goes, as offsets into one arena.
 *
 *   [values, placed by liveness][padded planes: one per thread, one shared][scratch doubles]
 *
 * Values whose lives do not overlap share a slot; with taps every value
 * keeps its own place (the plan's layout), so each can be reported. Every
 * run context allocates an arena of this layout. */
#include "runtime/runtime.h"

#define MAX_SLOTS 64
#define SLACK_FLOATS 64 /* kernels may read (never use) a little past a buffer */

static size_t round16(size_t n) { return (n + 15) & ~(size_t)15; }

/* Slots by liveness: each step's result takes the free slot that fits best
 * (else the largest free one, grown; else a new one). */
static int assign_values(mnv3_session *s, size_t *total) {
    const mnv3_plan *plan = s->plan;
    const int nv = plan->n + 1;
    if (s->tap) {
        for (int v = 0; v < nv; v++) s->value_at[v] = plan->offset[v];
        *total = plan->arena_floats;
        return 0;
    }
    int last_use[MNV3_MAX_PLAN_OPS + 1], step_of[MNV3_MAX_PLAN_OPS];
    for (int k = 0; k < s->n_steps; k++)
        for (int i = s->steps[k].first; i < step_result(&s->steps[k]); i++) step_of[i] = k;
    for (int v = 0; v < nv; v++) last_use[v] = -1;
    for (int i = 0; i < plan->n; i++) {
        if (last_use[plan->src[i]] < step_of[i]) last_use[plan->src[i]] = step_of[i];
        if (plan->src2[i] >= 0 && last_use[plan->src2[i]] < step_of[i])
            last_use[plan->src2[i]] = step_of[i];
    }
    last_use[plan->n] = s->n_steps; /* the output is read after the last step */
    int slot_of[MNV3_MAX_PLAN_OPS + 1];
    size_t slot_size[MAX_SLOTS];
    int slot_free_after[MAX_SLOTS]; /* slot holds a value last used at this step */
    int n_slots = 0;
    for (int v = 0; v < nv; v++) slot_of[v] = -1;
    /* value 0 is stored only when the input is converted (NHWC) */
    for (int k = -1; k < s->n_steps; k++) {
        int v;
        if (k < 0) {
            if (s->layout != MNV3_NHWC || s->input_rescaled) continue;
            v = 0;
        } else v = step_result(&s->steps[k]);
        size_t need = round16(runtime_value_floats(s, v));
        int best = -1;
        for (int q = 0; q < n_slots; q++) {
            if (slot_free_after[q] >= k) continue; /* still read by this step or later */
            if (best < 0 ||
                (slot_size[q] >= need && (slot_size[best] < need || slot_size[q] < slot_size[best])) ||
                (slot_size[best] < need && slot_size[q] > slot_size[best]))
                best = q;
        }
        if (best < 0) {
            if (n_slots == MAX_SLOTS) return -1;
            best = n_slots++;
            slot_size[best] = 0;
        }
        if (slot_size[best] < need) slot_size[best] = need;
        slot_free_after[best] = last_use[v];
        slot_of[v] = best;
    }
    size_t at = 0, slot_at[MAX_SLOTS];
    for (int q = 0; q < n_slots; q++) {
        slot_at[q] = at;
        at += slot_size[q];
    }
    for (int v = 0; v < nv; v++)
        s->value_at[v] = slot_of[v] >= 0 ? slot_at[slot_of[v]] : RUNTIME_NOT_STORED;
    *total = at;
    return 0;
}

/* The padded input planes of a k x k convolution (stride 2 rows hold even
 * columns, then odd ones; see fast_spatial_args). */
static void spatial_geometry(step *st, const mnv3_exec_op *e) {
    const int k = e->op->kernel, stride = e->op->stride;
    st->padded_h = (e->out.h - 1) * stride + k;
    st->padded_w = (e->out.w - 1) * stride + k;
    st->row_stride = st->padded_w;
    st->plane_stride = round16((size_t)st->padded_h * (size_t)st->row_stride);
    st->shared_pad = e->op->groups == 1;
}

int runtime_layout_arena(mnv3_session *s) {
    size_t values = 0;
    if (assign_values(s, &values) != 0) return -1;
    size_t pad_thread = 0, pad_shared = 0;
    for (int k = 0; k < s->n_steps; k++) {
        step *st = &s->steps[k];
        if (st->kind != STEP_SPATIAL) continue;
        const mnv3_exec_op *e = &s->plan->ops[st->first];
        spatial_geometry(st, e);
        size_t need = st->plane_stride * (size_t)(e->in.c / e->op->groups) + SLACK_FLOATS;
        if (s->blocked) continue; /* depthwise: its producer's padded plane; full: in place */
        if (st->shared_pad && need > pad_shared) pad_shared = need;
        if (!st->shared_pad && need > pad_thread) pad_thread = need;
    }
    s->pad_per_thread = round16(pad_thread);
    s->pad_at = round16(values + SLACK_FLOATS);
    s->scratch_at = s->pad_at + s->pad_per_thread * (size_t)s->threads + pad_shared;
    /* doubles after the floats, 64-byte aligned at run time: 64 bytes to spare */
    s->arena_floats = s->scratch_at + (s->plan->scratch_doubles * sizeof(double) + 64) / sizeof(float);
    return 0;
}
