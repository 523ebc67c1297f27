/* runtime.h: the fast runtime's internal types, in the order a session is
 * built and run. Read it top to bottom:
 *
 *   fuse.c     plan ops -> fused steps (conv [+ BN] [+ act] [+ residual], ...)
 *   layout.c   planar or channel-blocked maps for the whole chain
 *   pack.c     weights repacked for the step's kernel
 *   buffers.c  one arena: values placed by liveness, padded planes, scratch
 *   lanes.c    run contexts (one per concurrent caller) and batch lanes
 *   run.c      walking the steps against one context's arena
 *   session.c  mnv3_session_create / run / free and the queries
 *
 * The session is read-only once created. Everything a run writes lives in a
 * run context: its arena, its threads, its step timing. Locations inside an
 * arena are offsets, resolved against the arena of the context in use. */
#ifndef MNV3_RUNTIME_H
#define MNV3_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#include "core/plan.h"
#include "kernels/fast/fast.h"
#include "kernels/kernels.h"
#include "mnv3.h"

#define RUNTIME_MAX_SIDE 8192
#define RUNTIME_MAX_STEPS MNV3_MAX_PLAN_OPS
#define RUNTIME_MAX_THREADS 64 /* also the most batch lanes of one context */
#define RUNTIME_MAX_CONTEXTS 16
#define RUNTIME_NOT_STORED ((size_t)-1) /* a value that has no place in the arena */

/* The lock that hands out run contexts. A build without threads
 * (MNV3_NO_THREADS) has one caller at a time and needs none. */
#ifndef MNV3_NO_THREADS
#include <pthread.h>
typedef struct runtime_lock {
    pthread_mutex_t mutex;
    pthread_cond_t freed;
} runtime_lock;
#else
typedef struct runtime_lock {
    int unused;
} runtime_lock;
#endif
int runtime_lock_init(runtime_lock *l);
void runtime_lock_destroy(runtime_lock *l);

/* ---- steps (fuse.c) -------------------------------------------------------- */

typedef enum step_kind {
    STEP_REF,       /* the reference kernel of one op */
    STEP_POINTWISE, /* 1x1 conv [+ BN] [+ ReLU | hardswish] [+ residual] */
    STEP_SPATIAL,   /* k x k conv [+ BN] [+ ReLU | hardswish] */
    STEP_MATVEC,    /* 1x1 conv on a 1x1 map / linear [+ activation] */
    STEP_POOL,      /* global average pool */
    STEP_SCALE,     /* SE channel scale */
    STEP_KIND_COUNT
} step_kind;

typedef struct step {
    step_kind kind;
    int first, count;       /* plan ops [first, first + count) */
    int conv, bn, act, add; /* plan op index of each fused stage, -1 if absent */
    /* offsets into the session's packed floats */
    size_t wpack;     /* weights */
    size_t bn_params; /* planar: BN a[C] then c[C] */
    size_t cparams;   /* blocked: bias, BN a, c, mean, beta, each padded to whole blocks */
    int out_stride;   /* matvec: outputs padded to whole blocks */
    /* spatial: the padded input planes */
    int padded_h, padded_w, row_stride, shared_pad;
    size_t plane_stride;
} step;

/* The value a step produces (its last op's output). */
static inline int step_result(const step *st) { return st->first + st->count; }

/* ---- layout (layout.c) ------------------------------------------------------ */

/* A value in the blocked layout (channels in blocks of the ISA's lanes);
 * padded values have the zero border their depthwise consumer reads. */
typedef struct blocked_value {
    int blocked;
    size_t block_stride;     /* floats between channel blocks */
    int padded_h, padded_w;  /* padded_w = 0: unpadded */
    int pad_top, pad_left;
} blocked_value;

/* ---- run contexts (lanes.c) --------------------------------------------------- */

/* The working memory of one run: an arena and the threads that fill it. A
 * batch lane is a context of one thread with its own arena. */
typedef struct run_context {
    float *arena;
    fast_threads *workers; /* NULL for a lane: its caller is its only thread */
    int threads;
    struct run_context *lanes[RUNTIME_MAX_THREADS];
    int n_lanes;
    double step_seconds[RUNTIME_MAX_STEPS]; /* summed over this context's runs */
    int busy;
} run_context;

/* ---- the session ---------------------------------------------------------------- */

struct mnv3_session {
    const mnv3_model *model;
    mnv3_plan *plan;
    int fast, threads, h, w, max_batch;
    mnv3_layout layout;
    const fast_isa *isa;
    char kernels_name[32];
    mnv3_tap_fn tap;
    void *tap_user;
    int time_steps; /* time every step (mnv3_session_step_times) */
    int64_t macs;
    /* steps */
    int n_steps;
    step steps[RUNTIME_MAX_STEPS];
    int input_rescaled; /* NHWC input converted and rescaled in one pass,
                           replacing step 0 (the in-model rescaling) */
    /* layout */
    int blocked; /* steps use the blocked layout */
    blocked_value bv[MNV3_MAX_PLAN_OPS + 1];
    /* packed weights */
    float *packed;
    size_t packed_floats;
    /* arena layout, in floats from the arena's start */
    size_t value_at[MNV3_MAX_PLAN_OPS + 1]; /* or RUNTIME_NOT_STORED */
    size_t pad_at, pad_per_thread;          /* per-thread padded planes, then the shared one */
    size_t scratch_at;                      /* the reference kernels' doubles (in floats) */
    size_t arena_floats;
    /* contexts: one per concurrent run */
    int use_lanes; /* batches run whole samples per lane */
    int n_contexts;
    run_context *contexts[RUNTIME_MAX_CONTEXTS];
    runtime_lock lock;
    int lock_ready;
};

/* fuse.c */
void runtime_fuse_steps(mnv3_session *s);
int runtime_consumers(const mnv3_plan *plan, int v);

/* layout.c: 1 if every map from the stem on runs blocked (fills s->bv) */
int runtime_choose_blocked(mnv3_session *s, int planar_maps);
size_t runtime_value_floats(const mnv3_session *s, int v);

/* pack.c */
size_t runtime_pack_size(const mnv3_session *s, const step *st);
void runtime_pack_step(mnv3_session *s, step *st, size_t at);

/* buffers.c: fills value_at, pad_at, scratch_at, arena_floats */
int runtime_layout_arena(mnv3_session *s);

/* lanes.c */
run_context *runtime_context_create(const mnv3_session *s, int threads, int lanes);
void runtime_context_free(run_context *c);
run_context *runtime_context_acquire(mnv3_session *s);
void runtime_context_release(mnv3_session *s, run_context *c);

/* run.c: samples [0, n) of input through context c */
void runtime_run(const mnv3_session *s, run_context *c, const float *input, int n,
                 float *output);

#endif
