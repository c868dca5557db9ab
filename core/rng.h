/*
 * rng.h — the seeded random generator every part of posenc draws from.
 */
#ifndef POSENC_CORE_RNG_H
#define POSENC_CORE_RNG_H

#include <stdint.h>

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
