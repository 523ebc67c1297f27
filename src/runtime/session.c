/* session.c: mnv3_session_create, _run, _free and the queries.
 *
 * Creation resolves the plan once, fuses its ops into steps, chooses the
 * layout, packs the weights, lays out the arena and makes one run context
 * per concurrent caller (arenas and threads). mnv3_session_run takes a
 * context, walks the steps in it and gives it back: it allocates nothing
 * and leaves the session as it was. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/model.h"
#include "core/util.h"
#include "runtime/runtime.h"

static const char *const step_kind_names[STEP_KIND_COUNT] = {
    [STEP_REF] = "ref",       [STEP_POINTWISE] = "pointwise", [STEP_SPATIAL] = "spatial",
    [STEP_MATVEC] = "matvec", [STEP_POOL] = "pool",           [STEP_SCALE] = "scale"};

static int64_t count_macs(const mnv3_plan *plan) {
    int64_t macs = 0;
    for (int i = 0; i < plan->n; i++) {
        const mnv3_exec_op *e = &plan->ops[i];
        if (e->op->kind == MNV3_OP_CONV)
            macs += (int64_t)e->out.c * e->out.h * e->out.w * (e->in.c / e->op->groups) *
                    e->op->kernel * e->op->kernel;
        else if (e->op->kind == MNV3_OP_LINEAR) macs += (int64_t)e->op->in_ch * e->op->out_ch;
    }
    return macs;
}

static int pack_weights(mnv3_session *s) {
    size_t packed = 0;
    for (int k = 0; k < s->n_steps; k++) packed += runtime_pack_size(s, &s->steps[k]);
    s->packed_floats = packed;
    if (!packed) return 0;
    if (!(s->packed = malloc(packed * sizeof *s->packed))) return -1;
    size_t at = 0;
    for (int k = 0; k < s->n_steps; k++) {
        size_t n = runtime_pack_size(s, &s->steps[k]);
        if (n) runtime_pack_step(s, &s->steps[k], at);
        at += n;
    }
    return 0;
}

static int fail_free(mnv3_session *s, mnv3_error *err, const char *what) {
    mnv3_session_free(s);
    if (!what) return MNV3_FAIL;
    return mnv3_fail_code(err, strstr(what, "memory") ? MNV3_ERR_MEMORY : MNV3_ERR_LIMIT, NULL,
                          "%s", what);
}

int mnv3_session_create(const mnv3_model *m, const mnv3_profile *p, int h, int w,
                        mnv3_layout layout, const mnv3_session_options *o,
                        mnv3_session **out, mnv3_error *err) {
    *out = NULL;
    if (!m || !p) return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "session: no model or profile");
    if (h < 1 || w < 1 || h > RUNTIME_MAX_SIDE || w > RUNTIME_MAX_SIDE)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "input size %dx%d is out of range (1..%d per side)", h, w,
                         RUNTIME_MAX_SIDE);
    const char *kernels = o && o->kernels ? o->kernels : "fast";
    int fast;
    if (!strcmp(kernels, "fast")) fast = 1;
    else if (!strcmp(kernels, "reference")) fast = 0;
    else return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "unknown kernels '%s' (reference or fast)", kernels);
    int threads = o && o->threads > 0 ? o->threads : 1;
    if (threads > RUNTIME_MAX_THREADS)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "threads must be 1..%d, got %d", RUNTIME_MAX_THREADS, threads);
    if (!fast) threads = 1;
    int contexts = o && o->max_concurrent_runs > 0 ? o->max_concurrent_runs : 1;
    if (contexts > RUNTIME_MAX_CONTEXTS)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "max_concurrent_runs must be 1..%d, got %d",
                         RUNTIME_MAX_CONTEXTS, contexts);

    mnv3_session *s = calloc(1, sizeof *s);
    if (!s) return mnv3_fail_code(err, MNV3_ERR_MEMORY, NULL, "out of memory");
    s->model = m, s->h = h, s->w = w, s->layout = layout, s->fast = fast;
    s->threads = threads;
    s->max_batch = o ? o->max_batch : 0;
    s->tap = o ? o->tap : NULL;
    s->tap_user = o ? o->tap_user : NULL;
    s->time_steps = o ? o->time_steps != 0 : 0;
    if (runtime_lock_init(&s->lock) != 0) {
        free(s);
        return mnv3_fail_code(err, MNV3_ERR_SYSTEM, NULL, "session: cannot create a lock");
    }
    s->lock_ready = 1;
    if (fast) {
        s->isa = fast_isa_select(o ? o->isa : NULL);
        if (!s->isa) {
            mnv3_fail_code(err, MNV3_ERR_UNSUPPORTED, NULL, "instruction set '%s' is not available here",
                      o && o->isa ? o->isa : "(default)");
            return fail_free(s, err, NULL);
        }
        snprintf(s->kernels_name, sizeof s->kernels_name, "fast/%s", s->isa->name);
    } else snprintf(s->kernels_name, sizeof s->kernels_name, "reference");
    if (!(s->plan = malloc(sizeof *s->plan))) return fail_free(s, err, "out of memory");
    if (mnv3_plan_build(m, p, h, w, s->plan, err) != MNV3_OK) return fail_free(s, err, NULL);
    s->macs = count_macs(s->plan);

    runtime_fuse_steps(s);
    s->blocked = fast && runtime_choose_blocked(s, o ? o->planar_maps : 0);
    s->input_rescaled = fast && !s->tap && layout == MNV3_NHWC && s->n_steps > 0 &&
                        s->steps[0].kind == STEP_REF && s->steps[0].count == 1 &&
                        s->plan->ops[0].op->kind == MNV3_OP_RESCALE;
    if (s->blocked) /* "fast/avx512 blocked": maps keep channels in vector lanes */
        snprintf(s->kernels_name, sizeof s->kernels_name, "fast/%s blocked", s->isa->name);
    if (pack_weights(s) != 0) return fail_free(s, err, "out of memory (packed weights)");
    if (runtime_layout_arena(s) != 0) return fail_free(s, err, "session: too many live buffers");

    s->use_lanes = fast && threads > 1 && !s->tap && s->max_batch != 1;
    for (int i = 0; i < contexts; i++) {
        run_context *c = runtime_context_create(s, threads, s->use_lanes ? threads : 0);
        if (!c) return fail_free(s, err, "out of memory (run contexts: arenas, threads)");
        s->contexts[s->n_contexts++] = c;
    }
    *out = s;
    return MNV3_OK;
}

int mnv3_session_run(mnv3_session *s, const float *input, int n, float *output,
                     mnv3_error *err) {
    if (!s || !input || !output || n < 1)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "session run: no session, input or output, or n < 1");
    if (s->max_batch > 0 && n > s->max_batch)
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "session run: batch %d exceeds max_batch %d", n, s->max_batch);
    run_context *c = runtime_context_acquire(s);
    if (!c) /* only without threads, when a tap runs the session it is called from */
        return mnv3_fail_code(err, MNV3_ERR_ARGUMENT, NULL, "session run: every run context is busy");
    runtime_run(s, c, input, n, output);
    runtime_context_release(s, c);
    return MNV3_OK;
}

void mnv3_session_free(mnv3_session *s) {
    if (!s) return;
    for (int i = 0; i < s->n_contexts; i++) runtime_context_free(s->contexts[i]);
    if (s->lock_ready) runtime_lock_destroy(&s->lock);
    free(s->packed);
    free(s->plan);
    free(s);
}

int mnv3_session_step_times(const mnv3_session *s, mnv3_step_time *out, int max) {
    if (!s) return 0;
    for (int k = 0; k < s->n_steps && k < max; k++) {
        const step *st = &s->steps[k];
        const mnv3_exec_op *e = &s->plan->ops[st->first];
        mnv3_step_time *t = &out[k];
        t->kind = step_kind_names[st->kind];
        t->op = e->op->name;
        t->out_h = e->out.h, t->out_w = e->out.w, t->in_c = e->in.c, t->out_c = e->out.c;
        t->seconds = 0;
        for (int i = 0; i < s->n_contexts; i++) t->seconds += s->contexts[i]->step_seconds[k];
    }
    return s->n_steps;
}

size_t mnv3_session_arena_bytes(const mnv3_session *s) {
    if (!s) return 0;
    size_t per_context = 1 + (s->use_lanes ? (size_t)s->threads : 0);
    return s->arena_floats * sizeof(float) * per_context * (size_t)s->n_contexts;
}
size_t mnv3_session_packed_bytes(const mnv3_session *s) {
    return s ? s->packed_floats * sizeof(float) : 0;
}
const char *mnv3_session_kernels(const mnv3_session *s) { return s ? s->kernels_name : ""; }
int64_t mnv3_session_macs(const mnv3_session *s) { return s ? s->macs : 0; }
