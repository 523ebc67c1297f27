/* threads.c: a fixed set of worker threads. fast_threads_run splits [0, n) into one
 * contiguous range per thread (the caller takes range 0), so which thread
 * computes an output never changes how it is computed: results do not depend
 * on the thread count. Workers spin briefly between tasks, then sleep. */
#include <stdlib.h>

#include "kernels/fast/fast.h"

#ifdef MNV3_NO_THREADS /* a build without pthreads: the caller runs every range */
struct fast_threads {
    int threads;
};
fast_threads *fast_threads_create(int threads) {
    (void)threads;
    fast_threads *p = calloc(1, sizeof *p);
    if (p) p->threads = 1;
    return p;
}
void fast_threads_run(fast_threads *p, int n, fast_task_fn fn, void *ctx) {
    (void)p;
    if (n > 0) fn(ctx, 0, 0, n);
}
void fast_threads_free(fast_threads *p) { free(p); }
#else
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>

/* Spin briefly (ops follow each other within microseconds), then yield the
 * core (others may need it: two cores are easily oversubscribed), then sleep. */
#define SPIN_ROUNDS 300
#define YIELD_ROUNDS 4000

typedef struct worker_arg worker_arg;

struct fast_threads {
    int threads;
    worker_arg *args;
    pthread_t *ids;
    pthread_mutex_t lock;
    pthread_cond_t wake;
    atomic_uint generation; /* bumped per task */
    atomic_int pending;     /* workers still running the task */
    atomic_int quit;
    fast_task_fn fn;
    void *ctx;
    int n;
};

struct worker_arg {
    fast_threads *team;
    int index;
};

static void range_of(int n, int threads, int t, int *begin, int *end) {
    *begin = (int)((long long)n * t / threads);
    *end = (int)((long long)n * (t + 1) / threads);
}

static void cpu_relax(void) {
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
    __builtin_ia32_pause();
#endif
}

static void *worker_main(void *p) {
    worker_arg *w = p;
    fast_threads *team = w->team;
    unsigned seen = 0;
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&team->generation, memory_order_acquire)) == seen &&
               !atomic_load_explicit(&team->quit, memory_order_acquire)) {
            if (++spins < SPIN_ROUNDS) {
                cpu_relax();
                continue;
            }
            if (spins < SPIN_ROUNDS + YIELD_ROUNDS) {
                sched_yield();
                continue;
            }
            pthread_mutex_lock(&team->lock);
            while (atomic_load(&team->generation) == seen && !atomic_load(&team->quit))
                pthread_cond_wait(&team->wake, &team->lock);
            pthread_mutex_unlock(&team->lock);
        }
        if (atomic_load(&team->quit)) return NULL;
        seen = g;
        int begin, end;
        range_of(team->n, team->threads, w->index, &begin, &end);
        if (begin < end) team->fn(team->ctx, w->index, begin, end);
        atomic_fetch_sub_explicit(&team->pending, 1, memory_order_release);
    }
}

fast_threads *fast_threads_create(int threads) {
    if (threads < 1) threads = 1;
    fast_threads *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->threads = threads;
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->generation, 0);
    atomic_init(&p->pending, 0);
    atomic_init(&p->quit, 0);
    if (threads == 1) return p;
    p->ids = calloc((size_t)threads, sizeof *p->ids);
    p->args = calloc((size_t)threads, sizeof *p->args);
    if (!p->ids || !p->args) {
        p->threads = 1;
        fast_threads_free(p);
        return NULL;
    }
    for (int t = 1; t < threads; t++) {
        p->args[t] = (worker_arg){p, t};
        if (pthread_create(&p->ids[t], NULL, worker_main, &p->args[t]) != 0) {
            p->threads = t; /* join the ones started */
            fast_threads_free(p);
            return NULL;
        }
    }
    return p;
}

void fast_threads_run(fast_threads *p, int n, fast_task_fn fn, void *ctx) {
    if (n <= 0) return;
    if (p->threads == 1 || n == 1) {
        fn(ctx, 0, 0, n);
        return;
    }
    p->fn = fn;
    p->ctx = ctx;
    p->n = n;
    atomic_store_explicit(&p->pending, p->threads - 1, memory_order_relaxed);
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add_explicit(&p->generation, 1, memory_order_release);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->lock);
    int begin, end;
    range_of(n, p->threads, 0, &begin, &end);
    if (begin < end) fn(ctx, 0, begin, end);
    for (int spins = 0; atomic_load_explicit(&p->pending, memory_order_acquire) > 0; spins++) {
        if (spins < SPIN_ROUNDS) cpu_relax();
        else sched_yield(); /* the worker may be waiting for this core */
    }
}

void fast_threads_free(fast_threads *p) {
    if (!p) return;
    if (p->ids) {
        pthread_mutex_lock(&p->lock);
        atomic_store(&p->quit, 1);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
        for (int t = 1; t < p->threads; t++) pthread_join(p->ids[t], NULL);
    }
    free(p->ids);
    free(p->args);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->wake);
    free(p);
}
#endif
