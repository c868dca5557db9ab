/*
 * common.h — the dimension legend, error reporting and the seeded random
 * generator shared by every part of posenc.
 *
 * Dimension legend (never changes meaning anywhere in the code):
 *   B  batch size (sequences)          T  time (padded sequence length)
 *   N  B*T tokens                      C  channels (d_model)
 *   NH attention heads                 hs head size = C/NH
 *   F  MLP hidden size (d_ff)          L  layers
 *   V  vocabulary size                 P  position table size (max_positions)
 *
 * Error convention: library code never exits. A function that can fail
 * returns 0 on success and non-zero on failure, after writing a one-line
 * message with pe_errorf(); the caller (the CLI) reads it with pe_error()
 * and decides what to do.
 */
#ifndef POSENC_COMMON_H
#define POSENC_COMMON_H

#include <stddef.h>
#include <stdint.h>

/* ---- errors ----------------------------------------------------------- */

/* Record a formatted error message (replaces the previous one, which may be
 * one of the arguments, to add context). Returns -1
 * so that library code can write `return pe_errorf(...)`. */
int pe_errorf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The last recorded message ("" if none). */
const char *pe_error(void);

/* Allocation that aborts with file and line on failure: out-of-memory in a
 * numerical program is not recoverable. Memory is zeroed. */
void *pe_calloc_check(size_t n, size_t size, const char *file, int line);
#define pe_calloc(n, size) pe_calloc_check((n), (size), __FILE__, __LINE__)
/* realloc and strdup, checked the same way (realloc's new bytes are not zeroed). */
void *pe_realloc_check(void *p, size_t size, const char *file, int line);
#define pe_realloc(p, size) pe_realloc_check((p), (size), __FILE__, __LINE__)
char *pe_strdup_check(const char *s, const char *file, int line);
#define pe_strdup(s) pe_strdup_check((s), __FILE__, __LINE__)
/* The same for large numerical buffers (parameters, activations, optimizer
 * state): 2 MiB-aligned and, on Linux, advised to use transparent huge pages
 * (page walks are expensive, above all in a VM, and the kernels stride across
 * rows). Zeroed; release with free(). */
void *pe_calloc_big_check(size_t n, size_t size, const char *file, int line);
#define pe_calloc_big(n, size) pe_calloc_big_check((n), (size), __FILE__, __LINE__)

/* ---- random numbers ----------------------------------------------------
 * SplitMix64: a tiny, well-tested 64-bit generator. Same seed gives the same
 * stream on every machine (no rand(), no global state). */
typedef struct {
    uint64_t state;
} Rng;

void rng_seed(Rng *r, uint64_t seed);
uint64_t rng_u64(Rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint32_t rng_below(Rng *r, uint32_t n);
/* Uniform float in [0, 1) with 24 random bits. */
float rng_uniform(Rng *r);
/* Standard normal (Box-Muller on doubles). */
float rng_normal(Rng *r);

/* Derive an independent seed from a base seed and a stream id, so that
 * e.g. training batches, evaluation examples and initialisation never
 * share a stream. */
uint64_t rng_derive(uint64_t seed, uint64_t stream);

#endif
