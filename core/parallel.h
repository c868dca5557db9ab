/*
 * parallel.h — the one place posenc runs work on more than one thread.
 *
 * A fixed pool of `threads` threads (the caller plus threads-1 workers,
 * started once) runs the parallel regions of the kernels in layers.c: each
 * region is split into `nparts` = par_threads() static parts, part 0 on the
 * calling thread. OpenBLAS is set to one thread, and sgemm calls are split
 * across the pool by rows of the output instead, so that the process never
 * runs more than `threads` busy threads (no oversubscription when a sweep
 * runs several single-threaded jobs side by side).
 *
 * Determinism: every split is a static function of the sizes and nparts, and
 * every kernel splits only independent work (rows, (batch, head) pairs,
 * columns of a parameter gradient, each summed over rows in a fixed order),
 * so at a given thread count results are bitwise reproducible. Between thread
 * counts they agree to rounding: OpenBLAS's result for a block of dweight rows
 * can differ in the last bit from the whole product's (tests/test_gpt.c).
 *
 * Workers spin briefly between regions (a pause loop, no system call), then
 * sleep on a condition variable.
 */
#ifndef POSENC_PARALLEL_H
#define POSENC_PARALLEL_H

/* Use `threads` threads (>= 1; capped at PAR_MAX_THREADS) from now on; sets
 * OpenBLAS to a single thread. Call from one thread, outside any region. */
void par_set_threads(int threads);
/* Current thread count (1 until par_set_threads). */
int par_threads(void);

#define PAR_MAX_THREADS 64

/* Run fn(ctx, part, nparts) for part = 0 .. nparts-1, nparts = par_threads(),
 * part 0 on the caller; returns when all parts are done. Regions do not nest:
 * fn must not call par_run. */
typedef void (*ParFn)(void *ctx, int part, int nparts);
void par_run(ParFn fn, void *ctx);

/* The part's share [lo, hi) of [0, n), boundaries rounded to multiples of
 * `align` (the last part takes the rest). */
static inline void par_range(int n, int part, int nparts, int align, int *lo, int *hi) {
    long chunk = ((long)n + nparts - 1) / nparts;
    chunk = (chunk + align - 1) / align * align;
    long a = chunk * part, b = a + chunk;
    *lo = (int)(a < n ? a : n);
    *hi = (int)(b < n ? b : n);
}

#endif
