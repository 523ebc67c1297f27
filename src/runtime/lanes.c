/* lanes.c: run contexts, the working memory of one run.
 *
 * A session keeps one context per concurrent caller (max_concurrent_runs),
 * made at creation; a run takes a free one and gives it back, waiting while
 * all are busy. A context holds an arena of the session's layout and its
 * own threads, so two runs never share either. For batches it also holds
 * one lane per thread: a one-thread context that runs whole samples in its
 * own arena, so threads never wait on each other inside a batch. */
#include <stdlib.h>
#include <string.h>

#include "runtime/runtime.h"

static float *new_arena(const mnv3_session *s) {
    float *a = malloc(s->arena_floats * sizeof *a);
    if (a) memset(a, 0, s->arena_floats * sizeof *a);
    return a;
}

run_context *runtime_context_create(const mnv3_session *s, int threads, int lanes) {
    run_context *c = calloc(1, sizeof *c);
    if (!c) return NULL;
    c->threads = threads;
    c->arena = new_arena(s);
    if (!c->arena) goto fail;
    if (s->fast && !(c->workers = fast_threads_create(threads))) goto fail;
    for (int i = 0; i < lanes && i < RUNTIME_MAX_THREADS; i++) {
        run_context *lane = calloc(1, sizeof *lane);
        if (!lane) goto fail;
        c->lanes[c->n_lanes++] = lane;
        lane->threads = 1;
        if (!(lane->arena = new_arena(s))) goto fail;
    }
    return c;
fail:
    runtime_context_free(c);
    return NULL;
}

void runtime_context_free(run_context *c) {
    if (!c) return;
    for (int i = 0; i < c->n_lanes; i++) runtime_context_free(c->lanes[i]);
    fast_threads_free(c->workers);
    free(c->arena);
    free(c);
}

#ifndef MNV3_NO_THREADS
int runtime_lock_init(runtime_lock *l) {
    if (pthread_mutex_init(&l->mutex, NULL) != 0) return -1;
    if (pthread_cond_init(&l->freed, NULL) != 0) {
        pthread_mutex_destroy(&l->mutex);
        return -1;
    }
    return 0;
}

void runtime_lock_destroy(runtime_lock *l) {
    pthread_cond_destroy(&l->freed);
    pthread_mutex_destroy(&l->mutex);
}

/* A free context; waits while every one is in use. */
run_context *runtime_context_acquire(mnv3_session *s) {
    pthread_mutex_lock(&s->lock.mutex);
    for (;;) {
        for (int i = 0; i < s->n_contexts; i++)
            if (!s->contexts[i]->busy) {
                run_context *c = s->contexts[i];
                c->busy = 1;
                pthread_mutex_unlock(&s->lock.mutex);
                return c;
            }
        pthread_cond_wait(&s->lock.freed, &s->lock.mutex);
    }
}

void runtime_context_release(mnv3_session *s, run_context *c) {
    pthread_mutex_lock(&s->lock.mutex);
    c->busy = 0;
    pthread_cond_signal(&s->lock.freed);
    pthread_mutex_unlock(&s->lock.mutex);
}
#else
int runtime_lock_init(runtime_lock *l) {
    l->unused = 0;
    return 0;
}

void runtime_lock_destroy(runtime_lock *l) { (void)l; }

/* One caller at a time: a context is free unless a tap runs the session again. */
run_context *runtime_context_acquire(mnv3_session *s) {
    for (int i = 0; i < s->n_contexts; i++)
        if (!s->contexts[i]->busy) {
            s->contexts[i]->busy = 1;
            return s->contexts[i];
        }
    return NULL;
}

void runtime_context_release(mnv3_session *s, run_context *c) {
    (void)s;
    c->busy = 0;
}
#endif
