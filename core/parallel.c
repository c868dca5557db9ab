/*
 * parallel.c — the worker pool (see parallel.h).
 */
#include "core/parallel.h"

#include <cblas.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>

/* pause-loop iterations a worker spins before sleeping (~1 ms) */
#define PAR_SPIN 20000

static struct {
    int n;                      /* threads, caller included */
    pthread_t tid[PAR_MAX_THREADS];
    atomic_uint gen;            /* bumped once per region */
    atomic_int pending;         /* workers still running the current region */
    atomic_int stop;
    ParFn fn;
    void *ctx;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    unsigned start_gen;         /* gen when the workers were started */
} pool = {.n = 1, .mu = PTHREAD_MUTEX_INITIALIZER, .cv = PTHREAD_COND_INITIALIZER};

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

static void *worker(void *arg) {
    const int part = (int)(long)arg;
    unsigned seen = pool.start_gen; /* not gen: a region may start before this line runs */
    for (;;) {
        unsigned g;
        int spins = 0;
        while ((g = atomic_load_explicit(&pool.gen, memory_order_acquire)) == seen) {
            if (++spins < PAR_SPIN) {
                cpu_relax();
                continue;
            }
            pthread_mutex_lock(&pool.mu);
            while (atomic_load_explicit(&pool.gen, memory_order_acquire) == seen) pthread_cond_wait(&pool.cv, &pool.mu);
            pthread_mutex_unlock(&pool.mu);
        }
        seen = g;
        if (atomic_load_explicit(&pool.stop, memory_order_acquire)) return NULL;
        pool.fn(pool.ctx, part, pool.n);
        atomic_fetch_sub_explicit(&pool.pending, 1, memory_order_release);
    }
}

static void wake_all(void) {
    pthread_mutex_lock(&pool.mu);
    atomic_fetch_add_explicit(&pool.gen, 1, memory_order_release);
    pthread_cond_broadcast(&pool.cv);
    pthread_mutex_unlock(&pool.mu);
}

static void pool_stop(void) {
    if (pool.n <= 1) return;
    atomic_store(&pool.stop, 1);
    wake_all();
    for (int i = 1; i < pool.n; i++) pthread_join(pool.tid[i], NULL);
    atomic_store(&pool.stop, 0);
    pool.n = 1;
}

/* A forked child has only the forking thread: it starts single-threaded. */
static void after_fork_child(void) {
    pool.n = 1;
    atomic_store(&pool.stop, 0);
    atomic_store(&pool.pending, 0);
    pthread_mutex_init(&pool.mu, NULL);
    pthread_cond_init(&pool.cv, NULL);
}

void par_set_threads(int threads) {
    static int atfork_done;
    if (!atfork_done) {
        pthread_atfork(NULL, NULL, after_fork_child);
        atfork_done = 1;
    }
    if (threads < 1) threads = 1;
    if (threads > PAR_MAX_THREADS) threads = PAR_MAX_THREADS;
    openblas_set_num_threads(1);
    if (threads == pool.n) return;
    pool_stop();
    pool.n = threads;
    pool.start_gen = atomic_load(&pool.gen);
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&pool.tid[i], NULL, worker, (void *)(long)i) != 0) {
            fprintf(stderr, "posenc: cannot start worker thread %d; continuing with %d\n", i, i);
            pool.n = i;
            break;
        }
    }
}

int par_threads(void) { return pool.n; }

void par_run(ParFn fn, void *ctx) {
    if (pool.n <= 1) {
        fn(ctx, 0, 1);
        return;
    }
    pool.fn = fn;
    pool.ctx = ctx;
    atomic_store_explicit(&pool.pending, pool.n - 1, memory_order_relaxed);
    wake_all();
    fn(ctx, 0, pool.n);
    while (atomic_load_explicit(&pool.pending, memory_order_acquire) > 0) cpu_relax();
}
